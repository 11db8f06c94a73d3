"""Group commit on SQLite (core/storage/group_commit.py) and payments committed through it
(docs/decisions/0006-group-commit.md)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.services import charges, ledger
from core.services.charges import ConfirmOutcome
from core.storage import models as m
from core.storage.engine import make_engine
from core.storage.group_commit import GroupCommit
from tests.conftest import FakeClock
from tests.factories import assert_ledger_ok, last_code_for, make_town, pay, request, till_of
from tests.integration.test_payments import another_shop, default_policy_text


def insert_counter(name: str, *, then_fail: bool = False) -> Callable[[sqlite3.Connection], str]:
    """A transaction writing one row of `counters`; with then_fail it raises afterwards."""

    def transaction(connection: sqlite3.Connection) -> str:
        connection.execute(
            "INSERT INTO counters (municipality_id, name, value) VALUES (1, ?, 1)", (name,)
        )
        if then_fail:
            raise ValueError(name)
        return name

    return transaction


def counters_on_disk(path: Path) -> list[str]:
    """What a separate connection reads: only what was committed."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT name FROM counters WHERE name LIKE 'gc-%' ORDER BY name")
        return [row[0] for row in rows]
    finally:
        db.close()


async def test_a_failing_transaction_leaves_its_batch_mates_committed(
    sqlite_url: str, clock: FakeClock
) -> None:
    path = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    core = Core(engine=make_engine(sqlite_url), clock=clock)
    try:
        await make_town(core, citizens=1)  # municipality 1
        group = GroupCommit(core.engine)
        outcomes = await asyncio.gather(
            group.run(insert_counter("gc-a")),
            group.run(insert_counter("gc-b", then_fail=True)),
            group.run(insert_counter("gc-c")),
            group.run(insert_counter("gc-a")),  # the same name again: refused
            return_exceptions=True,
        )
        assert outcomes[0] == "gc-a" and outcomes[2] == "gc-c"
        assert isinstance(outcomes[1], ValueError)
        assert isinstance(outcomes[3], sqlite3.IntegrityError)
        assert (group.batches, group.committed) == (1, 4)  # one COMMIT for all four
        assert counters_on_disk(path) == ["gc-a", "gc-c"]
        # The writer goes on after a failure.
        assert await group.run(insert_counter("gc-d")) == "gc-d"
        assert counters_on_disk(path) == ["gc-a", "gc-c", "gc-d"]
        await group.close()
    finally:
        await core.close()


async def test_a_transaction_alone_takes_no_savepoint_and_fails_alone(
    sqlite_url: str, clock: FakeClock
) -> None:
    """A batch of one is the whole SQLite transaction: no SAVEPOINT and RELEASE around it
    (about a fifth of a one-trip payment's time, bench_payments), rolled back whole when it
    raises, and the writer goes on."""
    path = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    core = Core(engine=make_engine(sqlite_url), clock=clock)
    try:
        await make_town(core, citizens=1)
        group = GroupCommit(core.engine)
        sent: list[str] = []

        def trace(connection: sqlite3.Connection) -> None:
            connection.set_trace_callback(sent.append)

        await group.run(trace)
        assert await group.run(insert_counter("gc-a")) == "gc-a"
        assert [s.split()[0] for s in sent] == ["COMMIT", "BEGIN", "INSERT", "COMMIT"]
        with pytest.raises(ValueError, match="gc-b"):
            await group.run(insert_counter("gc-b", then_fail=True))
        with pytest.raises(sqlite3.IntegrityError):
            await group.run(insert_counter("gc-a"))  # the same name again: refused
        assert not any(s.startswith(("SAVEPOINT", "RELEASE")) for s in sent), sent
        assert await group.run(insert_counter("gc-c")) == "gc-c"
        assert counters_on_disk(path) == ["gc-a", "gc-c"]
        assert (group.batches, group.committed) == (5, 5)
        await group.close()
    finally:
        await core.close()


async def test_a_batch_that_does_not_fail_takes_no_savepoint(
    sqlite_url: str, clock: FakeClock
) -> None:
    """Several transactions that all succeed run in one SQLite transaction with no
    SAVEPOINT and RELEASE (about 16,000 instructions a plain turn); only a failing
    batch-mate makes the batch run again in savepoints."""
    path = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    core = Core(engine=make_engine(sqlite_url), clock=clock)
    try:
        await make_town(core, citizens=1)
        group = GroupCommit(core.engine)
        sent: list[str] = []

        def trace(connection: sqlite3.Connection) -> None:
            connection.set_trace_callback(sent.append)

        await group.run(trace)
        names = await asyncio.gather(*(group.run(insert_counter(f"gc-{n}")) for n in "abc"))
        assert names == ["gc-a", "gc-b", "gc-c"]
        assert (group.batches, group.committed) == (2, 4)
        assert [s.split()[0] for s in sent] == ["COMMIT", "BEGIN", *["INSERT"] * 3, "COMMIT"]
        sent.clear()
        outcomes = await asyncio.gather(
            group.run(insert_counter("gc-d")),
            group.run(insert_counter("gc-e", then_fail=True)),
            return_exceptions=True,
        )
        assert outcomes[0] == "gc-d" and isinstance(outcomes[1], ValueError)
        # Rolled back at the failure, then run again, each in its own savepoint.
        assert [s.split()[0] for s in sent] == [
            *("BEGIN", "INSERT", "INSERT", "ROLLBACK"),
            *("BEGIN", "SAVEPOINT", "INSERT", "RELEASE", "SAVEPOINT", "INSERT"),
            *("ROLLBACK", "RELEASE", "COMMIT"),
        ]
        assert counters_on_disk(path) == ["gc-a", "gc-b", "gc-c", "gc-d"]
        await group.close()
    finally:
        await core.close()


async def test_each_caller_returns_after_its_own_commit(sqlite_url: str, clock: FakeClock) -> None:
    path = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    core = Core(engine=make_engine(sqlite_url), clock=clock)
    try:
        await make_town(core, citizens=1)
        group = GroupCommit(core.engine)
        seen: list[list[str]] = []

        async def one(name: str) -> None:
            await group.run(insert_counter(name))
            seen.append([n for n in counters_on_disk(path) if n == name])

        await asyncio.gather(*(one(f"gc-{index:02}") for index in range(20)))
        assert seen and all(len(found) == 1 for found in seen)
        assert group.committed == 20 and group.batches < 20
        await group.close()
    finally:
        await core.close()


async def confirm_all(
    core: Core, pending: list[tuple[int, int, str]]
) -> list[charges.ConfirmResult]:
    """(shop, charge, code) confirmed all at once, each typed by its shop's owner."""
    tills = {shop_id: await till_of(core, shop_id) for shop_id, _, _ in pending}
    return await asyncio.gather(
        *(
            charges.confirm_charge_committed(
                core,
                charge_id=charge_id,
                shop_id=shop_id,
                typed_code=code,
                now=core.now(),
                typed_by=tills[shop_id],
            )
            for shop_id, charge_id, code in pending
        )
    )


async def test_payments_committed_together_pay_once_and_never_overdraw(core: Core) -> None:
    """Through group commit on SQLite, through a unit of work each on PostgreSQL."""
    policy = default_policy_text().replace(
        "codes_per_person_per_hour = 6", "codes_per_person_per_hour = 60"
    )
    town = await make_town(core, citizens=1, policy_toml=policy)
    await pay(core, town, 1_00)  # 149 € left, the shop's account open
    # 12 shops: a shop's new charge replaces its pending one for the same person.
    shops = [town.shop_id, *[await another_shop(core, town, index) for index in range(11)]]
    pending = []
    for shop_id in shops:
        requested = await request(core, shop_id, town.citizen_cfs[0], 20_00)
        code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
        pending.append((shop_id, requested.charge_id, code))
    # Every charge twice, and one with a wrong code.
    attempts = pending + pending[:6] + [(pending[6][0], pending[6][1], "000000x")]

    results = await confirm_all(core, attempts)

    outcomes = [r.outcome for r in results]
    assert outcomes.count(ConfirmOutcome.CONFIRMED) == 7  # 7 x 20 € <= 149 €
    assert outcomes.count(ConfirmOutcome.INSUFFICIENT_FUNDS) == 5
    async with core.uow() as uow:
        balance = await ledger.citizen_balance(uow, town.municipality_id, town.citizen_ids[0])
        payments = await uow.session.scalar(
            select(func.count()).select_from(m.Posting).where(m.Posting.kind == "payment")
        )
    assert balance == 149_00 - 7 * 20_00
    assert payments == 1 + 7
    if core.group_commit is not None:
        assert core.group_commit.batches < core.group_commit.committed
    await assert_ledger_ok(core, town.municipality_id)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_closing_commits_what_is_queued(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await pay(core, town, 1_00)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 2_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    task = asyncio.create_task(
        charges.confirm_charge_committed(
            core,
            charge_id=requested.charge_id,
            shop_id=town.shop_id,
            typed_code=code,
            now=core.now(),
            typed_by=f"sms:{town.shop_phone}",
        )
    )
    await asyncio.sleep(0)  # queued
    assert core.group_commit is not None
    await core.group_commit.close()
    assert (await task).outcome is ConfirmOutcome.CONFIRMED
