"""A COMMIT the database refuses: the caller is told, nothing of the transaction stays, and
the pool's connections carry no transaction after it (the next unit of work commits its own
rows and only them; on SQLite the write lock is free for another connection).

The COMMIT fails for real: a test-only table holds a foreign key checked at COMMIT
(DEFERRABLE INITIALLY DEFERRED), and a test-only trigger on `postings`, while armed,
writes a row breaking it. SQLite keeps its transaction open when a COMMIT fails like
this; core/storage/sqlite_driver.py ends it (OneTripConnection.commit)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy.exc
from sqlalchemy import func, select, text

from core.bootstrap import Core
from core.services import charges
from core.services.charges import ConfirmOutcome
from core.storage import models as m
from core.storage.group_commit import GroupCommit
from core.storage.repositories.charges import ChargeRepository
from tests.conftest import _pg_execute
from tests.factories import (
    Town,
    assert_ledger_ok,
    confirm,
    make_town,
    outbox_to,
    owner_chat,
    pay,
)
from tests.integration.test_group_commit import counters_on_disk, insert_counter
from tests.integration.test_one_trip_payments import citizen_balance, requested_with_code

_SQLITE_SCHEMA = """
CREATE TABLE commit_fail_parent (id INTEGER PRIMARY KEY);
CREATE TABLE commit_fail_child (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL
        REFERENCES commit_fail_parent (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE commit_fail_switch (armed INTEGER NOT NULL);
INSERT INTO commit_fail_switch (armed) VALUES (0);
CREATE TRIGGER commit_fail_on_posting AFTER INSERT ON postings
WHEN (SELECT armed FROM commit_fail_switch)
BEGIN
    INSERT INTO commit_fail_child (parent_id) VALUES (-1);
END;
"""

_POSTGRES_SCHEMA = (
    "CREATE TABLE commit_fail_parent (id integer PRIMARY KEY)",
    """CREATE TABLE commit_fail_child (
        id serial PRIMARY KEY,
        parent_id integer NOT NULL
            REFERENCES commit_fail_parent (id) DEFERRABLE INITIALLY DEFERRED
    )""",
    "CREATE TABLE commit_fail_switch (armed integer NOT NULL)",
    "INSERT INTO commit_fail_switch (armed) VALUES (0)",
    """CREATE FUNCTION commit_fail_dangle() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT armed FROM commit_fail_switch) = 1 THEN
            INSERT INTO commit_fail_child (parent_id) VALUES (-1);
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER commit_fail_on_posting AFTER INSERT ON postings
    FOR EACH ROW EXECUTE FUNCTION commit_fail_dangle()""",
)

# What a refused COMMIT raises: through SQLAlchemy (a session), from sqlite3 (group
# commit) or from asyncpg (a plan's connection on PostgreSQL).
COMMIT_REFUSED = (
    sqlalchemy.exc.IntegrityError,
    sqlite3.IntegrityError,
    asyncpg.exceptions.IntegrityConstraintViolationError,
)


def _sqlite_path(database_url: str) -> Path:
    return Path(database_url.removeprefix("sqlite+aiosqlite:///"))


def _write_outside_the_pool(database_url: str, *statements: str) -> None:
    """SQLite: statements from a connection of their own, committed. It waits at most half
    a second for the write lock: a lock a pooled connection kept makes it fail."""
    db = sqlite3.connect(_sqlite_path(database_url), timeout=0.5, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        for statement in statements:
            db.execute(statement)
        db.execute("COMMIT")
    finally:
        db.close()


async def _outside(database_url: str, *statements: str) -> None:
    """Statements committed from a connection outside the engine's pool."""
    if database_url.startswith("postgresql"):
        await _pg_execute(database_url, *statements)
    else:
        _write_outside_the_pool(database_url, *statements)


async def _install(database_url: str) -> None:
    if database_url.startswith("postgresql"):
        await _pg_execute(database_url, *_POSTGRES_SCHEMA)
    else:
        db = sqlite3.connect(_sqlite_path(database_url))
        try:
            db.executescript(_SQLITE_SCHEMA)
        finally:
            db.close()


async def _arm(database_url: str, armed: bool) -> None:
    await _outside(database_url, f"UPDATE commit_fail_switch SET armed = {int(armed)}")


@pytest.fixture
def general_path_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Charge ids the general (ORM) confirmation path loaded."""
    calls: list[int] = []
    original: Callable[..., Any] = ChargeRepository.with_parties

    async def counting(self: ChargeRepository, charge_id: int) -> Any:
        calls.append(charge_id)
        return await original(self, charge_id)

    monkeypatch.setattr(ChargeRepository, "with_parties", counting)
    return calls


async def _confirm(core: Core, path: str, town: Town, charge_id: int, code: str) -> Any:
    if path == "group commit":
        return await charges.confirm_charge_committed(
            core,
            charge_id=charge_id,
            shop_id=town.shop_id,
            typed_code=code,
            now=core.now(),
            typed_by=f"sms:{town.shop_phone}",
        )
    return await confirm(core, town.shop_id, charge_id, code, by=("sms", town.shop_phone))


async def _postings_of(core: Core, charge_id: int) -> int:
    async with core.uow() as uow:
        count = await uow.session.scalar(
            select(func.count()).select_from(m.Posting).where(m.Posting.charge_id == charge_id)
        )
    return int(count or 0)


async def _receipts(core: Core, town: Town, charge_id: int) -> int:
    messages = await outbox_to(core, town.citizen_phones[0])
    # The code went out when the charge was requested; a receipt follows its payment.
    return sum(1 for message in messages if message.charge_id == charge_id) - 1


async def _dangling(core: Core) -> int:
    async with core.uow() as uow:
        count = await uow.session.scalar(text("SELECT count(*) FROM commit_fail_child"))
    return int(count or 0)


# "plan": the one-trip plan in a unit of work (SQLite: in the session's transaction;
# PostgreSQL: on the pool's asyncpg connection, no session); "group commit": the plan in
# SQLite's group commit (PostgreSQL: a unit of work, as "plan").
@pytest.mark.parametrize("path", ["plan", "group commit"])
async def test_a_payment_whose_commit_fails_leaves_nothing_and_the_pool_clean(
    core: Core, database_url: str, path: str, general_path_calls: list[int]
) -> None:
    await _install(database_url)
    town = await make_town(core, citizens=1)
    await pay(core, town, 1_00)
    before = await citizen_balance(core, town)
    charge_id, code = await requested_with_code(core, town, 4_00)

    await _arm(database_url, True)
    with pytest.raises(COMMIT_REFUSED):
        await _confirm(core, path, town, charge_id, code)
    assert general_path_calls == []  # the one-trip plan, not the general path

    # Another connection writes at once: no pooled connection kept the write lock.
    await _arm(database_url, False)
    # Every connection is back in the pool (SQLite's group commit keeps its writer's).
    kept = 1 if path == "group commit" and core.group_commit is not None else 0
    assert core.engine.pool.checkedout() == kept  # type: ignore[attr-defined]
    # Nothing of the refused transaction stayed: no money moved, no receipt queued.
    assert await citizen_balance(core, town) == before
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
    assert charge is not None and charge.status == "pending"
    assert await _postings_of(core, charge_id) == 0
    assert await _receipts(core, town, charge_id) == 0
    assert await _dangling(core) == 0

    # The pool's next transactions run in transactions of their own: the same code pays
    # now, once, and commits its own rows only.
    result = await _confirm(core, path, town, charge_id, code)
    assert result.outcome is ConfirmOutcome.CONFIRMED
    assert await citizen_balance(core, town) == before - 4_00
    assert await _postings_of(core, charge_id) == 1
    assert await _receipts(core, town, charge_id) == 1
    assert await _dangling(core) == 0
    await assert_ledger_ok(core, town.municipality_id)
    assert core.engine.pool.checkedout() == kept  # type: ignore[attr-defined]


async def test_a_refund_whose_commit_fails_moves_no_money_and_the_next_refunds_once(
    core: Core, database_url: str
) -> None:
    """A refund goes through the ORM (ledger.post in a session)."""
    await _install(database_url)
    town = await make_town(core, citizens=1)
    charge_id = await pay(core, town, 4_00)
    paid = await citizen_balance(core, town)

    async def refund() -> int:
        async with core.uow() as uow:
            refunded = await charges.refund_charge(
                uow,
                charge_id=charge_id,
                shop_id=town.shop_id,
                by=await owner_chat(uow, town.shop_id),
                now=core.now(),
            )
            await uow.commit()
        return refunded

    await _arm(database_url, True)
    with pytest.raises(COMMIT_REFUSED):
        await refund()
    await _arm(database_url, False)  # from another connection: the write lock is free
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
    assert charge is not None and charge.status == "confirmed"
    assert await citizen_balance(core, town) == paid
    assert await _postings_of(core, charge_id) == 1  # the payment alone

    await refund()
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
    assert charge is not None and charge.status == "refunded"
    assert await citizen_balance(core, town) == paid + 4_00
    assert await _postings_of(core, charge_id) == 2
    assert await _dangling(core) == 0
    await assert_ledger_ok(core, town.municipality_id)
    assert core.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_an_orm_unit_of_work_whose_commit_fails_leaves_the_next_one_its_own_rows(
    core: Core, database_url: str
) -> None:
    """The plainest unit of work: rows added through the session, a COMMIT refused."""
    await _install(database_url)
    town = await make_town(core, citizens=1)

    def event(kind: str) -> m.SecurityEvent:
        return m.SecurityEvent(
            municipality_id=town.municipality_id,
            kind=kind,
            channel="sms",
            address=town.citizen_phones[0],
            created_at=core.now(),
        )

    with pytest.raises(sqlalchemy.exc.IntegrityError):
        async with core.uow() as uow:
            uow.add(event("commit_refused"))
            await uow.session.execute(text("INSERT INTO commit_fail_child (parent_id) VALUES (-1)"))
            await uow.commit()

    await _outside(database_url, "INSERT INTO commit_fail_parent (id) VALUES (7)")
    async with core.uow() as uow:
        uow.add(event("committed_next"))
        await uow.commit()

    async with core.uow() as uow:
        kinds = list(
            await uow.session.scalars(
                select(m.SecurityEvent.kind).where(
                    m.SecurityEvent.kind.in_(["commit_refused", "committed_next"])
                )
            )
        )
        parents = list(await uow.session.scalars(text("SELECT id FROM commit_fail_parent")))
    assert (kinds, parents) == (["committed_next"], [7])
    assert await _dangling(core) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_sqlite_a_connection_whose_commit_failed_goes_back_without_a_transaction(
    core: Core, database_url: str
) -> None:
    await _install(database_url)
    async with core.engine.connect() as connection:
        await connection.execute(text("INSERT INTO commit_fail_child (parent_id) VALUES (-1)"))
        with pytest.raises(sqlalchemy.exc.IntegrityError):
            await connection.commit()

    # The pool holds one connection, the one that failed: it is handed out again.
    assert core.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    async with core.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert raw.driver_connection is not None
        assert not raw.driver_connection.in_transaction
        _write_outside_the_pool(database_url, "INSERT INTO commit_fail_parent (id) VALUES (1)")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_batch_whose_commit_fails_tells_every_caller_and_the_writer_goes_on(
    core: Core, database_url: str
) -> None:
    await _install(database_url)
    await make_town(core, citizens=1)  # municipality 1, for the counters
    group = GroupCommit(core.engine)

    def dangling(connection: sqlite3.Connection) -> str:
        connection.execute("INSERT INTO commit_fail_child (parent_id) VALUES (-1)")
        return "dangling"

    try:
        outcomes = await asyncio.gather(
            group.run(insert_counter("gc-a")),
            group.run(dangling),
            group.run(insert_counter("gc-c")),
            return_exceptions=True,
        )
        # One batch, its COMMIT refused: every caller is told, nothing of it stays.
        assert [type(outcome) for outcome in outcomes] == [sqlite3.IntegrityError] * 3
        assert group.batches == 0
        path = _sqlite_path(database_url)
        assert counters_on_disk(path) == []
        _write_outside_the_pool(database_url, "INSERT INTO commit_fail_parent (id) VALUES (1)")

        # The writer's connection carries no transaction: the next batch commits its own.
        assert await group.run(insert_counter("gc-d")) == "gc-d"
        assert counters_on_disk(path) == ["gc-d"]
        assert await _dangling(core) == 0
    finally:
        await group.close()
