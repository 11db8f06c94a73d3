"""How a channel plugs into `serve`: HTTP routes, a sender for the outbox, start/stop.

The SMS (sms/) and Telegram (bot/) adapters each provide one ChannelPlugin; the
server and the outbox worker only know this protocol. Adapters are handed an
`OutboxWake` by the composition root, to ask for delivery as soon as they wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from aiohttp import web

from core.domain.messages import Text
from core.i18n import render_text
from outbox.ratelimit import Priority


class OutboxWake(Protocol):
    """Rows were written (for any channel: a shop's SMS may send a citizen's code by
    Telegram): deliver now rather than at the workers' next poll. `payments=False` when
    none of them is about a payment, so that the payment lanes do not look for nothing;
    a caller that does not know keeps the default."""

    def __call__(self, *, payments: bool = True) -> None: ...


def no_wake(*, payments: bool = True) -> None:
    """An OutboxWake for adapters run without workers (tests, tools)."""


class SendStatus(StrEnum):
    SENT = "sent"  # accepted by the provider
    RETRY = "retry"  # transient (5xx, 429, timeout): try again later
    FAILED = "failed"  # permanent (invalid number, unsubscribed, blocked): never retried


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    provider_message_id: str | None = None
    error: str | None = None
    retry_after_seconds: float | None = None
    # RETRY only: handed back by the sender's own rate limiter before any call to the
    # provider (a credit run's notices waiting their turn). Not a failure: not logged.
    held_back: bool = False


# A phone number or a Telegram chat id inside a provider's error ("The 'To' number
# +39333… is not a valid phone number"): 7 digits or more. Error codes are shorter.
_NUMBER = re.compile(r"\+?\d{7,}")
# A log line stays one line of reasonable length, whatever the provider answered.
_ERROR_CHARS = 500


def loggable_error(error: str | None, address: str) -> str:
    """A send's error as the server log may hold it: without the recipient's address or
    any other number that could be someone's, on one line."""
    text = error or "unknown error"
    if address:
        text = text.replace(address, "***")
    text = _NUMBER.sub("***", text)
    return " ".join(text.split())[:_ERROR_CHARS]


@dataclass(frozen=True)
class OutgoingMessage:
    """An outbox row handed to a sender: where, in which language, and the Reply as JSON."""

    id: int
    municipality_id: int | None
    channel: str
    address: str
    language: str
    payload: dict[str, Any]
    # URGENT for payment messages (the code, receipts): the sender's limiter lets them first.
    priority: int = Priority.NORMAL


class Sender(Protocol):
    channel: str

    async def send(self, message: OutgoingMessage) -> SendResult: ...


class ChannelPlugin(Protocol):
    name: str

    def routes(self) -> list[web.RouteDef]: ...

    def sender(self) -> Sender | None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ChannelStartError(RuntimeError):
    """A channel that cannot start as configured (a token or webhook the provider refused):
    `serve` stops with this sentence, `text`, in the office's language, instead of retrying
    forever. str() is the sentence in English, for the server's log."""

    def __init__(self, text: Text) -> None:
        super().__init__(render_text(text, "en"))
        self.text = text
