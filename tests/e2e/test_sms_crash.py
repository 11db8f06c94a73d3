"""Reliability battery: `serve` killed with SIGKILL in the middle of signed SMS traffic.

`buonispesa serve` runs as a process against a local fake of Twilio's REST API
(TWILIO_API_BASE_URL). Shops take payments by SMS (PAGA, the citizen's code read
from the fake, the code typed back) and citizens ask their balance, every webhook
signed with X-Twilio-Signature as Twilio signs it. Once payments are under way
the process is killed with SIGKILL and started again; a webhook that got no answer
is posted again with the same MessageSid, as Twilio's retries would. Then:

- every webhook answered 200 has its effect (its MessageSid recorded, a reply
  written for each message);
- every confirmed payment has its receipt, delivered;
- every outbox message is delivered, the ones the killed process held taken over
  within a lease, except a payment's code it held that was used meanwhile (closed
  unsent once its payment is confirmed);
- duplicates (a message the provider accepted twice, when the process died after
  Twilio's answer and before recording it) are counted and stated.

Twilio answers at once, or half a second after taking a message (a slow provider: the
killed process then dies holding messages Twilio has taken, which makes duplicates).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from buonispesa.demo import DEMO_CITIZENS, DEMO_SHOPS, DEMO_SMS_NUMBER
from core.bootstrap import Core
from core.storage import models as m
from core.storage.engine import make_engine
from tests.e2e.fake_twilio import FakeTwilio
from tests.serving import listening_port

pytestmark = pytest.mark.filterwarnings(
    # twilio's asyncio client still uses aiohttp's deprecated BasicAuth.
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

BIN = Path(sys.executable).parent / "buonispesa"
CODE = re.compile(r"\b(\d{6,})\b")
LEASE_SECONDS = 4
PAYMENTS_PER_SHOP = 4
_sids = itertools.count(1)


@dataclass
class Traffic:
    """What the test posted and what the server answered."""

    answered: dict[str, tuple[str, str]] = field(default_factory=dict)  # sid -> (from, body)
    refused: int = 0  # posts that got no answer (the server was down): posted again
    confirmed: int = 0


@dataclass
class Served:
    twilio: FakeTwilio
    env: dict[str, str]
    cwd: Path
    http: aiohttp.ClientSession
    traffic: Traffic = field(default_factory=Traffic)
    process: asyncio.subprocess.Process | None = None
    # Codes already taken from each number's SMS. A code the killed process had handed
    # to Twilio is sent again once its lease runs out, when its charge is still pending
    # then; that second copy may arrive after the next payment was asked for, and is not
    # that payment's code.
    taken: dict[str, set[str]] = field(default_factory=dict)
    # Where the running process listens: each start picks a free port (`--port 0`), so
    # none is taken by another process while this one restarts.
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        logged = len(self.log())
        with (self.cwd / "serve.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(BIN),
                "serve",
                "--port",
                "0",
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        # As long as the other e2e tests give `serve` to start (a loaded machine is slow).
        deadline = time.monotonic() + 60
        while "Running on" not in self.log()[logged:]:
            assert time.monotonic() < deadline, "serve did not start:\n" + self.log()
            assert self.process.returncode is None, self.log()
            await asyncio.sleep(0.1)
        self.port = listening_port(self.log()[logged:])
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with self.http.get(self.base_url + "/healthz") as response:
                    if response.status == 200:
                        return
            assert self.process.returncode is None, self.log()
            await asyncio.sleep(0.1)
        raise AssertionError("serve did not start:\n" + self.log())

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    def log(self) -> str:
        log = self.cwd / "serve.log"
        return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""

    async def sms(self, sender: str, body: str, within: float = 60.0) -> None:
        """Post an inbound SMS until it is answered 200, with one MessageSid throughout."""
        sid = f"SM{next(_sids):032x}"
        fields = {
            "MessageSid": sid,
            "AccountSid": self.twilio.account_sid,
            "From": sender,
            "To": DEMO_SMS_NUMBER,
            "Body": body,
        }
        # Signed for the public address (a proxy's in production), posted to the port the
        # process listens on now: a post retried across a restart goes to the new one.
        public = self.env["PUBLIC_BASE_URL"] + "/sms/twilio"
        signature = RequestValidator(self.twilio.auth_token).compute_signature(public, fields)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                async with self.http.post(
                    self.base_url + "/sms/twilio",
                    data=fields,
                    headers={"X-Twilio-Signature": signature},
                ) as response:
                    if response.status == 200:
                        self.traffic.answered[sid] = (sender, body)
                        return
            except (TimeoutError, aiohttp.ClientError):
                pass
            self.traffic.refused += 1
            await asyncio.sleep(0.1)
        raise AssertionError(f"{body!r} from {sender} never answered")

    async def next_code(self, number: str, seen: int, within: float = 30.0) -> tuple[str, int]:
        """The first code not taken before in an SMS to `number` after the `seen` first ones."""
        await self.twilio.wait_until(lambda: len(self.twilio.to(number)) > seen, within)
        records = self.twilio.to(number)
        taken = self.taken.setdefault(number, set())
        for record in records[seen:]:
            found = CODE.search(record.body)
            if found and found.group(1) not in taken:
                taken.add(found.group(1))
                return found.group(1), len(records)
        return await self.next_code(number, len(records), within)


@pytest.fixture(params=[0.0, 0.5], ids=["twilio-quick", "twilio-slow"])
async def served(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Served]:
    # Slow, Twilio has taken the messages the killed process was sending without the
    # process knowing: they are sent again once their lease runs out (duplicates).
    twilio = FakeTwilio(answer_after=request.param)
    await twilio.start()
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_"))}
    env = {
        **keep,
        "BUONISPESA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'crash.sqlite3'}",
        # Twilio calls (and signs) the public address; the process listens behind it.
        "PUBLIC_BASE_URL": "https://sms.example.org",
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_FROM_NUMBER": "+390733905999",
        "TWILIO_API_BASE_URL": twilio.base_url,
        "BUONISPESA_SMS_RATE_PER_SECOND": "20",
        "BUONISPESA_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    demo = await asyncio.create_subprocess_exec(
        str(BIN),
        "demo",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await demo.wait() == 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
        server = Served(twilio, env, tmp_path, http)
        try:
            yield server
        finally:
            if server.process is not None and server.process.returncode is None:
                server.process.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(server.process.wait(), 20)
                except TimeoutError:
                    server.process.kill()
                    await server.process.wait()
            await twilio.stop()


async def shop_pays(server: Served, shop: str, citizen: str, cf: str) -> None:
    """A till opens its SMS session, then takes PAYMENTS_PER_SHOP payments of 1 euro."""
    seen = len(server.twilio.to(shop))
    await server.sms(shop, "PAGA")
    till_code, _ = await server.next_code(shop, seen)
    await server.sms(shop, till_code)
    for _ in range(PAYMENTS_PER_SHOP):
        seen = len(server.twilio.to(citizen))
        await server.sms(shop, f"PAGA {cf} 1")
        code, _ = await server.next_code(citizen, seen)
        await server.sms(shop, code)
        server.traffic.confirmed += 1


async def citizen_asks(server: Served, phone: str, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await server.sms(phone, "SALDO")
        await asyncio.sleep(0.05)


async def outbox_rows(core: Core) -> list[m.OutboxMessage]:
    async with core.uow() as uow:
        return list(await uow.session.scalars(select(m.OutboxMessage)))


async def settled(core: Core, within: float) -> list[m.OutboxMessage]:
    """Wait until no outbox row is pending or being sent."""
    deadline = time.monotonic() + within
    while True:
        rows = await outbox_rows(core)
        if all(row.status not in ("pending", "sending") for row in rows):
            return rows
        if time.monotonic() > deadline:
            waiting = [
                (r.id, r.status, r.attempts, r.last_error)
                for r in rows
                if r.status in ("pending", "sending")
            ]
            raise AssertionError(f"outbox not drained: {waiting}")
        await asyncio.sleep(0.2)


async def test_serve_killed_mid_traffic_loses_nothing(served: Served) -> None:
    server = served
    core = Core(engine=make_engine(server.env["BUONISPESA_DATABASE_URL"]))
    # The demo's own notices are marked sent when it is seeded: not part of the traffic.
    seeded = {row.id for row in await outbox_rows(core)}
    await server.start()
    pairs = [
        (shop[6], citizen.phone, citizen.codice_fiscale)
        for shop, citizen in zip(DEMO_SHOPS[:3], DEMO_CITIZENS[:3], strict=True)
    ]
    stop = asyncio.Event()
    askers = [asyncio.create_task(citizen_asks(server, c.phone, stop)) for c in DEMO_CITIZENS[3:]]
    payers = [asyncio.create_task(shop_pays(server, *pair)) for pair in pairs]

    # In the middle of the traffic: payments confirmed, others waiting for their code.
    deadline = time.monotonic() + 60
    while server.traffic.confirmed < 3:
        assert time.monotonic() < deadline, server.log()
        await asyncio.sleep(0.02)
    await server.kill()
    killed_at = time.monotonic()
    try:
        in_hand = {row.id for row in await outbox_rows(core) if row.status == "sending"}
        await asyncio.sleep(0.5)
        await server.start()

        await asyncio.wait_for(asyncio.gather(*payers), 90)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*askers), 30)

        rows = [r for r in await settled(core, LEASE_SECONDS + 20) if r.id not in seeded]
        drained_after = time.monotonic() - killed_at
        async with core.uow() as uow:
            recorded = set(await uow.session.scalars(select(m.InboundMessage.provider_message_id)))
            charges = list(await uow.session.scalars(select(m.Charge)))
            citizens = {c.id: c for c in await uow.session.scalars(select(m.Citizen))}
    finally:
        await core.close()

    traffic = server.traffic
    # Every webhook answered 200 has its effect: recorded once, answered with a reply.
    assert set(traffic.answered) <= recorded
    for sender in {sender for sender, _ in traffic.answered.values()}:
        asked = [sid for sid, (who, _) in traffic.answered.items() if who == sender]
        assert len([row for row in rows if row.address == sender]) >= len(asked), sender
    # Every confirmed payment has its receipt, and the receipt left.
    confirmed = [c for c in charges if c.status == "confirmed"]
    assert len(confirmed) == len(pairs) * PAYMENTS_PER_SHOP == traffic.confirmed, {
        number: [record.body for record in server.twilio.to(number)]
        for pair in pairs
        for number in pair[:2]
    }
    for charge in confirmed:
        phone = citizens[charge.citizen_id].phone
        receipts = [
            row
            for row in rows
            if row.charge_id == charge.id
            and row.address == phone
            and not row.payload.get("sensitive")
        ]
        assert receipts and all(row.status == "sent" for row in receipts), charge.id
    # Every outbox message delivered, each by a request the provider accepted; except a
    # payment's code the killed process was sending, closed unsent after its lease because
    # the payment was confirmed in the meantime (with that code: Twilio had taken it).
    accepted = {record.sid for record in server.twilio.accepted}
    unsent = [row for row in rows if row.status != "sent"]
    for row in unsent:
        assert row.id in in_hand and row.last_error == "not sent: payment confirmed", (
            row.id,
            row.status,
            row.last_error,
        )
    sent = [row for row in rows if row.status == "sent"]
    assert {row.provider_message_id for row in sent} <= accepted
    # Duplicates: accepted twice because the process died between Twilio's answer and
    # the commit that records it. At most the rows it held.
    duplicates = len(server.twilio.accepted) - len(rows)
    print(
        f"\ncrash battery: {len(traffic.answered)} webhooks answered, {traffic.refused} posts "
        f"refused while down, {len(sent)} outbox messages delivered and {len(unsent)} codes "
        f"closed after their payment, {len(in_hand)} in the "
        f"killed process's hands, {duplicates} duplicate SMS; drained {drained_after:.1f} s "
        "after the kill"
    )
    assert 0 <= duplicates <= len(in_hand)
