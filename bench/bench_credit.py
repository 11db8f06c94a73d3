"""Crediting a tranche of 100,000 households, against raw inserts of the same rows.

For each database (SQLite, and PostgreSQL when reachable) a migrated database is seeded
with one closed window, N applications and their approved tranche (bulk inserts, not
timed), and copied. The service side times `admin credit`'s work on the original:
`allocation.credit` (compare-and-set, accounts, one posting per line, balances, one outbox
notice per household: a credit notice, or for the one household in ten excluded by its
pension the decision notice) and its commit. The baseline, in the same run, writes the same
rows into the copy with the raw driver (sqlite3 / asyncpg executemany) in one transaction:
the citizen accounts (with their final balance) and postings of the paid households and the
N outbox notices (their JSON made beforehand). Target: service time <= 10 x baseline.

    python bench/bench_credit.py [--households 100000] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from buonispesa.cli.progress import progress
from core.bootstrap import Core
from core.domain.fund import MAX_AMOUNT_CENTS
from core.domain.messages import reply_to_json, t
from core.services import allocation, fund, municipalities
from core.services.crediting import credit_notice
from core.services.decisions import decision_notice
from core.storage import models as m
from core.storage.engine import make_engine
from core.storage.migrate import migrate

TARGET = 10.0
PG_ADMIN_URL = os.environ.get(
    "BUONISPESA_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
BATCH = 10_000
# One household in ten declares a pension: excluded, it gets the decision notice instead.
EXCLUDED_EVERY = 10


async def seed(core: Core, households: int) -> tuple[int, list[tuple[int, int, int]]]:
    """A closed window with `households` applications and their approved tranche."""
    async with core.uow() as uow:
        town = await municipalities.add_municipality(
            uow, code="BIG", name="Regione", now=NOW - timedelta(days=30)
        )
        # The region's fund covers the tranche (no determina may commit more than it).
        await fund.record(
            uow,
            town,
            MAX_AMOUNT_CENTS,
            "Fondo di solidarietà alimentare",
            (NOW - timedelta(days=30)).date(),
            NOW - timedelta(days=30),
            actor="bench",
        )
        round_ = await municipalities.open_window(uow, town, NOW - timedelta(days=30), days=4)
        await uow.commit()
        town_id, round_id = town.id, round_.id
    submitted = NOW - timedelta(days=29)
    for start in range(0, households, BATCH):
        numbers = range(start, min(households, start + BATCH))
        async with core.uow() as uow:
            await uow.session.execute(
                insert(m.Citizen),
                [
                    {
                        "id": n + 1,
                        "municipality_id": town_id,
                        "codice_fiscale": f"BENCH{n:011d}",
                        "phone": f"+39333{n:07d}",
                        "language": "it",
                        "card_code": f"B{n:09d}",
                        "created_at": submitted,
                        "card_pin_failures": 0,
                    }
                    for n in numbers
                ],
            )
            await uow.session.execute(
                insert(m.Application),
                [
                    {
                        "id": n + 1,
                        "municipality_id": town_id,
                        "round_id": round_id,
                        "citizen_id": n + 1,
                        "protocol": f"BIG-2026-{n + 1:06d}",
                        "household_size": 1 + n % 7,
                        "has_work_income": False,
                        "has_pension": n % EXCLUDED_EVERY == EXCLUDED_EVERY - 1,
                        "liquidity_cents": 0,
                        "public_support_monthly_cents": 0,
                        "rent_monthly_cents": 0,
                        "source": "paper",
                        "submitted_at": submitted,
                        "updated_at": submitted,
                        "recover_cents": 0,
                    }
                    for n in numbers
                ],
            )
            await uow.commit()
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BIG")
        town_id = town.id
        record, _ = await allocation.approve(uow, town, MAX_AMOUNT_CENTS, NOW - timedelta(days=20))
        await uow.commit()
    async with core.uow() as uow:
        lines = await uow.allocations.lines(record.id)
    return town_id, [(line.id, line.application_id, line.amount_cents) for line in lines]


def baseline_rows(
    town_id: int, lines: list[tuple[int, int, int]]
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows a credit writes: account 1 is the fund, citizen n's account is n + 1 (in the
    seed, application n belongs to citizen n)."""
    fund_total = sum(amount for _, _, amount in lines)
    accounts = [(1, town_id, "fund", 0, -fund_total)]
    postings, notices = [], []
    for line_id, citizen_id, amount in lines:
        if amount == 0:
            excluded = decision_notice(
                "Europe/Rome",
                f"BIG-2026-{citizen_id:06d}",
                "excluded",
                "pension",
                decided=NOW,
                appeal_days=30,
            )
            payload = json.dumps(reply_to_json(excluded))
            notices.append((town_id, "sms", f"+39333{citizen_id - 1:07d}", "it", payload, NOW, NOW))
            continue
        accounts.append((citizen_id + 1, town_id, "citizen", citizen_id, amount))
        postings.append((town_id, "allocation", 1, citizen_id + 1, amount, NOW, 1, line_id))
        payload = json.dumps(reply_to_json(credit_notice("Regione", amount, amount)))
        notices.append((town_id, "sms", f"+39333{citizen_id - 1:07d}", "it", payload, NOW, NOW))
    return {"accounts": accounts, "postings": postings, "outbox": notices}


INSERTS = {
    "accounts": "INSERT INTO accounts (id, municipality_id, kind, owner_id, balance_cents) "
    "VALUES ({})",
    "postings": "INSERT INTO postings (municipality_id, kind, from_account_id, to_account_id, "
    "amount_cents, created_at, allocation_id, allocation_line_id) VALUES ({})",
    "outbox": "INSERT INTO outbox (municipality_id, channel, address, language, payload, "
    "status, attempts, next_attempt_at, created_at) VALUES ({}, 'pending', 0, {})",
}


def sqlite_baseline(path: Path, rows: dict[str, list[tuple[Any, ...]]]) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    plain = {
        table: [
            tuple(
                v.replace(tzinfo=None).isoformat(" ") if isinstance(v, datetime) else v for v in row
            )
            for row in values
        ]
        for table, values in rows.items()
    }
    start = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    for table, values in plain.items():
        width = len(values[0])
        marks = ", ".join("?" * width)
        if table == "outbox":
            sql = INSERTS[table].format(", ".join("?" * (width - 2)), "?, ?")
        else:
            sql = INSERTS[table].format(marks)
        connection.executemany(sql, values)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed


async def postgres_baseline(dsn: str, rows: dict[str, list[tuple[Any, ...]]]) -> float:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        start = time.perf_counter()
        async with connection.transaction():
            for table, values in rows.items():
                width = len(values[0])
                if table == "outbox":
                    marks = ", ".join(f"${i}" for i in range(1, width - 1))
                    sql = INSERTS[table].format(marks, f"${width - 1}, ${width}")
                else:
                    sql = INSERTS[table].format(", ".join(f"${i}" for i in range(1, width + 1)))
                await connection.executemany(sql, values)
        return time.perf_counter() - start
    finally:
        await connection.close()


async def credit(core: Core) -> float:
    start = time.perf_counter()
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BIG")
        with progress(t("Crediting")) as step:
            result = await allocation.credit(uow, town, NOW, progress=step)
        await uow.commit()
    elapsed = time.perf_counter() - start
    print(f"  credited {result.citizens} households, {result.total_cents / 100:,.2f} EUR")
    return elapsed


BASELINE_TABLE = """
CREATE TABLE baseline_postings (
    id {id_type} PRIMARY KEY, municipality_id BIGINT, kind VARCHAR(16),
    from_account_id BIGINT, to_account_id BIGINT, amount_cents BIGINT,
    created_at {time_type}, allocation_id BIGINT, allocation_line_id BIGINT UNIQUE
)
"""
COLUMNS = (
    "municipality_id, kind, from_account_id, to_account_id, amount_cents, created_at, "
    "allocation_id, allocation_line_id"
)


def verdict(name: str, service: float, baseline: float) -> bool:
    ratio = service / baseline
    ok = ratio <= TARGET
    print(
        f"  {name}: credit {service:.2f} s, raw insert {baseline:.2f} s, "
        f"ratio {ratio:.1f} (target <= {TARGET:.0f}) {'PASS' if ok else 'FAIL'}"
    )
    return ok


async def bench_sqlite(households: int) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        copy = Path(folder) / "baseline.sqlite3"
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await migrate(engine)
        core = Core(engine=engine, clock=lambda: NOW)
        town_id, lines = await seed(core, households)
        await core.close()
        shutil.copyfile(path, copy)
        core = Core(engine=make_engine(f"sqlite+aiosqlite:///{path}"), clock=lambda: NOW)
        service = await credit(core)
        await core.close()
        baseline = sqlite_baseline(copy, baseline_rows(town_id, lines))
    return verdict("SQLite", service, baseline)


async def bench_postgres(households: int) -> bool | None:
    import asyncpg

    admin_dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = f"bsp_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = await asyncpg.connect(admin_dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        print(f"  PostgreSQL unreachable at {PG_ADMIN_URL}: {error}; skipped")
        return None
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rpartition("/")[0]
    try:
        engine = make_engine(f"{base}/{name}")
        await migrate(engine)
        core = Core(engine=engine, clock=lambda: NOW)
        town_id, lines = await seed(core, households)
        await core.close()
        await admin.execute(f'CREATE DATABASE "{name}_raw" TEMPLATE "{name}"')
        core = Core(engine=make_engine(f"{base}/{name}"), clock=lambda: NOW)
        service = await credit(core)
        await core.close()
        dsn = f"{base}/{name}_raw".replace("postgresql+asyncpg://", "postgresql://")
        baseline = await postgres_baseline(dsn, baseline_rows(town_id, lines))
    finally:
        for database in (name, f"{name}_raw"):
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
    return verdict("PostgreSQL", service, baseline)


async def main(households: int, only: str | None) -> int:
    results: list[bool | None] = []
    if only in (None, "sqlite"):
        print(f"SQLite, {households} households:")
        results.append(await bench_sqlite(households))
    if only in (None, "postgresql"):
        print(f"PostgreSQL, {households} households:")
        results.append(await bench_postgres(households))
    return 0 if all(result is not False for result in results) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    arguments = parser.parse_args()
    raise SystemExit(asyncio.run(main(arguments.households, arguments.only)))
