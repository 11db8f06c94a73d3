"""0037_one_open_act on a database where drafts were prepared twice at once before it: the
oldest draft of each kind (of each application, for a revocation) stays open, the later
ones are withdrawn with a reason naming it, and the new column names the application."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.storage import models as m
from core.storage.engine import make_engine
from tests.conftest import FakeClock
from tests.integration.migrating import migrate_to, migrated_core
from tests.integration.office_helpers import open_round
from tests.integration.test_act_races import staff
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)

BEFORE = "0036_shop_phone_channels"

# office_acts as 0036 left it (no `protocol`).
_acts = sa.table(
    "office_acts",
    sa.column("id", sa.BigInteger),
    sa.column("municipality_id", sa.BigInteger),
    sa.column("kind", sa.String),
    sa.column("status", sa.String),
    sa.column("params", sa.JSON),
    sa.column("prepared_by_id", sa.BigInteger),
    sa.column("prepared_at", m.UTCDateTime),
    sa.column("decided_by_id", sa.BigInteger),
)


async def test_drafts_prepared_twice_keep_the_oldest_open(empty_url: str) -> None:  # noqa: F811
    clock = FakeClock()
    async with migrated_core(empty_url, clock) as core:
        office = await open_round(core, clock)
        clerk, boss, _ = await staff(office)
    await migrate_to(empty_url, BEFORE, down=True)

    rows = [
        # id, kind, status, params
        (1, "reimbursement", "prepared", {"execution_date": "2026-04-20"}),
        (2, "reimbursement", "prepared", {"execution_date": "2026-04-21"}),
        (3, "revocation", "prepared", {"protocol": "P-1", "reason": "falso"}),
        (4, "revocation", "prepared", {"protocol": "P-2", "reason": "falso"}),
        (5, "revocation", "prepared", {"protocol": "P-1", "reason": "doppio"}),
        (6, "reimbursement", "approved", {"execution_date": "2026-04-19"}),
        (7, "reimbursement", "prepared", {"execution_date": "2026-04-22"}),
    ]
    engine = make_engine(empty_url)
    try:
        async with engine.begin() as connection:
            for act_id, kind, status, params in rows:
                await connection.execute(
                    sa.insert(_acts).values(
                        id=act_id,
                        municipality_id=office.municipality_id,
                        kind=kind,
                        status=status,
                        params=params,
                        prepared_by_id=clerk.id,
                        prepared_at=clock() + timedelta(minutes=act_id),
                        decided_by_id=boss.id if status == "approved" else None,
                    )
                )
    finally:
        await engine.dispose()

    async with migrated_core(empty_url, clock) as core, core.uow() as uow:
        found = {
            act.id: act
            for act in await uow.session.scalars(sa.select(m.OfficeAct).order_by(m.OfficeAct.id))
        }
    assert {i: act.status for i, act in found.items()} == {
        1: "prepared",
        2: "withdrawn",
        3: "prepared",
        4: "prepared",
        5: "withdrawn",
        6: "approved",
        7: "withdrawn",
    }
    assert {i: act.protocol for i, act in found.items()} == {
        1: "",
        2: "",
        3: "P-1",
        4: "P-2",
        5: "P-1",
        6: "",
        7: "",
    }
    for withdrawn, kept in ((2, 1), (5, 3), (7, 1)):
        act = found[withdrawn]
        assert act.outcome is not None and f"n. {kept} " in act.outcome["reason"]
        assert act.decided_by_id is None
        assert act.decided_at == act.prepared_at
