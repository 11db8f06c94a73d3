"""Benchmark: SMS turns/s through `buonispesa serve --workers N`: SQLite with N = 1 and 2,
PostgreSQL with N = 1, 2 and 4 (`--postgres`).

Run from the repository root: `python bench/bench_serve_workers.py [--runs N] [--postgres]`
(PostgreSQL at BUONISPESA_BENCH_POSTGRES_URL, default postgres@127.0.0.1:5432: a fresh
database per run).
The real command in a subprocess (access log and all) on a demo database in a temporary
directory, development mode with a known auth token; an in-process aiohttp client keeps
16 signed SALDO requests in flight for a few seconds. Three runs per N, min/median/max,
the load average beside each run.

No target: it shows how the webhook scales with processes. On SQLite each turn's write
transaction waits for the file's one writer lock, so processes add CPU for the Python
work but never a second writer; on PostgreSQL they write in parallel. The client runs
on the same two cores as the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

from bench.bench_sms import closed_loop, signed_forms
from tests.serving import listening_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "buonispesa"
TOKEN = "bench-token-for-serve-workers"
IN_FLIGHT = 16


async def wait_healthy(base: str, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(base + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{base} did not become healthy")


def start_server(
    directory: Path, workers: int, start: int, database_url: str | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """A fresh demo database and `serve --workers N` on it; (the process, its base URL)."""
    url = database_url or f"sqlite+aiosqlite:///{directory / f'w{workers}-{start}.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_"))},
        "BUONISPESA_DATABASE_URL": url,
        "TWILIO_AUTH_TOKEN": TOKEN,
    }
    env.pop("PUBLIC_BASE_URL", None)
    subprocess.run([str(BIN), "demo"], env=env, cwd=directory, check=True, capture_output=True)
    # A free port picked by the server itself, read from its banner: none is taken between.
    command = [str(BIN), "serve", "--port", "0", "--workers", str(workers)]
    path = directory / f"serve-w{workers}-{start}.log"
    log = path.open("wb")
    server = subprocess.Popen(command, env=env, cwd=directory, stdout=log, stderr=log)
    log.close()
    deadline = time.monotonic() + 120
    while "Running on" not in (output := path.read_text(errors="replace")):
        if server.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError(f"serve did not start:\n{output}")
        time.sleep(0.2)
    return server, f"http://127.0.0.1:{listening_port(output)}"


def server_errors(directory: Path, workers: int, start: int) -> str:
    """What the server logged at ERROR or with a traceback (the run is failing)."""
    log = directory / f"serve-w{workers}-{start}.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    keep = [n for n, line in enumerate(lines) if "ERROR" in line or line.startswith("Traceback")]
    return "\n".join(lines[keep[0] : keep[0] + 40]) if keep else "(nothing logged)"


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=60)


async def one_run(
    directory: Path, workers: int, seconds: float, start: int, database_url: str | None = None
) -> float:
    server, base = await asyncio.to_thread(start_server, directory, workers, start, database_url)
    try:
        await wait_healthy(base)
        url = base + "/sms/twilio"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            # New connections for each request, so the kernel spreads them over the processes.
            await closed_loop(http, url, signed_forms(base, TOKEN, 100, start), IN_FLIGHT, 2)
            forms = signed_forms(base, TOKEN, 20_000, start + 100_000)
            return await closed_loop(http, url, forms, IN_FLIGHT, seconds)
    except RuntimeError:
        print(server_errors(directory, workers, start))
        raise
    finally:
        await asyncio.to_thread(stop_server, server)


async def run(runs: int, seconds: float, postgres: bool) -> None:
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start")
    backends: list[tuple[str, tuple[int, ...]]] = [("SQLite", (1, 2))]
    if postgres:
        backends.append(("PostgreSQL", (1, 2, 4)))
    with tempfile.TemporaryDirectory() as folder:
        for backend, counts in backends:
            medians: dict[int, float] = {}
            for workers in counts:
                figures = []
                for run_number in range(runs):
                    start = run_number * 1_000_000
                    if backend == "SQLite":
                        rps = await one_run(Path(folder), workers, seconds, start)
                    else:
                        rps = await postgres_run(Path(folder), workers, seconds, start)
                    figures.append(rps)
                    load = os.getloadavg()[0]
                    print(
                        f"  {backend} --workers {workers}: {rps:7.1f} SMS turns/s  "
                        f"(load {load:.1f})"
                    )
                medians[workers] = statistics.median(figures)
                print(
                    f"{backend} --workers {workers}: min/median/max "
                    f"{min(figures):.1f}/{medians[workers]:.1f}/{max(figures):.1f} turns/s"
                )
            scaling = ", ".join(f"{n} ÷ 1: {medians[n] / medians[1]:.2f}" for n in counts[1:])
            print(f"{backend}: {scaling}")


async def postgres_run(directory: Path, workers: int, seconds: float, start: int) -> float:
    from bench.bench_payments_pg import admin, database_url

    name = f"bsp_serve_{workers}_{start // 1_000_000}_{os.getpid()}"
    await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        return await one_run(directory, workers, seconds, start, database_url(name))
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--postgres", action="store_true", help="also PostgreSQL, N = 1, 2, 4")
    args = parser.parse_args()
    asyncio.run(run(args.runs, args.seconds, args.postgres))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
