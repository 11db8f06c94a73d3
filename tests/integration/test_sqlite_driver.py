"""The one-trip aiosqlite adapter behaves like the stock one, in fewer trips."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

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
