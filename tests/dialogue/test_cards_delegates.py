"""At the till with a card and its one-time codes, and a delegate's phone, by chat (every SMS
one segment)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.cards import PIN_FAILURES_PER_SHOP
from core.services import cards, delegates
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import (
    TILL_CODE,
    Chat,
    assert_one_segment,
    confirmation_code,
    msgids,
    open_till,
    outbox_of,
    param,
)
from tests.dialogue.test_shop import CONFIRMED
from tests.dialogue.test_sms_lengths import CITIZEN_PHONE, SHOP_PHONE, TOWN, long_town
from tests.factories import approved_request

ASK_PIN = (
    "Card {card}, {amount}: ask the holder for code no. {position} of the card. Write it here. "
    "ANNULLA to stop."
)
WRONG_PIN = "Wrong code: {count} attempt left."
BLOCKED = (
    "Too many wrong PINs: card blocked, payment of {amount} cancelled. The holder must ask "
    "the office for a new card."
)
NOT_HERE = (
    "Too many wrong PINs for this card: payment of {amount} cancelled. This shop can charge "
    "it again from {until}."
)
NOT_HERE_AT_PAGA = (
    "Too many wrong PINs for this card here: this shop can charge it again from {until}. It "
    "still works at other shops."
)
OTHER_SHOP_PHONE = "+393470000103"  # the owner of another shop of the long town
DELEGATE = "+393471234567"


async def no_phone_card(core: Core, cf: str, language: str) -> cards.CardData:
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        citizen = await uow.citizens.by_codice_fiscale(town.id, cf)
        assert citizen is not None
        citizen.phone, citizen.language = None, language
        yes = await approved_request(uow, town, cf, "card")
        card = await cards.issue_card(uow, town, cf, core.now(), approved=yes)
        await uow.commit()
    assert isinstance(core.clock, FakeClock)
    core.clock.advance(minutes=5)  # the holder goes shopping with the card
    return card


@pytest.mark.parametrize("language", ["it", "en"])
async def test_pay_with_the_card_and_its_pin(core: Core, language: str) -> None:
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.send(f"PAGA {cf} 5")
    assert "voucher card" in msgids(till.last)[0]
    await till.expect(f"PAGA {cards_grouped(card.card_code)} 12,50", ASK_PIN)
    assert param(till.last, "card") == cards_grouped(card.card_code)
    code = slip(card, till)
    await till.expect("abc", "Write code no. {position} of the card (6 digits), or ANNULLA.")
    await till.expect(wrong(code), WRONG_PIN)
    await till.expect(code, CONFIRMED)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_wrong_pins_stop_this_shop_not_the_card(core: Core, language: str) -> None:
    """Three wrong PINs at one till: this shop is told, in neutral words, that it cannot
    charge the card until the next day; another shop charges it with the right PIN."""
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.expect(f"PAGA {card.card_code} 1", ASK_PIN)
    code = slip(card, till)
    await till.expect(wrong(code), WRONG_PIN)
    await till.send(wrong(code))  # two wrong codes end the SMS till session
    await till.expect(f"PAGA {card.card_code} 1", TILL_CODE)
    await till.expect(await confirmation_code(till), ASK_PIN)
    code = slip(card, till)
    for _ in range(PIN_FAILURES_PER_SHOP - 2):
        replies = await till.expect(wrong(code), NOT_HERE)
    assert BLOCKED not in msgids(replies)
    assert "{until}" not in str(param(replies, "until"))
    # Asked again, the shop hears the same, before any PIN is typed.
    await till.expect(f"PAGA {card.card_code} 1", NOT_HERE_AT_PAGA)
    # The card works at another shop, with the right PIN.
    other = await open_till(Chat(core, OTHER_SHOP_PHONE))
    await other.send(f"LINGUA {language}")
    await other.expect(f"PAGA {card.card_code} 2", ASK_PIN)
    await other.expect(slip(card, other), CONFIRMED)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        holder = await uow.citizens.by_codice_fiscale(town.id, cf)
        assert holder is not None and holder.card_blocked_at is None


FEW_LEFT = "Only {count} code left on the card: the holder must ask the office for a new card."
NONE_LEFT = (
    "No code left on the card: it pays no more. The holder must ask the office for a new card."
)
USED_UP = (
    "Every code of this card was used: it pays no more. The holder must ask the office of "
    "{town} for a new card."
)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_the_till_says_when_the_card_runs_out_of_codes(core: Core, language: str) -> None:
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    async with core.uow() as uow:  # the holder has paid 28 times already
        await uow.session.execute(
            update(m.CardCode).where(m.CardCode.position > 2).values(used_at=core.now())
        )
        await uow.commit()
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.expect(f"PAGA {card.card_code} 1", ASK_PIN)
    replies = await till.expect(slip(card, till), CONFIRMED)
    assert FEW_LEFT in msgids(replies) and param(replies, "count") == 1
    for reply in replies:
        assert_one_segment(reply, language)
    await till.expect(f"PAGA {card.card_code} 1", ASK_PIN)
    replies = await till.expect(slip(card, till), NONE_LEFT)
    for reply in replies:
        assert_one_segment(reply, language)
    replies = await till.expect(f"PAGA {card.card_code} 1", USED_UP)
    assert param(replies, "town") == TOWN
    for reply in replies:
        assert_one_segment(reply, language)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_the_delegate_gets_the_code_and_asks_the_balance(core: Core, language: str) -> None:
    cf = await long_town(core)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        citizen = await uow.citizens.by_codice_fiscale(town.id, cf)
        assert citizen is not None
        citizen.language = language
        yes = await approved_request(uow, town, cf, "delegate", DELEGATE)
        await delegates.add_delegate(uow, town, cf, DELEGATE, core.now(), approved=yes)
        await uow.commit()
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.send(f"PAGA {cf} 123,45")
    code = None
    for _row, reply in await outbox_of(core, "sms", DELEGATE):
        code = reply.texts[0].params.get("code", code)
    assert isinstance(code, str)
    await till.expect(code, CONFIRMED)
    helper = Chat(core, DELEGATE)
    await helper.expect("SALDO", "Balance of {holder}: {balance}.")
    assert param(helper.last, "holder") == cf[:6] + "*" * 9 + cf[-1]
    # Everything the citizen and the delegate received fits one SMS.
    for phone in (CITIZEN_PHONE, DELEGATE):
        rows = await outbox_of(core, "sms", phone)
        assert rows
        for row, reply in rows:
            assert_one_segment(reply, row.language)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        await delegates.remove_delegate(uow, town, cf, core.now())
        await uow.commit()
    for row, reply in await outbox_of(core, "sms", DELEGATE):
        assert_one_segment(reply, row.language)
    await helper.expect("SALDO", "We have no vouchers for this number. To apply, write DOMANDA.")


async def test_a_delegate_on_telegram_shares_the_contact_and_sees_the_balance(
    core: Core,
) -> None:
    cf = await long_town(core)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        yes = await approved_request(uow, town, cf, "delegate", DELEGATE)
        await delegates.add_delegate(uow, town, cf, DELEGATE, core.now(), approved=yes)
        await uow.commit()
    chat = Chat(core, "7001", channel=Channel.TELEGRAM)
    await chat.send("/saldo")
    await chat.expect(None, "Balance of {holder}: {balance}.", contact=(DELEGATE, True))


def slip(card: cards.CardData, till: Chat) -> str:
    """The code the holder reads off the slip at the position the till was just given."""
    position = param(till.last, "position")
    assert isinstance(position, int) and 1 <= position <= len(card.codes)
    return card.codes[position - 1]


def wrong(pin: str) -> str:
    return "000000" if pin != "000000" else "111111"


def cards_grouped(code: str) -> str:
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))
