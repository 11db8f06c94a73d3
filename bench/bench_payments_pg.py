"""Confirmed payments per second on PostgreSQL with 1, 2 and 4 processes, against asyncpg
running the same SQL, with the CPU each payment costs and the ceilings that follow.

Two cases, each seeded once (10 charges of 1 € per citizen) and copied (as a template)
for every run:

- town: SHOPS shops, citizen c paying at shop c % SHOPS, so that concurrent payments
  go to different shops (the target is judged here);
- one shop: every payment to one shop, a rush at one till. Each payment locks that
  shop's account row until its commit, so payments there commit one after another:
  at most 1 / (time the row stays locked) per second, whatever the CPU.

Each run starts N processes; each confirms its share of the charges from TILLS tills
at once:

- service: `charges.confirm_charge` in a unit of work per payment (the one-trip plan on
  the unit of work's asyncpg connection, docs/decisions/0005-one-trip-transactions.md);
- asyncpg: the same plan's SQL on raw asyncpg connections, one transaction per payment,
  with no code check and no SQLAlchemy.

Per run: payments/s, the load average, and the CPU per payment of the bench processes
(`time.process_time`) and of their PostgreSQL backends (/proc/<pid>/stat, so the server
must run on this machine). Then min/median/max of 3 runs, and two ceilings computed from
what this machine measured before the runs:

- CPU: cores / (client + server CPU per payment), for the town case;
- hot row: 1 / (commit latency + round trips while the shop's row is locked), for one shop.

Target: the town with 4 processes >= 1,000 payments/s. The machine has 2 cores, shared.

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
from dataclasses import dataclass
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
SHOPS = 32  # in the town: one per till of 4 processes
PROCESSES = (1, 2, 4)
NOW = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
# One server secret for the seeding process and the workers: codes are hashed with it.
SECRET = b"bench-payments-postgresql-secret-32b"
# Trips a payment makes while it holds its shop's account row, the commit included: the
# plan locks both accounts (with the charge's compare-and-set), then sends the debit, the
# credit, the posting and the receipt as one statement, then COMMIT (payment_trip.py).
TRIPS_WHILE_LOCKED = 2
TICK = os.sysconf("SC_CLK_TCK")


def database_url(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def admin(*statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn(ADMIN_URL))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@dataclass(frozen=True)
class Machine:
    """What this machine and server allow, measured before the runs."""

    settings: dict[str, str]
    round_trip_us: float  # SELECT 1, median
    commit_us: float  # BEGIN; one-row INSERT; COMMIT (its WAL flush), median per commit
    flush_us: float  # the commit alone

    def hot_row_ceiling(self) -> float:
        locked = self.flush_us + (TRIPS_WHILE_LOCKED - 1) * self.round_trip_us
        return 1e6 / locked


async def measure_machine(name: str) -> Machine:
    """Round trip and commit latency on one connection, in a scratch database."""
    import asyncpg

    await admin(f'CREATE DATABASE "{name}"')
    try:
        connection = await asyncpg.connect(dsn(database_url(name)))
        try:
            settings = {
                row[0]: row[1] + (row[2] or "")
                for row in await connection.fetch(
                    "SELECT name, setting, unit FROM pg_settings WHERE name IN "
                    "('synchronous_commit', 'wal_sync_method', 'commit_delay', "
                    "'commit_siblings', 'fsync', 'full_page_writes', 'server_version')"
                )
            }
            trips = []
            for _ in range(2000):
                start = time.perf_counter()
                await connection.fetchval("SELECT 1")
                trips.append(time.perf_counter() - start)
            await connection.execute("CREATE TABLE probe (id serial PRIMARY KEY, at timestamptz)")
            commits, flushes = [], []
            for _ in range(500):
                start = time.perf_counter()
                transaction = connection.transaction()
                await transaction.start()
                await connection.execute("INSERT INTO probe (at) VALUES (now())")
                before_commit = time.perf_counter()
                await transaction.commit()
                end = time.perf_counter()
                commits.append(end - start)
                flushes.append(end - before_commit)
        finally:
            await connection.close()
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return Machine(
        settings,
        statistics.median(trips) * 1e6,
        statistics.median(commits) * 1e6,
        statistics.median(flushes) * 1e6,
    )


async def seed_template(name: str, payments: int, shops: int) -> list[tuple[int, str, int]]:
    from bench.bench_payments import seed_url
    from core.domain.keys import ServerKeys

    await admin(f'CREATE DATABASE "{name}"')
    return await seed_url(database_url(name), payments, NOW, ServerKeys(SECRET), shops=shops)


def interleaved(
    pending: list[tuple[int, str, int]], per_citizen: int
) -> list[tuple[int, str, int]]:
    """Consecutive payments of different citizens (the seed lists a citizen's together)."""
    citizens = len(pending) // per_citizen
    return [pending[c * per_citizen + k] for k in range(per_citizen) for c in range(citizens)]


async def confirm_service(
    url: str, chunk: list[tuple[int, str, int]], start: Barrier, done: Barrier, results: Any
) -> None:
    from bench.bench_payments import TYPED_BY
    from core.bootstrap import Core
    from core.domain.keys import ServerKeys
    from core.services import charges
    from core.storage.engine import make_engine

    core = Core(
        engine=make_engine(url, pool_size=TILLS), clock=lambda: NOW, keys=ServerKeys(SECRET)
    )

    async def connect() -> None:
        async with core.uow() as uow:
            await uow.municipalities.all()
            await asyncio.sleep(0.2)  # held at once: the pool opens TILLS connections

    await asyncio.gather(*(connect() for _ in range(TILLS)))  # before the clock starts
    queue = iter(chunk)

    async def till() -> None:
        for charge_id, code, shop_id in queue:
            async with core.uow() as uow:
                result = await charges.confirm_charge(
                    uow,
                    charge_id=charge_id,
                    shop_id=shop_id,
                    typed_code=code,
                    now=NOW,
                    typed_by=TYPED_BY,
                )
                await uow.commit()
            assert result.outcome is charges.ConfirmOutcome.CONFIRMED, result

    await asyncio.to_thread(start.wait)
    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(till() for _ in range(TILLS)))
    results.put((time.perf_counter() - began, time.process_time() - cpu))
    await asyncio.to_thread(done.wait)  # the backends stay until their CPU is read
    await core.close()


async def confirm_asyncpg(
    url: str, chunk: list[tuple[int, str, int]], start: Barrier, done: Barrier, results: Any
) -> None:
    import asyncpg

    from bench.bench_payments import raw_plan
    from core.storage.payment_trip import Paid
    from core.storage.trips import drive_asyncpg

    connections = [await asyncpg.connect(dsn(url)) for _ in range(TILLS)]
    queue = iter(chunk)

    async def till(connection: Any) -> None:
        for charge_id, _code, shop_id in queue:
            plan = raw_plan(charge_id, shop_id, NOW, postgresql=True)
            async with connection.transaction():
                outcome = await drive_asyncpg(connection, plan)
            assert outcome is not None and outcome.outcome is Paid.CONFIRMED, outcome

    await asyncio.to_thread(start.wait)
    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(till(connection) for connection in connections))
    results.put((time.perf_counter() - began, time.process_time() - cpu))
    await asyncio.to_thread(done.wait)
    for connection in connections:
        await connection.close()


def process_main(
    side: str,
    url: str,
    chunk: list[tuple[int, str, int]],
    start: Barrier,
    done: Barrier,
    results: Any,
) -> None:
    run = confirm_service if side == "service" else confirm_asyncpg
    asyncio.run(run(url, chunk, start, done, results))


async def backend_pids(name: str) -> list[int]:
    import asyncpg

    connection = await asyncpg.connect(dsn(ADMIN_URL))
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name
        )
    finally:
        await connection.close()
    return [row[0] for row in rows]


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes (the server's backends, on this machine)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)
    return total / TICK


@dataclass(frozen=True)
class Run:
    rate: float  # payments/s
    client_us: float  # CPU per payment in the bench processes
    server_us: float  # CPU per payment in their PostgreSQL backends
    load: float

    @property
    def cpu_us(self) -> float:
        return self.client_us + self.server_us


def one_run(side: str, name: str, pending: list[tuple[int, str, int]], processes: int) -> Run:
    """Payments/s with `processes` processes (the slowest one's time), and CPU per payment."""
    context = multiprocessing.get_context("spawn")
    start, done = context.Barrier(processes + 1), context.Barrier(processes + 1)
    results = context.Queue()
    chunks = [pending[index::processes] for index in range(processes)]
    workers = [
        context.Process(
            target=process_main,
            args=(side, database_url(name), chunk, start, done, results),
        )
        for chunk in chunks
    ]
    for worker in workers:
        worker.start()
    try:
        start.wait(timeout=300)  # every worker connected: these are the run's backends
        pids = asyncio.run(backend_pids(name))
        server_before = cpu_seconds(pids)
        figures = [results.get(timeout=600) for _ in workers]
        server = cpu_seconds(pids) - server_before
        done.wait(timeout=60)
    finally:
        for worker in workers:
            worker.join(timeout=60)
    if any(worker.exitcode != 0 for worker in workers):
        raise RuntimeError(f"a {side} process failed")
    seconds = max(float(elapsed) for elapsed, _ in figures)
    client = sum(float(cpu) for _, cpu in figures)
    count = len(pending)
    return Run(count / seconds, client / count * 1e6, server / count * 1e6, os.getloadavg()[0])


def spread(values: list[float]) -> str:
    return f"{min(values):,.0f}/{statistics.median(values):,.0f}/{max(values):,.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--case", choices=("town", "one shop"), help="only this case")
    args = parser.parse_args()
    from bench.bench_payments import PER_CITIZEN

    cores = os.cpu_count() or 1
    prefix = f"bsp_bench_{uuid.uuid4().hex[:8]}"
    print(
        f"payments confirmed: {args.payments:,} per run on PostgreSQL, {TILLS} tills per "
        f"process; {cores} cores, load {os.getloadavg()[0]:.1f} at start"
    )
    machine = asyncio.run(measure_machine(f"{prefix}_probe"))
    print(
        "server: " + ", ".join(f"{key} {value}" for key, value in sorted(machine.settings.items()))
    )
    print(
        f"one connection: round trip {machine.round_trip_us:,.0f} µs; a one-row transaction "
        f"{machine.commit_us:,.0f} µs, its COMMIT (WAL flush) {machine.flush_us:,.0f} µs "
        f"(load {os.getloadavg()[0]:.1f})"
    )
    hot_ceiling = machine.hot_row_ceiling()
    cases = tuple(
        (case, shops)
        for case, shops in (("town", SHOPS), ("one shop", 1))
        if args.case in (None, case)
    )
    medians: dict[tuple[str, str, int], Run] = {}
    templates = [f"{prefix}_{shops}" for _, shops in cases]
    try:
        for (case, shops), template in zip(cases, templates, strict=True):
            seeded = asyncio.run(seed_template(template, args.payments, shops))
            pending = interleaved(seeded, PER_CITIZEN)
            print(f"\n{case}: {shops} shop(s)")
            for processes in PROCESSES:
                for side in ("asyncpg", "service"):
                    runs: list[Run] = []
                    for run in range(args.runs):
                        name = f"{template}_{processes}{side[0]}{run}"
                        asyncio.run(admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
                        try:
                            figure = one_run(side, name, pending, processes)
                        finally:
                            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                        runs.append(figure)
                        print(
                            f"  {processes} process(es), {side:<7}: {figure.rate:7,.0f} "
                            f"payments/s; CPU per payment {figure.client_us:,.0f} µs client + "
                            f"{figure.server_us:,.0f} µs server (load {figure.load:.1f})"
                        )
                    rates = [figure.rate for figure in runs]
                    median = sorted(runs, key=lambda figure: figure.rate)[len(runs) // 2]
                    client = statistics.median(figure.client_us for figure in runs)
                    server = statistics.median(figure.server_us for figure in runs)
                    medians[(case, side, processes)] = Run(median.rate, client, server, median.load)
                    ceiling = cores / (client + server) * 1e6
                    print(
                        f"{processes} process(es), {side:<7}: min/median/max {spread(rates)}/s; "
                        f"median CPU {client:,.0f} + {server:,.0f} µs per payment: "
                        f"ceiling {ceiling:,.0f}/s on {cores} free cores"
                    )
    finally:
        for template in templates:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    print()
    for case, _ in cases:
        for processes in PROCESSES:
            service = medians[(case, "service", processes)]
            raw = medians[(case, "asyncpg", processes)]
            one = medians[(case, "service", 1)]
            print(
                f"{case}, {processes} process(es): service {service.rate:,.0f}/s vs asyncpg "
                f"{raw.rate:,.0f}/s = {service.rate / raw.rate:.2f}; x{service.rate / one.rate:.2f}"
                f" of 1 process; CPU per payment {service.cpu_us:,.0f} vs {raw.cpu_us:,.0f} µs"
            )
    print(
        f"one shop: hot-row ceiling 1 / (COMMIT {machine.flush_us:,.0f} µs + "
        f"{TRIPS_WHILE_LOCKED - 1} round trips of {machine.round_trip_us:,.0f} µs) = "
        f"{hot_ceiling:,.0f}/s on an idle machine, for both sides"
    )
    if ("town", "service", 4) not in medians:
        return 0  # the target is judged on the town
    best = medians[("town", "service", 4)]
    ceiling = cores / best.cpu_us * 1e6
    verdict = "PASS" if best.rate >= TARGET else "FAIL"
    print(
        f"{verdict}: town, 4 processes {best.rate:,.0f} payments/s (target >= {TARGET:,.0f}); "
        f"its CPU ceiling {ceiling:,.0f}/s ({best.cpu_us:,.0f} µs per payment on {cores} cores)"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
