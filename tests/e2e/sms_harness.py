"""`serve`'s application on a free local port, with the fake Twilio REST API beside it.

Inbound webhooks are signed with twilio's RequestValidator, exactly as Twilio
signs them; the server's replies reach the fake through the real twilio client.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator

from buonispesa.demo import DEMO_SMS_NUMBER, seed_demo
from buonispesa.server import build_app
from buonispesa.settings import Settings
from core.bootstrap import Core
from core.domain import gsm7
from core.storage import models as m
from core.storage.engine import make_engine
from outbox import delivery
from outbox.worker import WorkerConfig
from tests.e2e.fake_twilio import FakeTwilio, Recorded
from tests.factories import row_counts

FAST_WORKER = WorkerConfig(
    poll_seconds=0.05,
    lease_seconds=30,
    drain_seconds=5,
    retry=delivery.RetryPolicy(base_seconds=0.05, cap_seconds=0.2, max_attempts=5),
)
_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


@dataclass
class SmsServer:
    core: Core
    twilio: FakeTwilio
    base_url: str
    http: aiohttp.ClientSession
    app: web.Application
    token: str
    sent_sids: list[str] = field(default_factory=list)

    def sign(self, path: str, fields: dict[str, str], token: str | None = None) -> str:
        signature = RequestValidator(token or self.token).compute_signature(
            self.base_url + path, fields
        )
        return str(signature)

    async def post(
        self, path: str, fields: dict[str, str], signature: str | None
    ) -> tuple[int, str]:
        headers = {"X-Twilio-Signature": signature} if signature is not None else {}
        async with self.http.post(self.base_url + path, data=fields, headers=headers) as response:
            return response.status, await response.text()

    async def sms(
        self,
        sender: str,
        body: str,
        *,
        to: str = DEMO_SMS_NUMBER,
        sid: str | None = None,
        token: str | None = None,
    ) -> tuple[int, str]:
        """An inbound SMS as Twilio posts it, signed with the auth token (or `token`)."""
        fields = {
            "MessageSid": sid or new_sid(),
            "AccountSid": self.twilio.account_sid,
            "From": sender,
            "To": to,
            "Body": body,
            "NumMedia": "0",
        }
        return await self.post("/sms/twilio", fields, self.sign("/sms/twilio", fields, token))

    async def report(self, sid: str, status: str, error_code: str | None = None) -> int:
        fields = {"MessageSid": sid, "MessageStatus": status, "AccountSid": self.twilio.account_sid}
        if error_code:
            fields["ErrorCode"] = error_code
        code, _ = await self.post(
            "/sms/twilio/status", fields, self.sign("/sms/twilio/status", fields)
        )
        return code

    async def replies(self, number: str, count: int, within: float = 60.0) -> list[Recorded]:
        """Wait until `number` has received `count` SMS in all; return them."""
        try:
            await self.twilio.wait_until(lambda: len(self.twilio.to(number)) >= count, within)
        except TimeoutError:
            got = [r.body for r in self.twilio.to(number)]
            raise AssertionError(f"{number}: expected {count} SMS, got {got}") from None
        return self.twilio.to(number)

    async def say(self, sender: str, body: str, within: float = 60.0) -> list[str]:
        """Send an SMS; return the SMS it made the service send back (all of them delivered)."""
        delivered = len(self.twilio.to(sender))
        written = len(await self.outbox_rows(sender))
        status, _ = await self.sms(sender, body)
        assert status == 200, status
        # The engine committed the replies before the webhook answered.
        expected = len(await self.outbox_rows(sender)) - written
        received = await self.replies(sender, delivered + expected, within)
        return [record.body for record in received[delivered : delivered + expected]]

    async def exchange(self, sender: str, body: str, within: float = 60.0) -> str:
        """Send an SMS and return the one reply it gets."""
        [reply] = await self.say(sender, body, within)
        return reply

    async def quiet(self, seconds: float = 0.5) -> None:
        """Let the outbox worker run (to show that nothing more is sent)."""
        await asyncio.sleep(seconds)

    async def counts(self) -> dict[str, int]:
        return await row_counts(
            self.core,
            inbound=m.InboundMessage,
            outbox=m.OutboxMessage,
            conversations=m.Conversation,
            charges=m.Charge,
        )

    async def outbox_rows(self, address: str) -> list[m.OutboxMessage]:
        async with self.core.uow() as uow:
            return list(await uow.outbox.for_address("sms", address))

    async def scrape(self) -> Scrape:
        """GET /metrics as Prometheus would, parsed by prometheus-client's own parser."""
        async with self.http.get(self.base_url + "/metrics") as response:
            assert response.status == 200
            return Scrape(response.headers["Content-Type"], await response.text())


@dataclass(frozen=True)
class Scrape:
    content_type: str
    text: str

    def families(self) -> dict[str, str]:
        """Family name -> type (counter, gauge, histogram)."""
        return {f.name: f.type for f in text_string_to_metric_families(self.text)}

    def value(self, name: str, **labels: str) -> float | None:
        """The sample's value; None when the scrape has no such sample."""
        for family in text_string_to_metric_families(self.text):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return sample.value
        return None


def free_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def settings_for(
    database_url: str, twilio: FakeTwilio, public_base_url: str, rate: float
) -> Settings:
    return Settings(
        _env_file=None,
        BUONISPESA_DATABASE_URL=database_url,
        PUBLIC_BASE_URL=public_base_url,
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_FROM_NUMBER="+390733905999",
        TWILIO_API_BASE_URL=twilio.base_url,
        BUONISPESA_SMS_RATE_PER_SECOND=rate,
    )


async def start_sms_server(
    database_url: str,
    *,
    rate: float = 200.0,
    worker: WorkerConfig = FAST_WORKER,
    public_base_url: str | None = None,
) -> AsyncIterator[SmsServer]:
    """`serve`'s application on a loopback port; its PUBLIC_BASE_URL that address, or
    `public_base_url` (a reverse proxy's) when given."""
    twilio = FakeTwilio()
    await twilio.start()
    core = Core(engine=make_engine(database_url))
    await seed_demo(core)
    sock = free_socket()
    host, port = sock.getsockname()
    base_url = f"http://{host}:{port}"
    settings = settings_for(database_url, twilio, public_base_url or base_url, rate)
    app = await build_app(
        core, settings, host=host, port=port, worker_config=worker, with_telegram=False
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    http = aiohttp.ClientSession()
    try:
        yield SmsServer(core, twilio, base_url, http, app, twilio.auth_token)
    finally:
        await http.close()
        await runner.cleanup()
        await core.close()
        await twilio.stop()


def assert_one_gsm7_segment(records: list[Recorded]) -> None:
    for record in records:
        counted = gsm7.count(record.body)
        assert counted.encoding == "GSM-7" and counted.segments == 1, (record.body, counted)
