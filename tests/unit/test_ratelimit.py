"""The outbox's rate limiter (outbox.ratelimit), as the SMS and Telegram senders use it:
per number with a cost per segment; overall and per chat with a burst; 429 pauses;
payment codes first. Rules on a simulated clock (Pacer), waiting on the real one."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.throttle import Limits, TelegramLimiter
from outbox.ratelimit import Pacer, Priority, Rate, RateLimiter
from sms.sender import sms_limiter


def run(
    pacer: Pacer, calls: list[tuple[dict[str, str], int, int]], start: float = 100.0
) -> list[float]:
    """Request every call at `start`, then move the clock from one possible grant to the
    next: returns when each call went (in the order of `calls`)."""
    tickets = [pacer.request(keys, cost, priority) for keys, cost, priority in calls]
    went: dict[int, float] = {}
    now = start
    while True:
        for ticket in pacer.grant(now):
            went[ticket.order] = now
        later = pacer.next_time(now)
        if later is None:
            break
        now = later
    return [went[ticket.order] for ticket in tickets]


def sms(rate: float = 1.0, margin: float = 0.0) -> Pacer:
    return Pacer({"number": Rate(rate, margin=margin)})


def telegram(overall: float = 29.0, per_chat: float = 1.0, burst: int = 3) -> Pacer:
    return Pacer({"bot": Rate(overall), "chat": Rate(per_chat, burst=burst)})


def chat(name: str) -> dict[str, str]:
    return {"bot": "", "chat": name}


N = int(Priority.NORMAL)
U = int(Priority.URGENT)


def test_sms_one_message_per_second_per_number() -> None:
    went = run(sms(), [({"number": "+390733905000"}, 1, N)] * 4)
    assert went == [100.0, 101.0, 102.0, 103.0]


def test_sms_a_two_segment_message_counts_twice() -> None:
    went = run(sms(), [({"number": "n"}, 2, N), ({"number": "n"}, 1, N), ({"number": "n"}, 1, N)])
    assert went == [100.0, 102.0, 103.0]


def test_sms_numbers_are_paced_independently() -> None:
    went = run(sms(), [({"number": "a"}, 1, N), ({"number": "b"}, 1, N), ({"number": "a"}, 1, N)])
    assert went == [100.0, 100.0, 101.0]


def test_sms_margin_keeps_the_rate_slightly_under_the_cap() -> None:
    went = run(sms(10.0, margin=0.01), [({"number": "n"}, 1, N)] * 11)
    # 10 gaps of 0.101 s: eleven messages never fit in one second.
    assert went[-1] - went[0] == pytest.approx(1.01)


def test_a_payment_code_takes_the_next_slot_before_waiting_notices() -> None:
    calls = [({"number": "n"}, 1, N)] * 200 + [({"number": "n"}, 1, U)]
    went = run(sms(), calls)
    # Queued after 200 notices, the code goes first; then the notices, one a second.
    assert went[-1] == 100.0
    assert went[:-1] == [101.0 + i for i in range(200)]


def test_calls_of_one_priority_on_one_key_keep_their_order() -> None:
    went = run(sms(5.0), [({"number": "n"}, 1, N)] * 5)
    assert went == sorted(went)
    assert [b - a for a, b in itertools.pairwise(went)] == pytest.approx([0.2] * 4)


def test_telegram_distinct_chats_are_spaced_at_the_overall_rate() -> None:
    went = run(telegram(overall=20), [(chat(f"c{i}"), 1, N) for i in range(5)])
    assert [t - 100 for t in went] == pytest.approx([0.0, 0.05, 0.10, 0.15, 0.20])


def test_telegram_one_chat_gets_a_short_burst_then_one_per_second() -> None:
    pacer = telegram(overall=1000, burst=3)
    went = run(pacer, [(chat("42"), 1, N)] * 5 + [(chat("43"), 1, N)])
    # Three at once (spaced only by the overall rate), then one a second; another chat is
    # not held back by the one waiting for its turn.
    assert [t - 100 for t in went[:5]] == pytest.approx([0.0, 0.001, 0.002, 1.0, 2.0])
    assert went[5] - 100 == pytest.approx(0.003)


def test_a_quiet_chat_recovers_its_burst() -> None:
    pacer = telegram(overall=1000, burst=2)
    assert run(pacer, [(chat("7"), 1, N)] * 3) == pytest.approx([100.0, 100.001, 101.0])
    assert run(pacer, [(chat("7"), 1, N)] * 2, start=110.0) == pytest.approx([110.0, 110.001])


def test_a_pause_after_429_holds_every_chat() -> None:
    pacer = telegram(overall=10)
    pacer.pause(103.0)
    assert pacer.wait_hint(chat("1"), 100.0) == pytest.approx(3.0)
    assert run(pacer, [(chat("1"), 1, N), (chat("2"), 1, N)]) == pytest.approx([103.0, 103.1])


def test_wait_hint_books_nothing_and_counts_the_calls_queued_ahead() -> None:
    pacer = telegram(overall=10)
    pacer.request(chat("1"))
    pacer.grant(100.0)
    assert pacer.wait_hint(chat("2"), 100.0) == pytest.approx(0.1)
    assert pacer.wait_hint(chat("2"), 100.0) == pytest.approx(0.1)
    for _ in range(5):
        pacer.request(chat("3"))
    # Five calls wait ahead on the bot's bucket: half a second more, but not for a code.
    assert pacer.wait_hint(chat("2"), 100.0) == pytest.approx(0.6)
    assert pacer.wait_hint(chat("2"), 100.0, priority=U) == pytest.approx(0.1)


def test_rates_are_validated() -> None:
    with pytest.raises(ValueError):
        Limits(overall_per_second=0)
    with pytest.raises(ValueError):
        Limits(per_chat_burst=0)
    with pytest.raises(ValueError):
        Rate(0)
    with pytest.raises(ValueError):
        Pacer({"number": Rate(1)}).request({"chat": "1"})


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=0.5),
            st.integers(min_value=0, max_value=4),
            st.sampled_from([N, U]),
        ),
        min_size=1,
        max_size=120,
    )
)
def test_no_one_second_window_exceeds_the_limits(arrivals: list[tuple[float, int, int]]) -> None:
    """Whatever the arrivals and priorities, the calls made respect both limits in every
    window, and every call is made."""
    overall, burst = 10.0, 3
    pacer = telegram(overall=overall, per_chat=1, burst=burst)
    now = 100.0
    pending: dict[int, int] = {}
    made: list[tuple[float, int]] = []

    def advance_to(moment: float) -> None:
        nonlocal now
        while True:
            for ticket in pacer.grant(now):
                made.append((now, pending.pop(ticket.order)))
            later = pacer.next_time(now)
            if later is None or later > moment:
                now = moment
                return
            now = later

    for gap, who, priority in arrivals:
        advance_to(now + gap)
        pending[pacer.request(chat(str(who)), 1, priority).order] = who
    while pending:
        later = pacer.next_time(now)
        assert later is not None
        advance_to(later)
    times = sorted(t for t, _ in made)
    assert len(times) == len(arrivals)
    for start in times:
        assert len([t for t in times if start <= t < start + 1.0 - 1e-9]) <= overall
    for who in {c for _, c in made}:
        mine = sorted(t for t, c in made if c == who)
        for start in mine:
            assert len([t for t in mine if start <= t < start + 1.0 - 1e-9]) <= burst


async def test_sms_limiter_never_starts_early_on_the_real_clock() -> None:
    limiter = sms_limiter(50.0)
    loop = asyncio.get_running_loop()
    starts = []
    for _ in range(6):
        await limiter.acquire({"number": "n"})
        starts.append(loop.time())
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 0.0202 - 1e-3


async def test_acquire_really_waits_and_codes_overtake_on_the_real_clock() -> None:
    limiter = RateLimiter({"number": Rate(50.0)})
    loop = asyncio.get_running_loop()
    order: list[str] = []

    async def send(name: str, priority: int) -> None:
        await limiter.acquire({"number": "n"}, 1, priority)
        order.append(name)

    started = loop.time()
    notices = [asyncio.create_task(send(f"notice{i}", N)) for i in range(10)]
    await asyncio.sleep(0)
    code = asyncio.create_task(send("code", U))
    await asyncio.gather(code, *notices)
    assert loop.time() - started >= 0.19
    assert order.index("code") == 1


async def test_callers_woken_late_together_do_not_go_out_together() -> None:
    """A busy event loop makes every overdue caller due at once: they still go out at
    most `rate` in any second, one interval apart."""
    pacing = TelegramLimiter(Limits(overall_per_second=20))
    loop = asyncio.get_running_loop()
    calls: list[float] = []

    async def call(chat_id: str) -> None:
        await pacing.acquire(chat_id)
        calls.append(loop.time())

    tasks = [asyncio.create_task(call(str(i))) for i in range(30)]
    await asyncio.sleep(0)  # every caller asks
    time.sleep(0.6)  # noqa: ASYNC251 - on purpose: the loop is blocked past a dozen slots
    await asyncio.gather(*tasks)
    assert min(b - a for a, b in itertools.pairwise(calls)) >= 0.05 - 0.002
    assert max(sum(1 for t in calls if s <= t < s + 1.0) for s in calls) <= 20


async def test_a_pause_holds_callers_already_waiting() -> None:
    pacing = TelegramLimiter(Limits(overall_per_second=100))
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = [asyncio.create_task(pacing.acquire(str(i))) for i in range(3)]
    await asyncio.sleep(0)
    pacing.pause(0.2)  # a 429 arrives after they asked
    await asyncio.gather(*tasks)
    assert loop.time() - start >= 0.2


async def test_a_cancelled_caller_gives_its_place_back() -> None:
    limiter = RateLimiter({"number": Rate(10.0)})
    await limiter.acquire({"number": "n"})
    waiting = asyncio.create_task(limiter.acquire({"number": "n"}))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert limiter.pacer.next_time(time.monotonic()) is None
