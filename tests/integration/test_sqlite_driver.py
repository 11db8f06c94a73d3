"""The one-trip aiosqlite adapter behaves like the stock one, in fewer trips."""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Awaitable, Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from sqlalchemy import text
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

from core.storage.engine import make_engine


async def test_results_rowcount_and_errors(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}")
    assert engine.dialect.driver == "aiosqlite_onetrip"
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INT UNIQUE)"))
        await connection.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": 1}, {"v": 2}])
        inserted = await connection.execute(text("INSERT INTO t (v) VALUES (3)"))
        assert inserted.lastrowid == 3
        updated = await connection.execute(text("UPDATE t SET v = v + 10 WHERE v >= 2"))
        assert updated.rowcount == 2
        returned = await connection.execute(
            text("UPDATE t SET v = v + 1 WHERE v > 100 RETURNING v")
        )
        assert returned.all() == []
        rows = await connection.execute(text("SELECT id, v FROM t ORDER BY id"))
        assert rows.all() == [(1, 1), (2, 12), (3, 13)]
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO t (v) VALUES (1)"))
    await engine.dispose()


async def test_one_trip_to_the_sqlite_thread_per_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}")
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # connect and configure first
        trips = 0
        # aiosqlite leaves _execute untyped; the annotation states what the test relies on.
        original: Callable[..., Awaitable[Any]] = aiosqlite.Connection._execute

        async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kw: Any) -> Any:
            nonlocal trips
            trips += 1
            return await original(self, fn, *args, **kw)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
        for _ in range(10):
            await connection.execute(text("SELECT 1"))
        assert trips == 10
    await engine.dispose()


async def test_transaction_control_travels_with_the_next_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BEGIN, SAVEPOINT and RELEASE make no trip of their own; an empty transaction and the
    pool's reset of a returned connection make none at all. The data is what it would be
    statement by statement."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (v INT)"))
    trips = 0
    original: Callable[..., Awaitable[Any]] = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kw: Any) -> Any:
        nonlocal trips
        trips += 1
        return await original(self, fn, *args, **kw)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    async with engine.begin():
        pass
    assert trips == 0
    async with engine.connect() as connection, connection.begin():
        await connection.execute(text("INSERT INTO t VALUES (1)"))  # with BEGIN
        nested = await connection.begin_nested()
        await connection.execute(text("INSERT INTO t VALUES (2)"))  # with SAVEPOINT
        await nested.rollback()  # ROLLBACK TO SAVEPOINT: a trip
        nested = await connection.begin_nested()
        await connection.execute(text("INSERT INTO t VALUES (3)"))
        await nested.commit()  # RELEASE: goes with the COMMIT, which makes it moot
        # COMMIT: a trip; giving the connection back to the pool: none
    assert trips == 5
    monkeypatch.undo()
    async with engine.connect() as connection:
        values = (await connection.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all()
    assert values == [1, 3]
    await engine.dispose()


# --- The private surface the adapter stands on --------------------------------------------
# core/storage/sqlite_driver.py subclasses SQLAlchemy's aiosqlite adapter and calls aiosqlite's
# own thread queue. Neither is public API: pyproject pins both to the minor versions these
# names were read from. When an upgrade changes one of them, this test says which, so the
# adapter is re-read against the new source instead of failing in a payment.

STOCK_CURSOR_SLOTS = {
    "_adapt_connection",
    "_connection",
    "_cursor",
    "_rows",
    "_soft_closed_memoized",
}
STOCK_CURSOR_MEMBERS = {
    "_adapt_connection", "_aenter_cursor", "_async_soft_close", "_awaitable_cursor_close",
    "_connection", "_cursor", "_execute_async", "_executemany_async", "_make_new_cursor",
    "_rows", "_soft_closed_memoized", "arraysize", "close", "description", "execute",
    "executemany", "fetchall", "fetchmany", "fetchone", "lastrowid", "nextset", "rowcount",
    "server_side", "setinputsizes",
}  # fmt: skip


def _members(cls: type) -> set[str]:
    return {
        name
        for klass in cls.__mro__
        if klass is not object
        for name in vars(klass)
        if not name.startswith("__")
    }


def _pinned(distribution: str) -> SpecifierSet:
    for requirement in map(Requirement, metadata.requires("buonispesa") or []):
        if requirement.name.lower() == distribution.lower():
            return requirement.specifier
    raise AssertionError(f"{distribution} is not a dependency of buonispesa")


def test_the_installed_versions_are_the_pinned_ones() -> None:
    for distribution in ("sqlalchemy", "aiosqlite"):
        pin = _pinned(distribution)
        installed = metadata.version(distribution)
        assert any(spec.operator == "<" for spec in pin), (
            f"{distribution} must be pinned below its next minor version, got {pin}"
        )
        assert installed in pin, f"{distribution} {installed} is outside the tested pin {pin}"


def test_sqlalchemy_private_adapter_api_is_the_one_the_driver_was_written_for() -> None:
    cursor_slots = {
        slot
        for klass in AsyncAdapt_aiosqlite_cursor.__mro__
        for slot in getattr(klass, "__slots__", ())
    }
    assert cursor_slots == STOCK_CURSOR_SLOTS, (
        "SQLAlchemy changed the slots of its aiosqlite cursor; OneTripCursor.__init__ sets "
        f"{sorted(STOCK_CURSOR_SLOTS)} and must set {sorted(cursor_slots)}"
    )
    members = _members(AsyncAdapt_aiosqlite_cursor)
    assert members == STOCK_CURSOR_MEMBERS, (
        "SQLAlchemy changed its aiosqlite cursor: new "
        f"{sorted(members - STOCK_CURSOR_MEMBERS)}, gone {sorted(STOCK_CURSOR_MEMBERS - members)}; "
        "check what OneTripCursor must override"
    )
    connection = _members(AsyncAdapt_aiosqlite_connection)
    assert {"_connection", "_cursor_cls", "_execute_mutex", "_handle_exception"} <= connection
    assert list(inspect.signature(AsyncAdapt_aiosqlite_connection.__init__).parameters) == [
        "self",
        "dbapi",
        "connection",
    ]
    assert list(inspect.signature(AsyncAdapt_aiosqlite_dbapi.__init__).parameters) == [
        "self",
        "aiosqlite",
        "sqlite",
    ]
    assert callable(await_) and EMPTY_DICT == {}


async def test_aiosqlite_private_api_is_the_one_the_driver_calls(tmp_path: Path) -> None:
    # OneTripCursor._trip runs a function in aiosqlite's thread with Connection._execute(fn, ...)
    # on the sqlite3 connection Connection._conn.
    assert list(inspect.signature(aiosqlite.Connection._execute).parameters)[:2] == ["self", "fn"]
    async with aiosqlite.connect(tmp_path / "p.sqlite3") as connection:
        assert isinstance(connection._conn, sqlite3.Connection)
        run_in_thread: Callable[..., Awaitable[Any]] = connection._execute
        assert await run_in_thread(lambda: 41 + 1) == 42


def test_none_and_bools_bind_through_an_adapter_as_before() -> None:
    """The driver registers adapters for None and bool (sqlite3 otherwise raises and clears
    an AttributeError for each such parameter); they bind NULL and the integers 0 and 1,
    what sqlite3 bound without them."""
    import core.storage.sqlite_driver  # noqa: F401  (registers them on import)

    protocol = sqlite3.PrepareProtocol
    assert (type(None), protocol) in sqlite3.adapters
    assert (bool, protocol) in sqlite3.adapters
    connection = sqlite3.connect(":memory:")
    row = connection.execute(
        "SELECT ? IS NULL, typeof(?), ?, typeof(?), ?", (None, None, True, False, False)
    ).fetchone()
    assert row == (1, "null", 1, "integer", 0)
