"""What every benchmark prints the same way: three runs, each with the load beside it
(and, where a run is timed, the share of CPU time the hypervisor took away)."""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from pathlib import Path

RUNS = 3


def spread(values: Sequence[float], fmt: str = ",.0f") -> str:
    """min/median/max of the runs, as the README's tables show them."""
    return "/".join(
        format(value, fmt) for value in (min(values), statistics.median(values), max(values))
    )


def load() -> float:
    """The machine's 1-minute load average (2 cores here): how far to trust a figure."""
    return os.getloadavg()[0]


# A mark of the machine's CPU time: (stolen jiffies, all jiffies), from /proc/stat.
CpuMark = tuple[int, int]


def cpu_mark() -> CpuMark:
    """Where the machine's CPU counters stand (zeros where /proc/stat is missing)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return (0, 0)
    # cpu user nice system idle iowait irq softirq steal ...
    counts = [int(value) for value in fields[1:9]]
    return (counts[7], sum(counts))


def stolen_since(mark: CpuMark) -> float:
    """Share of the machine's CPU time the hypervisor gave to other guests since `mark`.
    On a virtual machine this, more than the load, tells a slow figure from slow code:
    a vCPU taken away for a few tens of milliseconds stalls every request in flight."""
    stolen, total = cpu_mark()
    elapsed = total - mark[1]
    return (stolen - mark[0]) / elapsed if elapsed > 0 else 0.0
