"""What every benchmark prints the same way: three runs, each with the load beside it."""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence

RUNS = 3


def spread(values: Sequence[float], fmt: str = ",.0f") -> str:
    """min/median/max of the runs, as the README's tables show them."""
    return "/".join(
        format(value, fmt) for value in (min(values), statistics.median(values), max(values))
    )


def load() -> float:
    """The machine's 1-minute load average (2 cores here): how far to trust a figure."""
    return os.getloadavg()[0]
