"""The outbox table: messages due for delivery, added in bulk with raw SQL, their leases
claimed, renewed and released, and marking them sent or failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from core.domain.outbox import OutboxStatus
from core.storage import models as m
from core.storage.outbox_trip import Accepted, mark_sent_plan
from core.storage.repositories.base import _placeholders, _Repository


class OutboxRepository(_Repository):
    async def by_id(self, message_id: int) -> m.OutboxMessage | None:
        return await self.session.get(m.OutboxMessage, message_id)

    async def by_provider_id(
        self, provider_message_id: str, *, lock: bool = False
    ) -> m.OutboxMessage | None:
        """The row the provider knows by this id; with `lock`, held until commit (see
        `by_id_locked`)."""
        query = select(m.OutboxMessage).where(
            m.OutboxMessage.provider_message_id == provider_message_id
        )
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def due(
        self,
        channel: str,
        now: datetime,
        limit: int,
        lock: bool,
        lane: int | None = None,
        created_since: datetime | None = None,
    ) -> Sequence[m.OutboxMessage]:
        """Rows to send now: of one lane, or every lane with the lower lanes first.
        `created_since`: only rows queued from then on (a development server's own)."""
        query = (
            select(m.OutboxMessage)
            .where(
                m.OutboxMessage.channel == channel,
                m.OutboxMessage.status == OutboxStatus.PENDING,
                m.OutboxMessage.next_attempt_at <= now,
            )
            .order_by(m.OutboxMessage.lane, m.OutboxMessage.id)
            .limit(limit)
        )
        if lane is not None:
            query = query.where(m.OutboxMessage.lane == lane)
        if created_since is not None:
            query = query.where(m.OutboxMessage.created_at >= created_since)
        if lock:
            query = query.with_for_update(skip_locked=True)
        return (await self.session.scalars(query)).all()

    async def add_many(self, common: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        """Queue many messages (a credit run's notices): `common` holds the values every row
        shares, `rows` the others, each row with the same keys.

        Hand-written with the driver's executemany because the ORM's bulk insert spends
        most of its time converting each row's values: here the shared values are converted
        once, and each row only its own (the JSON payload)."""
        if not rows:
            return
        table = m.OutboxMessage.__table__
        dialect = self.session.get_bind().dialect
        # Keys the same in every row, in the same order: the values go positionally.

        def converter(name: str) -> Any:
            return table.c[name].type._cached_bind_processor(dialect) or (lambda value: value)

        fixed = [converter(name)(value) for name, value in common.items()]
        own = [converter(name) for name in rows[0]]
        prepared = [
            (*fixed, *(convert(value) for convert, value in zip(own, row.values(), strict=True)))
            for row in rows
        ]
        names = [*common, *rows[0]]
        connection = await self.session.connection()
        await connection.exec_driver_sql(
            f"INSERT INTO {m.OutboxMessage.__tablename__} ({', '.join(names)}) "
            f"VALUES ({_placeholders(dialect.paramstyle, len(names))})",
            prepared,
        )

    async def release_expired_leases(
        self, channel: str, now: datetime, created_since: datetime | None = None
    ) -> None:
        """Rows claimed by a worker whose lease ended (it died, or hung): due again.
        `created_since`: only rows queued from then on, as in `due`."""
        query = (
            update(m.OutboxMessage)
            .where(
                m.OutboxMessage.channel == channel,
                m.OutboxMessage.status == "sending",
                m.OutboxMessage.next_attempt_at <= now,
            )
            .values(status="pending")
            .execution_options(synchronize_session=False)
        )
        if created_since is not None:
            query = query.where(m.OutboxMessage.created_at >= created_since)
        await self.session.execute(query)

    async def waiting_before(self, channel: str, moment: datetime) -> int:
        """Rows of `channel` queued before `moment` and not sent yet (pending, or claimed)."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(m.OutboxMessage)
            .where(
                m.OutboxMessage.channel == channel,
                m.OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                m.OutboxMessage.created_at < moment,
            )
        )
        return int(count or 0)

    async def renew_leases(self, ids: Sequence[int], until: datetime) -> int:
        """Rows still being sent by this worker keep their claim until `until`."""
        result = await self.session.execute(
            update(m.OutboxMessage)
            .where(m.OutboxMessage.id.in_(ids), m.OutboxMessage.status == "sending")
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def failed(
        self, municipality_id: int, since: datetime | None
    ) -> Sequence[m.OutboxMessage]:
        """A municipality's messages that failed or were reported undelivered."""
        query = select(m.OutboxMessage).where(
            m.OutboxMessage.municipality_id == municipality_id,
            m.OutboxMessage.status.in_(("failed", "undelivered")),
        )
        if since is not None:
            query = query.where(m.OutboxMessage.created_at >= since)
        return (await self.session.scalars(query.order_by(m.OutboxMessage.id))).all()

    async def by_ids_locked(self, ids: Sequence[int], lock: bool) -> Sequence[m.OutboxMessage]:
        """Rows by id, in id order, with `lock` held until commit (see `by_id_locked`)."""
        query = (
            select(m.OutboxMessage).where(m.OutboxMessage.id.in_(ids)).order_by(m.OutboxMessage.id)
        )
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).all()

    async def mark_sent(self, sent: Sequence[Accepted], now: datetime) -> set[tuple[int, int]]:
        """Rows the provider accepted, each (id, attempts when claimed, the provider's id), in
        this transaction (core/storage/outbox_trip.py). A row is written only while that
        claim still holds it (`sending`, the same attempts): a row whose lease another
        worker took over is left to it. Returns the (id, attempts) written. Only for rows
        without a code: a code's row must be scrubbed as well
        (core.services.outbox.forget_code)."""
        if not sent:
            return set()
        return await self._transaction.run_plan(mark_sent_plan(sent, now))

    async def by_id_locked(self, message_id: int, lock: bool) -> m.OutboxMessage | None:
        """A row, with `lock` held until commit (PostgreSQL: a worker and lease recovery
        take turns on it; SQLite holds the write lock for the whole transaction)."""
        query = select(m.OutboxMessage).where(m.OutboxMessage.id == message_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def last_id(self) -> int:
        """The newest row's id, 0 when there is none."""
        return int(
            await self.session.scalar(
                select(m.OutboxMessage.id).order_by(m.OutboxMessage.id.desc()).limit(1)
            )
            or 0
        )

    async def pending_after(self, message_id: int) -> Sequence[m.OutboxMessage]:
        """Rows still to send that were written after `message_id`, oldest first."""
        return (
            await self.session.scalars(
                select(m.OutboxMessage)
                .where(
                    m.OutboxMessage.id > message_id,
                    m.OutboxMessage.status == OutboxStatus.PENDING,
                )
                .order_by(m.OutboxMessage.id)
            )
        ).all()

    async def mark_all_pending_sent(self, now: datetime) -> None:
        """Every pending row counts as sent (the demo's history: nothing to deliver)."""
        await self.session.execute(
            update(m.OutboxMessage)
            .where(m.OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENT, sent_at=now)
        )

    async def for_charge(self, charge_id: int) -> Sequence[m.OutboxMessage]:
        """The messages queued about a payment (its code, receipts, notices), oldest first."""
        return (
            await self.session.scalars(
                select(m.OutboxMessage)
                .where(m.OutboxMessage.charge_id == charge_id)
                .order_by(m.OutboxMessage.id)
            )
        ).all()

    async def close_unsent(self, message_id: int, payload: dict[str, Any], why: str) -> bool:
        """Close a row never to be sent (failed, `why`, with `payload` in place of its own:
        a code's row scrubbed), only while it is still waiting: a row a worker claimed
        meanwhile is left to it. True when closed here."""
        result = await self.session.execute(
            update(m.OutboxMessage)
            .where(
                m.OutboxMessage.id == message_id,
                m.OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(status=OutboxStatus.FAILED, last_error=why, payload=payload)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def for_address(self, channel: str, address: str) -> Sequence[m.OutboxMessage]:
        return (
            await self.session.scalars(
                select(m.OutboxMessage)
                .where(m.OutboxMessage.channel == channel, m.OutboxMessage.address == address)
                .order_by(m.OutboxMessage.id)
            )
        ).all()
