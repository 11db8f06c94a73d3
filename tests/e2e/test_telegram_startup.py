"""Starting the channel: long polling without PUBLIC_BASE_URL, and the configurations refused."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.plugin import TelegramConfig, TelegramConfigError, TelegramPlugin
from buonispesa.adapters import telegram_config, telegram_plugin
from buonispesa.settings import Settings
from core.bootstrap import Core
from core.dialogue.engine import DialogueEngine
from core.i18n import render_text
from core.storage.engine import make_engine
from outbox.channels import ChannelStartError, no_wake
from tests.e2e.fake_telegram import TOKEN, FakeTelegram
from tests.e2e.telegram_harness import TelegramServer, start_telegram_server


@pytest.fixture
async def polling(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TelegramServer]:
    async for running in start_telegram_server(sqlite_url, monkeypatch, webhook=False):
        yield running


async def test_long_polling_against_the_same_api(polling: TelegramServer) -> None:
    server = polling
    assert server.api.webhook is None
    assert server.api.calls_of("deleteWebhook"), "polling starts by removing any webhook"
    # There is no webhook to post to: nothing can be injected over HTTP.
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.base_url + "/telegram/webhook", json={}) as response,
    ):
        assert response.status in (404, 405)

    anna = server.user(8001, language="en")
    handled = (await server.counts())["inbound"]
    assert await anna.start() == 0  # queued for getUpdates
    await server.handled(handled + 1)
    [menu] = anna.messages()
    assert "Welcome" in menu["text"]
    # A button works the same way when it comes through getUpdates.
    await anna.tap("Balance")
    await server.handled(handled + 2)
    [_, ask] = anna.messages()
    assert "phone number" in ask["text"]
    assert len(server.api.calls_of("answerCallbackQuery")) == 1

    # An update handed out twice (a restart before the offset was confirmed) acts once.
    update = anna.text_update("/menu")
    await server.api.deliver(dict(update))
    await server.handled(handled + 3)
    assert len(anna.messages()) == 3
    await server.api.deliver(dict(update))
    await anna.say("/start")
    await server.handled(handled + 4)
    assert len(anna.messages()) == 4
    assert (await server.counts())["inbound"] == handled + 4


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


async def test_without_a_token_there_is_no_plugin_and_one_log_line(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    core = Core(engine=make_engine(sqlite_url))
    try:
        with caplog.at_level(logging.INFO, logger="bot"):
            assert telegram_plugin(core, settings(), DialogueEngine(core), no_wake) is None
        assert [r.getMessage() for r in caplog.records] == [
            "Telegram disabled: TELEGRAM_BOT_TOKEN not set"
        ]
    finally:
        await core.close()


@pytest.mark.parametrize("secret", [None, "has spaces", "x" * 257])
def test_a_webhook_needs_a_proper_secret(secret: str | None) -> None:
    values = {"TELEGRAM_BOT_TOKEN": TOKEN, "PUBLIC_BASE_URL": "https://buoni.example.org"}
    if secret is not None:
        values["TELEGRAM_WEBHOOK_SECRET"] = secret
    with pytest.raises(TelegramConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        telegram_config(settings(**values))


def test_the_webhook_url_and_api_base_come_from_the_settings() -> None:
    config = telegram_config(
        settings(
            TELEGRAM_BOT_TOKEN=TOKEN,
            PUBLIC_BASE_URL="https://buoni.example.org/",
            TELEGRAM_WEBHOOK_SECRET="s3cret_-x",
            TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/bot",
        )
    )
    assert config.webhook_url == "https://buoni.example.org/telegram/webhook"
    assert config.api_base_url == "http://127.0.0.1:8081/bot"
    polling = telegram_config(settings(TELEGRAM_BOT_TOKEN=TOKEN))
    assert polling.webhook_url is None
    assert polling.api_base_url == "https://api.telegram.org/bot"


async def test_a_wrong_token_stops_the_start(sqlite_url: str) -> None:
    api = FakeTelegram()
    await api.start()
    core = Core(engine=make_engine(sqlite_url))
    config = TelegramConfig(token="1:wrong", api_base_url=api.base_url)
    plugin = TelegramPlugin(core, config, DialogueEngine(core))
    try:
        with pytest.raises(ChannelStartError, match="TELEGRAM_BOT_TOKEN") as refused:
            await plugin.start()
        assert "1:wrong" not in str(refused.value)  # the token is a secret
        # `serve` prints it in the office's language (Italian by default).
        assert render_text(refused.value.text, "it") == (
            "Telegram ha rifiutato il token del bot (TELEGRAM_BOT_TOKEN): "
            "controllalo con @BotFather"
        )
    finally:
        await plugin.stop()
        await core.close()
        await api.close()


async def test_an_unreachable_api_does_not_stop_the_server(sqlite_url: str) -> None:
    """Telegram down at start: serve still starts (SMS keeps working); the plugin retries."""
    core = Core(engine=make_engine(sqlite_url))
    config = TelegramConfig(
        token=TOKEN,
        api_base_url="http://127.0.0.1:9/bot",
        webhook_url="https://buoni.example.org/telegram/webhook",
        webhook_secret="secret",
    )
    plugin = TelegramPlugin(core, config, DialogueEngine(core))
    try:
        await plugin.start()
        assert plugin._retry_task is not None and not plugin._retry_task.done()
    finally:
        await plugin.stop()
        await core.close()


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"),
        (401, "Unauthorized"),
        (404, "Not Found"),
    ],
)
async def test_a_refused_webhook_stops_the_start_with_a_sentence(
    sqlite_url: str, status: int, description: str
) -> None:
    api = FakeTelegram()
    await api.start()
    api.refuse("setWebhook", status, description)
    core = Core(engine=make_engine(sqlite_url))
    config = TelegramConfig(
        token=TOKEN,
        api_base_url=api.base_url,
        webhook_url="https://buoni.example.org/telegram/webhook",
        webhook_secret="secret",
    )
    plugin = TelegramPlugin(core, config, DialogueEngine(core))
    try:
        with pytest.raises(ChannelStartError, match="Telegram refused") as refused:
            await plugin.start()
        assert plugin._retry_task is None  # not retried: only network errors are
        assert "PUBLIC_BASE_URL" in str(refused.value) or "TELEGRAM_BOT_TOKEN" in str(refused.value)
        assert len(api.calls_of("setWebhook")) == 1
    finally:
        await plugin.stop()
        await core.close()
        await api.close()


def test_a_webhook_needs_an_https_address() -> None:
    values = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": "http://buoni.example.org",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret",
    }
    with pytest.raises(TelegramConfigError, match="https://"):
        telegram_config(settings(**values))
