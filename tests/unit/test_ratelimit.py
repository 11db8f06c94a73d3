"""The outbox's rate limiter (outbox.ratelimit), as the SMS and Telegram senders use it:
per number with a cost per segment; overall and per chat with a burst; 429 pauses;
payment codes first. Rules on a simulated clock (Pacer), waiting on the real one."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.throttle import Limits, TelegramLimiter
from outbox.ratelimit import Pacer, Priority, Rate, RateLimiter, Ticket
from sms.sender import sms_limiter


def run(
    pacer: Pacer, calls: list[tuple[dict[str, str], int, int]], start: float = 100.0
) -> list[float]:
    """Request every call at `start`, then move the clock from one possible grant to the
    next: returns when each call went (in the order of `calls`)."""
    tickets = [pacer.request(keys, cost, priority, now=start) for keys, cost, priority in calls]
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


def test_sms_sending_leaves_room_for_25_ms_of_jitter_at_the_provider() -> None:
    """bench_sms saw 21 requests in one second at a cap of 20 with a 1 % margin: the first
    of them had reached the provider more than 10 ms later than the last."""
    went = run(Pacer(sms_limiter(20.0).rates), [({"number": "n"}, 1, N)] * 21)
    # Were the first message 25 ms late and the 21st on time, they still span a second.
    assert went[-1] - (went[0] + 0.025) >= 1.0


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
    pacer.request(chat("1"), now=100.0)
    pacer.grant(100.0)
    assert pacer.wait_hint(chat("2"), 100.0) == pytest.approx(0.1)
    assert pacer.wait_hint(chat("2"), 100.0) == pytest.approx(0.1)
    for _ in range(5):
        pacer.request(chat("3"), now=100.0)
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
        Pacer({"number": Rate(1)}).request({"chat": "1"}, now=0.0)


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
        pending[pacer.request(chat(str(who)), 1, priority, now=now).order] = who
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


def starts_with_late_wakeups(
    pacer: Pacer,
    calls: list[dict[str, str]],
    late: Callable[[int], float],
    start: float = 100.0,
) -> list[float]:
    """Like an event loop that is never on time: every timer (the pacer's, a held
    caller's) fires `late(i)` after its moment, every granted caller resumes `late(i)`
    after its grant; calls start when `hold` lets them. Returns when each call started
    (in the order of `calls`)."""
    tickets = [pacer.request(keys, now=start) for keys in calls]
    position = {ticket.order: index for index, ticket in enumerate(tickets)}
    wakeups = itertools.count()
    # (time, tie-break, ticket or None for the pacer's own timer)
    events: list[tuple[float, int, Ticket | None]] = [(start, next(wakeups), None)]
    started: dict[int, float] = {}
    while events:
        now, _, ticket = heapq.heappop(events)
        if ticket is None:
            if any(event[2] is None for event in events):
                continue  # the timer was re-armed meanwhile
            for granted in pacer.grant(now):
                resume = now + late(next(wakeups))
                heapq.heappush(events, (resume, next(wakeups), granted))
            later = pacer.next_time(now)
            if later is not None:
                heapq.heappush(events, (later + late(next(wakeups)), next(wakeups), None))
            continue
        wait = pacer.hold(ticket, now)
        if wait > 0:
            heapq.heappush(events, (now + wait + late(next(wakeups)), next(wakeups), ticket))
            continue
        pacer.started(ticket, now)
        started[position[ticket.order]] = now
    return [started[index] for index in range(len(calls))]


def test_late_wakeups_are_not_lost_for_good() -> None:
    """An event loop about 1 ms late on every timer and every resume (epoll counts whole
    milliseconds) does not cost the broadcast once per call: 290 calls at 29/s take ten
    seconds and a few milliseconds (a caller held for the window wakes late too, at most
    once a second), not ten seconds plus 290 late wake-ups (0.2 to 0.6 s)."""
    pacer = telegram(overall=29.0)
    calls = [chat(f"c{i}") for i in range(291)]
    started = starts_with_late_wakeups(pacer, calls, lambda i: 0.0005 + 0.001 * (i % 3) / 2)
    assert started[-1] - 100.0 <= 10.0 + 0.02
    assert started == sorted(started)


def test_late_and_uneven_resumes_never_go_over_the_rate() -> None:
    """Callers resuming late by anything from nothing to 30 ms: at most 29 starts in any
    second, never two closer than seven eighths of an interval."""
    pacer = telegram(overall=29.0)
    calls = [chat(f"c{i}") for i in range(200)]
    lateness = [0.0, 0.030, 0.002, 0.0, 0.015, 0.001, 0.030, 0.0]
    started = starts_with_late_wakeups(pacer, calls, lambda i: lateness[i % len(lateness)])
    times = sorted(started)
    assert max(sum(1 for t in times if s <= t < s + 1.0 - 1e-9) for s in times) <= 29
    assert min(b - a for a, b in itertools.pairwise(times)) >= 7 / 8 / 29 - 1e-9


def test_a_stall_longer_than_an_interval_is_not_made_up_with_a_burst() -> None:
    pacer = telegram(overall=20.0)
    for who in range(30):
        pacer.request(chat(str(who)), now=100.0)
    assert len(pacer.grant(100.0)) == 1
    # The loop was blocked for 0.6 s (a dozen slots): one call now, not a dozen at once,
    # and the next a little less than an interval later (a quarter of it is forgiven).
    assert len(pacer.grant(100.6)) == 1
    assert pacer.next_time(100.6) == pytest.approx(100.6375)


def test_a_caller_resuming_later_than_forgiven_pushes_the_next_slots_back() -> None:
    pacer = telegram(overall=20.0)
    first, second = pacer.request(chat("1"), now=100.0), pacer.request(chat("2"), now=100.0)
    assert pacer.grant(100.0) == [first]
    # 10 ms late is forgiven (a quarter of 50 ms is 12.5 ms): the next slot stays.
    pacer.started(first, 100.01)
    assert pacer.next_time(100.01) == pytest.approx(100.05)
    assert pacer.grant(100.05) == [second]
    # 30 ms late: the next slot moves by what goes beyond the quarter.
    pacer.started(second, 100.08)
    third = pacer.request(chat("3"), now=100.08)
    assert pacer.next_time(100.08) == pytest.approx(100.1175)
    assert pacer.grant(100.1175) == [third]


def test_hold_keeps_a_burst_of_one_chat_and_spaces_callers_that_bunch() -> None:
    pacer = telegram(overall=20.0, burst=3)
    first, second = pacer.request(chat("1"), now=100.0), pacer.request(chat("2"), now=100.0)
    assert pacer.grant(100.0) == [first]
    assert pacer.grant(100.05) == [second]
    # The first resumed 40 ms late, the second on time: 7/8 of an interval between them.
    pacer.started(first, 100.04)
    assert pacer.hold(second, 100.05) == pytest.approx(0.03375)
    pacer.started(second, 100.08375)
    # One chat's burst of three still goes together; its fourth waits for the window.
    sms_pacer = Pacer({"chat": Rate(1.0, burst=3)})
    burst = [sms_pacer.request({"chat": "9"}, now=200.0) for _ in range(4)]
    assert sms_pacer.grant(200.0) == burst[:3]
    for ticket in burst[:3]:
        assert sms_pacer.hold(ticket, 200.0) == 0.0
        sms_pacer.started(ticket, 200.0)
    assert sms_pacer.grant(201.0) == burst[3:]
    # Its three started 1 ms late: the fourth, on time, waits until they leave the window.
    assert sms_pacer.hold(burst[3], 201.0) == pytest.approx(0.0, abs=1e-6)


def test_a_message_of_several_segments_fills_the_window() -> None:
    pacer = sms(2.0)
    long, short = (
        pacer.request({"number": "n"}, 2, now=100.0),
        pacer.request({"number": "n"}, 1, now=100.0),
    )
    assert pacer.grant(100.0) == [long]
    pacer.started(long, 100.0)
    assert pacer.grant(101.0) == [short]
    # Two segments at 100.0 fill the 1-second window of a 2/s number until 101.0.
    assert pacer.hold(short, 100.9) == pytest.approx(0.1)
    assert pacer.hold(short, 101.0) == 0.0


async def test_sms_limiter_never_starts_early_on_the_real_clock() -> None:
    limiter = sms_limiter(50.0)
    loop = asyncio.get_running_loop()
    starts = []
    for _ in range(6):
        await limiter.acquire({"number": "n"})
        starts.append(loop.time())
    # Never before its slot: the n-th call at least n intervals after the first (one
    # resumed late does not make the next one wait a whole interval more).
    assert all(at - starts[0] >= n * 0.0202 - 1e-3 for n, at in enumerate(starts))


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
    most `rate` in any second, at least 7/8 of an interval apart (the stall itself is not
    made up for)."""
    read: list[float] = []

    def clock() -> float:
        read.append(time.monotonic())
        return read[-1]

    pacing = TelegramLimiter(Limits(overall_per_second=20), clock=clock)
    calls: list[float] = []

    async def call(chat_id: str) -> None:
        await pacing.acquire(chat_id)
        # The start the limiter judged by (its last reading, just before it let the call
        # go): a second reading here would add the operating system's own delays when
        # other processes keep both cores busy.
        calls.append(read[-1])

    tasks = [asyncio.create_task(call(str(i))) for i in range(30)]
    await asyncio.sleep(0)  # every caller asks
    time.sleep(0.6)  # noqa: ASYNC251 - on purpose: the loop is blocked past a dozen slots
    await asyncio.gather(*tasks)
    assert min(b - a for a, b in itertools.pairwise(calls)) >= 0.04375 - 0.002
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
