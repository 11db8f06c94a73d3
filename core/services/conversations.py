"""Finding a chat's saved state, locked for the turn that changes it."""

from __future__ import annotations

from sqlalchemy import select

from core.storage import models as m
from core.storage.uow import UnitOfWork


async def find_for_update(
    uow: UnitOfWork, municipality_id: int | None, channel: str, address: str
) -> m.Conversation | None:
    """The conversation of this address with this municipality (None: not routed yet).

    Locked until commit on PostgreSQL, so two messages of the same person handled by two
    processes at once take turns instead of overwriting each other's answers. (SQLite
    takes a write lock at BEGIN IMMEDIATE already.)"""
    query = select(m.Conversation).where(
        m.Conversation.channel == channel, m.Conversation.address == address
    )
    if municipality_id is None:
        query = query.where(m.Conversation.municipality_id.is_(None))
    else:
        query = query.where(m.Conversation.municipality_id == municipality_id)
    return await uow.session.scalar(query.order_by(m.Conversation.id).limit(1).with_for_update())


async def latest_for_update(uow: UnitOfWork, channel: str, address: str) -> m.Conversation | None:
    """The most recent conversation of an address on a channel, whatever its municipality.

    Telegram has one bot for every town: the town a user picked is the municipality of
    their conversation."""
    return await uow.session.scalar(
        select(m.Conversation)
        .where(m.Conversation.channel == channel, m.Conversation.address == address)
        .order_by(m.Conversation.updated_at.desc(), m.Conversation.id.desc())
        .limit(1)
        .with_for_update()
    )


async def has_stopped(uow: UnitOfWork, municipality_id: int, channel: str, address: str) -> bool:
    """Whether this address wrote STOP: general notices (a credit run) then skip it.
    Payment codes and receipts of the person's own payments are sent all the same."""
    stopped = await uow.session.scalar(
        select(m.Conversation.stopped).where(
            m.Conversation.municipality_id == municipality_id,
            m.Conversation.channel == channel,
            m.Conversation.address == address,
        )
    )
    return bool(stopped)
