"""0045_economia comes and goes: the kind `economia`, allocations.freed_cents with its CHECK,
the append-only table of economie; the open-draft index of office_acts survives SQLite's
rebuild of the table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.storage import models as m
from core.storage.engine import make_engine
from tests.conftest import FakeClock
from tests.integration.migrating import migrate_to, migrated_core
from tests.integration.office_helpers import open_round
from tests.integration.test_act_races import staff
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)

BEFORE = "0044_chat_phone_requests"
_acts = sa.table(
    "office_acts",
    *(
        sa.column(name)
        for name in ("municipality_id", "kind", "protocol", "status", "prepared_by_id")
    ),
    sa.column("params", sa.JSON),
    sa.column("prepared_at", m.UTCDateTime),
)


async def _columns_and_indexes(url: str) -> tuple[set[str], set[str], set[str]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:

            def look(sync: sa.Connection) -> tuple[set[str], set[str], set[str]]:
                found = sa.inspect(sync)
                return (
                    {c["name"] for c in found.get_columns("allocations")},
                    {i["name"] for i in found.get_indexes("office_acts") if i["name"]},
                    set(found.get_table_names()),
                )

            return await connection.run_sync(look)
    finally:
        await engine.dispose()


async def _insert_act(url: str, clerk_id: int, town_id: int) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.insert(_acts).values(
                    municipality_id=town_id,
                    kind="economia",
                    protocol="",
                    status="prepared",
                    params={},
                    prepared_by_id=clerk_id,
                    prepared_at=datetime(2026, 4, 1, 9, tzinfo=UTC),
                )
            )
    finally:
        await engine.dispose()


async def test_the_economia_comes_and_goes_with_its_migration(
    empty_url: str,  # noqa: F811
) -> None:
    clock = FakeClock()
    async with migrated_core(empty_url, clock) as core:
        office = await open_round(core, clock)
        clerk, _, _ = await staff(office)
    columns, indexes, tables = await _columns_and_indexes(empty_url)
    assert "freed_cents" in columns and "economie" in tables
    assert "uq_office_acts_open" in indexes
    await _insert_act(empty_url, clerk.id, office.municipality_id)
    # One open draft of a kind per town, as before the rebuild.
    with pytest.raises(IntegrityError):
        await _insert_act(empty_url, clerk.id, office.municipality_id)

    await migrate_to(empty_url, BEFORE, down=True)
    columns, indexes, tables = await _columns_and_indexes(empty_url)
    assert "economie" not in tables and "uq_office_acts_open" in indexes
    with pytest.raises((IntegrityError, DBAPIError)):
        await _insert_act(empty_url, clerk.id, office.municipality_id)

    await migrate_to(empty_url, "head")
    columns, indexes, tables = await _columns_and_indexes(empty_url)
    assert "freed_cents" in columns and "economie" in tables
    assert "uq_office_acts_open" in indexes
