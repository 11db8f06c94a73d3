"""A code confirms what its message says, and nothing written after it was sent.

An SMS sender can be forged: a forger writes as a citizen's number, the replies and codes
go to the real phone, and the forger never sees them. Four people: the honest citizen
(applies and appeals in as few messages as before, and reads what each code confirms),
the forger (restarts the citizen's application, or writes a new RICORSO, while the
citizen waits for the code), the citizen who then types the code they hold (it confirms
nothing of the forger's), and a confused citizen who starts again (a fresh code works).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.domain import gsm7
from core.domain.identity import short_mask_codice_fiscale
from core.i18n import render_text
from core.services import appeals, security
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import (
    Chat,
    confirmation_code,
    msgids,
    open_till,
    param,
    town_with_open_window,
    wrong_guesses,
)
from tests.dialogue.test_shop import citizen_code
from tests.factories import distinct_draws, make_cf, make_town

APPLY_CODE = (
    "Code {code} confirms your voucher application for {masked}, {count} person: reply to "
    "this message with the code. Do not give it to anyone else. Valid {minutes} min."
)
SENT = (
    "Application sent for {masked}, {count} person. Protocol {protocol}. We will write to "
    "you when it has been assessed."
)
APPEAL_CODE = (
    'Code {code} confirms your appeal "{quote}": reply to this message with the code. Do not '
    "give it to anyone else. Valid {minutes} min."
)
RECEIVED = (
    'Appeal no. {number} on application {protocol} received: "{quote}". The office will '
    "send you its decision here."
)
REPLACED = (
    "That code is no longer valid: a newer one was sent, or the request was started again or "
    "changed. Nothing was changed. Check what the last code message confirms."
)
OTHER_CONTENT = (
    "Too many codes were sent to this number, and the last one confirms other content. "
    "Nothing was changed: you can confirm this from {when}."
)
OTHER_ANSWERS = (
    "That code was sent for other answers than the ones here now: it confirms nothing. "
    "Nothing was changed."
)
RESUME = "You have an unfinished request. Do you want to continue it?"
WRONG = "Wrong code: {count} attempt left."
LIQUIDITY = (
    "How much did the household have in bank and post office accounts on {day} (minors' "
    "accounts excluded)? Write the amount in euro, e.g. 1500."
)
SUPPORT = (
    "How much public support does the household receive per month (cassa integrazione, NASpI, "
    "reddito di cittadinanza...)? Write 0 if none."
)
NOT_AN_AMOUNT = "This is not an amount. Write it in euro, in figures or in words, e.g. {example}."
EXPIRED_PAYMENT = (
    "This code was for a payment at {shop} and has expired: nothing was paid. Payment codes "
    "are said to the cashier, not sent here."
)

PHONE = "+393337770003"
CITIZEN_CF = make_cf(800)  # the citizen's own
FORGER_CF = make_cf(801)  # one the forger chose (other first letters)
# members, work, pension, savings, support, rent
CITIZEN_ANSWERS = ("2", "no", "si", "0", "0", "0")
FORGER_ANSWERS = ("6", "si", "si", "50000", "2000", "0")


async def applications(core: Core) -> list[m.Application]:
    """The applications made from the phone of these scenarios (the town has others)."""
    async with core.uow() as uow:
        return list(
            await uow.session.scalars(
                select(m.Application)
                .join(m.Citizen, m.Citizen.id == m.Application.citizen_id)
                .where(m.Citizen.codice_fiscale.in_((CITIZEN_CF, FORGER_CF)))
            )
        )


async def appeals_in(core: Core) -> list[m.Appeal]:
    async with core.uow() as uow:
        return list(await uow.session.scalars(select(m.Appeal).order_by(m.Appeal.id)))


async def reach_the_code(chat: Chat, cf: str, answers: tuple[str, ...]) -> str:
    """From the privacy question's answer to the code: the code the phone received."""
    for text in ("1", cf, *answers):
        await chat.send(text)
    await chat.expect("1", APPLY_CODE)
    return await confirmation_code(chat)


# The application -------------------------------------------------------------------------


async def test_the_honest_citizen_reads_whose_application_the_code_sends(core: Core) -> None:
    await town_with_open_window(core)
    citizen = Chat(core, PHONE)
    await citizen.send("DOMANDA")
    await citizen.send("1")
    await citizen.send(CITIZEN_CF)
    for text in CITIZEN_ANSWERS:
        await citizen.send(text)
    # One message with the code, as before, naming the codice fiscale (masked) and people.
    replies = await citizen.expect("1", APPLY_CODE)
    assert len(replies) == 1
    masked = CITIZEN_CF[:3] + "***" + CITIZEN_CF[-1]
    assert (param(replies, "masked"), param(replies, "count")) == (masked, 2)
    for language, words in (("it", f"per {masked}, 2 persone"), ("en", f"for {masked}, 2 people")):
        said = render_text(replies[0].texts[0], language, sms=True)
        assert words in said and gsm7.count(said).single, said
    replies = await citizen.expect(await confirmation_code(citizen), SENT)
    assert len(replies) == 1
    assert param(replies, "masked") == short_mask_codice_fiscale(CITIZEN_CF)
    [application] = await applications(core)
    assert application.household_size == 2


async def test_a_forged_restart_is_not_confirmed_by_the_code_the_citizen_holds(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forger starts the waiting application again with another codice fiscale and
    false figures: a new code goes to the real phone, naming the forger's codice fiscale.
    The citizen's own code is void (and costs no try); nothing is filed; the citizen
    cancels and applies for themselves."""
    distinct_draws(monkeypatch)  # the forger's code is never the one the citizen holds
    await town_with_open_window(core)
    citizen = Chat(core, PHONE)
    await citizen.send("DOMANDA")
    held = await reach_the_code(citizen, CITIZEN_CF, CITIZEN_ANSWERS)
    forger = Chat(core, PHONE)  # the same number, written by someone else
    await forger.expect("DOMANDA", RESUME)
    await forger.send("2")  # Ricomincia
    replies = await forger.send("1")
    assert "Write your codice fiscale (16 characters, it is on your health card)." in msgids(
        replies
    )
    for text in (FORGER_CF, *FORGER_ANSWERS):
        await forger.send(text)
    replies = await forger.expect("1", APPLY_CODE)
    # What reaches the real phone says whose application and how many people.
    assert param(replies, "masked") == short_mask_codice_fiscale(FORGER_CF)
    assert param(replies, "count") == 6
    assert param(replies, "masked") != short_mask_codice_fiscale(CITIZEN_CF)
    # The citizen types the code they were waiting for: void, and no try lost.
    await citizen.expect(held, REPLACED)
    assert await applications(core) == []
    # Six digits that are neither the forger's code nor the void one: a wrong try.
    await citizen.expect(wrong_guesses(await confirmation_code(citizen), 1, held)[0], WRONG)
    assert param(citizen.last, "count") == 2
    # Having read the forger's codice fiscale in the new code message, the citizen stops it.
    await citizen.send("ANNULLA")
    await citizen.send("DOMANDA")
    mine = await reach_the_code(citizen, CITIZEN_CF, CITIZEN_ANSWERS)
    await citizen.expect(mine, SENT)
    [application] = await applications(core)
    async with core.uow() as uow:
        owner = await uow.citizens.by_id(application.citizen_id)
        assert owner is not None
        assert (owner.codice_fiscale, owner.phone) == (CITIZEN_CF, PHONE)
    assert application.household_size == 2 and application.liquidity_cents == 0


async def test_at_the_code_limit_a_forged_restart_never_gets_the_citizens_code(
    core: Core, clock: FakeClock
) -> None:
    """At the limit the restarted application used to go on with the code the phone
    already held: now no new content can be confirmed until the limit resets, and the
    citizen's code files nothing."""
    town = await town_with_open_window(core)
    async with core.uow() as uow:
        for index in range(security.CODES_PER_HOUR - 1):
            await security.code_sent(
                uow,
                "sms",
                PHONE,
                "appeal",
                core.now(),
                salt=f"{index:032d}",
                code_hash=f"{index:064d}",
                municipality_id=town.municipality_id,
            )
        await uow.commit()
    citizen = Chat(core, PHONE)
    await citizen.send("DOMANDA")
    held = await reach_the_code(citizen, CITIZEN_CF, CITIZEN_ANSWERS)  # the fifth code
    forger = Chat(core, PHONE)
    await forger.expect("DOMANDA", RESUME)
    await forger.send("2")
    for text in ("1", FORGER_CF, *FORGER_ANSWERS):
        await forger.send(text)
    await forger.expect("1", OTHER_CONTENT)
    assert (await forger.state())[:2] == (None, None)
    await citizen.send(held)
    assert await applications(core) == []
    # An hour on, the citizen applies with a code of their own.
    clock.advance(hours=1)
    await citizen.send("DOMANDA")
    await citizen.expect(await reach_the_code(citizen, CITIZEN_CF, CITIZEN_ANSWERS), SENT)
    [application] = await applications(core)
    assert application.household_size == 2


async def test_a_confused_citizen_who_starts_again_gets_a_fresh_code_that_works(
    core: Core,
) -> None:
    await town_with_open_window(core)
    citizen = Chat(core, PHONE)
    await citizen.send("DOMANDA")
    first = await reach_the_code(citizen, CITIZEN_CF, CITIZEN_ANSWERS)
    await citizen.expect("DOMANDA", RESUME)
    await citizen.send("2")
    fresh = await reach_the_code(citizen, CITIZEN_CF, CITIZEN_ANSWERS)
    assert fresh != first
    await citizen.expect(fresh, SENT)
    assert len(await applications(core)) == 1


async def test_the_first_code_of_the_same_request_sent_twice_still_confirms_it(
    core: Core, clock: FakeClock
) -> None:
    """An elderly citizen sent the same RICORSO twice (unsure the first went out) and typed
    the code of the first message: it was refused as replaced, though it confirmed the very
    same words. In its time it confirms them; once expired, or for other words, it does not."""
    town = await make_town(core, citizens=2)
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.expect("RICORSO il mio isee è sbagliato", APPEAL_CODE)
    first = await confirmation_code(citizen)
    await citizen.expect("RICORSO il mio isee è sbagliato", APPEAL_CODE)
    assert await confirmation_code(citizen) != first
    await citizen.expect(first, RECEIVED)
    [appeal] = await appeals_in(core)
    assert appeal.reason == "il mio isee è sbagliato"
    # Expired, the first code of a request sent twice is void (and costs no try).
    other = Chat(core, town.citizen_phones[1])
    await other.expect("RICORSO siamo in quattro", APPEAL_CODE)
    late = await confirmation_code(other)
    clock.advance(minutes=8)
    await other.expect("RICORSO siamo in quattro", APPEAL_CODE)
    clock.advance(minutes=3)
    await other.expect(late, REPLACED)
    await other.expect(await confirmation_code(other), RECEIVED)
    assert len(await appeals_in(core)) == 2


async def test_amounts_in_words_are_read_and_a_wrong_one_is_explained_like_the_question(
    core: Core,
) -> None:
    await town_with_open_window(core)
    citizen = Chat(core, PHONE)
    for text in ("DOMANDA", "1", CITIZEN_CF, "2", "no", "no"):
        await citizen.send(text)
    assert LIQUIDITY in msgids(citizen.last)
    await citizen.expect("tanti", NOT_AN_AMOUNT)
    assert param(citizen.last, "example") == "1500"
    await citizen.expect("mille e cinquecento", SUPPORT)
    await citizen.send("duecento euro")
    await citizen.send("zero")
    await citizen.expect("1", APPLY_CODE)
    await citizen.expect(await confirmation_code(citizen), SENT)
    [application] = await applications(core)
    assert (application.liquidity_cents, application.public_support_monthly_cents) == (
        1500_00,
        200_00,
    )


# The appeal ----------------------------------------------------------------------------


async def test_a_forged_ricorso_is_not_filed_by_the_citizens_code(core: Core) -> None:
    town = await make_town(core, citizens=1)
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.expect("RICORSO il mio isee è sbagliato", APPEAL_CODE)
    assert param(citizen.last, "quote") == "il mio isee è sbagliato"
    held = await confirmation_code(citizen)
    forger = Chat(core, town.citizen_phones[0])
    await forger.expect("RICORSO flood 1", APPEAL_CODE)
    assert param(forger.last, "quote") == "flood 1"  # on the real phone: not the citizen's words
    await citizen.expect(held, REPLACED)
    assert await appeals_in(core) == []
    # The citizen writes the appeal again: the new code quotes it, and files it.
    await citizen.expect("RICORSO il mio isee è sbagliato", APPEAL_CODE)
    replies = await citizen.expect(await confirmation_code(citizen), RECEIVED)
    assert param(replies, "quote") == "il mio isee è sbagliato"
    [appeal] = await appeals_in(core)
    assert appeal.reason == "il mio isee è sbagliato"


async def test_an_honest_appeal_takes_as_few_messages_as_before(core: Core) -> None:
    town = await make_town(core, citizens=1)
    citizen = Chat(core, town.citizen_phones[0])
    reason = "Siamo in quattro in famiglia e non in due come risulta dalla domanda"
    replies = await citizen.expect(f"RICORSO {reason}", APPEAL_CODE)
    assert len(replies) == 1
    quote = param(replies, "quote")
    assert quote == appeals.reason_start(reason) and quote.endswith("...")
    assert reason.startswith(quote.removesuffix("..."))
    for language in ("it", "en"):
        said = render_text(replies[0].texts[0], language, sms=True)
        assert quote in said and gsm7.count(said).single
    replies = await citizen.expect(await confirmation_code(citizen), RECEIVED)
    assert len(replies) == 1 and param(replies, "quote") == quote


@pytest.mark.parametrize(
    ("reason", "quoted"),
    [
        ("isee sbagliato", "isee sbagliato"),
        ('ho scritto "tre"', "ho scritto 'tre'"),
        ("a" * 40, "a" * 27 + "..."),
        ("siamo in quattro in famiglia e non in due", "siamo in quattro in..."),
    ],
)
def test_the_start_of_a_reason_is_quoted_within_its_length(reason: str, quoted: str) -> None:
    assert appeals.reason_start(reason) == quoted
    assert len(appeals.reason_start(reason)) <= appeals.QUOTED


# A payment code that expired -----------------------------------------------------------


async def test_an_expired_payment_code_as_a_first_message_is_explained(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    code = await citizen_code(core, town.citizen_phones[0])
    clock.advance(minutes=11)
    customer = Chat(core, town.citizen_phones[0])  # never wrote before
    await customer.expect(code, EXPIRED_PAYMENT)
    await customer.expect(f"{code[:3]} {code[3:]}", EXPIRED_PAYMENT)


async def test_a_code_whose_content_changed_since_it_was_sent_confirms_nothing(
    core: Core,
) -> None:
    """The answers held at the code step are not those the code was sent for (a code kept
    before codes knew their content, say): the right code is refused with the reason, and
    a new code, naming the answers held now, is sent."""
    await town_with_open_window(core)
    citizen = Chat(core, PHONE)
    await citizen.send("DOMANDA")
    held = await reach_the_code(citizen, CITIZEN_CF, CITIZEN_ANSWERS)
    async with core.uow() as uow:
        conversation = await uow.session.scalar(
            select(m.Conversation).where(m.Conversation.address == PHONE)
        )
        assert conversation is not None
        data = dict(conversation.data)
        answers = dict(data["state"])
        assert answers["otp"]["content"]
        answers["otp"] = {k: v for k, v in answers["otp"].items() if k != "content"}
        data["state"] = answers
        conversation.data = data
        await uow.commit()
    await citizen.expect(held, OTHER_ANSWERS, APPLY_CODE)
    assert await applications(core) == []
    await citizen.expect(await confirmation_code(citizen), SENT)
    assert len(await applications(core)) == 1


async def test_a_forged_language_change_says_the_way_back_in_the_language_left(
    core: Core,
) -> None:
    # The forger switches an Italian citizen's SMS to English; the real phone receives the
    # confirmation, and an Italian reader finds in it, in Italian, how to undo it.
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("LINGUA")
    replies = await chat.send("2")
    english = "\n".join(render_text(text, "en") for reply in replies for text in reply.texts)
    assert "Per tornare all'italiano scrivi LINGUA." in english
    assert all(gsm7.segments(render_text(text, "en")) == 1 for r in replies for text in r.texts)
    # The citizen does what it says: Italian again, for the chat and the notices.
    await chat.send("LINGUA")
    replies = await chat.send("1")
    italian = "\n".join(render_text(text, "it") for reply in replies for text in reply.texts)
    assert "Fatto: ti scriverò in italiano." in italian
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None and citizen.language == "it"
