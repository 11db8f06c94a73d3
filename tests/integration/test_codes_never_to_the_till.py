"""A payment code never goes to the charging shop's own staff (SQLite and PostgreSQL).

The services, and the database behind them, refuse a shop member's phone or Telegram chat
as a citizen's or a delegate's, but rows written before that rule covered the terminal
chat may still pair them. The till refuses to send the code there: the charge is refused
with a sentence, no code is sent, no charge waits, and another shop still charges."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select, text, update

from core.bootstrap import Core
from core.dialogue.errors import error_text
from core.domain.errors import NotAllowed, Refusal
from core.storage import models as m
from core.storage.uow import UnitOfWork
from tests.factories import Town, make_town, request
from tests.integration.test_payments import another_shop

CASHIER = "+393339990002"
CASHIER_CHAT = "880040"


async def past_the_guards(core: Core, write: object, *triggers: str) -> None:
    """Write as before the rule: the triggers named are off for this one transaction
    (PostgreSQL disables them, SQLite drops and recreates them: both undo it on commit)."""
    async with core.uow() as uow:
        postgresql = uow.session.get_bind().dialect.name == "postgresql"
        again: list[str] = []
        for trigger in triggers:
            if postgresql:
                table = trigger.split("_", 1)[0]  # citizens_… or delegates_…
                await uow.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
                again.append(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
                continue
            rows = await uow.session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE :n"),
                {"n": f"{trigger}%"},
            )
            for name, sql in rows.all():
                await uow.session.execute(text(f"DROP TRIGGER {name}"))
                again.append(sql)
        await write_one(uow, write)
        for statement in again:
            await uow.session.execute(text(statement))
        await uow.commit()


async def write_one(uow: UnitOfWork, write: object) -> None:
    if isinstance(write, m.Base):
        uow.add(write)
        await uow.flush()
    else:
        await uow.session.execute(write)  # type: ignore[call-overload]


async def pair(core: Core, town: Town, case: str) -> str:
    """Make the pair `case` as old data holds it; the address the code would go to."""
    now = core.now()
    citizen = update(m.Citizen).where(m.Citizen.id == town.citizen_ids[0])
    if case == "delegate_at_terminal":
        # The trial's order: the cashier joined at the terminal, then became a delegate.
        await past_the_guards(core, _member(town, "terminal", CASHIER, now))
        delegate = m.Delegate(
            municipality_id=town.municipality_id,
            citizen_id=town.citizen_ids[0],
            phone=CASHIER,
            created_at=now,
        )
        await past_the_guards(core, delegate, "delegates_phone_not_shop")
        return CASHIER
    if case == "own_phone_at_terminal":
        await past_the_guards(core, _member(town, "terminal", CASHIER, now))
        await past_the_guards(core, citizen.values(phone=CASHIER), "citizens_phone_not_shop")
        return CASHIER
    assert case == "linked_telegram"
    await past_the_guards(core, _member(town, "telegram", CASHIER_CHAT, now))
    await past_the_guards(
        core, citizen.values(telegram_chat_id=CASHIER_CHAT), "citizens_telegram_not_shop"
    )
    return CASHIER_CHAT


def _member(town: Town, channel: str, address: str, now: datetime) -> m.ShopMember:
    return m.ShopMember(
        shop_id=town.shop_id, channel=channel, address=address, role="cashier", created_at=now
    )


async def counts(core: Core) -> tuple[int, int]:
    async with core.uow() as uow:
        charges = await uow.session.scalar(select(func.count()).select_from(m.Charge))
        outbox = await uow.session.scalar(select(func.count()).select_from(m.OutboxMessage))
        return int(charges or 0), int(outbox or 0)


@pytest.mark.parametrize(
    "case", ["delegate_at_terminal", "own_phone_at_terminal", "linked_telegram"]
)
async def test_the_till_never_sends_the_code_to_its_own_staff(core: Core, case: str) -> None:
    town = await make_town(core, citizens=1)
    address = await pair(core, town, case)
    before = await counts(core)
    with pytest.raises(NotAllowed) as refused:
        await request(core, town.shop_id, town.citizen_cfs[0], 40_00)
    assert refused.value.code == Refusal.PAYMENT_CODE_TO_SHOP
    assert error_text(refused.value).msgid.startswith("The payment code of this person would go")
    # Nothing sent, nothing waiting.
    assert await counts(core) == before
    # Another shop of the town charges the same person: the code goes where it always did.
    other = await another_shop(core, town, 1)
    requested = await request(core, other, town.citizen_cfs[0], 40_00)
    async with core.uow() as uow:
        [row] = await uow.session.scalars(
            select(m.OutboxMessage).where(m.OutboxMessage.charge_id == requested.charge_id)
        )
        assert row.address == address
