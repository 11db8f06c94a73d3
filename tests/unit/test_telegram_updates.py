"""What a Telegram update means to the dialogue engine, and which updates must not act."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram import Bot, Update

from bot.callbacks import CallbackSigner
from bot.updates import private_text, translate, update_json
from core.dialogue.inbound import Channel, Edited, SharedContact, SharedLocation
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


def _photo() -> list[dict[str, Any]]:
    return [{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 120}]


def test_a_photos_caption_is_read_as_the_text() -> None:
    """A photo (of a document, say) with words under it: the words are what the person
    wrote; the photo itself is not read, and the engine is told one came."""
    raw = MARIA.message_update(photo=_photo(), caption="Siamo in quattro, non in due")
    inbound = translate(update(raw), SIGNER).inbound
    assert inbound is not None
    assert (inbound.text, inbound.attachment) == ("Siamo in quattro, non in due", True)
    command = MARIA.message_update(
        photo=_photo(),
        caption="/saldo@buonispesa_bot",
        caption_entities=[{"type": "bot_command", "offset": 0, "length": 21}],
    )
    inbound = translate(update(command), SIGNER).inbound
    assert inbound is not None and inbound.text == "/saldo"
    # Without a caption: an empty message, as before, marked as an attachment.
    inbound = translate(update(MARIA.message_update(photo=_photo())), SIGNER).inbound
    assert inbound is not None and (inbound.text, inbound.attachment) == ("", True)
    # Text is no attachment.
    inbound = translate(update(MARIA.text_update("Ciao")), SIGNER).inbound
    assert inbound is not None and inbound.attachment is False


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


def _sticker() -> dict[str, Any]:
    return {
        "file_id": "s",
        "file_unique_id": "s",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }


def _variants() -> list[tuple[dict[str, Any], bool]]:
    """Updates, each with whether it is the commonest kind (text in a private chat) that
    private_text reads from the JSON by itself."""
    texts = ["Ciao", "/saldo", "/saldo@buonispesa_bot", "/shops 62010", "/start", "/start ABC"]
    texts += ["/START@Bot  x ", "saldo /menu", "È già 12,50 €", "🙂 /aiuto", ""]
    cases: list[tuple[dict[str, Any], bool]] = [(MARIA.text_update(text), True) for text in texts]
    cases += [(LUCA.text_update("/help"), True)]
    not_first = MARIA.message_update(
        text="vorrei /saldo", entities=[{"type": "bot_command", "offset": 7, "length": 6}]
    )
    bold = MARIA.message_update(text="/menu", entities=[{"type": "bold", "offset": 0, "length": 5}])
    no_language = MARIA.text_update("menu")
    del no_language["message"]["from"]["language_code"]
    cases += [(not_first, True), (bold, True), (no_language, True)]
    # Anything else is parsed by python-telegram-bot, as before.
    group = MARIA.text_update("/saldo")
    group["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Staff"}
    reply = MARIA.text_update("si")
    reply["message"]["reply_to_message"] = {
        "message_id": 1,
        "date": 0,
        "chat": {"id": 1001, "type": "private"},
        "text": "Continue?",
    }
    cases += [
        (group, False),
        (reply, False),
        (MARIA.message_update(sticker=_sticker()), False),
        (MARIA.message_update(photo=_photo(), caption="saldo"), False),
        (MARIA.message_update(location={"latitude": 43.12, "longitude": 13.2}), False),
        (
            MARIA.message_update(
                contact={"phone_number": "393331234567", "first_name": "M", "user_id": 1001}
            ),
            False,
        ),
        (MARIA.callback_update(SIGNER.sign("1001", "yes"), keyboard_message(1001, "x")), False),
    ]
    return cases


def test_text_in_a_private_chat_is_read_from_json_as_python_telegram_bot_reads_it() -> None:
    for raw, common in _variants():
        fast = private_text(raw)
        assert (fast is not None) is common, raw
        if fast is not None:
            assert fast == translate(update(raw), SIGNER).inbound, raw


def test_malformed_updates_are_left_to_python_telegram_bot() -> None:
    """A field missing or of another type: not read from JSON (the webhook then lets PTB
    parse it, which refuses what it cannot read)."""
    for path, value in (
        (("update_id",), "1"),
        (("message", "message_id"), None),
        (("message", "date"), "today"),
        (("message", "chat", "id"), "1001"),
        (("message", "from"), None),
        (("message", "from", "id"), True),
        (("message", "from", "first_name"), None),
        (("message", "from", "is_bot"), None),
        (("message", "from", "language_code"), 5),
        (("message", "text"), 12),
        (("message", "entities"), [{"type": "bot_command", "offset": 0}]),
        (("message", "entities"), "bot_command"),
    ):
        raw = MARIA.text_update("/saldo")
        *parents, key = path
        holder = raw
        for name in parents:
            holder = holder[name]
        if value is None:
            del holder[key]
        else:
            holder[key] = value
        assert private_text(raw) is None, path
    assert private_text([MARIA.text_update("/saldo")]) is None
    assert private_text({**MARIA.text_update("/saldo"), "edited_message": {}}) is None


def test_an_edit_is_the_edited_message_with_its_id_and_how_late() -> None:
    sent = MARIA.text_update("RSSMRA80A01H501")
    raw = MARIA.edited_update(sent, "RSSMRA80A01H501U", after=40)
    result = translate(update(raw), SIGNER)
    inbound = result.inbound
    assert inbound is not None and inbound.text == "RSSMRA80A01H501U"
    assert inbound.edited == Edited(timedelta(seconds=40))
    assert inbound.message_id == str(sent["message"]["message_id"])
    # Its own update id: a retry of the edit is a duplicate, the edit itself is not.
    assert inbound.provider_message_id == str(raw["update_id"]) != str(sent["update_id"])
    # A message that is not an edit says so, with its own id.
    plain = translate(update(sent), SIGNER).inbound
    assert plain is not None and plain.edited is None
    assert plain.message_id == str(sent["message"]["message_id"])
    assert private_text(sent) == plain


def test_a_live_location_moving_and_a_groups_edit_are_nothing() -> None:
    shared = MARIA.message_update(location={"latitude": 43.1, "longitude": 13.2})
    moved = {
        "update_id": IDS.update(),
        "edited_message": dict(shared["message"], edit_date=shared["message"]["date"] + 5),
    }
    result = translate(update(moved), SIGNER)
    assert result.inbound is None and result.group is None and result.callback is None
    said = MARIA.text_update("/saldo")
    said["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Shop staff"}
    result = translate(update(MARIA.edited_update(said, "/saldo 2")), SIGNER)
    assert result.inbound is None and result.group is None  # left once, not answered again


def test_something_to_listen_to_is_marked_voice() -> None:
    media = {"file_id": "v", "file_unique_id": "v", "duration": 3}
    for kind, extra in (("voice", {}), ("audio", {}), ("video_note", {"length": 240})):
        raw = MARIA.message_update(**{kind: {**media, **extra}})
        inbound = translate(update(raw), SIGNER).inbound
        assert inbound is not None
        assert (inbound.text, inbound.attachment, inbound.voice) == ("", True, True), kind
    photo = translate(update(MARIA.message_update(photo=_photo())), SIGNER).inbound
    assert photo is not None and photo.attachment and not photo.voice


def test_a_webhook_body_is_read_as_json_loads_reads_it() -> None:
    """update_json: the document json.loads reads from UTF-8 bytes (whitespace around it,
    a BOM ahead of it), and a ValueError (the webhook's 400) for anything else."""
    import json

    update = {"update_id": 7, "message": {"text": "Città “saldo” \U0001f600", "n": [1.5, None]}}
    for body in (
        json.dumps(update).encode(),
        json.dumps(update, ensure_ascii=False).encode(),
        b" \r\n\t" + json.dumps(update).encode() + b"\n ",
        b"\xef\xbb\xbf" + json.dumps(update).encode(),
        b"[1, 2]",
        b'"text"',
    ):
        assert update_json(body) == json.loads(body), body
    not_json = [b"", b"   ", b"{", b'{"a": 1} {"b": 2}', b'{"a": 1} x', b"\xff\xfe{}", b"nope"]
    for body in not_json:
        try:
            update_json(body)
        except ValueError:
            continue
        raise AssertionError(body)
