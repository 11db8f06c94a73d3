"""Pacing outgoing Telegram calls to the Bot API's limits.

Telegram allows about 30 messages per second overall and about one per second
in one chat (short bursts tolerated), and answers 429 with `retry_after` when a
bot goes over. Every call books a time slot, then sleeps until it: the booking
is computed without awaiting, so concurrent senders in one event loop never
race, and nothing is queued beyond the sleeping coroutines.

- Per chat: GCRA (the "generic cell rate algorithm"), one "theoretical arrival
  time" per chat, which allows a burst and then the sustained rate.
- Overall: booked slots are kept at least 1/rate apart. A slot booked far
  ahead for a busy chat leaves the gaps before it to other chats, so one chat
  waiting for its turn never holds the others back.
- At the moment of the call: a gate that admits at most `rate` calls in any
  second, and none while Telegram's retry_after runs, whatever the bookings
  (callers woken late together by a busy event loop must not go out at once).
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

# Default overall rate: a little under Telegram's 30/s so that network jitter (a
# request delayed by a few ms arriving next to one that was not) never packs 31
# calls into one second at the API. 29/s is 96.7 % of the cap.
OVERALL_PER_SECOND = 29.0
PER_CHAT_PER_SECOND = 1.0
# Telegram tolerates short bursts in a chat; a reply made of a text and a map pin
# should arrive together, not one second apart.
PER_CHAT_BURST = 3
# How often chat schedules already in the past (equivalent to no entry at all) are
# dropped, so memory stays bounded by the chats active in the last minute.
_PRUNE_EVERY = 60.0
# Float slack when comparing slot times computed along different paths.
_EPSILON = 1e-9


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


class RateLimiter:
    """`await limiter.acquire(chat)` returns when one more call to that chat is allowed."""

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._sleep = sleep
        self._overall_interval = 1.0 / self.limits.overall_per_second
        self._chat_interval = 1.0 / self.limits.per_chat_per_second
        self._chat_tolerance = (self.limits.per_chat_burst - 1) * self._chat_interval
        self._booked: list[float] = []  # slots of every chat, sorted, recent and future
        self._chat_tat: dict[str, float] = {}  # per chat: "theoretical arrival time"
        self._paused_until = 0.0
        self._last_prune = 0.0
        self._gate = asyncio.Lock()
        self._last_call = float("-inf")
        calls = max(1, round(self.limits.overall_per_second))
        self._window: deque[float] = deque(maxlen=calls)  # times of the last calls made
        self._window_seconds = calls / self.limits.overall_per_second

    def reserve(self, chat: str) -> float:
        """Book the earliest allowed slot for `chat`; returns how long to wait for it."""
        now = self._clock()
        self._forget_before(now - self._overall_interval)
        tat = self._chat_tat.get(chat, now)
        slot = self._free_slot(max(now, tat - self._chat_tolerance, self._paused_until))
        bisect.insort(self._booked, slot)
        self._chat_tat[chat] = max(tat, slot) + self._chat_interval
        self._prune(now)
        return slot - now

    async def acquire(self, chat: str) -> None:
        delay = self.reserve(chat)
        if delay > 0:
            await self._sleep(delay)
        # The booking spaces the slots; this gate checks the calls actually made. When the
        # event loop was busy (a batch claimed, a PDF drawn), several callers wake late at
        # once and would go out together; and a 429 may arrive after they booked. The
        # gate keeps at most N calls in any window of N/rate seconds (1 s at Telegram's
        # rates) and half an interval between two calls. Counting calls in a window,
        # rather than spacing each from the last, does not turn every sleep's overshoot
        # into lost throughput.
        async with self._gate:
            now = self._clock()
            ready = max(self._last_call + self._overall_interval / 2, self._paused_until)
            if len(self._window) == self._window.maxlen:
                ready = max(ready, self._window[0] + self._window_seconds)
            if ready > now:
                await self._sleep(ready - now)
            self._last_call = self._clock()
            self._window.append(self._last_call)

    def pause(self, seconds: float) -> None:
        """Telegram said 429: no call at all until `seconds` from now."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def wait_hint(self, chat: str) -> float:
        """How long a call to `chat` would wait now, without booking it."""
        now = self._clock()
        tat = self._chat_tat.get(chat, now)
        return self._free_slot(max(now, tat - self._chat_tolerance, self._paused_until)) - now

    def _free_slot(self, earliest: float) -> float:
        """The first time from `earliest` at least one interval away from every booked slot."""
        interval = self._overall_interval - _EPSILON
        slot = earliest
        index = bisect.bisect_right(self._booked, slot - interval)
        while index < len(self._booked) and self._booked[index] < slot + interval:
            slot = max(slot, self._booked[index] + self._overall_interval)
            index += 1
        return slot

    def _forget_before(self, moment: float) -> None:
        del self._booked[: bisect.bisect_left(self._booked, moment)]

    def _prune(self, now: float) -> None:
        if now - self._last_prune < _PRUNE_EVERY:
            return
        self._last_prune = now
        stale = [chat for chat, tat in self._chat_tat.items() if tat <= now]
        for chat in stale:
            del self._chat_tat[chat]
