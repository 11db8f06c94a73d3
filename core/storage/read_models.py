"""Read models: the queries behind reports, the office's tables, documents and /metrics.

They only read, and they answer with plain figures or with rows joined for a page, not
with aggregates to change; the repositories (core/storage/repositories/) hold what a use
case loads to act on. Kept apart so that the write side stays small and each read can be
shaped for its one screen. Reached as `uow.read`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import distinct, func, or_, select

from core.domain.ledger import PostingKind
from core.domain.outbox import OutboxStatus
from core.domain.shops import ShopStatus
from core.storage import models as m
from core.storage.repositories.base import _Repository


@dataclass(frozen=True)
class StateCounts:
    """What /metrics reports from the database: rows by state, never by person."""

    outbox: dict[tuple[str, str], int]  # (channel, status) -> rows
    charges: dict[str, int]  # status -> rows
    confirmed_payments: int


def _aware(value: datetime | str | None) -> datetime | None:
    """A timestamp from an aggregate: SQLite returns max() of a datetime column as text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


class ReadModels(_Repository):
    # --- the office's dashboard and tables -------------------------------------------

    async def outbox_backlog(self, municipality_id: int) -> int:
        """Messages of the municipality still to send (pending or being sent)."""
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(m.OutboxMessage)
                .where(
                    m.OutboxMessage.municipality_id == municipality_id,
                    m.OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                )
            )
            or 0
        )

    async def shops_with_status(self, municipality_id: int, status: ShopStatus) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(m.Shop)
                .where(m.Shop.municipality_id == municipality_id, m.Shop.status == status)
            )
            or 0
        )

    async def appeals_open(self, municipality_id: int) -> int:
        """Appeals waiting for the office's decision."""
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(m.Appeal)
                .where(m.Appeal.municipality_id == municipality_id, m.Appeal.status == "open")
            )
            or 0
        )

    async def acts_waiting(self, municipality_id: int) -> int:
        """Four-eyes acts prepared and not yet decided."""
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(m.OfficeAct)
                .where(
                    m.OfficeAct.municipality_id == municipality_id,
                    m.OfficeAct.status == "prepared",
                )
            )
            or 0
        )

    async def search_applications(
        self,
        municipality_id: int,
        *,
        protocol: str,
        codice_fiscale: str | None,
        phone: str | None,
        phone_digits: str | None,
        limit: int | None,
    ) -> Sequence[tuple[m.Application, m.Citizen]]:
        """Applications with their citizen, newest first: the protocol contains `protocol`
        (empty: any), or the codice fiscale contains `codice_fiscale`, or the phone is
        `phone`, or it contains `phone_digits`."""
        query = (
            select(m.Application, m.Citizen)
            .join(m.Citizen, m.Citizen.id == m.Application.citizen_id)
            .where(m.Application.municipality_id == municipality_id)
        )
        if protocol:
            conditions: list[Any] = [m.Application.protocol.contains(protocol, autoescape=True)]
            if codice_fiscale is not None:
                conditions.append(
                    m.Citizen.codice_fiscale.contains(codice_fiscale, autoescape=True)
                )
            if phone is not None:
                conditions.append(m.Citizen.phone == phone)
            if phone_digits is not None:
                conditions.append(m.Citizen.phone.contains(phone_digits, autoescape=True))
            query = query.where(or_(*conditions))
        query = query.order_by(m.Application.id.desc())
        if limit is not None:
            query = query.limit(limit)
        return [(app, citizen) for app, citizen in await self.session.execute(query)]

    async def latest_decisions(self, application_ids: Sequence[int]) -> dict[int, m.AllocationLine]:
        """Each application's line in the latest tranche that decided on it and was not
        withdrawn (list 1, list 2 or excluded); an application no such tranche holds is
        left out (not assessed yet)."""
        if not application_ids:
            return {}
        rows = await self.session.execute(
            select(m.AllocationLine)
            .join(m.Allocation, m.Allocation.id == m.AllocationLine.allocation_id)
            .where(
                m.AllocationLine.application_id.in_(list(application_ids)),
                m.Allocation.withdrawn_at.is_(None),
            )
            .order_by(m.Allocation.tranche, m.Allocation.id)
        )
        # In tranche order: a later tranche's line replaces an earlier one's.
        return {line.application_id: line for line in rows.scalars()}

    async def messages_to(
        self, municipality_id: int, addresses: Sequence[str], limit: int
    ) -> Sequence[m.OutboxMessage]:
        """The municipality's latest messages to any of these addresses, newest first."""
        return (
            await self.session.scalars(
                select(m.OutboxMessage)
                .where(
                    m.OutboxMessage.municipality_id == municipality_id,
                    m.OutboxMessage.address.in_(list(addresses)),
                )
                .order_by(m.OutboxMessage.id.desc())
                .limit(limit)
            )
        ).all()

    async def decision_notices(self, application_id: int) -> Sequence[m.OutboxMessage]:
        """The notice of the decision on this application (a credit run queues at most one)."""
        return (
            await self.session.scalars(
                select(m.OutboxMessage)
                .where(m.OutboxMessage.application_id == application_id)
                .order_by(m.OutboxMessage.id)
            )
        ).all()

    # --- documents ------------------------------------------------------------------

    async def determina_lines(
        self, allocation_id: int
    ) -> Sequence[tuple[m.AllocationLine, m.Application]]:
        """A tranche's lines with their application, by protocol."""
        rows = await self.session.execute(
            select(m.AllocationLine, m.Application)
            .join(m.Application, m.Application.id == m.AllocationLine.application_id)
            .where(m.AllocationLine.allocation_id == allocation_id)
            .order_by(m.Application.protocol)
        )
        return [(line, application) for line, application in rows]

    async def allocation_with_applicants(
        self, allocation_id: int
    ) -> Sequence[tuple[m.AllocationLine, m.Application, m.Citizen]]:
        """A tranche's lines with their application and citizen, by protocol."""
        rows = await self.session.execute(
            select(m.AllocationLine, m.Application, m.Citizen)
            .join(m.Application, m.Application.id == m.AllocationLine.application_id)
            .join(m.Citizen, m.Citizen.id == m.Application.citizen_id)
            .where(m.AllocationLine.allocation_id == allocation_id)
            .order_by(m.Application.protocol)
        )
        return [(line, app, citizen) for line, app, citizen in rows]

    # --- what a chat shows ----------------------------------------------------------

    async def latest_postings(
        self, account_id: int, limit: int
    ) -> Sequence[tuple[m.Posting, str | None]]:
        """The account's latest postings, newest first, with the shop of a payment or refund."""
        rows = await self.session.execute(
            select(m.Posting, m.Shop.name)
            .outerjoin(m.Charge, m.Charge.id == m.Posting.charge_id)
            .outerjoin(m.Shop, m.Shop.id == m.Charge.shop_id)
            .where(
                (m.Posting.from_account_id == account_id) | (m.Posting.to_account_id == account_id)
            )
            .order_by(m.Posting.id.desc())
            .limit(limit)
        )
        return [(posting, shop_name) for posting, shop_name in rows.all()]

    async def paid_out(self, account_id: int, kind: PostingKind) -> tuple[int, datetime | None]:
        """What postings of this kind took out of the account: (total, when the last did)."""
        row = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(m.Posting.amount_cents), 0),
                    func.max(m.Posting.created_at),
                ).where(m.Posting.from_account_id == account_id, m.Posting.kind == kind.value)
            )
        ).one()
        return int(row[0] or 0), _aware(row[1])

    async def last_paid_out(
        self, account_id: int, kind: PostingKind
    ) -> tuple[int, datetime, date | None] | None:
        """The latest posting of this kind out of the account: (amount, when, the execution
        date of its settlement's SEPA file, if it has one)."""
        row = (
            await self.session.execute(
                select(m.Posting.amount_cents, m.Posting.created_at, m.Settlement.execution_date)
                .outerjoin(m.Settlement, m.Settlement.id == m.Posting.settlement_id)
                .where(m.Posting.from_account_id == account_id, m.Posting.kind == kind.value)
                .order_by(m.Posting.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        when = _aware(row[1])
        assert when is not None
        return int(row[0]), when, row[2]

    async def latest_sent_to(
        self, channel: str, address: str, limit: int
    ) -> Sequence[tuple[dict[str, Any], str, str | None]]:
        """(payload, status, provider's id) of the latest messages to an address, newest first."""
        rows = await self.session.execute(
            select(
                m.OutboxMessage.payload, m.OutboxMessage.status, m.OutboxMessage.provider_message_id
            )
            .where(m.OutboxMessage.channel == channel, m.OutboxMessage.address == address)
            .order_by(m.OutboxMessage.id.desc())
            .limit(limit)
        )
        return [(payload, status, provider_id) for payload, status, provider_id in rows]

    # --- the transparency report ----------------------------------------------------

    async def flow(
        self, municipality_id: int, kind: PostingKind, *, count_receivers: bool
    ) -> tuple[int, int]:
        """Postings of a kind: (total cents, distinct accounts on the receiving side, or on
        the paying side)."""
        column = m.Posting.to_account_id if count_receivers else m.Posting.from_account_id
        row = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(m.Posting.amount_cents), 0),
                    func.count(distinct(column)),
                ).where(m.Posting.municipality_id == municipality_id, m.Posting.kind == kind.value)
            )
        ).one()
        return int(row[0]), int(row[1])

    async def flow_by_account(
        self, municipality_id: int, kind: PostingKind, *, receivers: bool
    ) -> dict[int, int]:
        """Postings of a kind: total cents per account on the receiving side, or on the
        paying side."""
        column = m.Posting.to_account_id if receivers else m.Posting.from_account_id
        rows = await self.session.execute(
            select(column, func.sum(m.Posting.amount_cents))
            .where(m.Posting.municipality_id == municipality_id, m.Posting.kind == kind.value)
            .group_by(column)
        )
        return {int(account): int(cents) for account, cents in rows.all()}

    # --- /metrics -------------------------------------------------------------------

    async def state_counts(self) -> StateCounts:
        by_status = (
            await self.session.execute(
                select(m.OutboxMessage.channel, m.OutboxMessage.status, func.count()).group_by(
                    m.OutboxMessage.channel, m.OutboxMessage.status
                )
            )
        ).all()
        charges = (
            await self.session.execute(
                select(m.Charge.status, func.count()).group_by(m.Charge.status)
            )
        ).all()
        confirmed = await self.session.scalar(
            select(func.count()).select_from(m.Charge).where(m.Charge.confirmed_at.is_not(None))
        )
        return StateCounts(
            outbox={(channel, status): int(count) for channel, status, count in by_status},
            charges={status: int(count) for status, count in charges},
            confirmed_payments=int(confirmed or 0),
        )
