"""RICORSO / APPEAL in the chat: who may appeal, when, and what a forged SMS cannot do."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.flows.citizen import SHARE_CONTACT
from core.dialogue.inbound import Channel
from core.domain.messages import Day
from core.services import delegates, municipalities
from core.services.applications import ApplicationInput, submit_application
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, confirmation_code, msgids, param, wrong_guesses
from tests.factories import Town, approved_request, make_cf, make_town

CODE_SENT = (
    'Code {code} confirms your appeal "{quote}": reply to this message with the code. Do not '
    "give it to anyone else. Valid {minutes} min."
)
ASK_REASON = (
    "Appeal on application {protocol}: write in one message why you ask the office to review "
    "the decision, or ANNULLA."
)
RECEIVED = (
    'Appeal no. {number} on application {protocol} received: "{quote}". The office will '
    "send you its decision here."
)
ALREADY = (
    "You have already appealed the decision on application {protocol}: the office will "
    "answer you here."
)
TOO_LATE = (
    "The time to appeal on application {protocol} is over: {days} days from the decision. "
    "Contact the office."
)
NOT_DECIDED = (
    "Application {protocol} has not been decided yet: you can appeal once you receive the decision."
)
NO_APPLICATION = "We found no application of yours to appeal. To apply, write DOMANDA."
DELEGATE_CANNOT = (
    "A delegate cannot appeal for the citizen: the citizen writes RICORSO from their own "
    "phone or chat, or comes to the office."
)
SHARE = SHARE_CONTACT.msgid
DELEGATE = "+393479998877"
WRONG_CODE = "Wrong code: {count} attempt left."
STILL_APPEALABLE = (
    "The decision on {protocol} may still be appealed: write RICORSO and the reason by {day}."
)
EARLIER_UNDER_REVIEW = (
    "Your appeal against the decision on {protocol} is being reviewed by the office."
)


async def appeals_in(core: Core) -> list[m.Appeal]:
    async with core.uow() as uow:
        return list(await uow.session.scalars(select(m.Appeal).order_by(m.Appeal.id)))


async def test_an_sms_appeal_with_its_reason_waits_for_the_code_sent_to_the_phone(
    core: Core,
) -> None:
    town = await make_town(core, citizens=2)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect("Ricorso: siamo in 3, non in 1", CODE_SENT)
    assert await appeals_in(core) == []  # nothing before the code comes back
    replies = await chat.expect(await confirmation_code(chat), RECEIVED)
    [appeal] = await appeals_in(core)
    assert param(replies, "number") == str(appeal.id)
    assert (appeal.reason, appeal.channel, appeal.status) == (
        "siamo in 3, non in 1",
        "sms",
        "open",
    )
    assert appeal.citizen_id == town.citizen_ids[0]
    # One open appeal per application: a second one changes nothing.
    await chat.expect("RICORSO di nuovo", ALREADY)
    assert len(await appeals_in(core)) == 1


async def test_every_spelling_of_the_keyword_starts_an_appeal_and_asks_the_reason(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    for word in ("RICORSO", "ricorso", "Ricórso", "APPEAL", "/appeal", "appeal!"):
        await chat.expect(word, ASK_REASON)
        await chat.expect("ANNULLA", "Cancelled.")
    await chat.expect("RICORSO", ASK_REASON)
    await chat.expect("Ho tre figli a carico", CODE_SENT)
    await chat.expect(await confirmation_code(chat), RECEIVED)
    assert [a.reason for a in await appeals_in(core)] == ["Ho tre figli a carico"]


async def test_an_appeal_asked_for_in_a_sentence_asks_the_reason(core: Core) -> None:
    """As "vorrei sapere il mio saldo" is SALDO, "vorrei fare ricorso" is RICORSO."""
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    for sentence in ("Buongiorno, vorrei fare ricorso", "I would like to appeal please"):
        await chat.expect(sentence, ASK_REASON)
        await chat.expect("ANNULLA", "Cancelled.")
    assert await appeals_in(core) == []


async def test_a_forged_sender_without_the_code_files_nothing(core: Core) -> None:
    town = await make_town(core, citizens=1)
    forger = Chat(core, town.citizen_phones[0])  # the real number, typed by someone else
    await forger.expect("RICORSO per dispetto", CODE_SENT)
    first, second, third = wrong_guesses(await confirmation_code(forger), 3)
    await forger.expect(first, WRONG_CODE)
    await forger.expect(second)
    await forger.expect(
        third, "Too many wrong codes: the request was cancelled. Nothing was changed."
    )
    assert await appeals_in(core) == []
    # The real citizen can still appeal: the forger used up nothing.
    await forger.expect("RICORSO vero motivo", CODE_SENT)
    await forger.expect(await confirmation_code(forger), RECEIVED)
    assert len(await appeals_in(core)) == 1


async def test_unknown_number_late_appeal_and_undecided_application_change_nothing(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    await Chat(core, "+393479999999").expect("RICORSO", NO_APPLICATION)
    await Chat(core, "+393479999999").expect("RICORSO siamo in 4", NO_APPLICATION)
    # A new window, a new application nobody decided yet.
    phone = "+393335550001"
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        await municipalities.open_window(uow, municipality, clock())
        await submit_application(
            uow,
            municipality,
            ApplicationInput(make_cf(50), phone, 2, False, False, 0, 0, 0),
            source="paper",
            now=clock(),
        )
        await uow.commit()
    await Chat(core, phone).expect("RICORSO", NOT_DECIDED)
    # The credited citizen, 31 days after the credit (30 days allowed by default).
    clock.advance(days=26)
    replies = await Chat(core, town.citizen_phones[0]).expect("APPEAL", TOO_LATE)
    assert param(replies, "days") == 30
    assert await appeals_in(core) == []


async def test_on_telegram_the_contact_proves_the_citizen_then_the_reason_is_asked(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, "7001", channel=Channel.TELEGRAM)
    await chat.expect("/ricorso", SHARE_CONTACT.msgid)
    await chat.expect(
        None,
        "Thank you: we recognised your number.",
        ASK_REASON,
        contact=(town.citizen_phones[0], True),
    )
    # Telegram proved the sender: no code, the appeal is filed at once.
    await chat.expect("The household has four members, not one.", RECEIVED)
    [appeal] = await appeals_in(core)
    assert (appeal.channel, appeal.citizen_id) == ("telegram", town.citizen_ids[0])


async def test_on_telegram_the_reason_written_before_the_contact_is_kept(core: Core) -> None:
    """User trial: "RICORSO siamo in quattro non in uno", then the contact, and the reason
    was asked again."""
    town = await make_town(core, citizens=1)
    chat = Chat(core, "7002", channel=Channel.TELEGRAM)
    await chat.expect("RICORSO siamo in quattro non in uno", SHARE)
    replies = await chat.expect(None, RECEIVED, contact=(town.citizen_phones[0], True))
    assert ASK_REASON not in msgids(replies)
    [appeal] = await appeals_in(core)
    assert appeal.reason == "siamo in quattro non in uno"


async def test_an_unknown_contact_on_telegram_is_told_there_is_no_application_to_appeal(
    core: Core,
) -> None:
    await make_town(core, citizens=1)
    chat = Chat(core, "7002", channel=Channel.TELEGRAM)
    await chat.expect("/ricorso", SHARE)
    await chat.expect(None, NO_APPLICATION, contact=("+393479999999", True))
    # The contact is known now: RICORSO again does not ask for it a second time.
    await chat.expect("RICORSO", NO_APPLICATION)
    assert await appeals_in(core) == []


async def add_delegate_of_first_citizen(core: Core) -> None:
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        cf = town.citizen_cfs[0]
        yes = await approved_request(uow, municipality, cf, "delegate", DELEGATE)
        await delegates.add_delegate(uow, municipality, cf, DELEGATE, core.now(), approved=yes)
        await uow.commit()


async def test_a_delegates_phone_is_told_the_citizen_appeals_and_nothing_is_filed(
    core: Core,
) -> None:
    """SALDO shows the delegate the citizen's balance; RICORSO is the citizen's own."""
    await add_delegate_of_first_citizen(core)
    sms = Chat(core, DELEGATE)
    await sms.expect("SALDO", "Balance of {holder}: {balance}.")
    await sms.expect("RICORSO", DELEGATE_CANNOT)
    await sms.expect("RICORSO ha tre figli, non uno", DELEGATE_CANNOT)
    telegram = Chat(core, "7003", channel=Channel.TELEGRAM)
    await telegram.expect("/ricorso", SHARE)
    await telegram.expect(None, DELEGATE_CANNOT, contact=(DELEGATE, True))
    await telegram.expect("RICORSO", DELEGATE_CANNOT)
    assert await appeals_in(core) == []


APPEAL_HINT = "Appeal: write RICORSO and the reason by {day}."
UNDER_REVIEW = "Your appeal is being reviewed by the office."


async def test_status_says_how_to_appeal_while_one_may_and_then_that_it_is_reviewed(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=2)
    chat = Chat(core, town.citizen_phones[0])
    credited_at = clock() - timedelta(days=5)  # make_town credits five days before now
    replies = await chat.expect("STATO", APPEAL_HINT)
    # The last day, counted from the decision's notice (the credit), not from today.
    last_day = (credited_at + timedelta(days=30)).astimezone(ZoneInfo("Europe/Rome")).date()
    assert param(replies, "day") == Day(last_day)
    assert len(replies) == 1  # the status and the sentence in one SMS
    assert UNDER_REVIEW not in msgids(replies)
    await chat.expect("RICORSO siamo in tre", CODE_SENT)
    await chat.expect(await confirmation_code(chat), RECEIVED)
    replies = await chat.expect("STATO", UNDER_REVIEW)
    assert APPEAL_HINT not in msgids(replies)
    # Once the window is over, nothing about appealing (and nothing was filed).
    clock.advance(days=26)
    other = Chat(core, town.citizen_phones[1])
    said = msgids(await other.send("STATO"))
    assert APPEAL_HINT not in said and UNDER_REVIEW not in said and len(said) >= 1
    assert len(await appeals_in(core)) == 1


async def applied_again(core: Core, town: Town, clock: FakeClock) -> m.Application:
    """The town's first citizen, decided and credited, applies in a new window; returns the
    decided application."""
    async with core.uow() as uow:
        [decided] = await uow.applications.of_citizen(town.citizen_ids[0])
        municipality = await municipalities.require(uow, town.code)
        await municipalities.open_window(uow, municipality, clock())
        await submit_application(
            uow,
            municipality,
            ApplicationInput(town.citizen_cfs[0], town.citizen_phones[0], 2, False, False, 0, 0, 0),
            source="paper",
            now=clock(),
        )
        await uow.commit()
    return decided


async def test_applying_in_a_new_window_keeps_the_appeal_on_the_last_decision(
    core: Core, clock: FakeClock
) -> None:
    """User trial: once the excluded or credited household applied in the next window,
    RICORSO answered that the new application was not decided yet, and STATO said nothing
    of the appeal still allowed on the last decision until its day."""
    town = await make_town(core, citizens=1)
    decided = await applied_again(core, town, clock)
    chat = Chat(core, town.citizen_phones[0])
    replies = await chat.expect("STATO", STILL_APPEALABLE)
    assert param(replies, "protocol") == decided.protocol
    await chat.expect("RICORSO siamo in tre", CODE_SENT)
    replies = await chat.expect(await confirmation_code(chat), RECEIVED)
    assert param(replies, "protocol") == decided.protocol
    [appeal] = await appeals_in(core)
    assert appeal.application_id == decided.id
    replies = await chat.expect("STATO", EARLIER_UNDER_REVIEW)
    assert param(replies, "protocol") == decided.protocol
    await chat.expect("RICORSO di nuovo", ALREADY)
    assert len(await appeals_in(core)) == 1


async def test_after_the_last_decisions_day_the_new_application_is_what_is_said(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    await applied_again(core, town, clock)
    clock.advance(days=26)  # 31 days after the credit: the last decision's time is over
    chat = Chat(core, town.citizen_phones[0])
    said = msgids(await chat.send("STATO"))
    assert STILL_APPEALABLE not in said and APPEAL_HINT not in said
    await chat.expect("RICORSO", NOT_DECIDED)
    assert await appeals_in(core) == []


async def test_a_reason_longer_than_500_characters_is_refused_not_cut(core: Core) -> None:
    """The chat cuts every message at 500 characters before reading it: an appeal's reason
    that was cut is said to be too long, never filed with its end missing."""
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    too_long = "Siamo in tre in famiglia " * 21  # 525 characters
    await chat.expect("RICORSO", ASK_REASON)
    await chat.expect(
        too_long, "Your reason is too long: at most {limit} characters. Write it again, shorter."
    )
    await chat.expect(
        f"RICORSO {too_long}",
        "Your reason is too long: at most {limit} characters. Write it again, shorter.",
    )
    assert await appeals_in(core) == []


NOT_A_REASON = (
    "To appeal, write in words why you ask the office to review the decision. If you do not "
    "want to appeal, write ANNULLA."
)


async def test_a_yes_or_a_no_is_no_reason_and_files_nothing(core: Core) -> None:
    """User trial on Telegram: asked for the reason, an elderly user wrote "no" and the
    appeal was filed with the reason "no", using up the one appeal on the decision (her
    real reason, written next, was answered with the help). A yes, a no or thanks alone is
    no reason: said so, nothing filed, no code sent, and the reason is still asked."""
    town = await make_town(core, citizens=2)
    chat = Chat(core, "7005", channel=Channel.TELEGRAM)
    await chat.expect("/ricorso", SHARE)
    await chat.expect(None, ASK_REASON, contact=(town.citizen_phones[0], True))
    for answer in ("no", "No.", "ok grazie", "sì", "grazie mille"):
        await chat.expect(answer, NOT_A_REASON)
        assert await appeals_in(core) == []
    assert (await chat.state())[:2] == ("appeal", "reason")
    await chat.expect("I soldi sul conto sono di mia figlia", RECEIVED)
    [appeal] = await appeals_in(core)
    assert appeal.reason == "I soldi sul conto sono di mia figlia"

    # By SMS the same, with the reason after the word too: no code is sent for a "no".
    sms = Chat(core, town.citizen_phones[1])
    replies = await sms.expect("RICORSO no", NOT_A_REASON)
    assert CODE_SENT not in msgids(replies)
    await sms.expect("no grazie", NOT_A_REASON)
    await sms.expect("ANNULLA")
    assert (await sms.state())[:2] == (None, None)
    assert len(await appeals_in(core)) == 1
