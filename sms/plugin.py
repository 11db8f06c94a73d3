"""The SMS channel as `serve` sees it: Twilio's two webhooks and an outbox sender.

Three ways it can run, decided once at start by the composition root, which builds
`SmsConfig` from the settings (buonispesa.adapters):
- "twilio": TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER are
  set. Inbound signatures are checked with the auth token; replies go out
  through Twilio's REST API (or TWILIO_API_BASE_URL).
- "development": no Twilio account, no PUBLIC_BASE_URL and a loopback host
  (`make run`). Signatures are still required: they are checked with
  TWILIO_AUTH_TOKEN when given, else with a random token made for this process
  and printed by `serve` together with a signed curl command. Replies are
  written to the server's console instead of being sent.
- "disabled": anything else without a Twilio account (e.g. a public
  Telegram-only installation). Every SMS webhook is refused with 403 and SMS
  replies wait in the outbox.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from core.bootstrap import Core
from core.dialogue.inbound import InboundHandler
from core.domain.channels import Channel
from core.metrics import Metrics
from outbox.channels import OutboxWake, Sender, no_wake
from sms.sender import ConsoleSender, TwilioSender, sms_limiter
from sms.twilio_webhook import TownNumbers, TwilioWebhook

Mode = Literal["twilio", "development", "disabled"]

INBOUND_PATH = "/sms/twilio"
STATUS_PATH = "/sms/twilio/status"

# Said at start (the banner and the log) when development mode runs beside a Telegram bot:
# a town whose Telegram works and whose .env lacks Twilio or PUBLIC_BASE_URL sends no SMS.
DEVELOPMENT_BESIDE_A_BOT = (
    "WARNING: TELEGRAM_BOT_TOKEN is set (a real bot) but SMS run in development mode: "
    "no SMS is sent to anyone, each is printed in this log instead, its codes masked "
    "(******). To send them, set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
    "TWILIO_FROM_NUMBER (and PUBLIC_BASE_URL); behind a reverse proxy without Twilio, set "
    "PUBLIC_BASE_URL and SMS are off. To read codes while trying SMS on a test machine, "
    "run without TELEGRAM_BOT_TOKEN."
)


@dataclass(frozen=True)
class SmsConfig:
    mode: Mode
    # The secret inbound signatures are checked with (None: refuse every request).
    auth_token: str | None
    # The base Twilio calls us at, and signs: PUBLIC_BASE_URL, else http://HOST:PORT.
    public_base_url: str
    account_sid: str | None = None
    from_number: str | None = None
    api_base_url: str | None = None
    rate_per_second: float = 1.0
    # True when auth_token was made up by this process (development only).
    generated_token: bool = False
    # Development mode beside a real Telegram bot (production forgot its Twilio variables
    # or PUBLIC_BASE_URL): the printed SMS show no codes.
    mask_codes: bool = False


class MunicipalityNumbers:
    """The number a municipality's SMS leave from: its own (the one citizens write to),
    else TWILIO_FROM_NUMBER. Cached for a minute: read once per send otherwise."""

    def __init__(self, core: Core, default: str, ttl_seconds: float = 60.0) -> None:
        self._core = core
        self._default = default
        self._ttl = ttl_seconds
        self._cache: dict[int, tuple[float, str]] = {}

    async def __call__(self, municipality_id: int | None) -> str:
        if municipality_id is None:
            return self._default
        cached = self._cache.get(municipality_id)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        async with self._core.uow() as uow:
            municipality = await uow.municipalities.by_id(municipality_id)
            number = municipality.sms_number if municipality and municipality.sms_number else None
        number = number or self._default
        self._cache[municipality_id] = (time.monotonic(), number)
        return number


def town_numbers(core: Core, default: str | None) -> TownNumbers:
    """The numbers an inbound SMS may be written to: each town's SMS number, and the
    default one (TWILIO_FROM_NUMBER) a town without its own is written to."""

    async def read() -> frozenset[str]:
        async with core.uow() as uow:
            towns = await uow.municipalities.all()
        numbers = {town.sms_number for town in towns if town.sms_number}
        return frozenset(numbers | ({default} if default else set()))

    return read


class SmsChannel:
    name = Channel.SMS.value

    def __init__(
        self,
        *,
        core: Core,
        engine: InboundHandler,
        config: SmsConfig,
        metrics: Metrics,
        on_outbox: OutboxWake = no_wake,
        console: Callable[[str], None] = print,
    ) -> None:
        self.config = config
        self.webhook = TwilioWebhook(
            core=core,
            engine=engine,
            auth_token=config.auth_token,
            public_base_url=config.public_base_url,
            metrics=metrics,
            on_outbox=on_outbox,
            account_sid=config.account_sid,
            town_numbers=town_numbers(core, config.from_number),
        )
        self._sender: TwilioSender | ConsoleSender | None = None
        if config.mode == "twilio":
            assert config.account_sid and config.auth_token and config.from_number
            self._sender = TwilioSender(
                account_sid=config.account_sid,
                auth_token=config.auth_token,
                from_number=MunicipalityNumbers(core, config.from_number),
                limiter=sms_limiter(config.rate_per_second),
                api_base_url=config.api_base_url,
                status_callback_url=config.public_base_url + STATUS_PATH,
            )
        elif config.mode == "development":
            self._sender = ConsoleSender(console, mask_codes=config.mask_codes)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(INBOUND_PATH, self.webhook.inbound),
            web.post(STATUS_PATH, self.webhook.status),
        ]

    def sender(self) -> Sender | None:
        return self._sender

    async def start(self) -> None:
        if self._sender is not None:
            await self._sender.start()

    async def stop(self) -> None:
        if self._sender is not None:
            await self._sender.close()
