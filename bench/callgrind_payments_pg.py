"""Instructions a payment costs on PostgreSQL with N processes, counted by valgrind's
callgrind in each process: whether a process does more work a payment when several run.

bench/bench_payments_pg.py measures CPU time a payment, which moves with everything else
the machine runs (and, with more processes than cores, with what they leave in the
caches); the instructions a process executes do not. This runs bench_payments_pg's town
(32 shops, 8 tills a process) on a copy of its seed, each process under callgrind,
instrumented only while it confirms its share after 40 payments of its own (the first
statements, compiled and prepared on each connection, are not counted); the processes
start their counted part together. It prints the instructions a payment of every process,
and the database's commits, rollbacks and deadlocks (a retried or aborted transaction shows
there, and in more instructions).

    python bench/callgrind_payments_pg.py service 1 1000
    python bench/callgrind_payments_pg.py service 4 1000
    python bench/callgrind_payments_pg.py asyncpg 4 1000

Needs valgrind and a C compiler (bench/callgrind_turns.py) and the server on this machine
(BUONISPESA_BENCH_POSTGRES_URL, as bench_payments_pg).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

from bench import bench_payments_pg as pg

WARM = 40  # payments each process confirms before it is counted
Pending = list[tuple[int, str, int]]


async def confirm(side: str, url: str, chunk: Pending, go: Path, out: Path) -> None:
    """One process: its share of the charges from pg.TILLS tills, counted after WARM."""
    import asyncpg

    from bench.bench_payments import TYPED_BY, raw_plan
    from bench.callgrind_turns import Markers
    from core.bootstrap import Core
    from core.domain.keys import ServerKeys
    from core.services import charges
    from core.storage.engine import make_engine
    from core.storage.payment_trip import Paid
    from core.storage.trips import drive_asyncpg

    markers = Markers()
    pay: Callable[[Any, int, str, int], Awaitable[None]]
    if side == "service":
        core = Core(
            engine=make_engine(url, pool_size=pg.TILLS),
            clock=lambda: pg.NOW,
            keys=ServerKeys(pg.SECRET),
        )
        tills: list[Any] = [None] * pg.TILLS

        async def pay_service(_till: Any, charge_id: int, code: str, shop_id: int) -> None:
            async with core.uow() as uow:
                result = await charges.confirm_charge(
                    uow,
                    charge_id=charge_id,
                    shop_id=shop_id,
                    typed_code=code,
                    now=pg.NOW,
                    typed_by=TYPED_BY,
                )
                await uow.commit()
            assert result.outcome is charges.ConfirmOutcome.CONFIRMED, result

        pay = pay_service
    else:
        tills = [await asyncpg.connect(pg.dsn(url)) for _ in range(pg.TILLS)]

        async def pay_raw(connection: Any, charge_id: int, _code: str, shop_id: int) -> None:
            plan = raw_plan(charge_id, shop_id, pg.NOW, postgresql=True)
            async with connection.transaction():
                outcome = await drive_asyncpg(connection, plan)
            assert outcome is not None and outcome.outcome is Paid.CONFIRMED, outcome

        pay = pay_raw

    async def run(payments: Pending) -> None:
        queue = iter(payments)

        async def till(connection: Any) -> None:
            for charge_id, code, shop_id in queue:
                await pay(connection, charge_id, code, shop_id)

        await asyncio.gather(*(till(connection) for connection in tills))

    await run(chunk[:WARM])
    await asyncio.to_thread(ready_and_waiting, go, out, len(chunk) - WARM)
    markers.start()
    await run(chunk[WARM:])
    markers.stop_and_exit()


def ready_and_waiting(go: Path, out: Path, counted: int) -> None:
    """Say this process is warm and how many it will count; wait until all are."""
    out.write_text(json.dumps({"payments": counted}))
    Path(f"{go}.ready.{os.getpid()}").touch()
    while not go.exists():
        time.sleep(0.05)


def instructions(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise ValueError(f"no totals in {path}")


def main() -> int:
    if sys.argv[1] == "--process":
        side, url, shares, ready, counted = sys.argv[2:7]
        share = json.loads(Path(shares).read_text())
        asyncio.run(confirm(side, url, share, Path(ready), Path(counted)))
        return 0
    side, processes, payments = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    from bench.bench_payments import PER_CITIZEN

    prefix = f"bsp_cg_{uuid.uuid4().hex[:8]}"
    template, name = f"{prefix}_t", f"{prefix}_r"
    pending = pg.interleaved(
        asyncio.run(pg.seed_template(template, payments, pg.SHOPS)), PER_CITIZEN
    )
    work = Path(tempfile.mkdtemp(prefix="cg-payments-"))
    go = work / "go"
    try:
        asyncio.run(pg.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        children = []
        for index in range(processes):
            chunk_file = work / f"chunk{index}.json"
            chunk_file.write_text(json.dumps(pending[index::processes]))
            command = [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={work}/cg.%p",
                sys.executable,
                __file__,
                "--process",
                side,
                pg.database_url(name),
                str(chunk_file),
                str(go),
                str(work / f"out{index}.json"),
            ]
            environment = dict(os.environ, PYTHONHASHSEED="0")
            children.append(subprocess.Popen(command, env=environment, stderr=subprocess.DEVNULL))
        while len(list(work.glob("go.ready.*"))) < processes:
            if any(child.poll() not in (None, 0) for child in children):
                raise RuntimeError("a process failed")
            time.sleep(0.2)
        go.touch()  # every process warmed: the counted parts run together
        if any(child.wait() != 0 for child in children):
            raise RuntimeError("a process failed")
        stats = asyncio.run(database_stats(name))
    finally:
        asyncio.run(pg.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(pg.admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    counted = sum(
        json.loads((work / f"out{index}.json").read_text())["payments"]
        for index in range(processes)
    )
    each = [instructions(path) for path in sorted(work.glob("cg.*"))]
    print(
        f"{side}, {processes} process(es), {counted:,} payments counted: "
        f"{sum(each) / counted:,.0f} instructions a payment "
        f"(each process: {', '.join(f'{count / (counted / processes):,.0f}' for count in each)})"
    )
    print(
        "the database, the warm-up included: "
        + ", ".join(f"{key} {value}" for key, value in stats.items())
    )
    return 0


async def database_stats(name: str) -> dict[str, int]:
    import asyncpg

    connection = await asyncpg.connect(pg.dsn(pg.database_url(name)))
    try:
        row = await connection.fetchrow(
            "SELECT xact_commit, xact_rollback, deadlocks FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
    finally:
        await connection.close()
    return {key: int(value) for key, value in dict(row).items()}


if __name__ == "__main__":
    raise SystemExit(main())
