"""Which message of a chat carries the buttons that may still be tapped.

Only the latest question's buttons act, besides those that mean the same from any
message (core.dialogue.menus.button_acts: Saldo, Negozi, a language). Older ones would
answer the wrong question: "Yes" under "any work income?" tapped while the bot asks "any
pension?" carries the same option key, so neither the signature nor the
engine's list of offered keys can tell them apart. The message id can: the
sender records the id of the message that carried a reply's keyboard as the
outbox row's provider_message_id, and the latest row with options of a chat is
the one question open. A newer question still waiting in the outbox means the
one on screen is already answered.
"""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.storage import models as m
from core.storage.uow import UnitOfWork
from outbox.delivery import FAILED

# Rows of one chat looked at, newest first: a question is never followed by this many
# replies without buttons before the person answers it.
_LOOKBACK = 30


async def _conversation(uow: UnitOfWork, chat_id: str) -> m.Conversation | None:
    return await uow.conversations.latest(Channel.TELEGRAM.value, chat_id)


async def chat_language(core: Core, chat_id: str) -> str | None:
    """The language the chat chose in the bot (or was given at its first message)."""
    async with core.uow() as uow:
        conversation = await _conversation(uow, chat_id)
        return conversation.language if conversation is not None else None


async def last_read(core: Core, chat_id: str) -> str | None:
    """The id of the last message the engine read from the chat (ChatMemory.last_message:
    for a tapped button, the message that carried it), None if none."""
    async with core.uow() as uow:
        conversation = await _conversation(uow, chat_id)
        read = (conversation.data or {}).get("last_message") if conversation else None
        return read if isinstance(read, str) else None


async def current_keyboard(core: Core, chat_id: str) -> str | None:
    """The Telegram message id whose buttons are current in `chat_id`, if any."""
    async with core.uow() as uow:
        # A question answered is no longer open, even when the reply to it had no buttons:
        # the engine clears the options it remembers when a step is answered.
        conversation = await _conversation(uow, chat_id)
        if conversation is None or not (conversation.data or {}).get("options"):
            return None
        rows = await uow.read.latest_sent_to(Channel.TELEGRAM.value, chat_id, _LOOKBACK)
        for payload, status, provider_message_id in rows:
            if status == FAILED or not isinstance(payload, dict) or not payload.get("options"):
                continue
            return str(provider_message_id) if provider_message_id else None
    return None
