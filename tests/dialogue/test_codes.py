"""Confirmation codes: what they say, attempts kept across new codes, codes per number;
and what an SMS (whose sender can be forged) may change on another channel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.flows.base import code_message
from core.dialogue.flows.refund import refund_code_text
from core.dialogue.inbound import Channel
from core.domain import gsm7
from core.domain.messages import Moment, Money, t
from core.i18n import format_in_sentence, render_text
from core.services import security
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import (
    CASHIER_CODE,
    INVITED,
    Chat,
    confirmation_code,
    msgids,
    open_till,
    param,
)
from tests.factories import make_town

TOO_MANY_SENT = (
    "Too many codes were sent to this number. Nothing was changed: a new code can be sent "
    "from {when}."
)
ALREADY_SENT = (
    "A code was already sent to this number at {when}: write it here, or ANNULLA to stop."
)
APPEAL_CODE = (
    'Code {code} confirms your appeal "{quote}": reply to this message with the code. Do not '
    "give it to anyone else. Valid {minutes} min."
)
APPEAL_RECEIVED = (
    'Appeal no. {number} on application {protocol} received: "{quote}". The office will '
    "send you its decision here."
)
OTHER_CONTENT = (
    "Too many codes were sent to this number, and the last one confirms other content. "
    "Nothing was changed: you can confirm this from {when}."
)
CASHIER_INVITE = INVITED
CANCELLED = "Too many wrong codes: the request was cancelled. Nothing was changed."


def wrong_for(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def test_a_new_code_keeps_the_wrong_attempts_already_used(core: Core) -> None:
    town = await make_town(core, citizens=1)
    owner = Chat(core, town.shop_phone)
    await owner.expect("CASSIERE", CASHIER_CODE)
    first = await confirmation_code(owner)
    await owner.expect(wrong_for(first), "Wrong code: {count} attempt left.")
    await owner.expect(wrong_for(first), "Wrong code: {count} attempt left.")
    await owner.expect(None, CASHIER_CODE, option="resend")
    second = await confirmation_code(owner)
    # One try was left before the new code, and one is left after it.
    await owner.expect(wrong_for(second), CANCELLED)
    replies = await owner.send(second)  # nothing pending any more: just the help
    assert "Cashier code: {code}" not in " ".join(msgids(replies))
    async with core.uow() as uow:
        assert await uow.session.get(m.ShopInvite, 1) is None


async def test_at_most_five_codes_an_hour_and_ten_a_day_per_number(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    owner = Chat(core, town.shop_phone)
    first = core.now()
    for _ in range(5):
        await owner.expect("CASSIERE", CASHIER_CODE)
        await owner.send("ANNULLA")
    clock.advance(minutes=11)  # no code sent is valid any more
    await owner.expect("CASSIERE", TOO_MANY_SENT)
    # The refusal says when a new code can be sent: an hour after the first.
    assert param(owner.last, "when") == Moment(first + timedelta(hours=1))
    assert (await owner.state())[:2] == (None, None)
    clock.advance(minutes=50)
    for _ in range(5):
        await owner.expect("CASSIERE", CASHIER_CODE)
        await owner.send("ANNULLA")
    clock.advance(minutes=61)
    await owner.expect("CASSIERE", TOO_MANY_SENT)  # ten today
    assert param(owner.last, "when") == Moment(first + timedelta(days=1))
    clock.advance(hours=22)
    await owner.expect("CASSIERE", CASHIER_CODE)


async def test_codes_typed_back_give_their_places_back(core: Core, clock: FakeClock) -> None:
    """Only the phone's owner reads the codes: the codes that came back right never stop
    them, however many requests they confirm in an hour or a day."""
    town = await make_town(core, citizens=1)
    owner = Chat(core, town.shop_phone)
    for _ in range(2 * security.CODES_PER_DAY):
        await owner.expect("CASSIERE", CASHIER_CODE)
        await owner.expect(await confirmation_code(owner), CASHIER_INVITE)
        clock.advance(minutes=2)
    # Codes never typed back still count: the number is protected from a flood.
    for _ in range(security.CODES_PER_HOUR):
        await owner.expect("CASSIERE", CASHIER_CODE)
        await owner.send("ANNULLA")
    clock.advance(minutes=11)
    await owner.expect("CASSIERE", TOO_MANY_SENT)


async def test_a_forger_who_floods_the_number_cannot_have_its_owner_confirm_other_words(
    core: Core, clock: FakeClock
) -> None:
    """Ten requests forged as the citizen's number in ten minutes: five codes reach the
    phone, each quoting the forger's words, then the same request goes on with the last
    code instead of another. The owner who writes their own reason meanwhile is told that
    nothing new can be confirmed until the hour is over (the code the phone holds confirms
    only the forger's words, and it is never offered for theirs); then they appeal."""
    town = await make_town(core, citizens=1)
    forger = Chat(core, town.citizen_phones[0])  # the real number, typed by someone else
    first = core.now()
    sent_codes = []
    for index in range(10):
        if index < security.CODES_PER_HOUR:
            await forger.expect("RICORSO per dispetto", APPEAL_CODE)
            assert param(forger.last, "quote") == "per dispetto"
            sent_codes.append(await confirmation_code(forger))
            last_sent = core.now()
        else:
            await forger.expect("RICORSO per dispetto", ALREADY_SENT)
            assert param(forger.last, "when") == Moment(last_sent)
        clock.advance(minutes=1)
    assert await confirmation_code(forger) == sent_codes[-1]  # no sixth code was sent
    owner = Chat(core, town.citizen_phones[0])
    await owner.expect("RICORSO siamo in tre", OTHER_CONTENT)
    assert param(owner.last, "when") == Moment(first + timedelta(hours=1))
    said = render_text(owner.last[-1].texts[0], "it", sms=True)
    assert format_in_sentence(Moment(first + timedelta(hours=1)), "it") in said
    assert gsm7.count(said).single
    assert (await owner.state())[:2] == (None, None)
    # The code the phone holds files nothing: no request waits for it.
    replies = await owner.send(sent_codes[-1])
    assert APPEAL_RECEIVED not in msgids(replies)
    async with core.uow() as uow:
        assert (await uow.session.scalars(select(m.Appeal))).all() == []
        assert await security.numbers_at_code_limit(uow, town.municipality_id, core.now()) == 1
    clock.advance(hours=1)
    await owner.expect("RICORSO siamo in tre", APPEAL_CODE)
    assert param(owner.last, "quote") == "siamo in tre"
    await owner.expect(await confirmation_code(owner), APPEAL_RECEIVED)
    async with core.uow() as uow:
        [appeal] = (await uow.session.scalars(select(m.Appeal))).all()
        assert appeal.reason == "siamo in tre"


async def test_at_the_limit_the_same_words_go_on_with_the_code_the_phone_holds(
    core: Core, clock: FakeClock
) -> None:
    """A confused owner who writes the same appeal again at the limit is given no new code
    and none is needed: the one the phone holds was sent for these very words."""
    town = await make_town(core, citizens=1)
    owner = Chat(core, town.citizen_phones[0])
    for _ in range(security.CODES_PER_HOUR):
        await owner.expect("RICORSO siamo in tre", APPEAL_CODE)
        clock.advance(minutes=1)
    held = await confirmation_code(owner)
    await owner.expect("RICORSO siamo in tre", ALREADY_SENT)
    await owner.expect(held, APPEAL_RECEIVED)
    assert param(owner.last, "quote") == "siamo in tre"


async def test_wrong_tries_follow_the_code_into_the_next_request(
    core: Core, clock: FakeClock
) -> None:
    """A code offered again at the limit keeps the wrong tries typed against it: a forger
    gets three guesses per code in all, not three per request. With the code spent, the
    owner is told when a new one can be sent (and the office sees the number)."""
    town = await make_town(core, citizens=1)
    forger = Chat(core, town.citizen_phones[0])
    first = core.now()
    for _ in range(security.CODES_PER_HOUR):
        await forger.expect("RICORSO per dispetto", APPEAL_CODE)
    await forger.expect("RICORSO per dispetto", ALREADY_SENT)
    wrong = wrong_for(await confirmation_code(forger))  # the forger never reads it
    await forger.expect(wrong, "Wrong code: {count} attempt left.")
    assert param(forger.last, "count") == 2
    await forger.expect("RICORSO per dispetto", ALREADY_SENT)
    await forger.expect(wrong, "Wrong code: {count} attempt left.")
    assert param(forger.last, "count") == 1  # the new request started from the code's tries
    await forger.expect("RICORSO per dispetto", ALREADY_SENT)
    await forger.expect(wrong, CANCELLED)
    async with core.uow() as uow:
        assert await security.numbers_at_code_limit(uow, town.municipality_id, core.now()) == 1
    owner = Chat(core, town.citizen_phones[0])
    await owner.send("LINGUA en")
    await owner.expect("APPEAL we are three", TOO_MANY_SENT)
    assert param(owner.last, "when") == Moment(first + timedelta(hours=1))
    said = render_text(owner.last[-1].texts[0], "en", sms=True)
    assert format_in_sentence(Moment(first + timedelta(hours=1)), "en") in said
    clock.advance(hours=1)
    await owner.expect("APPEAL we are three", APPEAL_CODE)
    await owner.expect(await confirmation_code(owner), APPEAL_RECEIVED)


async def test_lingua_and_stop_by_sms_change_only_that_sms_conversation(core: Core) -> None:
    town = await make_town(core, citizens=2)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        citizen.telegram_chat_id = "8001"  # notices go to Telegram
        await uow.commit()
    forged = Chat(core, town.citizen_phones[0])
    await forged.send("LINGUA en")
    await forged.send("STOP")
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None and citizen.language == "it"
    telegram = Chat(core, "8001", channel=Channel.TELEGRAM)
    replies = await telegram.send("SALDO")
    assert "Your balance: {balance}." in msgids(replies)
    await telegram.send("LINGUA en")
    # An SMS-only citizen's notices go to that number: LINGUA by SMS sets their language.
    await Chat(core, town.citizen_phones[1]).send("LINGUA en")
    async with core.uow() as uow:
        languages = [
            (await uow.session.get(m.Citizen, x)).language  # type: ignore[union-attr]
            for x in town.citizen_ids
        ]
    assert languages == ["en", "en"]


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("flow", ["refund", "other"])
def test_a_confirmation_code_says_to_reply_with_it(flow: str, language: str) -> None:
    # These codes come back to us: an elderly person who got one wrote "ok grazie" and
    # "ho ricevuto un codice, cosa devo fare?" before anyone told them (usertest item 8).
    if flow == "refund":
        text = refund_code_text("035428", 10, amount_cents=1_234_56, receipt=123)
    else:
        text = code_message(flow, "035428", 10)
    said = render_text(text, language, sms=True)
    assert REPLY_WITH_IT[language] in said, said
    assert "035428" in said and gsm7.count(said).single
    if flow == "refund":  # and which refund it confirms
        assert {"it": "1.234,56", "en": "1,234.56"}[language] in said, said
        assert "123" in said


@pytest.mark.parametrize("language", ["it", "en"])
def test_a_payment_code_is_for_the_cashier_and_never_sent_back(language: str) -> None:
    said = render_text(
        t(
            "{shop} asks {amount}. Code: {code}. Tell it to the cashier only if you agree. "
            "Valid {minutes} min.",
            shop="Alimentari Da Rita",
            amount=Money(15_00),
            code="145185",
            minutes=10,
        ),
        language,
        sms=True,
    )
    assert CASHIER[language] in said and REPLY_WITH_IT[language] not in said


REPLY_WITH_IT = {"it": "Rispondi a questo messaggio con il codice", "en": "reply to this message"}
CASHIER = {"it": "Dillo al cassiere", "en": "Tell it to the cashier"}


async def test_a_forged_flood_of_cashier_codes_leaves_the_numbers_till_working(
    core: Core, clock: FakeClock
) -> None:
    """A forger writing as the owner's number asks cashier code after cashier code: that
    request is refused with the time a new code can be sent, while the owner's till on
    SMS, another purpose, is still sent its code and opens."""
    town = await make_town(core, citizens=1)
    forger = Chat(core, town.shop_phone)
    first = core.now()
    for _ in range(security.CODES_PER_HOUR):
        await forger.expect("CASSIERE", CASHIER_CODE)
        await forger.send("ANNULLA")
        clock.advance(minutes=1)
    clock.advance(minutes=11)  # the codes sent are no longer valid
    await forger.expect("CASSIERE", TOO_MANY_SENT)
    assert param(forger.last, "when") == Moment(first + timedelta(hours=1))
    await open_till(Chat(core, town.shop_phone))
