"""Benchmark: how long `buonispesa --help` takes to start (the office's commands start alike).

Run from the repository root: `python bench/bench_cli_startup.py [--runs N]`.
Each figure is a fresh interpreter building the whole command line, as the installed
`buonispesa` script does. The baseline, in the same run, is the same interpreter also
importing what every command used to import (the server, Twilio, python-telegram-bot):
target ≤ 0.50 of it. CPU seconds are printed beside wall seconds because on a loaded
machine the wall time mostly measures the queue for a core; the load average is printed
with each run.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.50

HELP = "import sys; sys.argv = ['buonispesa', '--help']; from buonispesa.cli import main; main()"
# What `--help` cost when every command imported the whole application at the top.
EAGER = "import buonispesa.server, bot.plugin, core.documents.card, core.storage.migrate; " + HELP


def one_run(code: str) -> tuple[float, float]:
    """Wall and CPU seconds of a fresh interpreter running `code`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(label: str, code: str, runs: int) -> float:
    """Prints each run with the load beside it; returns the median CPU seconds."""
    cpus = []
    walls = []
    for _ in range(runs):
        wall, cpu = one_run(code)
        walls.append(wall)
        cpus.append(cpu)
        load = os.getloadavg()[0]
        print(f"  {label:<26} wall {wall:.2f} s  cpu {cpu:.2f} s  (load {load:.1f})")
    print(
        f"{label:<28} cpu min/median/max {min(cpus):.2f}/{statistics.median(cpus):.2f}/"
        f"{max(cpus):.2f} s; wall {min(walls):.2f}/{statistics.median(walls):.2f}/"
        f"{max(walls):.2f} s"
    )
    return statistics.median(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start")
    baseline = measure("baseline (eager imports)", EAGER, args.runs)
    lazy = measure("buonispesa --help", HELP, args.runs)
    ratio = lazy / baseline
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(
        f"{verdict}: --help {lazy:.2f} s of CPU vs {baseline:.2f} s eager = {ratio:.2f} "
        f"(target ≤ {TARGET_RATIO:.2f})"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
