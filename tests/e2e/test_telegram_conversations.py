"""Telegram behaviour a person notices: groups, stale buttons, STOP, odd positions."""

from __future__ import annotations

import time

from bot.updates import BUTTON_EXPIRED
from core.i18n import render_text
from tests.e2e.fake_telegram import BOT_USERNAME
from tests.e2e.telegram_harness import TelegramServer


async def test_in_a_group_the_bot_points_to_the_private_chat_once_and_leaves(
    telegram_server: TelegramServer,
) -> None:
    server = telegram_server
    anna = server.user(7101, language="it")
    group = -1001234
    before = await server.counts()
    update = {
        "update_id": server.api.next_update_id(),
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": group, "type": "group", "title": "Famiglia"},
            "from": anna.user,
            "text": "/saldo",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    assert await server.api.deliver(update) == 200
    await server.settle()
    [message] = server.api.sent_to(group)
    assert f"https://t.me/{BOT_USERNAME}" in message["text"]
    assert "privat" in message["text"]  # Italian: "in privato"
    assert server.api.left_chats == [group]
    # Nothing about the group is kept: no conversation, no inbound record, no outbox row.
    assert await server.counts() == before


async def test_the_expired_button_toast_speaks_the_language_chosen_in_the_bot(
    telegram_server: TelegramServer,
) -> None:
    server = telegram_server
    anna = server.user(7102, language="en")  # an English phone, Italian chosen in the bot
    await server.exchange(anna, lambda: anna.say("/lingua"))
    await server.exchange(anna, lambda: anna.tap("Italiano"))
    menu = anna.last_keyboard_message()
    data = menu["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await server.exchange(anna, lambda: anna.say("/saldo"))
    await server.api.deliver(anna.callback_update(data, menu))
    await server.settle()
    toast = server.api.calls_of("answerCallbackQuery")[-1]
    assert toast.params["text"] == render_text(BUTTON_EXPIRED, "it")
    # An alert closed with OK, not a toast that fades before an elderly user reads it.
    assert toast.params["show_alert"] in (True, "true", "True")


async def test_a_double_tap_gives_one_answer_even_when_it_has_no_buttons(
    telegram_server: TelegramServer,
) -> None:
    server = telegram_server
    anna = server.user(7103, language="en")
    await server.exchange(anna, anna.start)
    menu = anna.last_keyboard_message()
    [button] = [
        b for row in menu["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "Balance"
    ]
    first = anna.callback_update(button["callback_data"], menu)
    second = anna.callback_update(button["callback_data"], menu)
    assert await server.api.deliver(first) == 200
    await server.settle()
    # The answer (share your phone number) has no inline buttons: still, the menu is answered.
    count = len(anna.messages())
    assert await server.api.deliver(second) == 200
    await server.settle()
    assert len(anna.messages()) == count
    assert "text" in server.api.calls_of("answerCallbackQuery")[-1].params


async def test_after_stop_a_question_still_gets_its_answer(telegram_server: TelegramServer) -> None:
    server = telegram_server
    anna = server.user(7104, language="en")
    await server.exchange(anna, anna.start)
    [stopped] = await server.exchange(anna, lambda: anna.say("/stop"))
    assert "Payment codes and receipts" in stopped["text"] and "START" in stopped["text"]
    [answer] = await server.exchange(anna, lambda: anna.say("/balance"))
    assert "phone number" in answer["text"]


async def test_a_position_that_is_not_numbers_is_refused_clearly(
    telegram_server: TelegramServer,
) -> None:
    server = telegram_server
    anna = server.user(7105, language="en")
    await server.exchange(anna, anna.start)
    update = anna.message_update(location={"latitude": "north", "longitude": 13.2})
    before = len(anna.messages())
    assert await server.api.deliver(update) == 200
    await server.settle()
    [reply] = anna.messages()[before:]
    assert reply["text"] == "This position is not valid."
