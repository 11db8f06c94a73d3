"""`serve`'s application with the Telegram channel, against the fake Bot API.

The real python-telegram-bot client inside the plugin talks HTTP to the fake
(TELEGRAM_API_BASE_URL); the fake delivers users' updates to the server's
webhook with the secret header, or hands them out through getUpdates when the
server long-polls. Replies travel the whole way: engine -> outbox -> worker ->
sender -> fake.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.plugin import TelegramConfig, TelegramPlugin
from bot.throttle import Limits
from buonispesa import adapters
from buonispesa.demo import seed_demo
from buonispesa.server import PLUGINS, build_app
from buonispesa.settings import Settings
from core.bootstrap import Core
from core.storage import models as m
from core.storage.engine import make_engine
from outbox import delivery
from outbox.worker import WorkerConfig
from tests.e2e.fake_telegram import TOKEN, FakeTelegram, FakeUser
from tests.factories import row_counts

SECRET = "e2e-webhook_secret-0123456789"
FAST_WORKER = WorkerConfig(
    poll_seconds=0.05,
    lease_seconds=30,
    drain_seconds=5,
    retry=delivery.RetryPolicy(base_seconds=0.05, cap_seconds=0.5, max_attempts=5),
)
# Simulated people answer at once; real ones take seconds between messages. Tests of
# the conversations pace a chat faster than Telegram's 1/s so they run in seconds; the
# throttling tests keep the real limits (and the fake enforces them).
QUICK_CHATS = Limits(per_chat_per_second=50, per_chat_burst=10)


@dataclass
class TelegramServer:
    core: Core
    api: FakeTelegram
    base_url: str
    app: web.Application

    @property
    def plugin(self) -> TelegramPlugin:
        [plugin] = [p for p in self.app[PLUGINS] if isinstance(p, TelegramPlugin)]
        return plugin

    def user(self, user_id: int, *, language: str = "it", name: str = "Maria") -> FakeUser:
        return FakeUser(self.api, user_id, first_name=name, language=language)

    async def started(self, user_id: int, *, language: str = "it", name: str = "Maria") -> FakeUser:
        """A person who has opened the chat with /start, its welcome and menu delivered."""
        user = self.user(user_id, language=language, name=name)
        await self.exchange(user, user.start)
        return user

    async def settle(self, within: float = 60.0) -> None:
        """Wait until every Telegram reply written so far has been delivered (or given up),
        and the answered questions' keyboards have been edited away."""
        await self.plugin.handler.drain()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while await self.undelivered():
            if loop.time() > deadline:
                raise AssertionError(f"outbox not delivered within {within}s")
            await asyncio.sleep(0.02)

    async def handled(self, count: int, within: float = 60.0) -> None:
        """Wait until `count` updates in all were recorded by the engine (long polling:
        updates are fetched and handled in the background), then for their replies."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (await self.counts())["inbound"] < count:
            if loop.time() > deadline:
                raise AssertionError(f"{count} updates not handled within {within}s")
            await asyncio.sleep(0.02)
        await self.settle(within)

    async def undelivered(self) -> int:
        async with self.core.uow() as uow:
            count = await uow.session.scalar(
                select(func.count())
                .select_from(m.OutboxMessage)
                .where(
                    m.OutboxMessage.channel == "telegram",
                    m.OutboxMessage.status.in_((delivery.PENDING, delivery.SENDING)),
                )
            )
        return int(count or 0)

    async def exchange(self, user: FakeUser, action: Callable[[], Any]) -> list[dict[str, Any]]:
        """Do something as `user`; return the bot messages it caused in that chat."""
        before = len(user.messages())
        status = await action()
        assert status in (0, 200), status
        await self.settle()
        return user.messages()[before:]

    async def counts(self) -> dict[str, int]:
        return await row_counts(
            self.core,
            inbound=m.InboundMessage,
            outbox=m.OutboxMessage,
            conversations=m.Conversation,
        )


def free_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


async def start_telegram_server(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    webhook: bool = True,
    limits: Limits = QUICK_CHATS,
    api: FakeTelegram | None = None,
    poll_timeout: float = 1.0,
    worker: WorkerConfig = FAST_WORKER,
    payment_provider_token: str | None = None,
) -> AsyncIterator[TelegramServer]:
    api = api or FakeTelegram(per_chat_per_second=1000)
    await api.start()
    core = Core(engine=make_engine(database_url))
    await seed_demo(core)
    sock = free_socket()
    host, port = sock.getsockname()
    base_url = f"http://{host}:{port}"
    settings = Settings(
        _env_file=None,
        BUONISPESA_DATABASE_URL=database_url,
        PUBLIC_BASE_URL=base_url if webhook else None,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_API_BASE_URL=api.base_url,
        TELEGRAM_PAYMENT_PROVIDER_TOKEN=payment_provider_token,
    )
    # The server builds the plugin from the settings, as in production; only the pacing
    # and the long-polling timeout are the tests'.
    from_settings = adapters.telegram_config

    def configured(settings: Settings) -> TelegramConfig:
        config = from_settings(settings)
        return dataclasses.replace(config, limits=limits, poll_timeout=poll_timeout)

    monkeypatch.setattr(adapters, "telegram_config", configured)
    app = await build_app(
        core, settings, host=host, port=port, worker_config=worker, console=lambda _: None
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()  # starts the plugin: setWebhook / getUpdates, setMyCommands
    await web.SockSite(runner, sock).start()
    try:
        yield TelegramServer(core, api, base_url, app)
    finally:
        await runner.cleanup()
        await core.close()
        await api.close()
