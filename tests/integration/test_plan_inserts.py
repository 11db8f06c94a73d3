"""A plan's `INSERT ... RETURNING id` gives the inserted row's id, or no row when ON
CONFLICT ... DO NOTHING skipped it, on both databases (core/storage/trips.py: on SQLite
the id is read as the rowid, without SQLite's RETURNING)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.storage import models as m
from core.storage.trips import Plan, Row, run_plan
from core.storage.turn_trip import _FIRST_DELIVERY, _OUTBOX, _OUTBOX_COLUMNS
from tests.factories import make_town

NOW = datetime(2026, 12, 6, 13, 30, tzinfo=UTC)


async def test_an_insert_returns_its_row_id_and_a_skipped_one_no_row(core: Core) -> None:
    town = await make_town(core, citizens=1)
    outbox: dict[str, Any] = {
        "municipality_id": town.municipality_id,
        "channel": "sms",
        "address": "+393331234567",
        "language": "it",
        "payload": {"texts": [{"msgid": "Hello"}]},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "created_at": NOW,
        "charge_id": None,
        "lane": 1,
        "deliver_by": None,
    }

    def plan() -> Plan[list[list[Row]]]:
        returned = []
        for message_id in ["SM1", "SM2", "SM1"]:
            returned.append(list((yield _FIRST_DELIVERY, ("sms", message_id, NOW))))
        for _ in range(2):
            values = tuple(outbox[column] for column in _OUTBOX_COLUMNS)
            returned.append(list((yield _OUTBOX, values)))
        return returned

    async with core.uow() as uow:
        returned = await run_plan(uow.session, plan())
        await uow.commit()
    async with core.uow() as uow:
        inbound = {
            message_id: id_
            for id_, message_id in (
                await uow.session.execute(
                    select(m.InboundMessage.id, m.InboundMessage.provider_message_id)
                )
            ).all()
        }
        queued = (
            (
                await uow.session.execute(
                    select(m.OutboxMessage.id)
                    .where(m.OutboxMessage.address == "+393331234567")
                    .order_by(m.OutboxMessage.id)
                )
            )
            .scalars()
            .all()
        )
    assert [[tuple(row) for row in rows] for rows in returned] == [
        [(inbound["SM1"],)],
        [(inbound["SM2"],)],
        [],  # SM1 again: DO NOTHING, no row back
        [(queued[0],)],
        [(queued[1],)],
    ]
    assert len(inbound) == 2 and len(queued) == 2


async def test_every_tables_id_is_sqlites_rowid(core: Core) -> None:
    """drive_sqlite reads an inserted row's id as its rowid: true only of a column declared
    exactly INTEGER PRIMARY KEY. A table migrated with another id (BIGINT, a composite key)
    would get the rowid handed back as its id without this test failing elsewhere."""
    if core.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL keeps RETURNING id")
    async with core.engine.connect() as connection:
        tables = (
            await connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ).scalars()
        names = list(tables)
        not_rowid = []
        for table in names:
            # PRAGMA table_info: (cid, name, type, notnull, default, pk) a column.
            info: list[Any] = list(
                (await connection.exec_driver_sql(f'PRAGMA table_info("{table}")')).all()
            )
            columns = [(str(row[1]), str(row[2]), bool(row[5])) for row in info]
            keys = [(name, type_) for name, type_, pk in columns if pk]
            if any(name == "id" for name, _, _ in columns) and keys != [("id", "INTEGER")]:
                not_rowid.append(table)
    assert {"postings", "outbox", "inbound_messages"} <= set(names)
    assert not_rowid == []
