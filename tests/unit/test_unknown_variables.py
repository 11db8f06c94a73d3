"""A misspelt variable is named at start (it would otherwise be ignored without a word)."""

from __future__ import annotations

from buonispesa.settings import unknown_variables


def test_a_misspelt_variable_of_ours_is_named_with_the_one_meant() -> None:
    assert unknown_variables(["BUONISPESA_DATABASE_ULR", "PATH", "HOME"]) == [
        ("BUONISPESA_DATABASE_ULR", "BUONISPESA_DATABASE_URL")
    ]
    assert unknown_variables(["TWILIO_AUTH_TOKN"]) == [("TWILIO_AUTH_TOKN", "TWILIO_AUTH_TOKEN")]
    # Every BUONISPESA_* is ours, even far from any name.
    assert unknown_variables(["BUONISPESA_FOO"]) == [("BUONISPESA_FOO", None)]


def test_known_names_and_other_programs_variables_say_nothing() -> None:
    names = [
        "BUONISPESA_DATABASE_URL",
        "BUONISPESA_OPERATOR",
        "BUONISPESA_LANGUAGE",
        "PUBLIC_BASE_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_REGION",  # the Twilio library's own
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_DESKTOP_PATH",
    ]
    assert unknown_variables(names) == []
