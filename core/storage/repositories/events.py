"""The event logs: identity events (only ever added; the database refuses changes) and
security events, the rows rate limits count (core.services.security says which and why).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from core.storage import models as m
from core.storage.repositories.base import _Repository
from core.storage.repositories.code_filter import CodeFilter


class IdentityEventRepository(_Repository):
    """The identity log: rows are only ever added (the database refuses changes)."""

    async def record(self, event: m.IdentityEvent) -> None:
        self.session.add(event)
        await self.session.flush()

    async def count_since(self, citizen_id: int, kind: str, since: datetime) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(m.IdentityEvent)
                .where(
                    m.IdentityEvent.citizen_id == citizen_id,
                    m.IdentityEvent.kind == kind,
                    m.IdentityEvent.created_at >= since,
                )
            )
            or 0
        )

    async def for_citizen(self, citizen_id: int) -> Sequence[m.IdentityEvent]:
        return (
            await self.session.scalars(
                select(m.IdentityEvent)
                .where(m.IdentityEvent.citizen_id == citizen_id)
                .order_by(m.IdentityEvent.id)
            )
        ).all()


class SecurityEventRepository(_Repository):
    """The rows rate limits count (core.services.security says which and why)."""

    async def record(self, event: m.SecurityEvent, *, drop_before: datetime | None) -> None:
        """Add one event; with `drop_before`, the same key's rows older than it go first
        (the key: its kind, and its shop or its channel and address when it has them)."""
        if drop_before is not None:
            old = delete(m.SecurityEvent).where(
                m.SecurityEvent.kind == event.kind, m.SecurityEvent.created_at < drop_before
            )
            if event.shop_id is not None:
                old = old.where(m.SecurityEvent.shop_id == event.shop_id)
            if event.channel is not None and event.address is not None:
                old = old.where(
                    m.SecurityEvent.channel == event.channel,
                    m.SecurityEvent.address == event.address,
                )
            await self.session.execute(old.execution_options(synchronize_session=False))
        self.session.add(event)
        await self.session.flush()

    async def count(
        self,
        kind: str,
        since: datetime,
        *,
        shop_id: int | None = None,
        channel: str | None = None,
        address: str | None = None,
        detail: str | None = None,
    ) -> int:
        """Events of a kind after `since`, of a shop, a channel, an address or a detail."""
        query = (
            select(func.count())
            .select_from(m.SecurityEvent)
            .where(m.SecurityEvent.kind == kind, m.SecurityEvent.created_at > since)
        )
        if shop_id is not None:
            query = query.where(m.SecurityEvent.shop_id == shop_id)
        if channel is not None:
            query = query.where(m.SecurityEvent.channel == channel)
        if address is not None:
            query = query.where(m.SecurityEvent.address == address)
        if detail is not None:
            query = query.where(m.SecurityEvent.detail == detail)
        return int(await self.session.scalar(query) or 0)

    async def times(
        self, kind: str, since: datetime, *, shop_id: int, detail: str
    ) -> Sequence[datetime]:
        """When a shop's events of a kind and detail happened after `since`, oldest first."""
        return (
            await self.session.scalars(
                select(m.SecurityEvent.created_at)
                .where(
                    m.SecurityEvent.kind == kind,
                    m.SecurityEvent.shop_id == shop_id,
                    m.SecurityEvent.created_at > since,
                    m.SecurityEvent.detail == detail,
                )
                .order_by(m.SecurityEvent.created_at)
            )
        ).all()

    async def of_detail(
        self, kind: str, since: datetime, detail: str
    ) -> Sequence[tuple[int | None, datetime]]:
        """(shop id, when) of the events of a kind and detail after `since`, at every shop,
        oldest first (a person's wrong payment codes, core/services/charges/person_locks.py)."""
        rows = await self.session.execute(
            select(m.SecurityEvent.shop_id, m.SecurityEvent.created_at)
            .where(
                m.SecurityEvent.kind == kind,
                m.SecurityEvent.created_at > since,
                m.SecurityEvent.detail == detail,
            )
            .order_by(m.SecurityEvent.created_at)
        )
        return [(shop_id, when) for shop_id, when in rows.all()]

    async def of_address(
        self, kind: str, channel: str, address: str, since: datetime
    ) -> Sequence[m.SecurityEvent]:
        """The address's events of a kind after `since`, the oldest first."""
        rows = await self.session.scalars(
            select(m.SecurityEvent)
            .where(
                m.SecurityEvent.kind == kind,
                m.SecurityEvent.channel == channel,
                m.SecurityEvent.address == address,
                m.SecurityEvent.created_at > since,
            )
            .order_by(m.SecurityEvent.created_at, m.SecurityEvent.id)
        )
        return rows.all()

    async def mark_code(
        self,
        kind: str,
        channel: str,
        address: str,
        code_hash: str,
        *,
        proven_at: datetime | None = None,
        wrong_try: bool = False,
    ) -> None:
        """The code sent with this hash to the address came back right (`proven_at`), or
        a wrong code was typed against it (`wrong_try`). One statement: two processes
        counting tries at once both count."""
        values: dict[str, Any] = {}
        if proven_at is not None:
            values["proven_at"] = proven_at
        if wrong_try:
            values["wrong_tries"] = m.SecurityEvent.wrong_tries + 1
        await self.session.execute(
            update(m.SecurityEvent)
            .where(
                m.SecurityEvent.kind == kind,
                m.SecurityEvent.channel == channel,
                m.SecurityEvent.address == address,
                m.SecurityEvent.code_hash == code_hash,
                m.SecurityEvent.proven_at.is_(None),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def unproven_of_shop(
        self, kind: str, shop_id: int, detail: str, since: datetime
    ) -> Sequence[datetime]:
        """When the shop's events of a kind and detail after `since` whose code never came
        back happened, the oldest first."""
        return (
            await self.session.scalars(
                select(m.SecurityEvent.created_at)
                .where(
                    m.SecurityEvent.kind == kind,
                    m.SecurityEvent.shop_id == shop_id,
                    m.SecurityEvent.detail == detail,
                    m.SecurityEvent.created_at > since,
                    m.SecurityEvent.proven_at.is_(None),
                )
                .order_by(m.SecurityEvent.created_at)
            )
        ).all()

    async def codes_of_shop(
        self, kind: str, detail: str, shop_id: int, since: datetime, only: CodeFilter
    ) -> Sequence[m.SecurityEvent]:
        """The shop's codes of a kind and detail sent after `since` whose request is not
        void (or all, `only.void_too`; of them only those never typed back, when
        `only.unproven`), of a payment, of the chat that asked them or of a hash when
        given; the oldest first."""
        query = select(m.SecurityEvent).where(
            m.SecurityEvent.kind == kind,
            m.SecurityEvent.shop_id == shop_id,
            m.SecurityEvent.detail == detail,
            m.SecurityEvent.created_at > since,
        )
        if not only.void_too:
            query = query.where(m.SecurityEvent.voided.is_(None))
        if only.unproven:
            query = query.where(m.SecurityEvent.proven_at.is_(None))
        if only.charge_id is not None:
            query = query.where(m.SecurityEvent.charge_id == only.charge_id)
        if only.asked_by is not None:
            query = query.where(m.SecurityEvent.asked_by == only.asked_by)
        if only.code_hash is not None:
            query = query.where(m.SecurityEvent.code_hash == only.code_hash)
        rows = await self.session.scalars(
            query.order_by(m.SecurityEvent.created_at, m.SecurityEvent.id)
        )
        return rows.all()

    async def void_code(self, event_id: int, reason: str) -> bool:
        """Mark a code's request void, with why: once (compare-and-set, so of two
        transactions voiding it at once one does); False when it already was."""
        done = await self.session.execute(
            update(m.SecurityEvent)
            .where(m.SecurityEvent.id == event_id, m.SecurityEvent.voided.is_(None))
            .values(voided=reason)
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    async def unproven_of_town(
        self, kind: str, municipality_id: int, since: datetime
    ) -> Sequence[tuple[str, str, str | None, datetime]]:
        """(channel, address, detail, when) of the town's events of a kind after `since`
        whose code never came back."""
        rows = await self.session.execute(
            select(
                m.SecurityEvent.channel,
                m.SecurityEvent.address,
                m.SecurityEvent.detail,
                m.SecurityEvent.created_at,
            ).where(
                m.SecurityEvent.kind == kind,
                m.SecurityEvent.municipality_id == municipality_id,
                m.SecurityEvent.created_at > since,
                m.SecurityEvent.proven_at.is_(None),
                m.SecurityEvent.channel.is_not(None),
                m.SecurityEvent.address.is_not(None),
            )
        )
        return [(str(c), str(a), d, at) for c, a, d, at in rows.all()]

    async def forget_address(self, channel: str, address: str) -> None:
        """Drop every row naming this address (its person was erased)."""
        await self.session.execute(
            delete(m.SecurityEvent)
            .where(m.SecurityEvent.channel == channel, m.SecurityEvent.address == address)
            .execution_options(synchronize_session=False)
        )

    async def forget_asker(self, asked_by: str) -> None:
        """Forget which chat asked the codes it asked ("channel:address"): the chat left
        the shop, and the rows themselves belong to the customers who got the codes."""
        await self.session.execute(
            update(m.SecurityEvent)
            .where(m.SecurityEvent.asked_by == asked_by)
            .values(asked_by=None)
            .execution_options(synchronize_session=False)
        )

    async def latest(self, kind: str, shop_id: int) -> datetime | None:
        """When the shop's latest event of this kind happened."""
        return await self.session.scalar(
            select(func.max(m.SecurityEvent.created_at)).where(
                m.SecurityEvent.kind == kind, m.SecurityEvent.shop_id == shop_id
            )
        )

    async def refusals_of_town(
        self, kind: str, municipality_id: int
    ) -> Sequence[tuple[int, datetime, int, str | None, str | None, datetime | None]]:
        """(shop id, when, amount, `detail`, channel, `proven_at`) of the town's events of
        a kind naming a payment, the latest first."""
        rows = await self.session.execute(
            select(
                m.SecurityEvent.shop_id,
                m.SecurityEvent.created_at,
                m.Charge.amount_cents,
                m.SecurityEvent.detail,
                m.SecurityEvent.channel,
                m.SecurityEvent.proven_at,
            )
            .join(m.Charge, m.Charge.id == m.SecurityEvent.charge_id)
            .where(m.SecurityEvent.kind == kind, m.Charge.municipality_id == municipality_id)
            .order_by(m.SecurityEvent.created_at.desc(), m.SecurityEvent.id.desc())
        )
        return [
            (int(shop), at, int(amount), detail, channel, proven_at)
            for shop, at, amount, detail, channel, proven_at in rows.all()
            if shop is not None
        ]

    async def challenges_of_citizen(
        self, kind: str, citizen_id: int, since: datetime, tries: int
    ) -> Sequence[m.SecurityEvent]:
        """The events of a kind after `since` naming a payment of the citizen that wait for
        their challenge (a hash, not proven, fewer than `tries` wrong tries), oldest first."""
        rows = await self.session.scalars(
            select(m.SecurityEvent)
            .join(m.Charge, m.Charge.id == m.SecurityEvent.charge_id)
            .where(
                m.SecurityEvent.kind == kind,
                m.Charge.citizen_id == citizen_id,
                m.SecurityEvent.created_at > since,
                m.SecurityEvent.proven_at.is_(None),
                m.SecurityEvent.code_hash.is_not(None),
                m.SecurityEvent.wrong_tries < tries,
            )
            .order_by(m.SecurityEvent.created_at, m.SecurityEvent.id)
        )
        return rows.all()

    async def prove_challenge(self, event_id: int, now: datetime, tries: int) -> bool:
        """The event's challenge came back right: proven now, once (compare-and-set, and
        never after `tries` wrong tries); False when it was proven or used up meanwhile."""
        done = await self.session.execute(
            update(m.SecurityEvent)
            .where(
                m.SecurityEvent.id == event_id,
                m.SecurityEvent.proven_at.is_(None),
                m.SecurityEvent.wrong_tries < tries,
            )
            .values(proven_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    async def renew_challenge(
        self, event_ids: Sequence[int], salt: str, code_hash: str, tries: int
    ) -> int:
        """A new challenge for these events still waiting for theirs (not proven, fewer
        than `tries` wrong tries, which are kept); how many took it."""
        done = await self.session.execute(
            update(m.SecurityEvent)
            .where(
                m.SecurityEvent.id.in_(event_ids),
                m.SecurityEvent.proven_at.is_(None),
                m.SecurityEvent.wrong_tries < tries,
            )
            .values(code_salt=salt, code_hash=code_hash)
            .execution_options(synchronize_session=False)
        )
        return int(done.rowcount or 0)  # type: ignore[attr-defined]

    async def challenge_wrong_try(self, event_ids: Sequence[int]) -> None:
        """A wrong challenge typed against these events. One statement: two processes
        counting tries at once both count."""
        await self.session.execute(
            update(m.SecurityEvent)
            .where(m.SecurityEvent.id.in_(event_ids), m.SecurityEvent.proven_at.is_(None))
            .values(wrong_tries=m.SecurityEvent.wrong_tries + 1)
            .execution_options(synchronize_session=False)
        )

    async def of_shops(
        self, kind: str, municipality_id: int, since: datetime
    ) -> Sequence[tuple[int, str, datetime]]:
        """(shop id, shop name, when) of the municipality's shops' events after `since`."""
        rows = await self.session.execute(
            select(m.SecurityEvent.shop_id, m.Shop.name, m.SecurityEvent.created_at)
            .join(m.Shop, m.Shop.id == m.SecurityEvent.shop_id)
            .where(
                m.SecurityEvent.kind == kind,
                m.Shop.municipality_id == municipality_id,
                m.SecurityEvent.created_at > since,
            )
        )
        return [(int(shop), str(name), at) for shop, name, at in rows.all() if shop is not None]
