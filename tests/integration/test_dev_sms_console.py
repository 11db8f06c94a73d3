"""Development mode prints SMS instead of sending them, and marks them sent: it must never
take the rows a real provider was meant to send (a server started without its .env on a
production database). Its worker claims only the rows queued since its start, and none
at all when SMS queued before the start wait."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import update

from buonispesa.adapters import sms_config
from buonispesa.cli.serve import _explain
from buonispesa.server import WORKERS, build_app
from buonispesa.settings import Settings
from core.bootstrap import Core
from core.domain.messages import Money, Reply, t
from core.services.outbox import enqueue
from core.storage import models as m
from outbox.delivery import SENDING
from outbox.worker import OutboxWorker, WorkerConfig
from sms.sender import ConsoleSender
from tests.conftest import FakeClock
from tests.integration.test_outbox_worker import add_messages, rows


@pytest.fixture
def development(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return Settings(_env_file=None, BUONISPESA_DATABASE_URL=database_url)


async def test_the_console_worker_claims_only_rows_queued_since_its_start(
    core: Core, clock: FakeClock
) -> None:
    older = await add_messages(core, 2)
    # One of them was being sent by a production server that died: its lease ended.
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.OutboxMessage)
            .where(m.OutboxMessage.id == older[1])
            .values(status=SENDING, attempts=1, next_attempt_at=clock() - timedelta(minutes=5))
        )
        await uow.commit()
    started = clock.advance(seconds=1)
    [own] = await add_messages(core, 1)
    printed: list[str] = []
    worker = OutboxWorker(core, ConsoleSender(printed.append), WorkerConfig(created_since=started))

    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    found = await rows(core)
    assert found[own].status == "sent" and len(printed) == 1
    assert (found[older[0]].status, found[older[0]].attempts) == ("pending", 0)
    assert (found[older[1]].status, found[older[1]].attempts) == (SENDING, 1)
    assert found[older[0]].provider_message_id is None


async def test_a_development_server_leaves_sms_queued_before_it_alone(
    core: Core, clock: FakeClock, development: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    [queued] = await add_messages(core, 1)
    clock.advance(minutes=1)
    app = await build_app(
        core, development, host="127.0.0.1", port=8080, with_telegram=False, console=print
    )
    runner = web.AppRunner(app)
    with caplog.at_level(logging.WARNING, logger="buonispesa.server"):
        await runner.setup()
    try:
        assert "sms" not in app[WORKERS]  # no SMS delivery in this process at all
        assert "1 SMS queued before this start wait for a real provider" in caplog.text
        [late] = await add_messages(core, 1)
    finally:
        await runner.cleanup()
    found = await rows(core)
    for row_id in (queued, late):
        assert (found[row_id].status, found[row_id].attempts) == ("pending", 0)


async def test_a_development_server_on_its_own_database_prints_its_replies(
    core: Core, clock: FakeClock, development: Settings
) -> None:
    printed: list[str] = []
    app = await build_app(
        core, development, host="127.0.0.1", port=8080, with_telegram=False, console=printed.append
    )
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        worker = app[WORKERS]["sms"]
        assert worker.config.created_since == clock()
        await add_messages(core, 1)
        worker.wake()
        for _ in range(100):  # the server's own worker prints it within a poll
            if printed:
                break
            await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
    assert len(printed) == 1 and printed[0].startswith("SMS to +393330000001")


@pytest.fixture
def beside_a_bot(development: Settings) -> Settings:
    """Production that forgot Twilio and PUBLIC_BASE_URL: its Telegram bot is real."""
    return development.model_copy(update={"telegram_bot_token": "123456:real-bot"})


async def add_code(core: Core, code: str) -> None:
    async with core.uow() as uow:
        enqueue(
            uow,
            municipality_id=None,
            channel="sms",
            address="+393330000001",
            language="en",
            reply=Reply.of(
                t(
                    "{shop} asks {amount}. Code: {code}.",
                    shop="Forno",
                    amount=Money(1250),
                    code=code,
                ),
                sensitive=True,
            ),
            now=core.now(),
        )
        await uow.commit()


async def printed_by_server(
    core: Core, settings: Settings, add: Callable[[], Awaitable[None]]
) -> list[str]:
    printed: list[str] = []
    app = await build_app(
        core, settings, host="127.0.0.1", port=8080, with_telegram=False, console=printed.append
    )
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await add()
        app[WORKERS]["sms"].wake()
        for _ in range(100):
            if printed:
                break
            await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
    return printed


async def test_beside_a_real_bot_the_printed_sms_hold_no_code(
    core: Core, beside_a_bot: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="buonispesa.server"):
        printed = await printed_by_server(core, beside_a_bot, lambda: add_code(core, "482913"))
    assert "TELEGRAM_BOT_TOKEN is set (a real bot) but SMS run in development mode" in caplog.text
    assert len(printed) == 1
    assert "482913" not in printed[0]
    assert "Code: ******." in printed[0] and "Forno asks" in printed[0]  # the rest stays


async def test_without_a_bot_development_mode_prints_the_code(
    core: Core, development: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="buonispesa.server"):
        printed = await printed_by_server(core, development, lambda: add_code(core, "482913"))
    assert "a real bot" not in caplog.text
    assert len(printed) == 1 and "Code: 482913" in printed[0]


async def test_serve_says_it_at_start_beside_a_real_bot(
    core: Core, beside_a_bot: Settings, development: Settings
) -> None:
    warned = sms_config(beside_a_bot, "127.0.0.1", 8080)
    said = " ".join(text for text, _ in await _explain(core, warned, "127.0.0.1", 8080))
    assert "no SMS is sent to anyone" in said and "TWILIO_ACCOUNT_SID" in said
    assert "PUBLIC_BASE_URL" in said
    # The made-up token signs inbound SMS: a log others may read never shows it.
    assert warned.generated_token and warned.auth_token
    assert warned.auth_token not in said and "curl" not in said
    quiet = sms_config(development, "127.0.0.1", 8080)
    said_quietly = " ".join(text for text, _ in await _explain(core, quiet, "127.0.0.1", 8080))
    assert "no SMS is sent to anyone" not in said_quietly
    assert quiet.auth_token and quiet.auth_token in said_quietly and "curl" in said_quietly
