"""The Telegram pacing: overall rate, per-chat rate with a short burst, pauses after 429."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.throttle import Limits, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock, **limits: float) -> RateLimiter:
    return RateLimiter(Limits(**limits), clock=clock)  # type: ignore[arg-type]


def test_distinct_chats_are_spaced_at_the_overall_rate() -> None:
    clock = Clock()
    pacing = limiter(clock, overall_per_second=20)
    delays = [pacing.reserve(f"chat{i}") for i in range(5)]
    assert delays == pytest.approx([0.0, 0.05, 0.10, 0.15, 0.20])


def test_one_chat_gets_a_short_burst_then_one_per_second() -> None:
    clock = Clock()
    pacing = limiter(clock, overall_per_second=1000, per_chat_per_second=1, per_chat_burst=3)
    delays = [pacing.reserve("42") for _ in range(5)]
    # Three at once (spaced only by the overall rate), then one a second.
    assert delays[:3] == pytest.approx([0.0, 0.001, 0.002])
    assert delays[3] == pytest.approx(1.0)
    assert delays[4] == pytest.approx(2.0)
    # Another chat is not held back by the one waiting for its turn: it takes the
    # first free overall slot, long before the busy chat's next one.
    assert pacing.reserve("43") == pytest.approx(0.003)
    assert pacing.reserve("44") == pytest.approx(0.004)


def test_a_quiet_chat_recovers_its_burst() -> None:
    clock = Clock()
    pacing = limiter(clock, overall_per_second=1000, per_chat_burst=2)
    pacing.reserve("7")
    pacing.reserve("7")
    assert pacing.reserve("7") == pytest.approx(1.0)
    clock.now += 10
    assert pacing.reserve("7") == 0.0
    assert pacing.reserve("7") == pytest.approx(0.001)


def test_pause_after_429_holds_every_chat() -> None:
    clock = Clock()
    pacing = limiter(clock)
    pacing.pause(3.0)
    assert pacing.wait_hint("1") == pytest.approx(3.0)
    assert pacing.reserve("1") == pytest.approx(3.0)
    assert pacing.reserve("2") == pytest.approx(3.0 + 1 / pacing.limits.overall_per_second)


def test_wait_hint_books_nothing() -> None:
    clock = Clock()
    pacing = limiter(clock, overall_per_second=10)
    pacing.reserve("1")
    assert pacing.wait_hint("2") == pytest.approx(0.1)
    assert pacing.wait_hint("2") == pytest.approx(0.1)
    assert pacing.reserve("2") == pytest.approx(0.1)


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        Limits(overall_per_second=0)
    with pytest.raises(ValueError):
        Limits(per_chat_burst=0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=0.5), st.integers(min_value=0, max_value=4)),
        min_size=1,
        max_size=120,
    )
)
def test_no_one_second_window_exceeds_the_limits(arrivals: list[tuple[float, int]]) -> None:
    """Whatever the arrival pattern, the booked slots respect both limits in every window."""
    clock = Clock()
    overall, burst = 10.0, 3
    pacing = limiter(clock, overall_per_second=overall, per_chat_per_second=1, per_chat_burst=burst)
    slots: list[tuple[float, int]] = []
    for gap, chat in arrivals:
        clock.now += gap
        slots.append((clock.now + pacing.reserve(str(chat)), chat))
    times = sorted(t for t, _ in slots)
    for start in times:
        in_window = [t for t in times if start <= t < start + 1.0 - 1e-9]
        assert len(in_window) <= overall
    for chat in {c for _, c in slots}:
        mine = sorted(t for t, c in slots if c == chat)
        for start in mine:
            # `burst` at once, then one per second: at most burst in any open 1 s window.
            assert len([t for t in mine if start <= t < start + 1.0 - 1e-9]) <= burst


async def test_acquire_really_waits() -> None:
    pacing = RateLimiter(Limits(overall_per_second=50))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(pacing.acquire(str(i)) for i in range(11)))
    assert loop.time() - started >= 0.19


def test_other_chats_fill_the_gaps_around_a_slot_booked_ahead() -> None:
    clock = Clock()
    pacing = limiter(clock, overall_per_second=10, per_chat_per_second=1, per_chat_burst=1)
    assert pacing.reserve("busy") == 0.0
    assert pacing.reserve("busy") == pytest.approx(1.0)
    others = [pacing.reserve(f"c{i}") for i in range(10)]
    # 0.1 … 0.9 fill the gap; 1.0 is taken by "busy", so the tenth goes to 1.1.
    assert others == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.1])


async def test_callers_woken_late_together_do_not_go_out_together() -> None:
    """A busy event loop wakes every overdue caller at once: the gate still keeps at most
    `rate` calls in any second, and half an interval between two calls."""
    pacing = RateLimiter(Limits(overall_per_second=20))
    loop = asyncio.get_running_loop()
    calls: list[float] = []

    async def call(chat: str) -> None:
        await pacing.acquire(chat)
        calls.append(loop.time())

    tasks = [asyncio.create_task(call(str(i))) for i in range(30)]
    await asyncio.sleep(0)  # every caller books its slot
    time.sleep(0.6)  # noqa: ASYNC251 - on purpose: the loop is blocked past a dozen slots
    await asyncio.gather(*tasks)
    assert min(b - a for a, b in itertools.pairwise(calls)) >= 0.025 - 0.002
    assert max(sum(1 for t in calls if s <= t < s + 1.0) for s in calls) <= 20


async def test_a_pause_holds_callers_that_booked_before_it() -> None:
    pacing = RateLimiter(Limits(overall_per_second=100))
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = [asyncio.create_task(pacing.acquire(str(i))) for i in range(3)]
    await asyncio.sleep(0)
    pacing.pause(0.2)  # a 429 arrives after they booked
    await asyncio.gather(*tasks)
    assert loop.time() - start >= 0.2
