"""Pacing per sending number, segment-aware (sms.ratelimit), on a simulated clock."""

from __future__ import annotations

import asyncio
import itertools

from sms.ratelimit import RateLimiter


class SimulatedTime:
    """A clock that only moves when someone sleeps: the limiter's waits become exact."""

    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def limiter(rate: float, margin: float = 0.0) -> tuple[RateLimiter, SimulatedTime]:
    time = SimulatedTime()
    return RateLimiter(rate, margin=margin, clock=time.clock, sleep=time.sleep), time


async def test_one_message_per_second_by_default_rate() -> None:
    rl, time = limiter(1.0)
    starts = []
    for _ in range(4):
        await rl.acquire("+390733905000")
        starts.append(time.now)
    assert starts == [100.0, 101.0, 102.0, 103.0]


async def test_a_two_segment_message_counts_twice() -> None:
    rl, time = limiter(1.0)
    await rl.acquire("+390733905000", cost=2)
    await rl.acquire("+390733905000", cost=1)
    after_double = time.now
    await rl.acquire("+390733905000", cost=1)
    assert after_double == 102.0
    assert time.now == 103.0


async def test_numbers_are_paced_independently() -> None:
    rl, time = limiter(1.0)
    await rl.acquire("+390733905000")
    await rl.acquire("+390733905001")
    assert time.now == 100.0
    assert rl.delay("+390733905000") == 1.0


async def test_margin_keeps_the_rate_slightly_under_the_cap() -> None:
    rl, time = limiter(10.0, margin=0.01)
    for _ in range(11):
        await rl.acquire("n")
    # 10 gaps of 0.101 s: eleven messages never fit in one second.
    assert abs(time.now - 100.0 - 1.01) < 1e-9


async def test_concurrent_senders_on_one_number_leave_in_order() -> None:
    rl, time = limiter(5.0)
    order: list[tuple[int, float]] = []

    async def send(index: int) -> None:
        await rl.acquire("n")
        order.append((index, time.now))

    await asyncio.gather(*(send(i) for i in range(5)))
    assert [index for index, _ in order] == [0, 1, 2, 3, 4]
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(order)]
    assert all(abs(gap - 0.2) < 1e-9 for gap in gaps)


async def test_real_clock_never_starts_early() -> None:
    rl = RateLimiter(50.0, margin=0.0)
    loop = asyncio.get_running_loop()
    starts = []
    for _ in range(6):
        await rl.acquire("n")
        starts.append(loop.time())
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.02 - 1e-3
