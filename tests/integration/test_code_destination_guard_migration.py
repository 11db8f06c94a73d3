"""0038_code_destination_guard up and down, on SQLite and PostgreSQL: its triggers (and
PostgreSQL's functions) come and go with it, and with them the refusal of a code queued
for a number that is not its citizen's; the rows written meanwhile stay."""

from __future__ import annotations

from sqlalchemy import func, select, text

from core.storage import models as m
from core.storage.engine import make_engine
from tests.conftest import FakeClock
from tests.factories import make_town
from tests.integration.migrating import core_on, migrate_to, migrated_core
from tests.integration.test_code_destination_races import (
    CODE_ELSEWHERE,
    _code_row,
    a_code_for_the_delegate,
    written,
)
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)

BEFORE = "0037_one_open_act"
STRANGER = "+393470000123"
NAMES = {
    "outbox_code_to_citizen",
    "citizens_code_destinations",
    "delegates_code_destinations",
}


async def _guards(url: str) -> tuple[set[str], set[str]]:
    """This migration's triggers, and its functions (PostgreSQL), found in the catalog."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                triggers = await connection.scalars(
                    text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
                )
                functions = set(await connection.scalars(text("SELECT proname::text FROM pg_proc")))
            else:
                triggers = await connection.scalars(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                )
                functions = set()
            return set(triggers) & NAMES, functions & NAMES
    finally:
        await engine.dispose()


async def test_the_guard_comes_and_goes_with_the_migration(empty_url: str) -> None:  # noqa: F811
    await migrate_to(empty_url, "head")
    postgresql = empty_url.startswith("postgresql")
    assert await _guards(empty_url) == (
        (NAMES, NAMES) if postgresql else ({"outbox_code_to_citizen"}, set())
    )
    clock = FakeClock()
    async with core_on(empty_url, clock) as core:
        town = await make_town(core, citizens=1)
        row = await a_code_for_the_delegate(core, town)
        assert CODE_ELSEWHERE in str(await written(core, _code_row(row, "sms", STRANGER)))

    await migrate_to(empty_url, BEFORE, down=True)
    assert await _guards(empty_url) == (set(), set())
    async with core_on(empty_url, clock) as core:
        # Without the guard such a row is written (as before it), and it stays on the way up.
        assert await written(core, _code_row(row, "sms", STRANGER)) is None

    async with migrated_core(empty_url, clock) as core:
        assert CODE_ELSEWHERE in str(await written(core, _code_row(row, "sms", STRANGER)))
        async with core.uow() as uow:
            kept = await uow.session.scalar(
                select(func.count())
                .select_from(m.OutboxMessage)
                .where(m.OutboxMessage.address == STRANGER)
            )
        assert kept == 1
