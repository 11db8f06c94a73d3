"""'Non sono io' on Telegram, end to end over HTTP through the fake Bot API: a shop's till
on Telegram charges a citizen whose chat is linked, she answers "non sono io" where the
code came, and then: she reads that the payment is refused and to write UFFICIO; the till
reads that she refused it, and its code no longer pays; no money moved (her balance, what
the shop is owed, the payment cancelled); and the office has the refusal, naming the shop,
the payment and the till (a `not_me` security event, listed by `admin shops refusals`)."""

from __future__ import annotations

import asyncio
import re
from functools import partial

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from buonispesa.cli import _register, app
from buonispesa.demo import DEMO_CITIZENS
from core.domain.charges import ChargeStatus
from core.services import ledger, security
from core.storage import models as m
from tests.e2e.telegram_harness import TelegramServer
from tests.e2e.test_telegram_her_words import holder
from tests.factories import telegram_owner

_register()

TILL_CHAT = 6201
HER_CHAT = 6202


async def _till_and_balances(server: TelegramServer) -> tuple[int, int, int, int]:
    """Forno Chienti's owner on Telegram (chat TILL_CHAT): (shop id, the demo's first
    citizen's id, her balance, what the shop is owed)."""
    async with server.core.uow() as uow:
        [shop] = [s for s in await uow.shops.search(1) if s.name == "Forno Chienti"]
        uow.session.add(telegram_owner(shop.id, TILL_CHAT, server.core.now()))
        citizen = await uow.citizens.by_codice_fiscale(1, DEMO_CITIZENS[0].codice_fiscale)
        assert citizen is not None
        await uow.commit()
        return (
            shop.id,
            citizen.id,
            await ledger.citizen_balance(uow, 1, citizen.id),
            await ledger.shop_balance(uow, 1, shop.id),
        )


async def test_non_sono_io_on_telegram_refuses_and_the_office_keeps_it(
    telegram_server_any_db: TelegramServer, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = telegram_server_any_db
    shop_id, citizen_id, balance, owed = await _till_and_balances(server)
    rosa = await holder(server, HER_CHAT)
    till = server.user(TILL_CHAT, name="Rita")
    async with server.core.uow() as uow:
        citizen = await uow.citizens.by_id(citizen_id)
        assert citizen is not None and citizen.card_code
        card = citizen.card_code

    [waiting] = await server.exchange(till, partial(till.say, f"/paga {card} 12,50"))
    assert plain(waiting["text"]).startswith("Codice inviato al cliente (Telegram) per 12,50 €."), (
        waiting["text"]
    )
    code = code_in_italian(rosa.messages()[-1]["text"])

    before = len(till.messages())
    [refused] = await server.exchange(rosa, partial(rosa.say, "non sono io"))
    assert plain(refused["text"]) == (
        "Pagamento di 12,50 € a Forno Chienti rifiutato: il codice non vale più. Non eri tu? "
        "Qualcuno ha i tuoi dati: scrivi UFFICIO."
    ), refused["text"]
    [told] = till.messages()[before:]
    assert plain(told["text"]) == (
        "La persona ha rifiutato il pagamento di 12,50 €: il codice non vale più. Chiedi come "
        "vuole pagare."
    ), told["text"]
    # The code she was sent no longer pays: typed at the till, the refusal is said again.
    [answer] = await server.exchange(till, partial(till.say, code))
    assert answer["text"] == told["text"], answer["text"]

    async with server.core.uow() as uow:
        assert await ledger.citizen_balance(uow, 1, citizen_id) == balance
        assert await ledger.shop_balance(uow, 1, shop_id) == owed
        [charge] = await uow.session.scalars(select(m.Charge).where(m.Charge.shop_id == shop_id))
        assert (charge.status, charge.amount_cents) == (ChargeStatus.CANCELLED, 12_50)
        [event] = await uow.session.scalars(
            select(m.SecurityEvent).where(m.SecurityEvent.kind == security.NOT_ME)
        )
        assert (event.shop_id, event.charge_id, event.detail) == (
            shop_id,
            charge.id,
            f"telegram:{TILL_CHAT}",
        )
        assert await ledger.verify(uow, 1)

    # The office's command line lists it, the till as `admin shops members` shows it.
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", database_url)
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    result = await asyncio.to_thread(CliRunner().invoke, app, ["admin", "shops", "refusals", "BEL"])
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.output.splitlines() if "€12.50" in line]
    assert "Forno Chienti" in row and f"Telegram ***{str(TILL_CHAT)[-3:]}" in row, row


def plain(text: str) -> str:
    """The text with its no-break spaces (between an amount and €) as spaces."""
    return text.replace("\xa0", " ")


def code_in_italian(text: str) -> str:
    found = re.search(r"Codice: (\d{6,})", text)
    assert found is not None, text
    return found.group(1)
