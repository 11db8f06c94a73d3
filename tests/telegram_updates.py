"""Bot API updates as a person in a private chat sends them, as JSON dicts.

Shared by the unit tests of bot/updates.py and by the fake Bot API server of the
end-to-end tests, so that neither imports the other.
"""

from __future__ import annotations

import itertools
import time
from typing import Any


class UpdateIds:
    """The counters Telegram keeps: update, message and callback query ids."""

    def __init__(self) -> None:
        self._updates = itertools.count(10_000)
        self._messages = itertools.count(1)
        self._callbacks = itertools.count(1)

    def update(self) -> int:
        return next(self._updates)

    def message(self) -> int:
        return next(self._messages)

    def callback(self) -> str:
        return f"cb{next(self._callbacks)}"


class TelegramUser:
    """A person in a private chat with the bot; builds the updates their actions produce."""

    def __init__(
        self, ids: UpdateIds, user_id: int, *, first_name: str = "Maria", language: str = "it"
    ) -> None:
        self.ids = ids
        self.id = user_id
        self.first_name = first_name
        self.language = language

    @property
    def user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language,
        }

    def message_update(self, **content: Any) -> dict[str, Any]:
        return {
            "update_id": self.ids.update(),
            "message": {
                "message_id": self.ids.message(),
                "date": int(time.time()),
                "chat": {"id": self.id, "type": "private", "first_name": self.first_name},
                "from": self.user,
                **content,
            },
        }

    def text_update(self, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.message_update(**content)

    def edited_update(
        self, update: dict[str, Any], text: str, *, after: int = 20
    ) -> dict[str, Any]:
        """The update Telegram sends when the message `update` carried is edited to `text`,
        `after` seconds after it was sent (an update of its own, with a new id)."""
        message = dict(update["message"])
        message.pop("entities", None)
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        message.update(text=text, edit_date=message["date"] + after)
        return {"update_id": self.ids.update(), "edited_message": message}

    def callback_update(
        self, data: str, message: dict[str, Any], *, from_user: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A tap on a button of `message` (the message as the bot sent it, public fields)."""
        return {
            "update_id": self.ids.update(),
            "callback_query": {
                "id": self.ids.callback(),
                "from": from_user or self.user,
                "message": message,
                "chat_instance": str(self.id),
                "data": data,
            },
        }
