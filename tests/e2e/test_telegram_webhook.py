"""The webhook's defences: the secret header, repeated updates, forged and stale buttons."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from bot.callbacks import CallbackSigner
from tests.e2e.fake_telegram import SECRET_HEADER, TOKEN, FakeUser
from tests.e2e.telegram_harness import SECRET, TelegramServer


async def post(server: TelegramServer, body: Any, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.base_url + "/telegram/webhook", json=body, headers=headers) as response,
    ):
        return response.status


@pytest.mark.parametrize(
    "headers",
    [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}, {SECRET_HEADER: ""}],
    ids=["missing", "wrong", "longer", "empty"],
)
async def test_a_wrong_secret_gets_403_and_writes_nothing(
    telegram_server: TelegramServer, headers: dict[str, str]
) -> None:
    server = telegram_server
    intruder = server.user(6660, language="en")
    before = await server.counts()
    update = intruder.message_update(contact={"phone_number": "+393331000001", "user_id": 6660})
    assert await post(server, update, headers) == 403
    assert await server.counts() == before
    assert intruder.messages() == []


async def test_the_right_secret_is_accepted(telegram_server: TelegramServer) -> None:
    server = telegram_server
    anna = server.user(6661, language="en")
    assert await post(server, anna.text_update("/start"), {SECRET_HEADER: SECRET}) == 200
    await server.settle()
    assert len(anna.messages()) == 1


async def test_garbage_is_a_400(telegram_server: TelegramServer) -> None:
    server = telegram_server
    assert await post(server, ["not", "an", "update"], {SECRET_HEADER: SECRET}) == 400
    assert (await server.counts())["inbound"] == 0


async def test_a_repeated_update_id_is_processed_once(
    telegram_server_any_db: TelegramServer,
) -> None:
    server_any_db = telegram_server_any_db
    server = server_any_db
    anna = server.user(6662, language="en")
    update = anna.text_update("/balance")
    before = await server.counts()
    # Telegram delivers again when it did not see our 200 (timeout, restart).
    for _ in range(3):
        assert await server.api.deliver(dict(update)) == 200
    await server.settle()
    assert len(anna.messages()) == 1
    after = await server.counts()
    assert after["inbound"] == before["inbound"] + 1
    assert after["outbox"] == before["outbox"] + 1


async def refused(server: TelegramServer, user: FakeUser, update: dict[str, Any]) -> None:
    """The update was answered as an expired button and reached nothing else."""
    before = await server.counts()
    messages = len(user.messages())
    answers = len(server.api.calls_of("answerCallbackQuery"))
    assert await server.api.deliver(update) == 200
    await server.settle()
    assert await server.counts() == before, "a refused button must not reach the engine"
    assert len(user.messages()) == messages
    [answer] = server.api.calls_of("answerCallbackQuery")[answers:]
    assert answer.params["callback_query_id"] == update["callback_query"]["id"]
    assert "no longer valid" in answer.params["text"]


async def test_forged_callbacks_are_refused(telegram_server: TelegramServer) -> None:
    server = telegram_server
    anna = server.user(6663, language="en")
    other = server.user(6664, language="en")
    await server.exchange(anna, anna.start)
    menu = anna.last_keyboard_message()

    # Data a modified client made up, unsigned.
    await refused(server, anna, anna.callback_update("balance", menu))
    # A key signed with a guessed secret.
    forged = CallbackSigner(b"guess").sign(str(anna.id), "apply")
    await refused(server, anna, anna.callback_update(forged, menu))
    # A real button of another person's chat, replayed in Anna's.
    await server.exchange(other, other.start)
    theirs = other.last_keyboard_message()
    data = theirs["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await refused(server, anna, anna.callback_update(data, menu))
    # Anna's real button, pressed by someone else (only possible in a forged update).
    mine = menu["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await refused(server, anna, anna.callback_update(mine, menu, from_user=other.user))
    # Signed with the real token for Anna, but sent for a message that is not the current
    # one, answering a question ("yes"; a menu's stateless buttons run from any message).
    signed = CallbackSigner.from_bot_token(TOKEN).sign(str(anna.id), "yes")
    await refused(server, anna, anna.callback_update(signed, {**menu, "message_id": 1}))

    # The genuine button still works.
    [reply] = await server.exchange(anna, lambda: anna.tap("Balance"))
    assert "phone number" in reply["text"]


async def test_a_button_of_an_earlier_question_cannot_answer_the_current_one(
    telegram_server: TelegramServer,
) -> None:
    """Both questions offer Yes/No: the old "Yes" must not answer the new question."""
    server = telegram_server
    anna = await server.started(6665, language="en")
    await server.exchange(anna, lambda: anna.tap("Apply"))  # English: no language question
    await server.exchange(anna, lambda: anna.tap("I agree"))
    await server.exchange(anna, lambda: anna.share_contact("393478886665"))
    await server.exchange(anna, lambda: anna.say("RSSMRA80A01H501U"))
    await server.exchange(anna, lambda: anna.say("2"))
    work = anna.last_keyboard_message()
    yes = work["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    # She answers the work question by typing, so its buttons stay on screen.
    [pension] = await server.exchange(anna, lambda: anna.say("no"))
    assert "pension" in pension["text"]
    await refused(server, anna, anna.callback_update(yes, work))
    # The question asked now still takes its own buttons.
    [liquidity] = await server.exchange(anna, lambda: anna.tap("No"))
    assert "bank" in liquidity["text"]


async def test_a_repeated_tap_acts_once(telegram_server: TelegramServer) -> None:
    """A double tap sends two callback queries for one button: the second finds the
    question already answered (a newer one is on its way or shown)."""
    server = telegram_server
    anna = await server.started(6666, language="en")
    menu = anna.last_keyboard_message()
    button = anna.button("Apply", menu)
    first = anna.callback_update(button["callback_data"], menu)
    second = anna.callback_update(button["callback_data"], menu)
    assert await server.api.deliver(first) == 200
    await server.settle()
    await refused(server, anna, second)


async def test_a_double_tap_delivered_concurrently_acts_once(
    telegram_server: TelegramServer,
) -> None:
    server = telegram_server
    anna = await server.started(6667, language="en")
    menu = anna.last_keyboard_message()
    button = anna.button("Apply", menu)
    taps = [anna.callback_update(button["callback_data"], menu) for _ in range(2)]
    before = await server.counts()
    statuses = await asyncio.gather(*(server.api.deliver(tap) for tap in taps))
    assert statuses == [200, 200]
    await server.settle()
    after = await server.counts()
    assert after["inbound"] == before["inbound"] + 1
    assert after["outbox"] == before["outbox"] + 1
    answers = server.api.calls_of("answerCallbackQuery")[-2:]
    assert sorted("text" in a.params for a in answers) == [False, True]
