"""What a Telegram update means to the dialogue engine, and which updates must not act."""

from __future__ import annotations

from typing import Any

from telegram import Bot, Update

from bot.callbacks import CallbackSigner
from bot.updates import translate
from core.dialogue.inbound import Channel, SharedContact, SharedLocation
from tests.telegram_updates import TelegramUser, UpdateIds

SIGNER = CallbackSigner(b"unit-test")
BOT = Bot("123:unit")
IDS = UpdateIds()
MARIA = TelegramUser(IDS, 1001, language="it")
LUCA = TelegramUser(IDS, 2002, language="en")


def update(data: dict[str, Any]) -> Update:
    parsed = Update.de_json(data, BOT)
    assert parsed is not None
    return parsed


def keyboard_message(chat_id: int, data: str) -> dict[str, Any]:
    return {
        "message_id": 77,
        "date": 0,
        "chat": {"id": chat_id, "type": "private"},
        "text": "Continue?",
        "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": data}]]},
    }


def test_text_message() -> None:
    raw = MARIA.text_update("Ciao")
    result = translate(update(raw), SIGNER)
    inbound = result.inbound
    assert inbound is not None and result.callback is None
    assert inbound.channel is Channel.TELEGRAM
    assert inbound.address == "1001"
    assert inbound.text == "Ciao"
    assert inbound.provider_message_id == str(raw["update_id"])
    assert inbound.language_hint == "it"


def test_commands_are_keywords_without_the_bot_name() -> None:
    inbound = translate(update(MARIA.text_update("/saldo@buonispesa_bot")), SIGNER).inbound
    assert inbound is not None and inbound.text == "/saldo"
    inbound = translate(update(LUCA.text_update("/shops 62010")), SIGNER).inbound
    assert inbound is not None and inbound.text == "/shops 62010"


def test_deep_link_start_parameter() -> None:
    inbound = translate(update(MARIA.text_update("/start ABCDEFGHJK")), SIGNER).inbound
    assert inbound is not None
    assert inbound.start_parameter == "ABCDEFGHJK" and inbound.text is None
    plain = translate(update(MARIA.text_update("/start")), SIGNER).inbound
    assert plain is not None and plain.start_parameter is None and plain.text == "/start"


def test_own_contact_is_marked_own_and_gets_a_plus() -> None:
    raw = MARIA.message_update(
        contact={"phone_number": "393331234567", "first_name": "M", "user_id": 1001}
    )
    inbound = translate(update(raw), SIGNER).inbound
    assert inbound is not None
    assert inbound.contact == SharedContact("+393331234567", is_own=True)


def test_someone_elses_contact_is_not_own() -> None:
    for owner in (3003, None):
        contact: dict[str, Any] = {"phone_number": "+393331234567", "first_name": "X"}
        if owner is not None:
            contact["user_id"] = owner
        inbound = translate(update(MARIA.message_update(contact=contact)), SIGNER).inbound
        assert inbound is not None and inbound.contact is not None
        assert inbound.contact.is_own is False


def test_location() -> None:
    raw = MARIA.message_update(location={"latitude": 43.12, "longitude": 13.2})
    inbound = translate(update(raw), SIGNER).inbound
    assert inbound is not None and inbound.location == SharedLocation(43.12, 13.2)


def test_unsupported_content_reaches_the_engine_as_empty_text() -> None:
    raw = MARIA.message_update(
        sticker={
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        }
    )
    inbound = translate(update(raw), SIGNER).inbound
    assert inbound is not None and inbound.text == ""


def test_group_messages_are_ignored() -> None:
    raw = MARIA.text_update("/saldo")
    raw["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Shop staff"}
    result = translate(update(raw), SIGNER)
    assert result.inbound is None and not result.refused


def test_a_signed_button_becomes_the_option() -> None:
    raw = MARIA.callback_update(SIGNER.sign("1001", "yes"), keyboard_message(1001, "x"))
    result = translate(update(raw), SIGNER)
    assert result.inbound is not None and result.inbound.option == "yes"
    assert result.callback is not None and not result.refused
    assert result.inbound.provider_message_id == str(raw["update_id"])


def test_forged_callback_data_is_refused() -> None:
    raw = MARIA.callback_update("pay_now|AAAAAAAAAAA", keyboard_message(1001, "x"))
    result = translate(update(raw), SIGNER)
    assert result.inbound is None and result.refused and result.callback is not None


def test_a_button_signed_for_another_chat_is_refused() -> None:
    data = SIGNER.sign("2002", "yes")
    raw = MARIA.callback_update(data, keyboard_message(1001, data))
    assert translate(update(raw), SIGNER).refused


def test_a_callback_from_another_user_is_refused() -> None:
    data = SIGNER.sign("1001", "yes")
    raw = MARIA.callback_update(data, keyboard_message(1001, data), from_user=LUCA.user)
    assert translate(update(raw), SIGNER).refused
