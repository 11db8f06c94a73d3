"""The channels a person writes from and is written to (stored as their values)."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"
    # The operator's terminal (`buonispesa chat`): stands in for a phone.
    TERMINAL = "terminal"
