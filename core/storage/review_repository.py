"""Queries over the checks on declarations (outcomes, revocations) and citizens' appeals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.storage import models as m
from core.storage.repositories.base import _Repository


class AuditRepository(_Repository):
    async def check_of(self, application_id: int) -> m.AuditCheck | None:
        return await self.session.scalar(
            select(m.AuditCheck).where(m.AuditCheck.application_id == application_id)
        )

    async def checks_by_protocol(self, municipality_id: int) -> Sequence[tuple[str, m.AuditCheck]]:
        """Every recorded outcome of the town, with its application's protocol."""
        rows = await self.session.execute(
            select(m.Application.protocol, m.AuditCheck)
            .join(m.Application, m.Application.id == m.AuditCheck.application_id)
            .where(m.AuditCheck.municipality_id == municipality_id)
        )
        return [(protocol, check) for protocol, check in rows.all()]

    async def standing_revocation(self, application_id: int) -> m.Revocation | None:
        """The revocation not undone (at most one: uq_revocations_standing), locked."""
        return await self.session.scalar(
            select(m.Revocation)
            .where(m.Revocation.application_id == application_id, m.Revocation.undone_at.is_(None))
            .with_for_update()
        )

    async def last_undone(self, application_id: int) -> m.Revocation | None:
        return await self.session.scalar(
            select(m.Revocation)
            .where(
                m.Revocation.application_id == application_id,
                m.Revocation.undone_at.is_not(None),
            )
            .order_by(m.Revocation.id.desc())
            .limit(1)
        )

    async def mark_undone(self, revocation_id: int, **values: object) -> bool:
        """Compare-and-set: of two undoings at once, one wins and the other changes nothing."""
        result = await self.session.execute(
            update(m.Revocation)
            .where(m.Revocation.id == revocation_id, m.Revocation.undone_at.is_(None))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def standing_revocations(
        self, municipality_id: int
    ) -> Sequence[tuple[m.Revocation, m.Application]]:
        """Revocations not undone, oldest first, with their applications."""
        rows = await self.session.execute(
            select(m.Revocation, m.Application)
            .join(m.Application, m.Application.id == m.Revocation.application_id)
            .where(
                m.Revocation.municipality_id == municipality_id,
                m.Revocation.undone_at.is_(None),
            )
            .order_by(m.Revocation.revoked_at, m.Revocation.id)
        )
        return [(revocation, application) for revocation, application in rows.all()]

    async def revocations_of(self, application_id: int) -> Sequence[m.Revocation]:
        return (
            await self.session.scalars(
                select(m.Revocation)
                .where(m.Revocation.application_id == application_id)
                .order_by(m.Revocation.id)
            )
        ).all()


class AppealRepository(_Repository):
    async def application(self, application_id: int) -> m.Application | None:
        return await self.session.get(m.Application, application_id)

    async def add_open(self, appeal: m.Appeal) -> bool:
        """Insert an open appeal; False (nothing written) when the application already has
        one (uq_appeals_open: another message filed it a moment earlier)."""
        try:
            async with self.session.begin_nested():
                self.session.add(appeal)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def by_id(self, appeal_id: int) -> m.Appeal | None:
        return await self.session.get(m.Appeal, appeal_id)

    async def of_citizen(self, citizen_id: int) -> Sequence[m.Appeal]:
        return (
            await self.session.scalars(
                select(m.Appeal).where(m.Appeal.citizen_id == citizen_id).order_by(m.Appeal.id)
            )
        ).all()

    async def of_application(self, application_id: int) -> Sequence[m.Appeal]:
        return (
            await self.session.scalars(
                select(m.Appeal)
                .where(m.Appeal.application_id == application_id)
                .order_by(m.Appeal.id)
            )
        ).all()

    async def in_town(
        self, municipality_id: int, status: str | None = None
    ) -> Sequence[tuple[m.Appeal, m.Application, m.Citizen]]:
        """Appeals of the town, oldest first (the open ones are the office's queue)."""
        query = (
            select(m.Appeal, m.Application, m.Citizen)
            .join(m.Application, m.Application.id == m.Appeal.application_id)
            .join(m.Citizen, m.Citizen.id == m.Appeal.citizen_id)
            .where(m.Appeal.municipality_id == municipality_id)
        )
        if status is not None:
            query = query.where(m.Appeal.status == status)
        rows = await self.session.execute(query.order_by(m.Appeal.created_at, m.Appeal.id))
        return [(appeal, application, citizen) for appeal, application, citizen in rows.all()]

    async def mark_decided(self, appeal_id: int, **values: object) -> bool:
        """Compare-and-set on the open status: an appeal is decided once."""
        result = await self.session.execute(
            update(m.Appeal)
            .where(m.Appeal.id == appeal_id, m.Appeal.status == "open")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def paid_credits(self, application_id: int) -> Sequence[datetime | None]:
        """When each tranche that paid this application was credited: the moments its credit
        notices were queued (a tranche that paid it nothing notified it only the first time,
        applications.decision_notified_at)."""
        return (
            await self.session.scalars(
                select(m.Allocation.credited_at)
                .join(m.AllocationLine, m.AllocationLine.allocation_id == m.Allocation.id)
                .join(m.Posting, m.Posting.allocation_line_id == m.AllocationLine.id)
                .where(
                    m.AllocationLine.application_id == application_id,
                    m.Allocation.credited_at.is_not(None),
                )
            )
        ).all()
