"""Benchmark: one Bot API call through python-telegram-bot, by the HTTP client under it.

Run from the repository root: `python bench/bench_telegram_transport.py` (or `make bench`).
The fake Bot API of the end-to-end tests on a loopback port, its flood limits lifted;
8 callers at once send the same sendMessage, `--calls` times in all, through:
1. python-telegram-bot with its default client (httpx), the baseline;
2. python-telegram-bot with bot/transport.py's aiohttp client, what `serve` uses;
3. a bare aiohttp POST of the same form, for the floor.
Each figure is the process's CPU per call (the fake API's own work, in the same process,
included in all three), median of `--runs` runs, the machine's load beside it. No
target: it shows what the transport saves on every reply, notice and broadcast; the rest
above the bare POST is python-telegram-bot's own work (building the request, reading the
answer into a Message).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from telegram import Bot
from telegram.request import HTTPXRequest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

from bot.transport import AiohttpRequest
from tests.e2e.fake_telegram import TOKEN, FakeTelegram

CALLERS = 8
TEXT = "Il tuo saldo: 137,50 €.\nUltimi movimenti:\n06/04/2026 -12,50 € Forno"
CHAT = 5550001

Call = Callable[[], Awaitable[object]]


async def cpu_ms_per_call(call: Call, calls: int) -> float:
    for _ in range(50):  # warm: connections open, code paths taken
        await call()

    async def caller() -> None:
        for _ in range(calls // CALLERS):
            await call()

    started = time.process_time()
    await asyncio.gather(*(caller() for _ in range(CALLERS)))
    return (time.process_time() - started) * 1000 / (calls // CALLERS * CALLERS)


async def one_run(calls: int) -> tuple[float, float, float]:
    fake = FakeTelegram(overall_per_second=10**9, per_chat_per_second=10**9)
    await fake.start()
    try:
        default = Bot(TOKEN, base_url=fake.base_url, request=HTTPXRequest(CALLERS))
        ours = Bot(TOKEN, base_url=fake.base_url, request=AiohttpRequest())
        async with default, ours, aiohttp.ClientSession() as http:
            url = f"{fake.base_url}{TOKEN}/sendMessage"

            async def bare() -> None:
                async with http.post(url, data={"chat_id": str(CHAT), "text": TEXT}) as answer:
                    await answer.read()

            return (
                await cpu_ms_per_call(lambda: default.send_message(CHAT, TEXT), calls),
                await cpu_ms_per_call(lambda: ours.send_message(CHAT, TEXT), calls),
                await cpu_ms_per_call(bare, calls),
            )
    finally:
        await fake.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for number in range(1, args.runs + 1):
        default, ours, bare = asyncio.run(one_run(args.calls))
        load = os.getloadavg()[0]
        runs.append((default, ours, bare))
        print(
            f"run {number}: httpx (default) {default:.3f} ms, aiohttp transport {ours:.3f} ms, "
            f"bare aiohttp {bare:.3f} ms CPU per call (load {load:.1f})"
        )
    default, ours, bare = (statistics.median(r[i] for r in runs) for i in range(3))
    print(
        f"info sendMessage through python-telegram-bot, median of {len(runs)}: aiohttp "
        f"transport {ours:.3f} vs default httpx {default:.3f} ms CPU per call = "
        f"{ours / default:.2f}; bare aiohttp POST {bare:.3f} ms (no target)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
