"""Sending an outbox row as an SMS through Twilio's REST API.

twilio's `Client` with its asyncio HTTP client (`AsyncTwilioHttpClient`), so a
send never blocks the event loop. TWILIO_API_BASE_URL replaces
https://api.twilio.com (tests, Twilio-compatible providers) by pointing the
client's `api` domain elsewhere; every other part of the request (paths, Basic
auth, form fields) is the library's own.

Errors are classified for the outbox worker:
- retry: HTTP 5xx, 429 (and Twilio 20429), timeouts, connection errors, and
  authentication errors (a configuration problem, not the message's fault);
- failed, never retried: any other 4xx, e.g. 21211 invalid 'To' number,
  21610 recipient unsubscribed (sent STOP to the carrier), 21614 not a mobile.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from core.dialogue.render import render_plain
from core.domain import gsm7
from core.domain.channels import Channel
from core.domain.messages import reply_from_json
from outbox.channels import OutgoingMessage, SendResult, SendStatus, loggable_error
from outbox.ratelimit import Rate, RateLimiter

log = logging.getLogger(__name__)
# The Twilio client logs every request and response at INFO (about 11 lines per SMS, with
# the recipient's number): warnings and errors are enough in the server's log.
for _name in ("twilio.http_client", "twilio.async_http_client"):
    logging.getLogger(_name).setLevel(logging.WARNING)

# Twilio codes that mean "try later" although the HTTP status is a 4xx.
_RETRY_CODES = frozenset({20429, 20003, 20005})  # too many requests; auth failed; account suspended
_RETRY_STATUSES = frozenset({401, 403, 408, 409, 425, 429})

# Carriers and Twilio meter a long-code number in message segments per second (1/s by
# default in Italy for a plain number); sending faster only fills the provider's queue,
# where messages can expire. 3 % under the rate absorbs the jitter between a send's start
# and its arrival (1 %, 10 ms at 20/s, let a second at the provider hold 21 on a machine
# whose hypervisor took a fifth of the CPU).
_NUMBER = "number"


def sms_limiter(rate_per_second: float) -> RateLimiter:
    """Pacing per sending number, a message costing one slot per segment."""
    return RateLimiter({_NUMBER: Rate(rate_per_second, margin=0.03)})


# Numbers a message leaves from: the municipality's own (its Twilio number, which
# citizens know and reply to), else TWILIO_FROM_NUMBER.
FromNumber = Callable[[int | None], Awaitable[str]]


def classify(exc: TwilioRestException) -> SendResult:
    code = exc.code if isinstance(exc.code, int) else None
    error = f"twilio {exc.status} {code or ''}: {exc.msg}".strip()
    if exc.status >= 500 or exc.status in _RETRY_STATUSES or code in _RETRY_CODES:
        return SendResult(SendStatus.RETRY, error=error)
    return SendResult(SendStatus.FAILED, error=error)


def sms_body(message: OutgoingMessage) -> str:
    return render_plain(reply_from_json(message.payload), message.language, sms=True)


# The parameters that hold something usable by whoever reads them (a payment code, a
# cashier's invite, a card code): what a production log must not hold.
SECRET_PARAMS = frozenset({"code", "pin", "password"})
MASK = "******"


def masked_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with every secret parameter replaced by MASK, in texts and options."""

    def text(data: dict[str, Any]) -> dict[str, Any]:
        params = {k: MASK if k in SECRET_PARAMS else v for k, v in data.get("params", {}).items()}
        return {**data, "params": params}

    options = [{**o, "label": text(o["label"])} for o in payload.get("options", [])]
    return {**payload, "texts": [text(x) for x in payload["texts"]], "options": options}


class TwilioSender:
    channel = Channel.SMS.value

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: FromNumber,
        limiter: RateLimiter,
        api_base_url: str | None = None,
        status_callback_url: str | None = None,
        timeout_seconds: float = 15.0,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from_number = from_number
        self.limiter = limiter
        self._api_base_url = api_base_url
        self._status_callback_url = status_callback_url
        self._timeout = timeout_seconds
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None
        # About five seconds of sending per claimed batch: a graceful shutdown
        # finishes the batch in hand quickly even at 1 message/s.
        self.batch_size = max(1, min(50, int(limiter.rates[_NUMBER].per_second * 5)))

    async def start(self) -> None:
        # Built inside the running loop: its aiohttp ClientSession belongs to it.
        self._http = AsyncTwilioHttpClient()
        client = Client(self._account_sid, self._auth_token, http_client=self._http)
        if self._api_base_url:
            client.api.base_url = self._api_base_url
        # The Messages resource is imported on first use (about 0.1 s, blocking the loop):
        # pay that here, not in the middle of the first paced send.
        _ = client.messages
        self._client = client

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._client = None

    async def send(self, message: OutgoingMessage) -> SendResult:
        if self._client is None:
            return SendResult(SendStatus.RETRY, error="SMS sender not started")
        body = sms_body(message)
        if not body.strip():
            return SendResult(SendStatus.FAILED, error="nothing an SMS can carry")
        from_number = await self._from_number(message.municipality_id)
        options = (
            {"status_callback": self._status_callback_url} if self._status_callback_url else {}
        )
        await self.limiter.acquire({_NUMBER: from_number}, gsm7.segments(body), message.priority)
        try:
            # AsyncTwilioHttpClient sets no timeout on its requests: bound them here.
            async with asyncio.timeout(self._timeout):
                created = await self._client.messages.create_async(
                    to=message.address, from_=from_number, body=body, **options
                )
        except TwilioRestException as exc:
            result = classify(exc)
            if result.status is SendStatus.FAILED:
                # Refused for good (invalid number, unsubscribed): the worker logs only the
                # attempts that are retried (a 401, a 5xx) and the giving-up.
                log.warning(
                    "SMS %s refused for good: %s",
                    message.id,
                    loggable_error(result.error, message.address),
                )
            return result
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return SendResult(SendStatus.RETRY, error=f"transport: {exc!r}")
        if not created.sid:
            return SendResult(SendStatus.RETRY, error="provider answered without a message sid")
        return SendResult(SendStatus.SENT, provider_message_id=created.sid)


class ConsoleSender:
    """Development only (`serve` on loopback with no Twilio account): SMS replies are
    written to the server log, where the person trying the webhook with curl reads them.
    `mask_codes`: the log is a real town's (a Telegram bot runs beside it), whose codes
    must not be readable there: they are printed as MASK."""

    channel = Channel.SMS.value
    batch_size = 20

    def __init__(self, write: Callable[[str], None], *, mask_codes: bool = False) -> None:
        self._write = write
        self._mask_codes = mask_codes

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, message: OutgoingMessage) -> SendResult:
        if self._mask_codes:
            message = dataclasses.replace(message, payload=masked_payload(message.payload))
        body = sms_body(message)
        self._write(f"SMS to {message.address} ({gsm7.segments(body)} segment(s)):\n{body}")
        return SendResult(SendStatus.SENT, provider_message_id=f"console-{message.id}")
