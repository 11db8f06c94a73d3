"""python-telegram-bot over the aiohttp transport (bot/transport.py), against real HTTP.

The whole Telegram suite runs through it (bot/plugin.py builds every bot with it); these
cases pin what only the transport decides: a file goes as multipart with its name and
bytes, python-telegram-bot's errors come out for a slow server, a closed port and a 429,
and the timeouts passed for one call win over the defaults.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request
from collections.abc import AsyncIterator

import aiohttp.helpers
import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.transport import AiohttpRequest
from tests.e2e.fake_telegram import TOKEN, FakeTelegram

CHAT = 5550001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    api = FakeTelegram()
    await api.start()
    try:
        yield api
    finally:
        await api.close()


async def test_text_and_document_arrive_as_the_api_expects(fake: FakeTelegram) -> None:
    async with Bot(TOKEN, base_url=fake.base_url, request=AiohttpRequest()) as bot:
        sent = await bot.send_message(CHAT, "Il tuo saldo: 137,50 €.")
        document = await bot.send_document(CHAT, InputFile(b"%PDF-1.7 card", filename="card.pdf"))
    texts = [c for c in fake.calls if c.method == "sendMessage"]
    documents = [c for c in fake.calls if c.method == "sendDocument"]
    assert texts[0].params["text"] == "Il tuo saldo: 137,50 €."
    assert documents[0].files["document"] == b"%PDF-1.7 card"
    assert documents[0].params["document"] == "card.pdf"
    assert sent.message_id != document.message_id


async def test_a_429_becomes_retry_after(fake: FakeTelegram) -> None:
    fake.overall_per_second = 1
    async with Bot(TOKEN, base_url=fake.base_url, request=AiohttpRequest()) as bot:
        await bot.send_message(CHAT, "one")
        with pytest.raises(RetryAfter):
            await bot.send_message(CHAT, "two")
    assert [c.status for c in fake.calls if c.method == "sendMessage"][-1] == 429


async def test_a_server_that_does_not_answer_times_out() -> None:
    arrived = asyncio.Event()

    async def silent(request: web.Request) -> web.Response:
        arrived.set()
        await asyncio.sleep(2)  # longer than the call's timeout
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", silent)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    request = AiohttpRequest(read_timeout=30.0)
    await request.initialize()
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimedOut):
            # The timeout given for the call wins over the 30 s default.
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe", read_timeout=0.3)
        assert asyncio.get_running_loop().time() - started < 1.5
        assert arrived.is_set()
    finally:
        await request.shutdown()
        await runner.cleanup()


async def test_a_closed_port_is_a_network_error() -> None:
    # Bound and held, never listening: the connection is refused, and no other process
    # can start listening there during the test.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        request = AiohttpRequest()
        await request.initialize()
        try:
            with pytest.raises(NetworkError, match=r"aiohttp\.Client"):
                await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        finally:
            await request.shutdown()


async def test_it_refuses_to_send_before_initialize_and_after_shutdown(fake: FakeTelegram) -> None:
    request = AiohttpRequest()
    url = f"{fake.base_url}{TOKEN}/getMe"
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(url, "POST")
    await request.initialize()
    status, body = await request.do_request(url, "POST")
    assert status == 200 and json.loads(body)["ok"] is True
    await request.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(url, "POST")


async def test_the_proxy_of_the_environment_is_read_once_and_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arrived: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        arrived.append(str(request.url))
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    reads = [0]
    getproxies = urllib.request.getproxies  # what aiohttp.helpers calls

    def counted() -> dict[str, str]:
        reads[0] += 1
        return getproxies()

    monkeypatch.setattr(aiohttp.helpers, "getproxies", counted)
    request = AiohttpRequest()
    await request.initialize()
    try:
        for _ in range(3):
            # A host nobody resolves: only the proxy can answer.
            assert await request.post(f"http://api.telegram.invalid/bot{TOKEN}/getMe") is True
    finally:
        await request.shutdown()
        await runner.cleanup()
    assert arrived == [f"http://api.telegram.invalid/bot{TOKEN}/getMe"] * 3
    # Read at the first call to the host, not at every request.
    assert reads[0] == 1
