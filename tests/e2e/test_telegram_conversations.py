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
    # A question's button (the privacy consent), left behind by a SALDO typed next.
    await server.exchange(anna, lambda: anna.say("/domanda"))
    privacy = anna.last_keyboard_message()
    data = privacy["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await server.exchange(anna, lambda: anna.say("/saldo"))
    await server.api.deliver(anna.callback_update(data, privacy))
    await server.settle()
    toast = server.api.calls_of("answerCallbackQuery")[-1]
    assert toast.params["text"] == render_text(BUTTON_EXPIRED, "it")
    # An alert closed with OK, not a toast that fades before an elderly user reads it.
    assert toast.params["show_alert"] in (True, "true", "True")


async def test_a_double_tap_gives_one_answer_even_when_it_has_no_buttons(
    telegram_server: TelegramServer,
) -> None:
    server = telegram_server
    anna = await server.started(7103, language="en")
    menu = anna.last_keyboard_message()
    button = anna.button("Balance", menu)
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
    anna = await server.started(7104, language="en")
    [stopped] = await server.exchange(anna, lambda: anna.say("/stop"))
    assert "Payment codes and receipts" in stopped["text"] and "START" in stopped["text"]
    [answer] = await server.exchange(anna, lambda: anna.say("/balance"))
    assert "phone number" in answer["text"]


async def test_a_position_that_is_not_numbers_is_refused_clearly(
    telegram_server: TelegramServer,
) -> None:
    server = telegram_server
    anna = await server.started(7105, language="en")
    update = anna.message_update(location={"latitude": "north", "longitude": 13.2})
    before = len(anna.messages())
    assert await server.api.deliver(update) == 200
    await server.settle()
    [reply] = anna.messages()[before:]
    assert reply["text"] == "This position is not valid."


async def test_the_menus_balance_and_shops_work_from_an_older_message(
    telegram_server: TelegramServer,
) -> None:
    """A trial user tapped Saldo on an older menu and read "This button is no longer
    valid": Saldo, Negozi (the menu's words, the languages) mean the same from any message
    and run; a question's button (the consent) still answers only its own question."""
    server = telegram_server
    anna = await server.started(7106, language="en")
    menu = anna.last_keyboard_message()
    # She types instead of tapping: the menu stays on screen, a newer one below it.
    await server.exchange(anna, lambda: anna.say("/menu"))
    assert anna.last_keyboard_message()["message_id"] != menu["message_id"]
    alerts = len(server.api.calls_of("answerCallbackQuery"))
    [shops] = await server.exchange(
        anna,
        lambda: anna.api.deliver(
            anna.callback_update(anna.button("Shops", menu)["callback_data"], menu)
        ),
    )
    assert "Where" in shops["text"] or "town" in shops["text"], shops["text"]
    [answer] = server.api.calls_of("answerCallbackQuery")[alerts:]
    assert "text" not in answer.params  # no "no longer valid"

    # The consent question of an application, left behind by MENU typed next.
    await server.exchange(anna, lambda: anna.say("/apply"))
    privacy = anna.last_keyboard_message()
    await server.exchange(anna, lambda: anna.say("/menu"))
    menu = anna.last_keyboard_message()
    await server.exchange(anna, lambda: anna.say("/help"))
    [balance] = await server.exchange(
        anna,
        lambda: anna.api.deliver(
            anna.callback_update(anna.button("Balance", menu)["callback_data"], menu)
        ),
    )
    assert "phone number" in balance["text"]
    before = await server.counts()
    await server.api.deliver(
        anna.callback_update(anna.button("I agree", privacy)["callback_data"], privacy)
    )
    await server.settle()
    assert await server.counts() == before
    assert server.api.calls_of("answerCallbackQuery")[-1].params["text"] == render_text(
        BUTTON_EXPIRED, "en"
    )
