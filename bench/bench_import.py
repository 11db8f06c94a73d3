"""Importing paper applications in bulk, on SQLite and PostgreSQL, against a raw baseline.

Both sides start from the same migrated database with one municipality and an open window.
The service side imports N parsed rows through `applications.import_applications` (every
rule checked: identity lookups, duplicates, window, then bulk INSERTs) and commits. The
baseline inserts the same rows (citizens, identity log, applications) with the bare driver
(`sqlite3` / `asyncpg` executemany) in one transaction, checking nothing.
Target: service time <= 10 x baseline time on each database. Parsing the CSV text is timed
apart (it is the same work whatever the database).

    python bench/bench_import.py [--rows 100000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stdnum.it import codicefiscale

from core.bootstrap import Core
from core.domain.application_csv import ApplicationRow, parse_applications_csv
from core.services import applications, municipalities
from core.services.applications import ApplicationInput
from core.storage.engine import make_engine
from core.storage.migrate import migrate

TARGET = 10.0
PG_ADMIN_URL = os.environ.get(
    "BUONISPESA_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 4, 6, 12, 0, tzinfo=UTC)
OPENED = NOW - timedelta(days=1)
LETTERS = "BCDFGHLMNPRSTVZ"


def codice_fiscale(index: int) -> str:
    """A distinct valid codice fiscale for millions of indexes (surname and name letters)."""

    def three(n: int) -> str:
        return LETTERS[n % 15] + LETTERS[(n // 15) % 15] + LETTERS[(n // 225) % 15]

    stem = f"{three(index)}{three(index // 3375)}{80 + index % 20:02d}A{1 + index % 28:02d}H501"
    return stem + codicefiscale.calc_check_digit(stem)


def csv_text(count: int) -> str:
    lines = [
        "codice_fiscale,phone,household_size,has_work_income,has_pension,liquidity_eur,"
        "public_support_monthly_eur,rent_monthly_eur,submitted_at"
    ]
    for index in range(count):
        moment = (OPENED + timedelta(seconds=index % 80_000 + 1)).isoformat()
        lines.append(
            f"{codice_fiscale(index)},+39333{index:07d},{1 + index % 7},false,false,"
            f"{index % 5000}.00,0.00,0.00,{moment}"
        )
    return "\n".join(lines) + "\n"


def inputs(rows: list[ApplicationRow]) -> list[tuple[ApplicationInput, datetime]]:
    return [
        (
            ApplicationInput(
                row.codice_fiscale,
                row.phone or None,
                row.household_size,
                row.has_work_income,
                row.has_pension,
                row.liquidity_cents,
                row.public_support_monthly_cents,
                row.rent_monthly_cents,
            ),
            row.submitted_at,
        )
        for row in rows
    ]


async def prepare(url: str) -> int:
    """Migrate, add the town and open its window; the town's id."""
    engine = make_engine(url)
    await migrate(engine)
    core = Core(engine=engine, clock=lambda: NOW)
    async with core.uow() as uow:
        town = await municipalities.add_municipality(
            uow, code="BEN", name="Bench", now=OPENED - timedelta(days=1)
        )
        await municipalities.open_window(uow, town, OPENED, days=4)
        await uow.commit()
        town_id = town.id
    await engine.dispose()
    return town_id


async def run_service(url: str, rows: list[tuple[ApplicationInput, datetime]]) -> float:
    engine = make_engine(url)
    core = Core(engine=engine, clock=lambda: NOW)
    try:
        start = time.perf_counter()
        async with core.uow() as uow:
            town = await municipalities.require(uow, "BEN")
            await applications.import_applications(uow, town, rows, NOW)
            await uow.commit()
        return time.perf_counter() - start
    finally:
        await engine.dispose()


def baseline_rows(
    town_id: int, rows: list[ApplicationRow], stamp: Callable[[datetime], Any]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Rows for citizens, identity_events and applications, with ids given up front."""
    now = stamp(NOW)
    citizens, events, apps = [], [], []
    for index, row in enumerate(rows, start=1):
        citizens.append(
            (
                index,
                town_id,
                row.codice_fiscale,
                row.phone,
                "office",
                now,
                "it",
                f"C{index:09d}",
                now,
            )
        )
        events.append((town_id, index, "phone_bound", "office", "***" + row.phone[-3:], now))
        apps.append(
            (
                town_id,
                1,
                index,
                f"BEN-2026-{index:06d}",
                row.household_size,
                row.has_work_income,
                row.has_pension,
                row.liquidity_cents,
                row.public_support_monthly_cents,
                row.rent_monthly_cents,
                stamp(row.submitted_at),
                now,
            )
        )
    return citizens, events, apps


CITIZENS_SQL = (
    "INSERT INTO citizens (id, municipality_id, codice_fiscale, phone, phone_proven_by, "
    "phone_proven_at, language, card_code, created_at) "
    "VALUES ({})"
)
EVENTS_SQL = (
    "INSERT INTO identity_events (municipality_id, citizen_id, kind, proof, phone, actor, "
    "created_at) VALUES ({}, 'office', {})"
)
APPS_SQL = (
    "INSERT INTO applications (municipality_id, round_id, citizen_id, protocol, household_size, "
    "has_work_income, has_pension, liquidity_cents, public_support_monthly_cents, "
    "rent_monthly_cents, source, submitted_at, updated_at, recover_cents) "
    "VALUES ({}, 'paper', {}, 0)"
)


def placeholders(style: str, count: int, start: int = 1) -> str:
    if style == "?":
        return ", ".join("?" * count)
    return ", ".join(f"${n}" for n in range(start, start + count))


def run_sqlite_baseline(path: Path, town_id: int, rows: list[ApplicationRow]) -> float:
    def stamp(value: datetime) -> str:
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")

    citizens, events, apps = baseline_rows(town_id, rows, stamp)
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL"):
        db.execute(f"PRAGMA {pragma}")
    start = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany(CITIZENS_SQL.format(placeholders("?", 9)), citizens)
    db.executemany(EVENTS_SQL.format(placeholders("?", 5), "?"), events)
    db.executemany(APPS_SQL.format(placeholders("?", 10), "?, ?"), apps)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


async def run_postgres_baseline(dsn: str, town_id: int, rows: list[ApplicationRow]) -> float:
    import asyncpg

    citizens, events, apps = baseline_rows(town_id, rows, lambda value: value)
    connection = await asyncpg.connect(dsn)
    try:
        start = time.perf_counter()
        async with connection.transaction():
            await connection.executemany(CITIZENS_SQL.format(placeholders("$", 9)), citizens)
            await connection.executemany(EVENTS_SQL.format(placeholders("$", 5), "$6"), events)
            await connection.executemany(APPS_SQL.format(placeholders("$", 10), "$11, $12"), apps)
        return time.perf_counter() - start
    finally:
        await connection.close()


async def pg(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def pg_url(name: str) -> str:
    return f"{PG_ADMIN_URL.rpartition('/')[0]}/{name}"


def verdict(label: str, service: float, baseline: float, parse: float) -> bool:
    ratio = service / baseline
    ok = ratio <= TARGET
    print(f"{label}: raw baseline {baseline:6.2f} s, service {service:6.2f} s")
    print(
        f"{'PASS' if ok else 'FAIL'}: ratio {ratio:.1f} (target <= {TARGET:.0f}); "
        f"with CSV parsing {(service + parse) / baseline:.1f}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    text = csv_text(args.rows)
    start = time.perf_counter()
    parsed = parse_applications_csv(text)
    parse_seconds = time.perf_counter() - start
    assert parsed.ok, parsed.errors[:3]
    rows = parsed.rows
    print(f"{len(rows):,} applications; CSV parsing (any database): {parse_seconds:.2f} s")
    outcomes = []
    with tempfile.TemporaryDirectory() as folder:
        template = Path(folder) / "template.sqlite3"
        town_id = asyncio.run(prepare(f"sqlite+aiosqlite:///{template}"))
        service_db, raw_db = Path(folder) / "service.sqlite3", Path(folder) / "raw.sqlite3"
        for target in (service_db, raw_db):
            shutil.copyfile(template, target)
        baseline = run_sqlite_baseline(raw_db, town_id, rows)
        service = asyncio.run(run_service(f"sqlite+aiosqlite:///{service_db}", inputs(rows)))
        outcomes.append(verdict("SQLite", service, baseline, parse_seconds))

    if not args.no_postgres:
        names = [f"bench_import_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("svc", "raw")]
        try:
            for name in names:
                asyncio.run(pg(f'CREATE DATABASE "{name}"'))
        except (OSError, TimeoutError) as exc:
            print(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}; not measured")
            return 0 if all(outcomes) else 1
        try:
            town_ids = [asyncio.run(prepare(pg_url(name))) for name in names]
            baseline = asyncio.run(
                run_postgres_baseline(
                    pg_url(names[1]).replace("postgresql+asyncpg", "postgresql"), town_ids[1], rows
                )
            )
            service = asyncio.run(run_service(pg_url(names[0]), inputs(rows)))
            outcomes.append(verdict("PostgreSQL", service, baseline, parse_seconds))
        finally:
            for name in names:
                asyncio.run(pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0 if all(outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
