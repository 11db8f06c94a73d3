"""Pacing outbound SMS per sending number, counting segments.

Carriers and Twilio meter a long-code number in message segments per second
(1/s by default in Italy for a plain number). Sending faster only fills the
provider's queue, where messages can expire; so we wait here instead.

A message of `cost` segments occupies its number for `cost / rate` seconds:
a 2-segment message counts twice. The next message on the same number starts
no earlier than that after the actual start of the previous one, so the
provider never sees more than `rate` segments per second from us even when
the event loop wakes us late. A small margin (1 % by default) absorbs network
jitter between our clock and the provider's.

The limit is per process: several `serve` processes sending from the same
number should each get a share of the rate (BUONISPESA_SMS_RATE_PER_SECOND).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLimiter:
    def __init__(
        self,
        rate_per_second: float,
        *,
        margin: float = 0.01,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.rate = rate_per_second
        self._interval = (1.0 + margin) / rate_per_second
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        # One lock per number: asyncio.Lock wakes waiters in FIFO order, so messages
        # to the same number leave in the order they were queued.
        self._locks: dict[str, asyncio.Lock] = {}

    async def acquire(self, key: str, cost: int = 1) -> None:
        """Wait until `key` may send a message of `cost` segments, and book the time it uses."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            ready_at = self._next.get(key, 0.0)
            # Loop: a timer may fire a little early (clock resolution); never start early.
            while (now := self._clock()) < ready_at:
                await self._sleep(ready_at - now)
            self._next[key] = now + max(cost, 1) * self._interval

    def delay(self, key: str) -> float:
        """Seconds until `key` could send again (0 when idle): for batch sizing and metrics."""
        return max(0.0, self._next.get(key, 0.0) - self._clock())
