"""Confirmation codes: what they say, attempts kept across new codes, codes per number;
and what an SMS (whose sender can be forged) may change on another channel."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.flows.base import code_message
from core.dialogue.inbound import Channel
from core.domain import gsm7
from core.domain.messages import Money, t
from core.i18n import render_text
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, confirmation_code, msgids
from tests.factories import make_town

CASHIER_CODE = (
    "Code {code} confirms a new cashier code for your shop. Do not share it with anyone. "
    "Valid {minutes} min."
)
TOO_MANY_SENT = "Too many codes were sent to this number. Nothing was changed: try again later."
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
    for _ in range(5):
        await owner.expect("CASSIERE", CASHIER_CODE)
        await owner.send("ANNULLA")
    await owner.expect("CASSIERE", TOO_MANY_SENT)
    assert (await owner.state())[:2] == (None, None)
    clock.advance(minutes=61)
    for _ in range(5):
        await owner.expect("CASSIERE", CASHIER_CODE)
        await owner.send("ANNULLA")
    clock.advance(minutes=61)
    await owner.expect("CASSIERE", TOO_MANY_SENT)  # ten today
    clock.advance(hours=22)
    await owner.expect("CASSIERE", CASHIER_CODE)


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
@pytest.mark.parametrize("flow", ["apply", "appeal", "refund"])
def test_a_confirmation_code_says_to_reply_with_it(flow: str, language: str) -> None:
    # These codes come back to us: an elderly person who got one wrote "ok grazie" and
    # "ho ricevuto un codice, cosa devo fare?" before anyone told them (usertest item 8).
    said = render_text(code_message(flow, "035428", 10), language, sms=True)
    assert REPLY_WITH_IT[language] in said, said
    assert "035428" in said and gsm7.count(said).single


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
