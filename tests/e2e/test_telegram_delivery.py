"""Outbound: Telegram's flood limits, 429 with retry_after, partial and permanent failures."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.callbacks import CallbackSigner
from bot.plugin import TelegramConfig, TelegramPlugin
from bot.throttle import Limits
from buonispesa.server import WORKERS
from core.bootstrap import Core
from core.dialogue.engine import DialogueEngine
from core.domain.messages import DocumentRef, MapPin, Option, Reply, reply_to_json, t
from core.services.outbox import enqueue
from core.storage.engine import make_engine
from outbox.channels import OutgoingMessage, SendStatus
from outbox.ratelimit import Ticket
from tests.e2e.fake_telegram import TOKEN, FakeTelegram
from tests.e2e.telegram_harness import TelegramServer, start_telegram_server

# PTB 22 itself warns, while building RetryAfter from a 429, that retry_after will become
# a timedelta; bot.sender already reads both forms.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


@pytest.fixture
async def paced_server(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TelegramServer]:
    """Telegram's real limits on both sides: the plugin's defaults, the fake's 30/s cap."""
    api = FakeTelegram(overall_per_second=30, per_chat_per_second=4, flood_retry_after=5)
    async for running in start_telegram_server(sqlite_url, monkeypatch, limits=Limits(), api=api):
        yield running


async def test_429_retry_after_is_respected_then_the_reply_is_delivered(
    telegram_server: TelegramServer,
) -> None:
    server = telegram_server
    anna = server.user(7001, language="en")
    server.api.fail_next("sendMessage", retry_after=1)
    [menu] = await server.exchange(anna, anna.start)
    assert "Welcome" in menu["text"]
    first, second = server.api.calls_of("sendMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0, "sent again before retry_after had passed"
    assert len(anna.messages()) == 1


async def enqueue_notifications(server: TelegramServer, chats: list[int]) -> None:
    async with server.core.uow() as uow:
        for index, chat in enumerate(chats):
            enqueue(
                uow,
                municipality_id=1,
                channel="telegram",
                address=str(chat),
                language="en",
                reply=Reply.of(t("Notice {n}", n=index)),
                now=server.core.now(),
            )
        await uow.commit()
    server.app[WORKERS]["telegram"].wake()


async def test_a_broadcast_keeps_under_the_flood_limits(
    paced_server: TelegramServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = paced_server
    # The pacing is checked where it is made, when each call starts. The fake sees the
    # calls when they arrive: on a loaded machine one request delayed next to the
    # following one can still make it answer 429, which is then respected (test above)
    # and costs a retry, never a message.
    starts: list[float] = []
    pacer = server.plugin.limiter.limiter.pacer
    record_start = pacer.started

    def started(ticket: Ticket, at: float) -> None:
        starts.append(at)
        record_start(ticket, at)

    monkeypatch.setattr(pacer, "started", started)
    busy = 7100
    chats = [7200 + n for n in range(90)] + [busy] * 6
    await enqueue_notifications(server, chats)
    await server.settle(within=30)
    delivered = [call for call in server.api.calls_of("sendMessage") if call.status == 200]
    # Every notice arrived, and once.
    assert sorted((int(call.params["chat_id"]), call.params["text"]) for call in delivered) == (
        sorted((chat, f"Notice {index}") for index, chat in enumerate(chats))
    )
    assert max(sum(1 for t in starts if s <= t < s + 1.0 - 1e-6) for s in starts) <= 29
    # One chat: a short burst, then about one message a second.
    mine = [call.at for call in delivered if call.params["chat_id"] == str(busy)]
    assert mine[-1] - mine[0] >= 6 - 3 - 0.1
    # Messages to one chat keep their order (a refused one is retried after the others).
    if not any(call.params["chat_id"] == str(busy) for call in server.api.rejected):
        texts = [m["text"] for m in server.api.sent_to(busy)]
        assert texts == sorted(texts, key=lambda text: int(text.split()[1]))


@pytest.fixture
async def sender_world(sqlite_url: str) -> AsyncIterator[tuple[TelegramPlugin, FakeTelegram]]:
    api = FakeTelegram()
    await api.start()
    core = Core(engine=make_engine(sqlite_url))
    config = TelegramConfig(token=TOKEN, api_base_url=api.base_url, webhook_url=None)
    plugin = TelegramPlugin(core, config, dialogue=DialogueEngine(core))
    try:
        yield plugin, api
    finally:
        await plugin.stop()
        await core.close()
        await api.close()


def outgoing(message_id: int, chat: int, reply: Reply) -> OutgoingMessage:
    return OutgoingMessage(message_id, 1, "telegram", str(chat), "en", reply_to_json(reply))


async def test_a_reply_interrupted_halfway_resumes_without_repeating(
    sender_world: tuple[TelegramPlugin, FakeTelegram],
) -> None:
    plugin, api = sender_world
    reply = Reply(texts=(t("The nearest: Forno."),), pin=MapPin(43.1, 13.2, "Forno", "Via Roma"))
    api.fail_next("sendVenue", retry_after=1)
    first = await plugin.sender().send(outgoing(1, 7300, reply))
    assert first.status is SendStatus.RETRY and first.retry_after_seconds == 1.0
    second = await plugin.sender().send(outgoing(1, 7300, reply))
    assert second.status is SendStatus.SENT
    assert [c.status for c in api.calls_of("sendMessage")] == [200]
    assert [c.status for c in api.calls_of("sendVenue")] == [429, 200]
    _text, pin = api.sent_to(7300)
    assert second.provider_message_id == str(pin["message_id"])
    assert api.calls_of("sendVenue")[1].at - api.calls_of("sendVenue")[0].at >= 1.0


async def test_the_row_records_the_message_that_carries_the_buttons(
    sender_world: tuple[TelegramPlugin, FakeTelegram],
) -> None:
    plugin, api = sender_world
    reply = Reply(
        texts=(t("Here"),),
        options=(Option("menu", t("Menu")),),
        pin=MapPin(43.1, 13.2, "Forno", "Via Roma"),
    )
    result = await plugin.sender().send(outgoing(2, 7301, reply))
    keyboard, _pin = api.sent_to(7301)
    assert result.provider_message_id == str(keyboard["message_id"])
    data = keyboard["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert CallbackSigner.from_bot_token(TOKEN).verify("7301", data) == "menu"


async def test_permanent_failures_are_not_retried(
    sender_world: tuple[TelegramPlugin, FakeTelegram],
) -> None:
    plugin, api = sender_world
    api.blocked.add(7302)
    blocked = await plugin.sender().send(outgoing(3, 7302, Reply.of(t("Hi"))))
    assert blocked.status is SendStatus.FAILED and "blocked" in (blocked.error or "")
    missing_card = Reply(texts=(t("Your card"),), document=DocumentRef("card", "NOSUCHCARD"))
    result = await plugin.sender().send(outgoing(4, 7303, missing_card))
    assert result.status is SendStatus.FAILED
    empty = await plugin.sender().send(outgoing(5, 7303, Reply(texts=())))
    assert empty.status is SendStatus.FAILED
    junk = OutgoingMessage(6, 1, "telegram", "7303", "en", {"nothing": "here"})
    assert (await plugin.sender().send(junk)).status is SendStatus.FAILED


async def test_an_unreachable_api_is_retried_later(sqlite_url: str) -> None:
    core = Core(engine=make_engine(sqlite_url))
    config = TelegramConfig(token=TOKEN, api_base_url="http://127.0.0.1:9/bot", webhook_url=None)
    plugin = TelegramPlugin(core, config, dialogue=DialogueEngine(core))
    try:
        result = await plugin.sender().send(outgoing(7, 7304, Reply.of(t("Hi"))))
        assert result.status is SendStatus.RETRY
    finally:
        await plugin.stop()
        await core.close()
