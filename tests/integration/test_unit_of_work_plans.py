"""A unit of work whose work starts with a plan (core/storage/uow.py): on PostgreSQL the plan
runs on a pooled connection without an ORM session, and the transaction keeps the unit of
work's rules: nothing stays unless committed, a session opened afterwards shares the plan's
transaction, and a connection that failed does not go back to the pool. On SQLite the same
calls run in the session (docs/decisions/0005-one-trip-transactions.md); the rules are
checked on both databases."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.channels import Channel
from core.services import charges
from core.services.charges import ConfirmOutcome
from core.storage import models as m
from tests.factories import Town, make_town, outbox_to, pay
from tests.integration.test_one_trip_payments import citizen_balance, requested_with_code


async def _paid_in(uow: Any, core: Core, town: Town, charge_id: int, code: str) -> None:
    result = await charges.confirm_charge(
        uow,
        charge_id=charge_id,
        shop_id=town.shop_id,
        typed_code=code,
        now=core.now(),
        typed_by=f"sms:{town.shop_phone}",
    )
    assert result.outcome is ConfirmOutcome.CONFIRMED


async def _status(core: Core, charge_id: int) -> str:
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
    assert charge is not None
    return charge.status


async def _receipts(core: Core, town: Town, charge_id: int) -> int:
    messages = await outbox_to(core, town.citizen_phones[0])
    # The code went out when the charge was requested; a receipt follows its payment.
    return sum(1 for message in messages if message.charge_id == charge_id) - 1


def _checked_out(core: Core) -> int:
    return int(core.engine.pool.checkedout())  # type: ignore[attr-defined]


async def _town_with_pending(core: Core, cents: int = 4_00) -> tuple[Town, int, str]:
    town = await make_town(core, citizens=1)
    await pay(core, town, 1_00)  # the general path opens the shop's account
    charge_id, code = await requested_with_code(core, town, cents)
    return town, charge_id, code


async def test_a_plain_payment_commits_without_an_orm_session(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    town, charge_id, code = await _town_with_pending(core)
    opened: list[object] = []
    factory = core._sessions

    def counting(**kw: Any) -> Any:
        opened.append(kw)
        return factory(**kw)

    monkeypatch.setattr(core, "_sessions", counting)
    async with core.uow() as uow:
        await _paid_in(uow, core, town, charge_id, code)
        # Its receipt is a payment-lane row: the turn that commits wakes the payment loop.
        assert uow.queued_payment
        await uow.commit()
    monkeypatch.undo()

    assert opened == []
    assert await _status(core, charge_id) == "confirmed"
    assert await citizen_balance(core, town) == 150_00 - 1_00 - 4_00
    assert await _receipts(core, town, charge_id) == 1
    assert _checked_out(core) == 0


@pytest.mark.parametrize("how", ["left", "raised", "rolled back"])
async def test_a_payment_not_committed_leaves_nothing(core: Core, how: str) -> None:
    town, charge_id, code = await _town_with_pending(core)

    class Stop(Exception):
        pass

    try:
        async with core.uow() as uow:
            await _paid_in(uow, core, town, charge_id, code)
            if how == "raised":
                raise Stop
            if how == "rolled back":
                await uow.rollback()
    except Stop:
        pass

    assert await _status(core, charge_id) == "pending"
    assert await citizen_balance(core, town) == 150_00 - 1_00
    assert await _receipts(core, town, charge_id) == 0
    assert _checked_out(core) == 0
    # The connection went back clean: the same code now pays, once.
    async with core.uow() as uow:
        await _paid_in(uow, core, town, charge_id, code)
        await uow.commit()
    assert await citizen_balance(core, town) == 150_00 - 1_00 - 4_00
    assert await _receipts(core, town, charge_id) == 1


async def test_a_rolled_back_unit_of_work_can_pay_again_and_commit(core: Core) -> None:
    town, charge_id, code = await _town_with_pending(core)

    async with core.uow() as uow:
        await _paid_in(uow, core, town, charge_id, code)
        await uow.rollback()
        await _paid_in(uow, core, town, charge_id, code)
        await uow.commit()

    assert await citizen_balance(core, town) == 150_00 - 1_00 - 4_00
    assert await _receipts(core, town, charge_id) == 1
    assert _checked_out(core) == 0


@pytest.mark.parametrize("committed", [True, False])
async def test_the_session_after_a_plan_shares_its_transaction(core: Core, committed: bool) -> None:
    town, charge_id, code = await _town_with_pending(core)

    async with core.uow() as uow:
        await _paid_in(uow, core, town, charge_id, code)
        # Through the ORM, in the same transaction: the plan's writes are visible (another
        # connection would still see the charge pending) and what it adds goes with them.
        charge = await uow.charges.by_id(charge_id)
        assert charge is not None and charge.status == "confirmed"
        uow.add(
            m.SecurityEvent(
                municipality_id=town.municipality_id,
                kind="after_plan",
                channel=Channel.SMS.value,
                address=town.citizen_phones[0],
                created_at=core.now(),
            )
        )
        await uow.flush()
        if committed:
            await uow.commit()

    async with core.uow() as uow:
        events = await uow.session.scalar(
            select(func.count())
            .select_from(m.SecurityEvent)
            .where(m.SecurityEvent.kind == "after_plan")
        )
    assert (await _status(core, charge_id), events) == (
        ("confirmed", 1) if committed else ("pending", 0)
    )
    assert await _receipts(core, town, charge_id) == (1 if committed else 0)
    assert _checked_out(core) == 0


async def test_on_postgresql_a_plan_connection_lost_before_commit_commits_nothing(
    core: Core, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the server ends the connection: PostgreSQL's")
    town, charge_id, code = await _town_with_pending(core)
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        # Which error depends on when the server's notice of the end reaches asyncpg.
        lost = (
            asyncpg.exceptions.PostgresError,
            asyncpg.exceptions.InterfaceError,
            asyncpg.exceptions.InternalClientError,
            ConnectionError,
        )
        with pytest.raises(lost):
            async with core.uow() as uow:
                await _paid_in(uow, core, town, charge_id, code)
                # The server ends every other session of this database (a restart, a failover).
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                await uow.commit()
    finally:
        await admin.close()

    assert _checked_out(core) == 0
    assert await _status(core, charge_id) == "pending"
    async with core.uow() as uow:  # a fresh connection, not the dead one
        await _paid_in(uow, core, town, charge_id, code)
        await uow.commit()
    assert await citizen_balance(core, town) == 150_00 - 1_00 - 4_00
