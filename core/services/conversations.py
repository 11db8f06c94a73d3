"""Finding a chat's saved state, locked for the turn that changes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


async def find_for_update(
    uow: UnitOfWork, municipality_id: int | None, channel: str, address: str
) -> m.Conversation | None:
    """The conversation of this address with this municipality (None: not routed yet).

    Locked until commit on PostgreSQL, so two messages of the same person handled by two
    processes at once take turns instead of overwriting each other's answers. (SQLite
    takes a write lock at BEGIN IMMEDIATE already.)"""
    return await uow.conversations.find_for_update(municipality_id, channel, address)


async def latest_for_update(uow: UnitOfWork, channel: str, address: str) -> m.Conversation | None:
    """The most recent conversation of an address on a channel, whatever its municipality.

    Telegram has one bot for every town: the town a user picked is the municipality of
    their conversation."""
    return await uow.conversations.latest_for_update(channel, address)


async def has_stopped(uow: UnitOfWork, municipality_id: int, channel: str, address: str) -> bool:
    """Whether this address wrote STOP: general notices (a credit run) then skip it.
    Payment codes and receipts of the person's own payments are sent all the same."""
    return await uow.conversations.is_stopped(municipality_id, channel, address)


async def record_inbound(uow: UnitOfWork, channel: str, message_id: str, now: datetime) -> bool:
    """Remember a provider's message id (at most 64 characters kept); False when it was
    handled already, so a delivery retried by the provider is answered once."""
    return await uow.conversations.record_inbound(channel, message_id[:64], now)


async def start(
    uow: UnitOfWork,
    municipality_id: int | None,
    channel: str,
    address: str,
    language: str,
    now: datetime,
) -> tuple[m.Conversation, bool]:
    """A new conversation for this address, or (False) the one a message arriving at the
    same moment has just created, locked for this turn."""
    conversation = m.Conversation(
        municipality_id=municipality_id,
        channel=channel,
        address=address,
        language=language,
        flow=None,
        step=None,
        data={},
        stopped=False,
        updated_at=now,
    )
    try:
        async with uow.savepoint():
            uow.add(conversation)
            await uow.flush()
    except IntegrityError:
        # Two first messages at once: the other one created it; take turns on it.
        found = await find_for_update(uow, municipality_id, channel, address)
        if found is None:
            raise
        return found, False
    return conversation, True


async def forget(uow: UnitOfWork, conversation: m.Conversation) -> None:
    """Delete a conversation (a chat's stale one with a town it has left)."""
    await uow.delete(conversation)
    await uow.flush()


async def reload(uow: UnitOfWork, conversation: m.Conversation) -> None:
    """Read the conversation again after a turn was undone (its changes rolled back)."""
    await uow.refresh(conversation)


async def language_of(
    uow: UnitOfWork, municipality_id: int, channel: str, address: str
) -> str | None:
    """The language a chat chose with a town, or None when it never wrote to it."""
    conversation = await uow.conversations.find(municipality_id, channel, address)
    return conversation.language if conversation is not None else None
