"""Confirmed payments per second on PostgreSQL with 1, 2 and 4 processes, against asyncpg
running the same SQL.

One database is seeded with pending charges (10 per citizen, one shop) and copied (as a
template) for every run. Each run starts N processes; each confirms its share of the
charges from TILLS tills at once:

- service: `charges.confirm_charge` in a unit of work per payment (the one-trip plan on
  the unit of work's asyncpg connection, docs/decisions/0005-one-trip-transactions.md);
- asyncpg: the same plan's SQL on raw asyncpg connections, one transaction per payment,
  with no code check and no SQLAlchemy.

Concurrent payments go to different citizens; all go to the one shop, whose account row
every payment locks until its commit (as in a real rush at one till, and on both sides).
Three runs per N with the load average beside each, then min/median/max.
Target: 4 processes >= 1,000 payments/s. The machine has 2 cores shared with others.

    python bench/bench_payments_pg.py [--payments 2000] [--runs 3]
    BUONISPESA_BENCH_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ADMIN_URL = os.environ.get(
    "BUONISPESA_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
TARGET = 1000.0
TILLS = 8  # per process
NOW = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
# One server secret for the seeding process and the workers: codes are hashed with it.
SECRET = b"bench-payments-postgresql-secret-32b"


def database_url(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


async def admin(*statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def seed_template(name: str, payments: int) -> list[tuple[int, str]]:
    from bench.bench_payments import seed_url

    await admin(f'CREATE DATABASE "{name}"')
    from core.domain.keys import ServerKeys

    pending = await seed_url(database_url(name), payments, NOW, ServerKeys(SECRET))
    return pending


def interleaved(pending: list[tuple[int, str]], per_citizen: int) -> list[tuple[int, str]]:
    """Consecutive payments of different citizens (the seed lists a citizen's together)."""
    citizens = len(pending) // per_citizen
    return [pending[c * per_citizen + k] for k in range(per_citizen) for c in range(citizens)]


async def confirm_service(url: str, chunk: list[tuple[int, str]], barrier: Barrier) -> float:
    from core.bootstrap import Core
    from core.domain.keys import ServerKeys
    from core.services import charges
    from core.storage.engine import make_engine

    core = Core(
        engine=make_engine(url, pool_size=TILLS), clock=lambda: NOW, keys=ServerKeys(SECRET)
    )
    async with core.uow() as uow:  # connect before the clock starts
        await uow.municipalities.all()
    queue = iter(chunk)

    async def till() -> None:
        for charge_id, code in queue:
            async with core.uow() as uow:
                result = await charges.confirm_charge(
                    uow, charge_id=charge_id, shop_id=1, typed_code=code, now=NOW
                )
                await uow.commit()
            assert result.outcome is charges.ConfirmOutcome.CONFIRMED, result

    await asyncio.to_thread(barrier.wait)
    start = time.perf_counter()
    await asyncio.gather(*(till() for _ in range(TILLS)))
    elapsed = time.perf_counter() - start
    await core.close()
    return elapsed


async def confirm_asyncpg(url: str, chunk: list[tuple[int, str]], barrier: Barrier) -> float:
    import asyncpg

    from core.storage.payment_trip import Paid, confirm_plan
    from core.storage.trips import drive_asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    connections = [await asyncpg.connect(dsn) for _ in range(TILLS)]
    payload: dict[str, Any] = {"texts": [{"msgid": "Paid", "params": {}}]}
    queue = iter(chunk)

    async def till(connection: Any) -> None:
        for charge_id, _code in queue:
            plan = confirm_plan(
                charge_id,
                1,
                NOW,
                accept=lambda _payment: True,
                receipt=lambda _payment, _balance: payload,
                lock_rows=True,
            )
            async with connection.transaction():
                outcome = await drive_asyncpg(connection, plan)
            assert outcome is not None and outcome.outcome is Paid.CONFIRMED, outcome

    await asyncio.to_thread(barrier.wait)
    start = time.perf_counter()
    await asyncio.gather(*(till(connection) for connection in connections))
    elapsed = time.perf_counter() - start
    for connection in connections:
        await connection.close()
    return elapsed


def process_main(
    side: str, url: str, chunk: list[tuple[int, str]], barrier: Barrier, results: Any
) -> None:
    run = confirm_service if side == "service" else confirm_asyncpg
    results.put(asyncio.run(run(url, chunk, barrier)))


def one_run(side: str, url: str, pending: list[tuple[int, str]], processes: int) -> float:
    """Payments/s with `processes` processes (the slowest one's time)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    chunks = [pending[index::processes] for index in range(processes)]
    workers = [
        context.Process(target=process_main, args=(side, url, chunk, barrier, results))
        for chunk in chunks
    ]
    for worker in workers:
        worker.start()
    seconds: list[float] = [float(results.get(timeout=600)) for _ in workers]
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise RuntimeError(f"a {side} process failed ({worker.exitcode})")
    return len(pending) / max(seconds)


def spread(values: list[float]) -> str:
    return f"{min(values):,.0f}/{statistics.median(values):,.0f}/{max(values):,.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from bench.bench_payments import PER_CITIZEN

    template = f"bsp_bench_{uuid.uuid4().hex[:8]}"
    print(
        f"payments confirmed: {args.payments:,} per run on PostgreSQL, {TILLS} tills per "
        f"process; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start"
    )
    medians: dict[tuple[str, int], float] = {}
    try:
        pending = interleaved(asyncio.run(seed_template(template, args.payments)), PER_CITIZEN)
        for processes in (1, 2, 4):
            for side in ("asyncpg", "service"):
                figures = []
                for run in range(args.runs):
                    name = f"{template}_{processes}_{side[0]}{run}"
                    asyncio.run(admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
                    try:
                        rate = one_run(side, database_url(name), pending, processes)
                    finally:
                        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    figures.append(rate)
                    print(
                        f"  {processes} process(es), {side:<7}: {rate:7,.0f} payments/s "
                        f"(load {os.getloadavg()[0]:.1f})"
                    )
                medians[(side, processes)] = statistics.median(figures)
                print(f"{processes} process(es), {side:<7}: min/median/max {spread(figures)}/s")
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    for processes in (1, 2, 4):
        service, raw = medians[("service", processes)], medians[("asyncpg", processes)]
        print(
            f"{processes} process(es): service {service:,.0f}/s vs asyncpg {raw:,.0f}/s = "
            f"{service / raw:.2f}; x{service / medians[('service', 1)]:.2f} of 1 process"
        )
    best = medians[("service", 4)]
    verdict = "PASS" if best >= TARGET else "FAIL"
    print(f"{verdict}: 4 processes {best:,.0f} payments/s (target >= {TARGET:,.0f})")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
