"""Replies planned as Telegram calls: keyboards, request buttons, pins, cards, long texts."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.callbacks import CallbackSigner
from bot.render import MAX_TEXT, SendDocument, SendPin, SendText, plan, split_text
from core.domain.messages import DocumentRef, MapPin, Option, Reply, t

SIGNER = CallbackSigner(b"test-secret")


def test_plain_text_clears_any_request_keyboard() -> None:
    [step] = plan(Reply.of(t("Hello"), t("World")), "7", "en", SIGNER)
    assert isinstance(step, SendText)
    assert step.text == "Hello\nWorld"
    assert isinstance(step.markup, ReplyKeyboardRemove)
    assert step.protect is False


def test_options_become_signed_inline_buttons() -> None:
    reply = Reply.of(t("Continue?"), options=(Option("yes", t("Yes")), Option("no", t("No"))))
    [step] = plan(reply, "7", "en", SIGNER)
    assert isinstance(step, SendText) and isinstance(step.markup, InlineKeyboardMarkup)
    rows = step.markup.inline_keyboard
    assert [[b.text for b in row] for row in rows] == [["Yes", "No"]]
    assert SIGNER.verify("7", rows[0][0].callback_data) == "yes"  # type: ignore[arg-type]
    assert SIGNER.verify("8", rows[0][0].callback_data) is None  # type: ignore[arg-type]


def test_short_labels_share_rows_long_ones_do_not() -> None:
    numbers = tuple(Option(str(n), t(str(n))) for n in range(1, 8))
    [step] = plan(Reply.of(t("How many?"), options=numbers), "7", "en", SIGNER)
    assert isinstance(step.markup, InlineKeyboardMarkup)  # type: ignore[union-attr]
    assert [len(row) for row in step.markup.inline_keyboard] == [4, 3]  # type: ignore[union-attr]
    shops = tuple(Option(f"s{n}", t(f"Alimentari Rossi e figli {n}")) for n in range(3))
    [step] = plan(Reply.of(t("Shops"), options=shops), "7", "en", SIGNER)
    assert [len(row) for row in step.markup.inline_keyboard] == [1, 1, 1]  # type: ignore[union-attr]


def test_contact_request_is_a_reply_keyboard_that_stays_until_shared() -> None:
    [step] = plan(Reply.of(t("Share your number"), request="contact"), "7", "en", SIGNER)
    assert isinstance(step, SendText) and isinstance(step.markup, ReplyKeyboardMarkup)
    [[button]] = step.markup.keyboard
    assert button.request_contact is True and not button.request_location
    # A cancelled share or a typed word must not hide it; a plain reply removes it.
    assert not step.markup.one_time_keyboard and step.markup.is_persistent is True
    [after] = plan(Reply.of(t("Thank you")), "7", "en", SIGNER)
    assert isinstance(after, SendText) and isinstance(after.markup, ReplyKeyboardRemove)


def test_location_request_with_options_takes_two_messages() -> None:
    reply = Reply.of(
        t("Where are you?"), options=(Option("town", t("Search by town")),), request="location"
    )
    first, second = plan(reply, "7", "en", SIGNER)
    assert isinstance(first, SendText) and isinstance(first.markup, ReplyKeyboardMarkup)
    assert first.markup.keyboard[0][0].request_location is True
    assert isinstance(second, SendText) and isinstance(second.markup, InlineKeyboardMarkup)


def test_pin_and_card_follow_the_text() -> None:
    reply = Reply(
        texts=(t("Here"),),
        pin=MapPin(43.1, 13.2, "Forno", "Via Roma 1"),
        document=DocumentRef("card", "ABCDEFGHJK"),
    )
    text, pin, card = plan(reply, "7", "en", SIGNER)
    assert isinstance(text, SendText)
    assert pin == SendPin(43.1, 13.2, "Forno", "Via Roma 1")
    assert card == SendDocument("card", "ABCDEFGHJK")


def test_sensitive_replies_are_protected() -> None:
    [step] = plan(Reply.of(t("Code: {code}"), sensitive=True), "7", "en", SIGNER)
    assert isinstance(step, SendText) and step.protect is True


def test_long_texts_are_split_and_the_keyboard_goes_last() -> None:
    paragraphs = [t(f"Shop number {n} " + "x" * 300) for n in range(30)]
    reply = Reply.of(*paragraphs, options=(Option("more", t("More")),))
    steps = plan(reply, "7", "en", SIGNER)
    assert len(steps) > 1
    assert all(isinstance(s, SendText) and len(s.text) <= MAX_TEXT for s in steps)
    assert [s.markup is not None for s in steps] == [False] * (len(steps) - 1) + [True]  # type: ignore[union-attr]
    assert "".join(s.text for s in steps).replace("\n", "").replace(" ", "") == "".join(  # type: ignore[union-attr]
        f"Shop number {n} " + "x" * 300 for n in range(30)
    ).replace(" ", "")


def test_split_prefers_paragraphs_and_never_loses_text() -> None:
    text = "a" * 60 + "\n\n" + "b " * 40
    pieces = split_text(text, limit=70)
    assert pieces[0] == "a" * 60
    assert all(len(p) <= 70 for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace("\n", "").replace(" ", "")
    assert split_text("x" * 150, limit=70) == ["x" * 70, "x" * 70, "x" * 10]
