"""How to answer, said for the channel: numbers on SMS, buttons on Telegram.

A flow writes its question and its reminder once, in the words of a numbered
list ("Reply 1 for yes or 2 for no."), which is what an SMS or the terminal
shows. A channel with buttons renders these texts with `for_buttons`, so that
Telegram never asks anyone to type a number next to a keyboard.
"""

from __future__ import annotations

from core.domain.messages import Text, t

TAP_A_BUTTON = t("Please tap one of the buttons above.")
TAP_OR_CANCEL = t("Please tap one of the buttons above, or write ANNULLA.")
TAP_OR_MENU = t("Please tap one of the buttons above, or write MENU.")

_BUTTONS: dict[str, Text] = {
    "What do you want to do? Reply with the number.": t("What do you want to do?"),
    "Please answer 1 to continue or 2 to start again.": TAP_A_BUTTON,
    "Reply 1 for Italiano or 2 for English.": TAP_A_BUTTON,
    "Reply 1 for today or 2 for this month.": TAP_A_BUTTON,
    "Reply 1 for yes or 2 for no.": TAP_A_BUTTON,
    "Reply 1 if you agree, 2 if you do not.": TAP_A_BUTTON,
    "Reply 1 to change your application, or MENU.": TAP_OR_MENU,
    "Reply 1 to declare and send, 2 to change an answer, or ANNULLA.": TAP_OR_CANCEL,
    "Reply 1 to refund or 2 to leave it.": TAP_A_BUTTON,
    "Reply 1 to register a shop or 2 to join one, or MENU.": TAP_OR_MENU,
    "Reply 1 to send, 2 to change something, or ANNULLA.": TAP_OR_CANCEL,
    "Reply with the number of the answer to change.": TAP_A_BUTTON,
    "I will help you: reply with just the number of what you need.": t(
        "I will help you: just tap what you need."
    ),
    "Reply with the number of the kind of shop.": TAP_A_BUTTON,
    "Reply with the number of the payment to refund, or ANNULLA.": TAP_OR_CANCEL,
    "Share the position with the button, or reply 1 to skip.": t(
        "Share the position with the button, or tap Skip."
    ),
}


def for_buttons(text: Text) -> Text:
    """The text as a channel with buttons says it (the same text when it names no number)."""
    return _BUTTONS.get(text.msgid, text)


def numbered_hints() -> frozenset[str]:
    """The msgids that speak of numbers to type (a test checks Telegram never shows them)."""
    return frozenset(_BUTTONS)
