"""What the outbox worker writes to the server's log when deliveries or the database fail,
on SQLite and PostgreSQL: every failed attempt, the giving-up, an outage in a few lines;
never a phone number or a message's text."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text

from core.bootstrap import Core
from outbox import delivery
from outbox.channels import SendResult, SendStatus
from sms.sender import TwilioSender, sms_limiter
from tests.conftest import FakeClock
from tests.integration.test_outbox_worker import ScriptedSender, add_messages, rows, worker

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

CITIZEN = "+393331234567"


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port nobody listens on: connecting to it is refused. Held bound (not
    listening) for the test, so that no other process starts listening there."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


async def _from_number(_municipality: int | None) -> str:
    return "+390733905999"


def outbox_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("outbox", "sms"))]


async def test_each_failed_attempt_is_a_warning_and_the_giving_up_an_error(
    core: Core, clock: FakeClock, caplog: pytest.LogCaptureFixture, closed_port: int
) -> None:
    """The provider refuses connections (a firewall, a wrong TWILIO_API_BASE_URL): the
    real Twilio client gets ConnectionRefused at every attempt."""
    caplog.set_level(logging.INFO)
    [message_id] = await add_messages(core, 1, address=CITIZEN)
    sender = TwilioSender(
        account_sid="AC" + "0" * 32,
        auth_token="secret",
        from_number=_from_number,
        limiter=sms_limiter(1000),
        api_base_url=f"http://127.0.0.1:{closed_port}",
    )
    await sender.start()
    try:
        w = worker(core, sender, retry=delivery.RetryPolicy(max_attempts=3))
        for _ in range(3):
            assert await w.run_once() == 1
            clock.advance(hours=1)
    finally:
        await sender.close()

    row = (await rows(core))[message_id]
    assert row.status == "failed" and row.attempts == 3
    logged = outbox_lines(caplog)
    said = [(r.levelno, r.getMessage()) for r in logged]
    assert [level for level, _ in said] == [logging.WARNING, logging.WARNING, logging.ERROR]
    for attempt, (_, line) in enumerate(said[:2], start=1):
        assert line.startswith(
            f"outbox sms: message {message_id}, attempt {attempt} failed, retried later: "
        ), line
        assert "ConnectionRefusedError" in line, line
    assert said[2][1].startswith(
        f"outbox sms: message {message_id} not delivered, given up after 3 attempts: "
    )
    for personal in (CITIZEN, CITIZEN[3:], "Hello"):
        assert personal not in caplog.text


async def test_a_notice_past_its_lifetime_is_given_up_with_an_error(
    core: Core, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    [message_id] = await add_messages(core, 1, address=CITIZEN)
    down = SendResult(SendStatus.RETRY, error=f"twilio 503: try later, {CITIZEN}")
    w = worker(core, ScriptedSender([down] * 1000))
    caplog.set_level(logging.INFO)
    await w.run_once()
    clock.advance(hours=73)
    caplog.clear()
    assert await w.run_once() == 0

    [line] = [(r.levelno, r.getMessage()) for r in outbox_lines(caplog)]
    assert line == (
        logging.ERROR,
        f"outbox sms: message {message_id} not delivered, given up after 1 attempts "
        "(no longer useful): twilio 503: try later, ***",
    )


async def test_a_sender_holding_back_for_its_rate_is_not_a_failure(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    await add_messages(core, 1)
    held = SendResult(SendStatus.RETRY, error="throttled", retry_after_seconds=1, held_back=True)
    caplog.set_level(logging.INFO)
    await worker(core, ScriptedSender([held])).run_once()
    assert outbox_lines(caplog) == []


async def _until(condition: Callable[[], bool], within: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.02)


async def test_a_database_outage_is_one_traceback_then_one_line_a_round(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    """The database fails every round (its outbox table gone for a while): the first
    failure of each loop with its traceback, then one line a round, then one line when it
    works again; and the messages go out."""
    caplog.set_level(logging.INFO)
    w = worker(core, ScriptedSender(), poll_seconds=0.02)
    async with core.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE outbox RENAME TO outbox_away"))
    w.start()
    try:

        def repeated() -> int:
            return sum("failed again" in r.getMessage() for r in caplog.records)

        await _until(lambda: repeated() >= 10)
        async with core.engine.begin() as connection:
            await connection.execute(text("ALTER TABLE outbox_away RENAME TO outbox"))
        [message_id] = await add_messages(core, 1)
        w.wake()
        await _until(lambda: sum("works again" in r.getMessage() for r in caplog.records) == 2)
        for _ in range(500):
            if (await rows(core))[message_id].status == "sent":
                break
            await asyncio.sleep(0.02)
    finally:
        await w.stop()

    logged = outbox_lines(caplog)
    tracebacks = [r for r in logged if r.exc_info]
    assert sorted(r.getMessage() for r in tracebacks) == [
        "outbox sms (payments): round failed",
        "outbox sms: round failed",
    ]
    for record in logged:
        if not record.exc_info:
            assert "\n" not in record.getMessage(), record.getMessage()
            assert "Traceback" not in record.getMessage()
    for loop in ("outbox sms: round", "outbox sms (payments): round"):
        again = [r for r in logged if r.getMessage().startswith(f"{loop} failed again")]
        assert again and all(r.levelno == logging.WARNING for r in again)
        # One line a round: the count goes up by one each time.
        counts = [int(re.findall(r"again \((\d+) in a row\)", r.getMessage())[0]) for r in again]
        assert counts == list(range(2, 2 + len(again))), counts
        assert [r.getMessage() for r in logged if r.getMessage().startswith(f"{loop} works")] == [
            f"{loop} works again, after {1 + len(again)} failures"
        ]
    assert (await rows(core))[message_id].status == "sent"
