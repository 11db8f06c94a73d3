"""Several processes paying, being refused and refunding at once on one database (SQLite
and PostgreSQL), then the ledger proof: nothing failed, nothing was lost or made up."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.ledger import AccountKind, PostingKind
from core.storage import models as m
from tests.factories import assert_ledger_ok, make_town

PROCESSES = 3
SECONDS = 3.0
ROOT = Path(__file__).resolve().parents[2]


async def test_random_operations_in_several_processes_keep_the_ledger(
    core: Core, database_url: str
) -> None:
    town = await make_town(core, citizens=6)
    people = [
        f"{cf}:{phone}" for cf, phone in zip(town.citizen_cfs, town.citizen_phones, strict=True)
    ]
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.battery.mixed_worker",
            database_url,
            str(seed),
            str(SECONDS),
            str(town.shop_id),
            *people,
            cwd=ROOT,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for seed in range(PROCESSES)
    ]
    reports = []
    for worker in workers:
        stdout, stderr = await asyncio.wait_for(worker.communicate(), timeout=180)
        assert worker.returncode == 0, stderr.decode()[-3000:]
        reports.append(json.loads(stdout.decode().strip().splitlines()[-1]))

    assert all(report["failed"] == 0 for report in reports), reports
    assert sum(report["paid"] for report in reports) > 0, reports
    await assert_ledger_ok(core, town.municipality_id)
    async with core.uow() as uow:
        payments = await uow.session.scalar(
            select(func.count())
            .select_from(m.Posting)
            .where(m.Posting.kind == PostingKind.PAYMENT.value)
        )
        refunds = await uow.session.scalar(
            select(func.count())
            .select_from(m.Posting)
            .where(m.Posting.kind == PostingKind.REFUND.value)
        )
        shop_balance = await uow.ledger.balance_of_owner(
            town.municipality_id, AccountKind.SHOP, town.shop_id
        )
        citizens = [
            await uow.ledger.balance_of_owner(town.municipality_id, AccountKind.CITIZEN, cid)
            for cid in town.citizen_ids
        ]
    # Every confirmation the workers saw is one payment posting, every refund one refund.
    assert payments == sum(report["paid"] for report in reports)
    assert refunds == sum(report["refunded"] for report in reports)
    # What the citizens no longer hold is exactly what the shop holds.
    assert shop_balance == len(citizens) * 150_00 - sum(citizens)
