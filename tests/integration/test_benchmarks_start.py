"""Every benchmark of `make bench` still runs to its verdict, at a size of seconds.

Nothing else runs bench/ between two measurements, and its scripts seed their towns through
the services and write raw SQL against the schema: a rule added to a service (the fund's
plausible amount) or a column dropped by a migration broke three of them for days, unseen
until someone measured. Here each runs small: it must print its verdicts (PASS or FAIL,
whichever the tiny size gives: no speed is judged here) and end with 0 or 1, or, for one
that only shows figures, print them and end with 0; never with a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"

# Each benchmark with the arguments that make it a few seconds long.
SMALL: dict[str, tuple[str, ...]] = {
    "bench_allocation": ("--count", "2000", "--runs", "1"),
    "bench_cli_startup": ("--runs", "1"),
    "bench_credit": ("--households", "300"),
    "bench_dialogue_step": ("--turns", "100", "--runs", "1"),
    "bench_import": ("--rows", "300"),
    "bench_outbox_lanes": ("--notices", "60", "--codes", "2", "--every", "0.2", "--cap", "100"),
    "bench_outbox_results": ("--rows", "100"),
    "bench_payments": ("--payments", "100", "--runs", "1"),
    "bench_payments_pg": ("--payments", "64", "--runs", "1", "--case", "town"),
    "bench_serve_workers": ("--runs", "1", "--seconds", "1"),
    "bench_sms": ("--seconds", "0.5", "--runs", "1", "--messages", "20", "--count", "2000"),
    "bench_telegram": ("--count", "60", "--seconds", "2", "--messages", "40", "--runs", "1"),
    "bench_telegram_transport": ("--calls", "60", "--runs", "1"),
}
# These print figures and no verdict: they show a scaling, a cost, and judge nothing.
SHOWN_ONLY = frozenset({"bench_serve_workers", "bench_telegram_transport"})
# These reach PostgreSQL as well (or only): skipped, saying so, where it is unreachable.
ON_POSTGRES = frozenset({"bench_credit", "bench_import", "bench_payments_pg"})


def test_every_benchmark_has_a_small_run() -> None:
    """A benchmark added to bench/ is run here too."""
    assert {script.stem for script in BENCH.glob("bench_*.py")} == set(SMALL)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_the_benchmark_runs_to_its_verdict(name: str, request: pytest.FixtureRequest) -> None:
    if name in ON_POSTGRES:
        request.getfixturevalue("postgres_template")  # skips, with the reason, if unreachable
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    env = os.environ | {
        "BUONISPESA_TEST_POSTGRES_URL": PG_ADMIN_URL,
        "BUONISPESA_BENCH_POSTGRES_URL": f"{base}/postgres",
    }
    done = subprocess.run(
        [sys.executable, str(BENCH / f"{name}.py"), *SMALL[name]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = done.stdout + done.stderr
    assert "Traceback" not in said, said[-3000:]
    if name in SHOWN_ONLY:
        assert done.returncode == 0, said[-3000:]
        assert "/s" in said or " ms" in said, said[-3000:]
        return
    assert done.returncode in (0, 1), said[-3000:]
    assert "PASS" in said or "FAIL" in said, said[-3000:]
