"""Conversations: one per channel address (and town), found, locked for a turn, recorded
inbound, and a whole dialogue turn loaded and written in one trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.sql import Select

from core.storage import models as m
from core.storage.repositories.base import _Repository
from core.storage.turn_trip import TurnAsk, TurnOutcome, turn_plan

C = TypeVar("C")


def _of_chat(municipality_id: int | None, channel: str, address: str) -> Select[m.Conversation]:
    """The conversation of a chat with a municipality (None: before a town was picked)."""
    query = select(m.Conversation).where(
        m.Conversation.channel == channel, m.Conversation.address == address
    )
    if municipality_id is None:
        return query.where(m.Conversation.municipality_id.is_(None))
    return query.where(m.Conversation.municipality_id == municipality_id)


class ConversationRepository(_Repository):
    async def find(
        self, municipality_id: int | None, channel: str, address: str
    ) -> m.Conversation | None:
        return await self.session.scalar(_of_chat(municipality_id, channel, address))

    async def of_address(
        self, municipality_id: int, channel: str, address: str
    ) -> Sequence[m.Conversation]:
        """An address's conversations with the municipality and with none (before a town
        was picked), oldest first."""
        return (
            await self.session.scalars(
                select(m.Conversation)
                .where(
                    m.Conversation.channel == channel,
                    m.Conversation.address == address,
                    or_(
                        m.Conversation.municipality_id == municipality_id,
                        m.Conversation.municipality_id.is_(None),
                    ),
                )
                .order_by(m.Conversation.id)
            )
        ).all()

    async def find_for_update(
        self, municipality_id: int | None, channel: str, address: str
    ) -> m.Conversation | None:
        """`find`, the row locked until commit (PostgreSQL; SQLite has one writer)."""
        query = _of_chat(municipality_id, channel, address)
        return await self.session.scalar(
            query.order_by(m.Conversation.id).limit(1).with_for_update()
        )

    async def latest(self, channel: str, address: str) -> m.Conversation | None:
        """The address's most recent conversation with any municipality."""
        return await self.session.scalar(
            select(m.Conversation)
            .where(m.Conversation.channel == channel, m.Conversation.address == address)
            .order_by(m.Conversation.updated_at.desc(), m.Conversation.id.desc())
            .limit(1)
        )

    async def latest_for_update(self, channel: str, address: str) -> m.Conversation | None:
        """The address's most recent conversation with any municipality, locked."""
        return await self.session.scalar(
            select(m.Conversation)
            .where(m.Conversation.channel == channel, m.Conversation.address == address)
            .order_by(m.Conversation.updated_at.desc(), m.Conversation.id.desc())
            .limit(1)
            .with_for_update()
        )

    async def is_stopped(self, municipality_id: int, channel: str, address: str) -> bool:
        stopped = await self.session.scalar(
            select(m.Conversation.stopped).where(
                m.Conversation.municipality_id == municipality_id,
                m.Conversation.channel == channel,
                m.Conversation.address == address,
            )
        )
        return bool(stopped)

    async def record_inbound(self, channel: str, provider_message_id: str, now: datetime) -> bool:
        """Remember a provider's message id; False when it was recorded already.

        One statement: a concurrent delivery of the same id waits on the unique index and
        then inserts nothing."""
        statement = (
            self._upsert_insert()(m.InboundMessage)
            .values(channel=channel, provider_message_id=provider_message_id, received_at=now)
            .on_conflict_do_nothing(index_elements=["channel", "provider_message_id"])
            .returning(m.InboundMessage.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None

    async def turn_in_one_trip(self, ask: TurnAsk[C]) -> TurnOutcome | None:
        """A plain dialogue turn in one plan (core/storage/turn_trip.py), or None with
        nothing written when it is not plain."""
        postgresql = self._transaction.dialect == "postgresql"
        plan = turn_plan(ask, lock_rows=postgresql)
        return await self._transaction.run_plan(plan)

    async def stopped_addresses(self, municipality_id: int) -> set[tuple[str, str]]:
        """(channel, address) of everyone who wrote STOP to this municipality."""
        rows = await self.session.execute(
            select(m.Conversation.channel, m.Conversation.address).where(
                m.Conversation.municipality_id == municipality_id,
                m.Conversation.stopped.is_(True),
            )
        )
        return {(channel, address) for channel, address in rows.all()}
