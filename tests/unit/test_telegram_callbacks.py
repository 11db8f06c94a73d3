"""Signed callback data: valid only for the chat it was made for, and only unaltered."""

from __future__ import annotations

import pytest

from bot.callbacks import MAX_CALLBACK_BYTES, CallbackSigner

SIGNER = CallbackSigner.from_bot_token("123:abc")


def test_round_trip() -> None:
    data = SIGNER.sign("1001", "yes")
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert SIGNER.verify("1001", data) == "yes"


def test_keys_with_the_separator_survive() -> None:
    assert SIGNER.verify("1001", SIGNER.sign("1001", "shop|12")) == "shop|12"


def test_a_button_of_another_chat_is_refused() -> None:
    assert SIGNER.verify("1002", SIGNER.sign("1001", "yes")) is None


@pytest.mark.parametrize("data", [None, "", "yes", "yes|", "|abc", "no|" + "A" * 11, "yes|x"])
def test_junk_and_altered_data_are_refused(data: str | None) -> None:
    assert SIGNER.verify("1001", data) is None


def test_changing_the_key_breaks_the_signature() -> None:
    _, _, signature = SIGNER.sign("1001", "no").partition("|")
    assert SIGNER.verify("1001", f"yes|{signature}") is None


def test_another_token_does_not_verify() -> None:
    other = CallbackSigner.from_bot_token("123:other")
    assert other.verify("1001", SIGNER.sign("1001", "yes")) is None


def test_keys_too_long_for_telegram_are_a_bug_reported_loudly() -> None:
    with pytest.raises(ValueError):
        SIGNER.sign("1001", "k" * 60)
