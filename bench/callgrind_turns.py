"""Instructions a chat turn costs, counted by valgrind's callgrind: the same count whatever
else the machine does, where CPU time moves with the load (docs/benchmarks.md).

Run from the repository root, with valgrind and a C compiler installed:

    PYTHONHASHSEED=0 valgrind --tool=callgrind --separate-threads=yes --instr-atstart=no \\
        --callgrind-out-file=/tmp/cg/cg.%p .venv/bin/python bench/callgrind_turns.py sms
    .venv/bin/python bench/callgrind_turns.py --sum /tmp/cg

- `sms`: `serve`'s application (as bench/bench_sms.py builds it, without the outbox
  workers, whose polls follow the clock that valgrind slows) takes signed SALDO forms from
  the four credited demo citizens, each with three movements (their credit and two
  payments), 16 in flight: 300 to warm up, then 400 counted, in every thread (the load
  generator and the server share the event loop's thread; the database's is the other).
- `telegram`: the same with bench/bench_telegram.py's updates (/start, /saldo, /menu, /aiuto
  from 500 chats): 600 to warm up (every chat's first message), 400 counted.
- `delivery`: the replies those updates left in the outbox (600 written, `deliver=False`),
  delivered by an outbox worker built as `serve` builds it (`run_once` round after round,
  the sender's batch size) to the fake Bot API in the same process, as bench_telegram's
  worker delivers them while the webhook is timed: 200 to warm up, then 300 counted (a
  turn here is a message delivered: claim, python-telegram-bot's send, the fake API's
  answer, the result recorded).
- `step`: the plain turn's decision alone (bench/bench_dialogue_step.py's SALDO by SMS
  with 3 movements), 200 to warm up, 1,000 counted (`step telegram`: on Telegram).

Instrumentation is switched on only around the counted part (callgrind's client requests,
through a tiny library built with `cc`); `--sum` adds each thread's instructions up and
divides by the turns counted.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

from bench.bench_dialogue_step import NOW
from bench.bench_telegram import CHATS, SECRET, updates
from bench.http_harness import free_socket, serving
from bot.plugin import TelegramPlugin
from buonispesa.demo import DEMO_CITIZENS, DEMO_CODE, DEMO_SMS_NUMBER, seed_demo
from buonispesa.server import PLUGINS, build_app, freeze_startup_heap
from buonispesa.settings import Settings
from core.bootstrap import Core, open_core
from outbox.worker import OutboxWorker, WorkerConfig
from tests.e2e.fake_telegram import SECRET_HEADER, TOKEN, FakeTelegram
from tests.e2e.fake_twilio import FakeTwilio
from tests.factories import Town, pay

IN_FLIGHT = 16
COUNTED = {"sms": 400, "telegram": 400, "delivery": 300, "step": 1000}
_MARKERS = r"""
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void cg_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
"""


class Markers:
    """Callgrind's client requests (no-ops outside valgrind)."""

    def __init__(self) -> None:
        directory = Path(tempfile.mkdtemp(prefix="cg-markers-"))
        (directory / "markers.c").write_text(_MARKERS)
        library = directory / "markers.so"
        subprocess.run(
            ["cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(directory / "markers.c")],
            check=True,
        )
        self._lib = ctypes.CDLL(str(library))

    def start(self) -> None:
        self._lib.cg_start()

    def stop_and_exit(self) -> None:
        # Exit at once: what the shutdown does is not the turns' work.
        self._lib.cg_stop()
        os._exit(0)


@asynccontextmanager
async def application(
    directory: Path, *, twilio: FakeTwilio | None = None, api: FakeTelegram | None = None
) -> AsyncIterator[tuple[str, Core, web.Application]]:
    url = f"sqlite+aiosqlite:///{directory / 'callgrind.sqlite3'}"
    core = await open_core(url)
    await seed_demo(core)
    sock = free_socket()
    host, port = sock.getsockname()
    channel: dict[str, Any] = {}
    if twilio is not None:
        channel = {
            "TWILIO_ACCOUNT_SID": twilio.account_sid,
            "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_FROM_NUMBER": "+390733905999",
            "TWILIO_API_BASE_URL": twilio.base_url,
        }
    if api is not None:
        channel = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_BASE_URL": api.base_url,
        }
    settings = Settings(
        _env_file=None,
        BUONISPESA_DATABASE_URL=url,
        PUBLIC_BASE_URL=f"http://{host}:{port}",
        **channel,
    )
    app = await build_app(
        core,
        settings,
        host=host,
        port=port,
        with_telegram=api is not None,
        deliver=False,
        console=lambda _: None,
    )
    app.on_startup.append(freeze_startup_heap)  # as `serve` does
    try:
        async with serving(app, sock) as base:
            yield base, core, app
    finally:
        await core.close()


async def three_movements(core: Core) -> list[str]:
    """Two payments at the demo grocery for each credited demo citizen; their phones."""
    credited = [c for c in DEMO_CITIZENS if not c.has_work_income and c.liquidity_eur < 5000]
    async with core.uow() as uow:
        town = await uow.municipalities.by_code(DEMO_CODE)
        assert town is not None
        # Alimentari Da Rita, by its owner's phone.
        shop = (await uow.shops.membership("sms", "+393331000101"))[0][1].id
    demo = Town(
        town.id,
        DEMO_CODE,
        [],
        [c.codice_fiscale for c in credited],
        [c.phone for c in credited],
        shop,
        "",
    )
    for index in range(len(credited)):
        await pay(core, demo, 12_50, citizen=index)
        await pay(core, demo, 7_30, citizen=index)
    return [c.phone for c in credited]


async def in_flight(send: Callable[[int], object], count: int) -> None:
    """`count` requests, IN_FLIGHT at a time; `send(i)` awaits the i-th."""
    numbers = iter(range(count))

    async def client() -> None:
        for number in numbers:
            await send(number)  # type: ignore[misc]

    await asyncio.gather(*(client() for _ in range(IN_FLIGHT)))


async def post_updates(http: aiohttp.ClientSession, url: str, bodies: list[bytes]) -> None:
    """Telegram updates posted to the webhook at `url`, IN_FLIGHT at a time, each answered
    200 (the telegram and delivery modes both write them)."""
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}

    async def send(body: bytes) -> None:
        async with http.post(url, data=body, headers=headers) as response:
            await response.read()
            assert response.status == 200, response.status

    await in_flight(lambda i: send(bodies[i]), len(bodies))


async def sms(markers: Markers) -> None:
    twilio = FakeTwilio()
    await twilio.start()
    with tempfile.TemporaryDirectory() as tmp:
        async with application(Path(tmp), twilio=twilio) as (base, core, _):
            phones = itertools.cycle(await three_movements(core))
            url = base + "/sms/twilio"
            validator = RequestValidator(twilio.auth_token)
            forms = []
            for index in range(300 + COUNTED["sms"]):
                form = {
                    "MessageSid": f"SM{index:032x}",
                    "AccountSid": twilio.account_sid,
                    "From": next(phones),
                    "To": DEMO_SMS_NUMBER,
                    "Body": "SALDO",
                    "NumMedia": "0",
                }
                forms.append((form, validator.compute_signature(url, MultiDict(form))))
            async with aiohttp.ClientSession() as http:

                async def send(index: int) -> None:
                    form, signature = forms[index]
                    headers = {"X-Twilio-Signature": signature}
                    async with http.post(url, data=form, headers=headers) as response:
                        await response.read()
                        assert response.status == 200, response.status

                await in_flight(send, 300)
                markers.start()
                await in_flight(lambda i: send(300 + i), COUNTED["sms"])
                markers.stop_and_exit()


async def telegram(markers: Markers) -> None:
    api = FakeTelegram()
    await api.start()
    with tempfile.TemporaryDirectory() as tmp:
        async with application(Path(tmp), api=api) as (base, _, _):
            url = base + "/telegram/webhook"
            warm, counted = updates(CHATS + 100, 0), updates(COUNTED["telegram"], 1_000_000)
            async with aiohttp.ClientSession() as http:
                await post_updates(http, url, warm)
                markers.start()
                await post_updates(http, url, counted)
                markers.stop_and_exit()


async def delivery(markers: Markers) -> None:
    api = FakeTelegram()
    await api.start()
    with tempfile.TemporaryDirectory() as tmp:
        async with application(Path(tmp), api=api) as (base, core, app):
            url = base + "/telegram/webhook"
            async with aiohttp.ClientSession() as http:
                await post_updates(http, url, updates(CHATS + 100, 0))
            plugin = next(p for p in app[PLUGINS] if isinstance(p, TelegramPlugin))
            sender = plugin.sender()
            worker = OutboxWorker(core, sender, WorkerConfig(batch_size=sender.batch_size))

            async def deliver(count: int) -> None:
                done = 0
                while done < count:
                    handled = await worker.run_once(min(sender.batch_size, count - done))
                    assert handled, "the outbox ran dry"
                    done += handled

            await deliver(200)
            markers.start()
            await deliver(COUNTED["delivery"])
            markers.stop_and_exit()


def step(markers: Markers, channel_name: str) -> None:
    from core.dialogue.inbound import Channel, Inbound
    from core.dialogue.plain_turn import PlainTurn
    from core.dialogue.state import ChatMemory, Offered, dump
    from core.domain.keys import PROCESS_KEYS
    from core.domain.ledger import PostingKind
    from core.storage.turn_trip import ConversationRow, Found, Holder, PostingRow, TownRow

    channel = Channel(channel_name)
    town = TownRow(1, "+390733000001", "Europe/Rome", "Belforte del Chienti", False)
    memory = dump(ChatMemory(options=[Offered("balance", ["balance", "saldo"])]))
    conversation = ConversationRow(1, 1, "it", None, None, memory, False)
    postings = [
        PostingRow(PostingKind.PAYMENT.value, -1_250 - i, NOW - timedelta(days=i), "Forno", i)
        for i in range(3)
    ]
    found = Found(Holder(1, "RSSMRA85T10A562S", False, 137_50, postings))
    address = "+393331234567" if channel is Channel.SMS else "5550001"
    inbound = Inbound(channel, address, text="SALDO", provider_message_id="SM1")

    def turn() -> None:
        plain = PlainTurn(inbound, NOW, PROCESS_KEYS)
        lookup = plain.classify(town, conversation)
        assert lookup is not None
        assert plain.decide(lookup.context, found) is not None

    for _ in range(200):
        turn()
    markers.start()
    for _ in range(COUNTED["step"]):
        turn()
    markers.stop_and_exit()


def summed(directory: Path) -> None:
    """Each thread's instructions (the self cost of every function it ran), a turn."""
    for path in sorted(directory.glob("cg.*")):
        text = path.read_text(errors="replace")
        command = re.search(r"^cmd: .*callgrind_turns\.py (\w+)", text, re.M)
        thread = re.search(r"^thread: (\d+)", text, re.M)
        total = _self_cost(text)
        if not total or command is None:
            continue
        turns = COUNTED[command.group(1)]
        where = f"thread {thread.group(1)}" if thread else path.name
        print(f"{where}: {total:,} instructions, {total / turns:,.0f} a turn")


def _self_cost(text: str) -> int:
    """The sum of a callgrind file's cost lines, without the inclusive costs of calls."""
    total, call = 0, False
    for line in text.splitlines():
        if line.startswith("calls="):
            call = True
            continue
        if line[:1].isdigit() or line[:1] in "+-*":
            fields = line.split()
            if len(fields) >= 2 and not call:
                total += int(fields[1])
        call = False
    return total


def main() -> int:
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "--sum":
        summed(Path(sys.argv[2]))
        return 0
    markers = Markers()
    if what == "sms":
        asyncio.run(sms(markers))
    elif what == "telegram":
        asyncio.run(telegram(markers))
    elif what == "delivery":
        asyncio.run(delivery(markers))
    elif what == "step":
        step(markers, sys.argv[2] if len(sys.argv) > 2 else "sms")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
