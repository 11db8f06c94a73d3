"""At the till with a card and its PIN, and a delegate's phone, by chat (every SMS one segment)."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.cards import MAX_PIN_FAILURES
from core.services import cards, delegates
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
from tests.dialogue.test_sms_lengths import CITIZEN_PHONE, SHOP_PHONE, long_town

ASK_PIN = (
    "Card {card}, {amount}: the holder types the card's PIN or tells it to you. Write it here. "
    "ANNULLA to stop."
)
WRONG_PIN = "Wrong PIN: {count} attempt left."
BLOCKED = (
    "Too many wrong PINs: card blocked, payment of {amount} cancelled. The holder must ask "
    "the office for a new card."
)
DELEGATE = "+393471234567"


async def no_phone_card(core: Core, cf: str, language: str) -> cards.CardData:
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        citizen = await uow.citizens.by_codice_fiscale(town.id, cf)
        assert citizen is not None
        citizen.phone, citizen.language = None, language
        card = await cards.issue_card(uow, town, cf, core.now())
        await uow.commit()
        return card


@pytest.mark.parametrize("language", ["it", "en"])
async def test_pay_with_the_card_and_its_pin(core: Core, language: str) -> None:
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    assert card.pin is not None
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.send(f"PAGA {cf} 5")
    assert "voucher card" in msgids(till.last)[0]
    await till.expect(f"PAGA {cards_grouped(card.card_code)} 12,50", ASK_PIN)
    assert param(till.last, "card") == cards_grouped(card.card_code)
    await till.expect("abc", "Write the PIN of the card (6 digits), or ANNULLA.")
    await till.expect(wrong(card.pin), WRONG_PIN)
    await till.expect(card.pin, CONFIRMED)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_five_wrong_pins_block_the_card_at_the_till(core: Core, language: str) -> None:
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    for attempt in range(MAX_PIN_FAILURES):
        if attempt % 2 == 0 and attempt:
            # Two wrong PINs ended the SMS till session: the shop's phone confirms it again.
            await till.expect(f"PAGA {card.card_code} 1", TILL_CODE)
            await till.expect(await confirmation_code(till), ASK_PIN)
        elif attempt % 2 == 0:
            await till.send("ANNULLA")
            await till.expect(f"PAGA {card.card_code} 1", ASK_PIN)
        await till.send(wrong(card.pin or ""))
    assert BLOCKED in msgids(till.last)
    # Five wrong PINs are also five wrong codes of this shop: it is locked for a while.
    await till.send(f"PAGA {card.card_code} 1")
    assert "your shop can charge again" in msgids(till.last)[0]
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        holder = await uow.citizens.by_codice_fiscale(town.id, cf)
        assert holder is not None and holder.card_blocked_at is not None


@pytest.mark.parametrize("language", ["it", "en"])
async def test_the_delegate_gets_the_code_and_asks_the_balance(core: Core, language: str) -> None:
    cf = await long_town(core)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        citizen = await uow.citizens.by_codice_fiscale(town.id, cf)
        assert citizen is not None
        citizen.language = language
        await delegates.add_delegate(uow, town, cf, DELEGATE, core.now())
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
        await delegates.add_delegate(uow, town, cf, DELEGATE, core.now())
        await uow.commit()
    chat = Chat(core, "7001", channel=Channel.TELEGRAM)
    await chat.send("/saldo")
    await chat.expect(None, "Balance of {holder}: {balance}.", contact=(DELEGATE, True))


def wrong(pin: str) -> str:
    return "000000" if pin != "000000" else "111111"


def cards_grouped(code: str) -> str:
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))
