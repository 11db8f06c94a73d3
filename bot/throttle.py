"""Telegram's limits, as buckets of the outbox's rate limiter (outbox.ratelimit).

Telegram allows about 30 messages per second overall and about one per second
in one chat (short bursts tolerated), and answers 429 with `retry_after` when a
bot goes over: every call counts against the bot's bucket and its chat's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from outbox.ratelimit import Priority, Rate, RateLimiter

# Default overall rate: a little under Telegram's 30/s so that network jitter (a
# request delayed by a few ms arriving next to one that was not) never packs 31
# calls into one second at the API. 29/s is 96.7 % of the cap.
OVERALL_PER_SECOND = 29.0
PER_CHAT_PER_SECOND = 1.0
# Telegram tolerates short bursts in a chat; a reply made of a text and a map pin
# should arrive together, not one second apart.
PER_CHAT_BURST = 3
_BOT, _CHAT = "bot", "chat"


@dataclass(frozen=True)
class Limits:
    overall_per_second: float = OVERALL_PER_SECOND
    per_chat_per_second: float = PER_CHAT_PER_SECOND
    per_chat_burst: int = PER_CHAT_BURST

    def __post_init__(self) -> None:
        if self.overall_per_second <= 0 or self.per_chat_per_second <= 0:
            raise ValueError("rates must be positive")
        if self.per_chat_burst < 1:
            raise ValueError("per_chat_burst must be at least 1")


class TelegramLimiter:
    """`await limiter.acquire(chat)` returns when one more call to that chat is allowed."""

    def __init__(
        self, limits: Limits | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or Limits()
        self.limiter = RateLimiter(
            {
                _BOT: Rate(self.limits.overall_per_second),
                _CHAT: Rate(self.limits.per_chat_per_second, burst=self.limits.per_chat_burst),
            },
            clock=clock,
        )

    async def acquire(self, chat: str, priority: int = Priority.NORMAL) -> None:
        await self.limiter.acquire({_BOT: "", _CHAT: chat}, 1, priority)

    def pause(self, seconds: float) -> None:
        """Telegram said 429: no call at all until `seconds` from now."""
        self.limiter.pause(seconds)

    def wait_hint(self, chat: str, priority: int = Priority.NORMAL) -> float:
        """How long a call to `chat` would wait now, without booking it."""
        return self.limiter.wait_hint({_BOT: "", _CHAT: chat}, priority)
