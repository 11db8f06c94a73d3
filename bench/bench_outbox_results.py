"""Benchmark: recording delivery results in groups vs one transaction per result.

Run from the repository root: `python bench/bench_outbox_results.py` (or `make bench`).
SQLite in a temporary directory (synchronous=FULL, as `serve`); the outbox worker claims
20 rows at a time and hands them to a sender that accepts at once, so the time measured
is the worker's own: claims, and recording the results.

1. Together: the 20 results of a batch finish in the same moment (a fast provider, or
   rows handed back by the rate limiter). The worker records them in groups
   (outbox.worker.ResultGroups); the baseline, in the same run, records each result in
   a transaction of its own (`delivery.record_send_result`, as the worker did before).
   Target: CPU per row at most half the baseline's.
2. Paced: results finish one at a time, a few milliseconds apart (a provider's rate
   cap, as Telegram's 29/s in bench_telegram): nothing to group, each result still
   costs one transaction; shown beside its baseline.

CPU is the process's (the event loop and SQLite's thread): steadier than wall time on a
shared machine. The load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

from core.bootstrap import Core, open_core
from core.domain.messages import Reply, t
from core.services.outbox import enqueue
from outbox import delivery
from outbox.channels import OutgoingMessage, SendResult, SendStatus
from outbox.worker import OutboxWorker, WorkerConfig

RATIO_TARGET = 0.50
BATCH = 20


class Accepting:
    """Accepts every message; `spacing`: the n-th of a batch answers n × spacing later."""

    channel = "telegram"

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self.calls = 0

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.calls += 1
        if self.spacing:
            await asyncio.sleep(self.spacing * (self.calls % BATCH))
        return SendResult(SendStatus.SENT, provider_message_id=f"m{message.id}")


class OneByOne(OutboxWorker):
    """The baseline: each result in a transaction of its own."""

    async def _record_group(self, outcomes: list[delivery.SendOutcome]) -> Sequence[str | None]:
        return [
            await delivery.record_send_result(
                self.core,
                outcome.message_id,
                outcome.claimed_attempts,
                outcome.result,
                self.config.retry,
            )
            for outcome in outcomes
        ]


@dataclass(frozen=True)
class Run:
    cpu_ms: float  # per row: claim, send, record
    seconds: float
    transactions: int  # that recorded results


async def queue(core: Core, rows: int) -> None:
    async with core.uow() as uow:
        for index in range(rows):
            enqueue(
                uow,
                municipality_id=None,
                channel="telegram",
                address=str(700_000 + index),
                language="it",
                reply=Reply.of(t("Your vouchers have been credited.")),
                now=core.now(),
            )
        await uow.commit()


async def deliver_all(directory: Path, name: str, grouped: bool, rows: int, spacing: float) -> Run:
    core = await open_core(f"sqlite+aiosqlite:///{directory / name}")
    try:
        await queue(core, rows)
        kind = OutboxWorker if grouped else OneByOne
        worker = kind(core, Accepting(spacing), WorkerConfig(batch_size=BATCH))
        started, cpu = time.perf_counter(), time.process_time()
        done = 0
        while done < rows:
            done += await worker.run_once()
        elapsed, used = time.perf_counter() - started, time.process_time() - cpu
        transactions = worker.results.groups if grouped else rows
        return Run(used / rows * 1000, elapsed, transactions)
    finally:
        await core.close()


async def run(args: argparse.Namespace) -> bool:
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-outbox-results-") as tmp:
        directory = Path(tmp)
        for case, spacing in (("together", 0.0), ("paced", args.spacing_ms / 1000)):
            grouped = await deliver_all(directory, f"{case}-g.sqlite3", True, args.rows, spacing)
            alone = await deliver_all(directory, f"{case}-1.sqlite3", False, args.rows, spacing)
            ratio = grouped.cpu_ms / alone.cpu_ms
            line = (
                f"{case}: {args.rows:,} rows, CPU per row (claim, send, record) grouped "
                f"{grouped.cpu_ms:.3f} ms in {grouped.transactions:,} transactions vs one "
                f"transaction per result {alone.cpu_ms:.3f} ms: ratio {ratio:.2f}"
            )
            if case == "together":
                passed = ratio <= RATIO_TARGET
                ok = ok and passed
                print(("PASS " if passed else "FAIL ") + line + f" (target <= {RATIO_TARGET})")
            else:
                print("INFO " + line + f" ({args.spacing_ms} ms apart)")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument(
        "--spacing-ms", type=float, default=2.0, help="paced case: between two results"
    )
    args = parser.parse_args(argv)
    return 0 if asyncio.run(run(args)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
