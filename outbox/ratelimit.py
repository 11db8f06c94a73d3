"""Pacing outgoing messages to a provider's limits: one design for SMS and Telegram.

Every limit is a GCRA bucket (the "generic cell rate algorithm": one theoretical
arrival time per key, a rate and a burst). A call names the buckets it counts
against — an SMS: its sending number; a Telegram call: the bot overall and its
chat — with a cost (an SMS of two segments costs two). It goes when every one
of them allows it.

Two clocks meet here: the schedule, and the moments calls really start. A
timer fires up to a millisecond after its slot (epoll counts whole
milliseconds) and a granted caller resumes a little later still; were the
schedule rebased on those moments, every call would lose that lateness for
good, about 1 ms of each 34 ms slot at Telegram's rate, 3 % of the
throughput. So a call is booked at the slot it was entitled to: lateness up
to a quarter of an interval is forgiven, only what goes beyond pushes the
next slots back (a loop too busy to keep up slows the schedule down rather
than bunching calls). What the provider sees is checked separately, at the
moment each call starts: per bucket, no more calls in any window of about a second than the
rate allows (with the burst), and for buckets without a burst at least seven
eighths of an interval between two calls, so callers woken late together never
go out together. That check counts calls in a window instead of spacing each from
the last one, so it too does not turn lateness into lost throughput.

Waiting calls are granted in order of priority, then of arrival: when a slot
frees, a payment code takes it before the notices that were waiting longer,
and calls of one priority on one key keep their order. A call held only by its
own chat does not hold the others back.

Written here rather than taken from aiolimiter or python-telegram-bot's
AIORateLimiter because the outbox needs, together: several limits per call
(AIORateLimiter has no per-private-chat limit), a cost per call, priorities, a
pause when the provider answers 429, and `wait_hint` — how long a call would
wait, without booking it — so that a sender hands a row back to the outbox
with a retry time instead of holding it (neither library can).

The limits are per process: several `serve` processes sending from one number
or one bot should each be given a share of the rate.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

# Float slack when comparing times computed along different paths.
_EPSILON = 1e-9
# Lateness forgiven, in intervals: a timer or a caller this late (a millisecond or two on
# a quiet machine) costs no throughput; beyond it, a loop too busy to keep up slows the
# schedule down, as it should, instead of calls bunching at the provider.
_FORGIVEN = 1 / 4
# Two starts on a key without a burst are at least this many intervals apart. Under one
# so that a caller held by it (woken a little late itself) does not push the next ones
# back for good: the schedule gains an eighth of an interval a call on them. Near one so
# that calls bunched at the start leave the provider the same margin for network jitter.
_SPACING = 7 / 8


class Priority(IntEnum):
    """Lower goes first. URGENT: payment codes and receipts, someone at a till is waiting."""

    URGENT = 0
    NORMAL = 1


@dataclass(frozen=True)
class Rate:
    per_second: float
    # Calls allowed at once before the rate applies (Telegram tolerates short bursts in a chat).
    burst: int = 1
    # Kept under the cap by this fraction, so network jitter never packs one call too many.
    margin: float = 0.0

    def __post_init__(self) -> None:
        if self.per_second <= 0:
            raise ValueError("rates must be positive")
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        if not 0 <= self.margin < 1:
            raise ValueError("margin must be between 0 and 1")

    @property
    def interval(self) -> float:
        return (1.0 + self.margin) / self.per_second

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval

    @property
    def window_calls(self) -> int:
        """Calls the rate allows in its window (about a second), counting the burst."""
        return self._per_window + self.burst - 1

    @property
    def window(self) -> float:
        """The window in which calls started are counted: a whole number of intervals,
        about one second."""
        return self._per_window * self.interval

    @property
    def _per_window(self) -> int:
        return max(1, round(1.0 / self.interval))


Keys = Mapping[str, str]  # bucket name -> key in it, e.g. {"chat": "42", "bot": ""}


@dataclass(eq=False)
class Ticket:
    """One waiting call."""

    keys: tuple[tuple[str, str], ...]
    cost: int
    priority: int
    order: int
    asked: float  # when the call asked, on the pacer's clock
    granted: bool = False


@dataclass
class Pacer:
    """The bookkeeping, with no waiting: which calls may go now, and when to look again.
    Kept apart from the event loop so that its rules can be tested on a simulated clock."""

    rates: Mapping[str, Rate]
    paused_until: float = float("-inf")
    _tat: dict[tuple[str, str], float] = field(default_factory=dict)
    # Per key, when the most recent calls really started (one entry per unit of cost).
    _starts: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _waiting: list[Ticket] = field(default_factory=list)
    _count: Iterator[int] = field(default_factory=itertools.count)
    _last_prune: float = float("-inf")

    def __post_init__(self) -> None:
        if not self.rates:
            raise ValueError("at least one rate")

    def request(
        self, keys: Keys, cost: int = 1, priority: int = Priority.NORMAL, *, now: float
    ) -> Ticket:
        unknown = set(keys) - set(self.rates)
        if unknown:
            raise ValueError(f"no rate for {sorted(unknown)}")
        ticket = Ticket(
            tuple(sorted(keys.items())), max(1, cost), int(priority), next(self._count), now
        )
        self._waiting.append(ticket)
        self._waiting.sort(key=lambda t: (t.priority, t.order))
        return ticket

    def withdraw(self, ticket: Ticket) -> None:
        if ticket in self._waiting:
            self._waiting.remove(ticket)

    def pause(self, until: float) -> None:
        """The provider said 429: no call at all before `until`."""
        self.paused_until = max(self.paused_until, until)

    def _ready_at(self, keys: tuple[tuple[str, str], ...], now: float) -> float:
        ready = max(now, self.paused_until)
        for bucket, key in keys:
            tat = self._tat.get((bucket, key))
            if tat is not None:
                ready = max(ready, tat - self.rates[bucket].tolerance)
        return ready

    def grant(self, now: float) -> list[Ticket]:
        """Book every waiting call that may go at `now`, highest priority first."""
        granted = []
        for ticket in list(self._waiting):
            if self._ready_at(ticket.keys, now) > now:
                continue
            # The slot it was entitled to: when it asked, or when its buckets (and any
            # pause) first allowed it. Booked from there rather than from `now`, so a timer
            # that fires a little late does not push every later slot back.
            slot = self._ready_at(ticket.keys, ticket.asked)
            for bucket, key in ticket.keys:
                rate = self.rates[bucket]
                forgiven = now - _FORGIVEN * rate.interval
                tat = max(self._tat.get((bucket, key), slot), slot, forgiven)
                self._tat[(bucket, key)] = tat + ticket.cost * rate.interval
            ticket.granted = True
            self._waiting.remove(ticket)
            granted.append(ticket)
        self._prune(now)
        return granted

    def hold(self, ticket: Ticket, at: float) -> float:
        """How long a granted call must still wait before it starts at `at` (0: go now), so
        that what the provider sees respects the limits even when callers resume late
        and unevenly: at most `window_calls` starts in any `window` per key, most of an
        interval between two starts on a key without a burst, nothing during a pause."""
        until = self.paused_until
        for bucket, key in ticket.keys:
            rate = self.rates[bucket]
            starts = self._starts.get((bucket, key))
            if not starts:
                continue
            # This call's cost must fit in the window with the starts still in it.
            room = rate.window_calls - min(ticket.cost, rate.window_calls)
            if len(starts) > room:
                until = max(until, starts[-room - 1] + rate.window)
            if rate.burst == 1:
                until = max(until, starts[-1] + _SPACING * rate.interval)
        # Float slack: a start exactly one window after another is allowed.
        return max(0.0, until - at - _EPSILON)

    def started(self, ticket: Ticket, at: float) -> None:
        """The granted call starts now, at `at` (after `hold` said 0). A caller that
        resumed later than the lateness forgiven pushes the next slots back by the rest."""
        for bucket, key in ticket.keys:
            rate = self.rates[bucket]
            late = at - _FORGIVEN * rate.interval + ticket.cost * rate.interval
            self._tat[(bucket, key)] = max(self._tat.get((bucket, key), late), late)
            starts = self._starts.get((bucket, key))
            if starts is None:
                starts = self._starts[(bucket, key)] = deque(maxlen=rate.window_calls)
            starts.extend([at] * min(ticket.cost, rate.window_calls))

    def next_time(self, now: float) -> float | None:
        """When a waiting call could next go (None: nobody waits)."""
        if not self._waiting:
            return None
        return min(self._ready_at(ticket.keys, now) for ticket in self._waiting)

    def wait_hint(self, keys: Keys, now: float, priority: int = Priority.NORMAL) -> float:
        """About how long a call would wait now, counting the calls queued ahead of it on
        the same keys; books nothing."""
        wanted = tuple(sorted(keys.items()))
        ready = self._ready_at(wanted, now)
        for bucket, key in wanted:
            ahead = sum(
                ticket.cost
                for ticket in self._waiting
                if ticket.priority <= priority and (bucket, key) in ticket.keys
            )
            if ahead:
                start = self._ready_at(((bucket, key),), now)
                ready = max(ready, start + ahead * self.rates[bucket].interval)
        return ready - now

    def _prune(self, now: float) -> None:
        # Keys whose arrival time is in the past are the same as no entry: drop them now and
        # then, so memory stays bounded by the chats and numbers active in the last minute.
        if now - self._last_prune < 60.0:
            return
        self._last_prune = now
        for slot in [slot for slot, tat in self._tat.items() if tat <= now]:
            del self._tat[slot]
        for slot in [
            slot
            for slot, starts in self._starts.items()
            if starts[-1] <= now - self.rates[slot[0]].window
        ]:
            del self._starts[slot]


class RateLimiter:
    """`await limiter.acquire({"number": "+39…"}, cost=2)` returns when the call may go."""

    def __init__(
        self, rates: Mapping[str, Rate], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rates = dict(rates)
        self.pacer = Pacer(self.rates)
        self._clock = clock
        self._futures: dict[Ticket, asyncio.Future[None]] = {}
        self._timer: asyncio.TimerHandle | None = None

    async def acquire(self, keys: Keys, cost: int = 1, priority: int = Priority.NORMAL) -> None:
        ticket = self.pacer.request(keys, cost, priority, now=self._clock())
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._futures[ticket] = future
        self._dispatch()
        try:
            await future
        except asyncio.CancelledError:
            if not ticket.granted:
                self.pacer.withdraw(ticket)
                self._futures.pop(ticket, None)
                self._dispatch()
            raise
        # Resumed late and unevenly (a busy loop), callers may bunch: the last check,
        # on the clock of the moment the call starts.
        at = self._clock()
        wait = self.pacer.hold(ticket, at)
        while wait > 0:
            await asyncio.sleep(wait)
            at = self._clock()
            wait = self.pacer.hold(ticket, at)
        self.pacer.started(ticket, at)

    def pause(self, seconds: float) -> None:
        """The provider said 429 (Retry-After): no call at all for `seconds`."""
        self.pacer.pause(self._clock() + seconds)
        self._dispatch()

    def wait_hint(self, keys: Keys, priority: int = Priority.NORMAL) -> float:
        return self.pacer.wait_hint(keys, self._clock(), priority)

    def _dispatch(self) -> None:
        now = self._clock()
        for ticket in self.pacer.grant(now):
            future = self._futures.pop(ticket, None)
            if future is not None and not future.done():
                future.set_result(None)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        later = self.pacer.next_time(now)
        if later is not None:
            # A timer may fire a little early (clock resolution): `grant` never starts a
            # call early, it only arms the timer again.
            self._timer = asyncio.get_running_loop().call_later(
                max(later - now, 0.0), self._dispatch
            )
