"""Benchmark: Telegram webhook updates through the full path, and an outbox broadcast.

Run from the repository root: `python bench/bench_telegram.py` (or `make bench`).
Everything is local: SQLite in a temporary directory, `serve`'s application on a
loopback port, the fake Bot API of the end-to-end tests (the real
python-telegram-bot client talks HTTP to it).

1. Throughput. One in-process load generator (an aiohttp client, a fixed number
   of requests in flight, bounded in count and time) posts the same Telegram
   updates, with the secret header, to `serve`'s POST /telegram/webhook (secret
   check, Update parsing, translation, dialogue engine: dedupe, conversation,
   replies written to the outbox, commit) and to a bare aiohttp handler that
   reads the body and answers 200. Target: the webhook reaches at least 40 % of
   the bare handler's updates per second. For diagnosis the run also times the
   adapter without the engine (a dialogue that answers nothing) and the engine
   called directly without HTTP: they tell where the time goes. Three runs
   (`--runs`), each with a database of its own and the load beside it; the
   verdict takes the median ratio.
2. Broadcast. N notifications (default 3,500, one per chat) wait in the outbox;
   `serve`'s outbox worker delivers them through the Telegram sender to the
   fake API, which answers 429 above 30 messages/s like Telegram. Targets: at
   least 95 % of the 30/s cap, and no 429.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

from bench.http_harness import busiest_second, free_socket, serving
from bench.runs import RUNS, spread
from bot.plugin import TelegramConfig, TelegramPlugin
from buonispesa.demo import seed_demo
from buonispesa.server import WORKERS, build_app
from buonispesa.settings import Settings
from core.bootstrap import Core, open_core
from core.dialogue.engine import DialogueEngine
from core.dialogue.inbound import Channel, Inbound
from core.domain.messages import Reply, t
from core.services.outbox import enqueue
from outbox.worker import ResultGroups, WorkerConfig
from tests.e2e.fake_telegram import SECRET_HEADER, TOKEN, FakeTelegram

RATIO_TARGET = 0.40
CAP = 30
CAP_SHARE_TARGET = 0.95
SECRET = "bench-webhook-secret"
# What people send most: a command from the menu, in a few hundred chats.
TEXTS = ("/start", "/saldo", "/menu", "/aiuto")
CHATS = 500
# Bound of the warm-up, long enough for every chat's first message even on a busy machine.
WARM_SECONDS = 600.0
# The first update id timed (a multiple of CHATS, so chat i always sends TEXTS[i % 4]).
TIMED_FROM = 1_000_000


@asynccontextmanager
async def telegram_app(
    directory: Path, api: FakeTelegram, name: str
) -> AsyncIterator[tuple[str, Core, ResultGroups]]:
    """`serve`'s application with Telegram in webhook mode (and its outbox worker, whose
    results it also returns: how many were recorded in how many transactions)."""
    url = f"sqlite+aiosqlite:///{directory / name}"
    core = await open_core(url)
    await seed_demo(core)
    sock = free_socket()
    host, port = sock.getsockname()
    settings = Settings(
        _env_file=None,
        BUONISPESA_DATABASE_URL=url,
        PUBLIC_BASE_URL=f"http://{host}:{port}",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_API_BASE_URL=api.base_url,
    )
    app = await build_app(
        core,
        settings,
        host=host,
        port=port,
        worker_config=WorkerConfig(poll_seconds=0.2),
        console=lambda _: None,
    )
    try:
        async with serving(app, sock) as base:
            yield base, core, app[WORKERS]["telegram"].results
    finally:
        await core.close()


def updates(count: int, start: int) -> list[bytes]:
    """Telegram message updates as Telegram posts them (built before timing)."""
    texts = itertools.cycle(TEXTS)
    bodies = []
    for index in range(start, start + count):
        chat = 700_000 + index % CHATS
        text = next(texts)
        user = {"id": chat, "is_bot": False, "first_name": "Bench", "language_code": "it"}
        update = {
            "update_id": index,
            "message": {
                "message_id": index,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "Bench"},
                "from": user,
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
            },
        }
        bodies.append(json.dumps(update).encode())
    return bodies


@dataclass(frozen=True)
class Rate:
    per_second: float
    # CPU of this process (load generator, server, outbox worker, SQLite's thread) per
    # update, in ms: steadier than the rate on a shared machine.
    cpu_ms: float


async def closed_loop(
    http: aiohttp.ClientSession, url: str, bodies: list[bytes], in_flight: int, max_seconds: float
) -> Rate:
    """Updates/s with `in_flight` requests outstanding at all times (bounded in time)."""
    queue: Iterator[bytes] = iter(bodies)
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    done = 0
    started, cpu = time.perf_counter(), time.process_time()
    deadline = started + max_seconds

    async def client() -> None:
        nonlocal done
        for body in queue:
            if time.perf_counter() > deadline:
                return
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status}")
            done += 1

    await asyncio.gather(*(client() for _ in range(in_flight)))
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    return Rate(done / elapsed, used / max(done, 1) * 1000)


def bare_app() -> web.Application:
    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response()

    app = web.Application()
    app.router.add_post("/telegram/webhook", ok)
    return app


@dataclass
class SilentDialogue:
    """For the diagnosis only: the adapter's own cost, with a dialogue that does nothing."""

    handled: int = 0
    outbox_ids: list[int] = field(default_factory=list)
    payments: bool = False
    duplicate: bool = False

    async def handle(self, inbound: Inbound) -> SilentDialogue:
        self.handled += 1
        return self


def adapter_app(api: FakeTelegram, core: Core) -> tuple[web.Application, TelegramPlugin]:
    config = TelegramConfig(
        token=TOKEN, api_base_url=api.base_url, webhook_url="http://bench", webhook_secret=SECRET
    )
    plugin = TelegramPlugin(core, config, SilentDialogue())
    app = web.Application()
    app.add_routes(plugin.routes())
    return app, plugin


async def engine_direct(core: Core, count: int) -> Rate:
    """Turns/s of the dialogue engine called in a loop, no HTTP, no adapter."""
    engine = DialogueEngine(core)
    texts = itertools.cycle(TEXTS)
    started, cpu = time.perf_counter(), time.process_time()
    for index in range(count):
        await engine.handle(
            Inbound(
                Channel.TELEGRAM,
                str(800_000 + index % CHATS),
                text=next(texts),
                provider_message_id=f"direct-{index}",
                language_hint="it",
            )
        )
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    return Rate(count / elapsed, used / count * 1000)


@dataclass
class Throughput:
    webhook: Rate
    bare: Rate
    adapter: Rate
    engine: Rate
    # Delivery results recorded during the webhook's timed run, and the transactions.
    results: int
    result_commits: int


async def throughput(
    directory: Path, count: int, in_flight: int, seconds: float, index: int = 0
) -> Throughput:
    api = FakeTelegram()
    await api.start()
    try:
        async with (
            telegram_app(directory, api, f"webhook-{index}.sqlite3") as (base, core, results),
            serving(bare_app(), free_socket()) as bare_base,
            aiohttp.ClientSession() as http,
        ):
            adapter, plugin = adapter_app(api, core)
            await plugin.ready()
            async with serving(adapter, free_socket()) as adapter_base:
                path = "/telegram/webhook"
                # Every chat writes once before the timing, what it sends when timed: a
                # chat's first message creates its conversation (always the general
                # path), which real traffic does once per person, not on most updates.
                warm = updates(CHATS, TIMED_FROM - CHATS)
                for target in (base, bare_base, adapter_base):
                    await closed_loop(http, target + path, warm, in_flight, WARM_SECONDS)
                bodies = updates(count, TIMED_FROM)
                bare = await closed_loop(http, bare_base + path, bodies, in_flight, seconds)
                recorded, commits = results.recorded, results.groups
                webhook = await closed_loop(http, base + path, bodies, in_flight, seconds)
                recorded, commits = results.recorded - recorded, results.groups - commits
                only_adapter = await closed_loop(
                    http, adapter_base + path, bodies, in_flight, seconds
                )
            await plugin.stop()
            engine = await engine_direct(core, min(count, 1000))
    finally:
        await api.close()
    return Throughput(webhook, bare, only_adapter, engine, recorded, commits)


@dataclass
class Broadcast:
    achieved: float
    busiest: int
    delivered: int
    rejected: int


async def broadcast(directory: Path, messages: int) -> Broadcast:
    """Notifications for `messages` chats written at once; the worker delivers them."""
    api = FakeTelegram(overall_per_second=CAP, per_chat_per_second=4, flood_retry_after=5)
    await api.start()
    try:
        async with telegram_app(directory, api, "broadcast.sqlite3") as (_, core, _results):
            async with core.uow() as uow:
                [town] = await uow.municipalities.all()
                for index in range(messages):
                    enqueue(
                        uow,
                        municipality_id=town.id,
                        channel="telegram",
                        address=str(900_000 + index),
                        language="it",
                        reply=Reply.of(t("Your vouchers have been credited.")),
                        now=core.now(),
                    )
                await uow.commit()
            await api.wait_until(lambda: _accepted(api) >= messages, within=messages / CAP * 2 + 30)
    finally:
        await api.close()
    arrivals = sorted(c.at for c in api.calls_of("sendMessage") if c.status == 200)
    achieved = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    return Broadcast(achieved, busiest_second(arrivals), len(arrivals), len(api.rejected))


def _accepted(api: FakeTelegram) -> int:
    return sum(1 for c in api.calls if c.method == "sendMessage" and c.status == 200)


def report(speeds: list[Throughput], sent: Broadcast | None, args: argparse.Namespace) -> bool:
    checks: list[tuple[str, bool | None]] = []
    if speeds:
        checks += _throughput_checks(speeds, args)
    if sent is not None:
        checks += _broadcast_checks(sent, args)
    for line, ok in checks:
        print(("INFO " if ok is None else "PASS " if ok else "FAIL ") + line, flush=True)
    return all(ok is not False for _, ok in checks)


def _ratio(speed: Throughput) -> float:
    return speed.webhook.per_second / speed.bare.per_second


def _run_line(index: int, speed: Throughput) -> str:
    webhook, bare, adapter, engine = speed.webhook, speed.bare, speed.adapter, speed.engine
    return (
        f"run {index + 1}: webhook {webhook.per_second:,.0f} updates/s vs bare aiohttp "
        f"{bare.per_second:,.0f}/s: ratio {_ratio(speed):.2f}; CPU per update (this process: "
        f"client, server, worker) webhook {webhook.cpu_ms:.2f} ms, bare {bare.cpu_ms:.2f} ms, "
        f"adapter without the engine {adapter.cpu_ms:.2f} ms ({adapter.per_second:,.0f}/s); "
        f"the engine alone, no HTTP, {engine.per_second:,.0f} turns/s, {engine.cpu_ms:.2f} ms "
        f"CPU per turn; {speed.results:,} delivery results in {speed.result_commits:,} "
        f"transactions; load {_load()}"
    )


def _throughput_checks(
    speeds: list[Throughput], args: argparse.Namespace
) -> list[tuple[str, bool | None]]:
    ratios = [_ratio(speed) for speed in speeds]
    ratio = statistics.median(ratios)
    return [
        (
            f"webhook vs bare aiohttp, min/median/max ratio {spread(ratios, '.2f')} (webhook "
            f"{spread([s.webhook.per_second for s in speeds])} updates/s, "
            f"{spread([s.webhook.cpu_ms for s in speeds], '.2f')} ms CPU per update; bare "
            f"{spread([s.bare.per_second for s in speeds])}/s): median {ratio:.2f} "
            f"(target >= {RATIO_TARGET:.2f}; {args.in_flight} in flight)",
            ratio >= RATIO_TARGET,
        ),
        (
            f"  diagnosis: the adapter without the engine, ratio "
            f"{spread([s.adapter.per_second / s.bare.per_second for s in speeds], '.2f')}; "
            f"the engine alone, no HTTP, {spread([s.engine.per_second for s in speeds])} "
            f"turns/s",
            None,
        ),
    ]


def _broadcast_checks(sent: Broadcast, args: argparse.Namespace) -> list[tuple[str, bool | None]]:
    share = sent.achieved / CAP
    return [
        (
            f"broadcast of {args.messages} notifications, cap {CAP}/s: {sent.achieved:.2f} msg/s "
            f"= {share:.1%} of the cap (target >= {CAP_SHARE_TARGET:.0%}); busiest second "
            f"{sent.busiest}; 429 answers: {sent.rejected} (target 0); "
            f"delivered {sent.delivered}; load {_load()}",
            share >= CAP_SHARE_TARGET and sent.rejected == 0 and sent.delivered == args.messages,
        ),
    ]


def _load() -> str:
    """The 1-minute load average at the end of the run (2 cores here)."""
    return f"{os.getloadavg()[0]:.2f}"


async def run(args: argparse.Namespace) -> bool:
    # The machine may be shared: the load beside the figures says how far to trust them.
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-telegram-") as tmp:
        directory = Path(tmp)
        speeds: list[Throughput] = []
        if args.case in (None, "throughput"):
            for index in range(args.runs):
                speed = await throughput(directory, args.count, args.in_flight, args.seconds, index)
                print(_run_line(index, speed), flush=True)
                speeds.append(speed)
        sent = (
            await broadcast(directory, args.messages) if args.case in (None, "broadcast") else None
        )
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    return report(speeds, sent, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=3000, help="updates per throughput run")
    parser.add_argument("--seconds", type=float, default=20.0, help="time bound per run")
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--messages", type=int, default=3500, help="broadcast size")
    parser.add_argument("--case", choices=("throughput", "broadcast"), help="only this case")
    parser.add_argument("--runs", type=int, default=RUNS, help="throughput runs")
    args = parser.parse_args(argv)
    return 0 if asyncio.run(run(args)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
