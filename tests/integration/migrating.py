"""Moving a test database to one Alembic revision, up or down, as `buonispesa migrate`
would (the migration tests build data at an old revision and upgrade it), opening a
Core on it between the moves, and the triggers and functions a move left in the catalog."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from alembic import command
from sqlalchemy import text

from core.bootstrap import Core
from core.storage.engine import make_engine
from core.storage.migrate import alembic_config
from tests.conftest import FakeClock


async def migrate_to(url: str, revision: str, *, down: bool = False) -> None:
    engine = make_engine(url)
    try:

        def run(connection: object) -> None:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, revision)

        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


@asynccontextmanager
async def core_on(url: str, clock: FakeClock | None = None) -> AsyncIterator[Core]:
    """A Core on the database at `url` as it stands (no migration), closed on the way out.
    A test that opens the database again after a move passes the same `clock` each time,
    so that time goes on where it was; without one, a new FakeClock."""
    core = Core(engine=make_engine(url), clock=clock if clock is not None else FakeClock())
    try:
        yield core
    finally:
        await core.close()


@asynccontextmanager
async def migrated_core(
    url: str, clock: FakeClock | None = None, revision: str = "head", *, down: bool = False
) -> AsyncIterator[Core]:
    """The database at `url` moved to `revision` (the newest by default), then a Core on it
    as `core_on` opens one."""
    await migrate_to(url, revision, down=down)
    async with core_on(url, clock) as core:
        yield core


async def triggers_and_functions(url: str) -> set[str]:
    """Every trigger in the catalog of the database at `url` and, on PostgreSQL, every
    function (named with "()"): where a guard's migration test looks for its own."""
    if url.startswith("postgresql"):
        query = (
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
            "UNION SELECT proname::text || '()' FROM pg_proc"
        )
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.scalars(text(query)))
    finally:
        await engine.dispose()


async def assert_guard_comes_and_goes(url: str, names: set[str], before: str) -> None:
    """A guard's migration test: at head the catalog (triggers_and_functions) holds exactly
    `names` of the guard's, none once migrated down to `before`, all again back up."""
    await migrate_to(url, "head")
    assert await triggers_and_functions(url) & names == names
    await migrate_to(url, before, down=True)
    assert await triggers_and_functions(url) & names == set()
    await migrate_to(url, "head")
    assert await triggers_and_functions(url) & names == names
