"""The SMS channel as `serve` sees it: Twilio's two webhooks and an outbox sender.

Three ways it can run, decided once at start (see `SmsConfig.mode`):
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

import ipaddress
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from buonispesa.channels import Sender
from buonispesa.settings import Settings
from core.bootstrap import Core
from core.domain.errors import InvalidIdentifier
from core.domain.identity import normalize_phone
from core.metrics import Metrics
from sms.ratelimit import RateLimiter
from sms.sender import ConsoleSender, TwilioSender
from sms.twilio_webhook import InboundHandler, TwilioWebhook

Mode = Literal["twilio", "development", "disabled"]

INBOUND_PATH = "/sms/twilio"
STATUS_PATH = "/sms/twilio/status"
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def config_problems(settings: Settings) -> list[str]:
    """One line per Twilio variable that is missing or malformed (empty when usable)."""
    problems: list[str] = []
    account = settings.twilio_account_sid
    if account or settings.twilio_from_number:
        for name, value in (
            ("TWILIO_ACCOUNT_SID", account),
            ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
            ("TWILIO_FROM_NUMBER", settings.twilio_from_number),
        ):
            if not value:
                problems.append(
                    f"{name}: missing (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                    "TWILIO_FROM_NUMBER go together)"
                )
    if account and not _ACCOUNT_SID.match(account):
        problems.append("TWILIO_ACCOUNT_SID: expected AC followed by 32 hexadecimal characters")
    if settings.twilio_from_number:
        try:
            normalize_phone(settings.twilio_from_number)
        except InvalidIdentifier:
            problems.append("TWILIO_FROM_NUMBER: not a valid phone number (e.g. +390733905000)")
    return problems


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

    @classmethod
    def from_settings(cls, settings: Settings, host: str, port: int) -> SmsConfig:
        public = settings.public_base_url or f"http://{host}:{port}"
        rate = settings.sms_rate_per_second
        if (
            settings.twilio_account_sid
            and settings.twilio_auth_token
            and settings.twilio_from_number
        ):
            return cls(
                mode="twilio",
                auth_token=settings.twilio_auth_token,
                public_base_url=public,
                account_sid=settings.twilio_account_sid,
                from_number=normalize_phone(settings.twilio_from_number),
                api_base_url=settings.twilio_api_base_url,
                rate_per_second=rate,
            )
        if settings.public_base_url is None and is_loopback(host):
            token = settings.twilio_auth_token
            return cls(
                mode="development",
                auth_token=token or secrets.token_urlsafe(24),
                public_base_url=public,
                rate_per_second=rate,
                generated_token=token is None,
            )
        return cls(mode="disabled", auth_token=None, public_base_url=public, rate_per_second=rate)


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


class SmsChannel:
    name = "sms"

    def __init__(
        self,
        *,
        core: Core,
        engine: InboundHandler,
        config: SmsConfig,
        metrics: Metrics,
        on_outbox: Callable[[], None] = lambda: None,
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
        )
        self._sender: TwilioSender | ConsoleSender | None = None
        if config.mode == "twilio":
            assert config.account_sid and config.auth_token and config.from_number
            self._sender = TwilioSender(
                account_sid=config.account_sid,
                auth_token=config.auth_token,
                from_number=MunicipalityNumbers(core, config.from_number),
                limiter=RateLimiter(config.rate_per_second),
                api_base_url=config.api_base_url,
                status_callback_url=config.public_base_url + STATUS_PATH,
            )
        elif config.mode == "development":
            self._sender = ConsoleSender(console)

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
