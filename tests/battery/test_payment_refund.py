"""Payments and refunds of the same people at the same moment, on PostgreSQL.

A payment moves citizen -> shop, a refund shop -> citizen: before accounts were locked in
one order, the pair locked the same two rows in opposite orders and PostgreSQL killed one
of them as a deadlock (14 of 40 pairs failed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.services import charges
from core.services.transactions import in_transaction
from core.storage import models as m
from core.storage.engine import make_engine
from core.storage.uow import UnitOfWork
from tests.conftest import FakeClock
from tests.factories import (
    assert_ledger_ok,
    confirm,
    last_code_for,
    make_town,
    pay,
    refund,
    request,
)

PAIRS = 40


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks and deadlocks are PostgreSQL's (SQLite has one writer)")
    return database_url


@pytest.fixture
async def busy_core(postgres_url: str, clock: FakeClock) -> AsyncIterator[Core]:
    """A core whose pool lets every pair run at once."""
    core = Core(engine=make_engine(postgres_url, pool_size=2 * PAIRS, max_overflow=0), clock=clock)
    yield core
    await core.close()


async def test_payment_and_refund_pairs_never_deadlock(busy_core: Core) -> None:
    core = busy_core
    town = await make_town(core, citizens=PAIRS)
    to_refund = [await pay(core, town, 10_00, citizen=i) for i in range(PAIRS)]
    to_confirm = []
    for i in range(PAIRS):
        requested = await request(core, town.shop_id, town.citizen_cfs[i], 20_00)
        code = await last_code_for(core, town.citizen_phones[i], requested.charge_id)
        to_confirm.append((requested.charge_id, code))

    async def confirm_plain(charge_id: int, code: str) -> charges.ConfirmOutcome:
        # No retry here: the lock order alone must keep the pair apart.
        by = ("sms", town.shop_phone)
        return (await confirm(core, town.shop_id, charge_id, code, by=by)).outcome

    work = []
    for (charge_id, code), refunded in zip(to_confirm, to_refund, strict=True):
        work += [confirm_plain(charge_id, code), refund(core, town.shop_id, refunded)]
    outcomes = await asyncio.gather(*work, return_exceptions=True)

    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert failures == [], failures[:3]
    assert outcomes[0::2] == [charges.ConfirmOutcome.CONFIRMED] * PAIRS
    async with core.uow() as uow:
        statuses = (await uow.session.scalars(select(m.Charge.status))).all()
    assert sorted(set(statuses)) == ["confirmed", "refunded"]
    await assert_ledger_ok(core, town.municipality_id)


async def test_a_deadlock_that_happens_is_retried_and_both_commit(busy_core: Core) -> None:
    """Two transactions that lock two rows in opposite orders: PostgreSQL aborts one as a
    deadlock, and the service runs it again instead of failing."""
    core = busy_core
    town = await make_town(core, citizens=2)
    first_round = asyncio.Barrier(2)
    attempts = {"forward": 0, "backward": 0}

    def crossing(name: str, order: list[int]) -> Callable[[UnitOfWork], Awaitable[str]]:
        async def work(uow: UnitOfWork) -> str:
            attempts[name] += 1
            for position, citizen_id in enumerate(order):
                await uow.session.execute(
                    select(m.Citizen.id).where(m.Citizen.id == citizen_id).with_for_update()
                )
                if position == 0 and attempts[name] == 1:
                    await first_round.wait()  # each holds one row, then wants the other
            return name

        return work

    one, two = town.citizen_ids
    done = await asyncio.gather(
        in_transaction(core.uow, crossing("forward", [one, two])),
        in_transaction(core.uow, crossing("backward", [two, one])),
    )

    assert sorted(done) == ["backward", "forward"]
    assert sorted(attempts.values()) == [1, 2]  # the deadlock's victim ran twice
