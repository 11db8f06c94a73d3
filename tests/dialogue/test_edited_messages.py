"""Telegram edits read as new messages cannot pay twice.

An edit of the chat's latest message, made soon after, is read as a new message
(engine.EDIT_WINDOW): a cashier who edits the payment code once the payment is done, or
edits the PAGA that asked it, must not charge the customer again. The services refuse a
code used once; these tests hold that through the engine, as an edit reaches it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.engine import ONLY_NEW_MESSAGES
from core.dialogue.inbound import Channel
from core.services import ledger
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import msgids
from tests.dialogue.test_shop import ASK_CODE, CONFIRMED, citizen_code
from tests.dialogue.test_till_codes_trial import CF, CITIZEN_PHONE, any_till, charges

SOON = timedelta(seconds=30)


async def laura_balance(core: Core) -> int:
    async with core.uow() as uow:
        citizen = await uow.session.scalar(select(m.Citizen).where(m.Citizen.codice_fiscale == CF))
        assert citizen is not None
        return await ledger.citizen_balance(uow, citizen.municipality_id, citizen.id)


async def test_an_edited_payment_code_does_not_charge_twice(core: Core, clock: FakeClock) -> None:
    till = await any_till(core, clock, Channel.TELEGRAM)
    before = await laura_balance(core)
    await till.expect(f"PAGA {CF} 12,50", ASK_CODE, telegram_id="11")
    code = await citizen_code(core, CITIZEN_PHONE)
    await till.expect(code, CONFIRMED, telegram_id="13")
    assert await laura_balance(core) == before - 12_50

    # The code edited (the same digits, or a stray change) right after: read as new, paid
    # nothing again.
    for again in (code, f"{code} "):
        replies = await till.send(again, telegram_id="13", edited_after=SOON)
        assert CONFIRMED not in msgids(replies), msgids(replies)
        assert await laura_balance(core) == before - 12_50
    assert [status for _, status, _, _ in await charges(core)] == ["confirmed"]

    # The PAGA edited after the code was typed: an older message, not read.
    replies = await till.send(f"PAGA {CF} 12,50", telegram_id="11", edited_after=SOON)
    assert msgids(replies) == [ONLY_NEW_MESSAGES.msgid]
    assert [status for _, status, _, _ in await charges(core)] == ["confirmed"]
    assert await laura_balance(core) == before - 12_50


async def test_an_edited_paga_asks_again_and_still_pays_once(core: Core, clock: FakeClock) -> None:
    """PAGA edited while its code is awaited (the amount corrected): the payment asked
    again, the first one's code no longer pays; the customer pays once, the new amount."""
    till = await any_till(core, clock, Channel.TELEGRAM)
    before = await laura_balance(core)
    await till.expect(f"PAGA {CF} 125", ASK_CODE, telegram_id="21")
    first = await citizen_code(core, CITIZEN_PHONE)
    await till.expect(f"/paga {CF} 12,50", ASK_CODE, telegram_id="21", edited_after=SOON)
    second = await citizen_code(core, CITIZEN_PHONE)
    assert second != first
    replies = await till.send(first, telegram_id="23")
    assert CONFIRMED not in msgids(replies)
    await till.expect(second, CONFIRMED, telegram_id="24")
    assert await laura_balance(core) == before - 12_50
    assert [status for _, status, _, _ in await charges(core)].count("confirmed") == 1
