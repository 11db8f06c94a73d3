"""The Telegram turns, byte for byte as they were before the work on the webhook's speed
(bench/callgrind_turns.py telegram, docs/benchmarks.md): a set of updates through the real
webhook (commands, keywords, taps, a number, a deep link, a caption, a voice message, an
edit, a shared position and someone else's contact, in Italian and in English), and for
each chat the outbox rows written (their payload as SQLite stores the text), the
conversation's state and what the fake Bot API was asked to send.

telegram_replies_unchanged.json was written by the code before those changes. When a
sentence changes on purpose, write it again:
`BUONISPESA_WRITE_EXPECTED=1 pytest tests/e2e/test_telegram_replies_unchanged.py -k sqlite`.
"""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tests.e2e.fake_telegram import FakeUser
from tests.e2e.telegram_harness import TelegramServer

EXPECTED = Path(__file__).with_name("telegram_replies_unchanged.json")


async def _maria(server: TelegramServer, maria: FakeUser) -> None:
    for words in ("/start", "/saldo", "/menu", "/aiuto", "SALDO", "menu", "Menu per favore"):
        await server.exchange(maria, partial(maria.say, words))
    await server.exchange(maria, lambda: maria.tap("Negozi"))
    await server.exchange(maria, lambda: maria.say("/menu"))
    await server.exchange(maria, lambda: maria.say("4"))
    await server.exchange(maria, lambda: maria.say("ciao"))
    await server.exchange(maria, lambda: maria.say("/saldo@buonispesa_bot"))
    await server.exchange(maria, lambda: maria.start("nessuncodice"))
    await server.exchange(maria, lambda: maria.send_photo("il mio saldo"))
    await server.exchange(maria, lambda: maria.send_voice())
    update = maria.text_update("NEGOZI")
    await server.exchange(maria, lambda: server.api.deliver(update))
    await server.exchange(maria, lambda: maria.edit(update, "AIUTO"))
    await server.exchange(maria, lambda: maria.share_location(43.16, 13.26))
    await server.exchange(maria, lambda: maria.share_contact("+393339999999", owner_id=None))


async def _john(server: TelegramServer, john: FakeUser) -> None:
    for words in ("/start", "/help", "/menu", "BALANCE", "/aiuto", "LANGUAGE"):
        await server.exchange(john, partial(john.say, words))
    await server.exchange(john, lambda: john.tap("Italiano"))
    await server.exchange(john, lambda: john.say("/menu"))
    await server.exchange(john, lambda: john.tap("Saldo"))


def _sent(user: FakeUser) -> list[dict[str, Any]]:
    return [
        {key: message[key] for key in ("text", "reply_markup") if key in message}
        for message in user.messages()
    ]


async def _stored(server: TelegramServer, address: str) -> dict[str, Any]:
    async with server.core.engine.connect() as connection:
        outbox = await connection.execute(
            text(
                "SELECT language, payload FROM outbox WHERE channel = 'telegram' "
                "AND address = :address ORDER BY id"
            ),
            {"address": address},
        )
        states = await connection.execute(
            text(
                "SELECT language, flow, step, data FROM conversations WHERE channel = 'telegram' "
                "AND address = :address ORDER BY id"
            ),
            {"address": address},
        )
        return {
            "outbox": [[language, payload] for language, payload in outbox],
            "conversations": [list(row) for row in states],
        }


def _same(stored: Any, expected: Any) -> bool:
    """SQLite keeps the JSON text as written (compared byte for byte); PostgreSQL's jsonb
    gives the value back (compared as a value)."""
    if isinstance(stored, list):
        return len(stored) == len(expected) and all(map(_same, stored, expected))
    if isinstance(stored, dict | int | bool) or stored is None:
        return bool(stored == (json.loads(expected) if isinstance(expected, str) else expected))
    return bool(stored == expected)


async def test_the_telegram_turns_write_what_they_wrote(
    telegram_server_any_db: TelegramServer,
) -> None:
    server = telegram_server_any_db
    maria = server.user(7101, language="it", name="Maria")
    john = server.user(7102, language="en", name="John")
    await _maria(server, maria)
    await _john(server, john)
    got: dict[str, Any] = {}
    for user in (maria, john):
        stored = await _stored(server, str(user.id))
        got[str(user.id)] = {"sent": _sent(user), **stored}
    if os.environ.get("BUONISPESA_WRITE_EXPECTED"):
        EXPECTED.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n")
    expected = json.loads(EXPECTED.read_text())
    assert set(got) == set(expected)
    for chat, found in got.items():
        assert found["sent"] == expected[chat]["sent"], chat
        assert _same(found["outbox"], expected[chat]["outbox"]), chat
        assert _same(found["conversations"], expected[chat]["conversations"]), chat
