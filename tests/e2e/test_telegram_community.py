"""Community vouchers and donations against the fake Bot API: invoice, pre-checkout, payment,
spending at the till, and the donation in the transparency report."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from buonispesa.demo import DEMO_CODE
from core.domain.ledger import AccountKind
from core.services import community, reports
from core.storage import models as m
from tests.e2e.fake_telegram import FakeUser
from tests.e2e.telegram_harness import TelegramServer, start_telegram_server
from tests.factories import telegram_owner

PROVIDER_TOKEN = "284685063:TEST:provider-token"
BUYER_CHAT = 6101
FORNO_CHAT = 6102
RITA_CHAT = 6103


@pytest.fixture
async def server(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TelegramServer]:
    async for running in start_telegram_server(
        database_url, monkeypatch, payment_provider_token=PROVIDER_TOKEN
    ):
        yield running


async def shops(server: TelegramServer) -> dict[str, m.Shop]:
    async with server.core.uow() as uow:
        town = await uow.municipalities.by_code(DEMO_CODE)
        assert town is not None
        return {shop.name: shop for shop in await uow.shops.search(town.id)}


async def open_community(server: TelegramServer) -> dict[str, m.Shop]:
    """The town turns the feature on; two shops sell vouchers; their owners use Telegram."""
    found = await shops(server)
    async with server.core.uow() as uow:
        await community.set_town_enabled(uow, DEMO_CODE, True)
        for name, chat in (("Forno Chienti", FORNO_CHAT), ("Alimentari Da Rita", RITA_CHAT)):
            shop = found[name]
            await community.set_shop_vouchers(
                uow, shop.id, enabled=True, minimum_cents=500, maximum_cents=50_00
            )
            uow.session.add(telegram_owner(shop.id, chat, server.core.now()))
        await uow.commit()
    return found


async def invoice_for(server: TelegramServer, buyer: FakeUser, shop: str, euro: str) -> Any:
    await server.exchange(buyer, lambda: buyer.say("/buy"))
    await server.exchange(buyer, lambda: buyer.tap(shop))
    [invoice] = await server.exchange(buyer, lambda: buyer.say(euro))
    return invoice


def code_in(text: str) -> str:
    found = re.search(r"Code: (\d{6,})", text)
    assert found is not None, text
    return found.group(1)


async def test_a_voucher_bought_paid_and_spent_at_its_shop_only(server: TelegramServer) -> None:
    found = await open_community(server)
    forno = found["Forno Chienti"]
    buyer = server.user(BUYER_CHAT, language="en", name="Anna")

    invoice = await invoice_for(server, buyer, "Forno Chienti", "20")
    assert invoice["invoice"]["currency"] == "EUR"
    assert invoice["invoice"]["total_amount"] == 2000  # cents
    assert invoice["invoice"]["title"] == "Voucher Forno Chienti"
    [call] = server.api.calls_of("sendInvoice")
    assert call.params["provider_token"] == PROVIDER_TOKEN
    assert call.params["prices"] == [{"label": "Voucher", "amount": 2000}]
    assert call.params["payload"] == f"cv:{forno.municipality_id}:{forno.id}:2000"

    assert await buyer.pre_checkout(invoice) == (True, None)
    # Telegram may report the same payment twice (a retried webhook, two deliveries).
    before = len(buyer.messages())
    await server.exchange(buyer, lambda: buyer.paid(invoice, "tg-1"))
    await server.exchange(buyer, lambda: buyer.paid(invoice, "tg-1"))
    [receipt] = buyer.messages()[before:]
    assert receipt["text"].startswith("Paid: voucher V")
    voucher = re.search(r"V\d{11}", receipt["text"])
    assert voucher is not None
    async with server.core.uow() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(m.Voucher))
        held = await uow.community.voucher_by_code(voucher.group(0))
        assert held is not None
        balance = await uow.ledger.balance_of_owner(
            held.municipality_id, AccountKind.VOUCHER, held.id
        )
        payment = await uow.community.payment(held.payment_id)
    assert count == 1 and balance == 20_00
    assert payment is not None and payment.provider_payment_charge_id == "ch_tg-1"

    # At another shop the voucher is refused, and nothing is sent to the holder.
    rita = server.user(RITA_CHAT, language="en", name="Rita")
    before = len(buyer.messages())
    [refused] = await server.exchange(rita, lambda: rita.say(f"/paga {voucher.group(0)} 5"))
    assert "belongs to another shop" in refused["text"]
    assert buyer.messages()[before:] == []

    # At its own shop: the code goes to the buyer's chat, the cashier types it.
    cashier = server.user(FORNO_CHAT, language="en", name="Gino")
    [waiting] = await server.exchange(cashier, lambda: cashier.say(f"/paga {voucher.group(0)} 5"))
    assert waiting["text"].startswith("Code sent to the customer (Telegram) for €5.00")
    code = code_in(buyer.messages()[-1]["text"])
    before = len(buyer.messages())
    [confirmed] = await server.exchange(cashier, lambda: cashier.say(code))
    assert confirmed["text"].startswith("Payment confirmed: €5.00.")
    [told] = buyer.messages()[before:]
    assert "Left on it: €15.00" in told["text"]


async def test_a_shop_that_stopped_selling_refuses_the_pre_checkout(
    server: TelegramServer,
) -> None:
    await open_community(server)
    buyer = server.user(BUYER_CHAT, language="en", name="Anna")
    invoice = await invoice_for(server, buyer, "Forno Chienti", "10")

    owner = server.user(FORNO_CHAT, language="en", name="Gino")
    [menu] = await server.exchange(owner, lambda: owner.say("/vouchers"))
    assert "Forno Chienti sells vouchers from €5.00 to €50.00." in menu["text"]
    [done] = await server.exchange(owner, lambda: owner.tap("Stop selling"))
    assert done["text"] == "Done: Forno Chienti no longer sells vouchers."

    ok, message = await buyer.pre_checkout(invoice)
    assert ok is False
    assert message == "This shop no longer sells vouchers. Nothing was charged."
    async with server.core.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(m.Voucher)) == 0


async def test_the_refusal_speaks_the_payers_language(server: TelegramServer) -> None:
    await open_community(server)
    buyer = server.user(BUYER_CHAT, language="it", name="Anna")
    invoice = await invoice_for(server, buyer, "Forno Chienti", "10")
    async with server.core.uow() as uow:
        await community.set_town_enabled(uow, DEMO_CODE, False)
        await uow.commit()
    ok, message = await buyer.pre_checkout(invoice)
    assert ok is False and message is not None
    assert message.startswith("Belforte del Chienti non ha attivato")


async def test_a_donation_has_a_receipt_and_shows_in_the_report(server: TelegramServer) -> None:
    await open_community(server)
    donor = server.user(BUYER_CHAT, language="en", name="Anna")
    [question] = await server.exchange(donor, lambda: donor.say("/donate"))
    assert "grocery vouchers fund" in question["text"]
    [invoice] = await server.exchange(donor, lambda: donor.say("25"))
    assert invoice["invoice"]["currency"] == "EUR"
    assert invoice["invoice"]["total_amount"] == 2500
    assert await donor.pre_checkout(invoice) == (True, None)
    [receipt] = await server.exchange(donor, lambda: donor.paid(invoice, "tg-d1"))
    assert receipt["text"].startswith("Thank you: we received your donation of €25.00")
    async with server.core.uow() as uow:
        town = await uow.municipalities.by_code(DEMO_CODE)
        assert town is not None
        published = await reports.transparency_report(uow, town, server.core.now())
    assert published.donations.value == 25_00
    assert "Donations to the fund" in published.to_markdown("en")


async def test_without_the_town_enabling_it_the_chat_says_so(server: TelegramServer) -> None:
    buyer = server.user(BUYER_CHAT, language="en", name="Anna")
    [answer] = await server.exchange(buyer, lambda: buyer.say("/buy"))
    assert answer["text"] == ("Belforte del Chienti has not enabled shop vouchers and donations.")
    assert server.api.calls_of("sendInvoice") == []
