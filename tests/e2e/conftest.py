"""End-to-end fixtures: `serve`'s application on a free port, with local fakes of Twilio and
the Telegram Bot API beside it. `_any_db` variants run once on SQLite, once on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.sms_harness import SmsServer, start_sms_server
from tests.e2e.telegram_harness import TelegramServer, start_telegram_server


@pytest.fixture
async def sms_server(sqlite_url: str) -> AsyncIterator[SmsServer]:
    async for server in start_sms_server(sqlite_url):
        yield server


@pytest.fixture
async def sms_server_any_db(database_url: str) -> AsyncIterator[SmsServer]:
    async for server in start_sms_server(database_url):
        yield server


@pytest.fixture
async def telegram_server(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TelegramServer]:
    async for server in start_telegram_server(sqlite_url, monkeypatch):
        yield server


@pytest.fixture
async def telegram_server_any_db(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TelegramServer]:
    async for server in start_telegram_server(database_url, monkeypatch):
        yield server
