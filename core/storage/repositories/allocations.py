"""Allocations: a round's tranches (the amounts a determina approves per application) and
their lines, which tranche stands or waits, and marking a tranche credited or withdrawn
and its unpaid applications decided (`_DECIDED_CHUNK` of them per UPDATE).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import aliased

from core.storage import models as m
from core.storage.repositories.base import _Repository
from core.storage.repositories.results import DecidedLine, StandingSums

# Applications marked notified per UPDATE (an IN list well under every driver's limit).
_DECIDED_CHUNK = 5_000

# A tranche that waits: approved, neither credited nor withdrawn.
_WAITING = (m.Allocation.credited_at.is_(None), m.Allocation.withdrawn_at.is_(None))


class AllocationRepository(_Repository):
    async def latest(self, round_id: int) -> m.Allocation | None:
        """The highest tranche of the round, withdrawn ones included (they keep their number)."""
        return await self.session.scalar(
            select(m.Allocation)
            .where(m.Allocation.round_id == round_id)
            .order_by(m.Allocation.tranche.desc())
            .limit(1)
        )

    async def by_tranche(self, round_id: int, tranche: int) -> m.Allocation | None:
        return await self.session.scalar(
            select(m.Allocation).where(
                m.Allocation.round_id == round_id, m.Allocation.tranche == tranche
            )
        )

    async def of_round(self, round_id: int, *, withdrawn: bool = True) -> Sequence[m.Allocation]:
        """The round's tranches in order (without the withdrawn ones when told)."""
        query = select(m.Allocation).where(m.Allocation.round_id == round_id)
        if not withdrawn:
            query = query.where(m.Allocation.withdrawn_at.is_(None))
        return (await self.session.scalars(query.order_by(m.Allocation.tranche))).all()

    async def standing_sums(self, round_id: int) -> StandingSums:
        """What the lines of the round's tranches not withdrawn give, in cents, and what
        those of the credited ones give, in one query: a withdrawn tranche's lines were
        never paid."""
        amount = m.AllocationLine.amount_cents
        credited = case((m.Allocation.credited_at.is_not(None), amount), else_=0)
        row = (
            await self.session.execute(
                select(func.coalesce(func.sum(amount), 0), func.coalesce(func.sum(credited), 0))
                .join(m.Allocation, m.Allocation.id == m.AllocationLine.allocation_id)
                .where(m.Allocation.round_id == round_id, m.Allocation.withdrawn_at.is_(None))
            )
        ).one()
        return StandingSums(allocated_cents=int(row[0] or 0), credited_cents=int(row[1] or 0))

    async def latest_standing(self, round_id: int) -> m.Allocation | None:
        """The highest tranche that was not withdrawn."""
        return await self.session.scalar(
            select(m.Allocation)
            .where(m.Allocation.round_id == round_id, m.Allocation.withdrawn_at.is_(None))
            .order_by(m.Allocation.tranche.desc())
            .limit(1)
        )

    async def standing(self, round_id: int) -> Sequence[m.Allocation]:
        """The round's tranches that were not withdrawn, in order."""
        return (
            await self.session.scalars(
                select(m.Allocation)
                .where(m.Allocation.round_id == round_id, m.Allocation.withdrawn_at.is_(None))
                .order_by(m.Allocation.tranche)
            )
        ).all()

    async def waiting(self, round_id: int) -> m.Allocation | None:
        """The approved tranche waiting to be credited (at most one per round)."""
        return await self.session.scalar(
            select(m.Allocation)
            .where(
                m.Allocation.round_id == round_id,
                *_WAITING,
            )
            .order_by(m.Allocation.tranche.desc())
            .limit(1)
        )

    async def waiting_in_municipality(self, municipality_id: int) -> m.Allocation | None:
        return await self.session.scalar(
            select(m.Allocation)
            .where(
                m.Allocation.municipality_id == municipality_id,
                *_WAITING,
            )
            .limit(1)
        )

    async def to_credit_for_citizen(self, citizen_id: int) -> int:
        """What the approved tranches not yet credited (nor withdrawn) will pay this
        citizen's applications that are not revoked, in cents: line_ids_to_credit's lines."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(m.AllocationLine.amount_cents), 0))
            .join(m.Allocation, m.Allocation.id == m.AllocationLine.allocation_id)
            .join(m.Application, m.Application.id == m.AllocationLine.application_id)
            .where(
                m.Application.citizen_id == citizen_id,
                m.Application.revoked_at.is_(None),
                *_WAITING,
                m.AllocationLine.amount_cents > 0,
            )
        )
        return int(total or 0)

    async def given_by_application(self, round_id: int) -> dict[int, int]:
        """What the round's tranches (not withdrawn) give each application, in cents."""
        rows = await self.session.execute(
            select(m.AllocationLine.application_id, func.sum(m.AllocationLine.amount_cents))
            .join(m.Allocation, m.Allocation.id == m.AllocationLine.allocation_id)
            .where(
                m.Allocation.round_id == round_id,
                m.Allocation.withdrawn_at.is_(None),
                m.AllocationLine.amount_cents > 0,
            )
            .group_by(m.AllocationLine.application_id)
        )
        return {int(app_id): int(total) for app_id, total in rows.all()}

    async def never_allocated(self, round_id: int) -> int:
        """How many of the round's applications no tranche decided: neither withdrawn nor
        revoked, and on no line of a tranche that stands (every approval writes a line for
        each application it weighs, excluded ones and those it gives nothing included)."""
        decided = (
            select(m.AllocationLine.id)
            .join(m.Allocation, m.Allocation.id == m.AllocationLine.allocation_id)
            .where(
                m.AllocationLine.application_id == m.Application.id,
                m.Allocation.withdrawn_at.is_(None),
            )
        )
        count = await self.session.scalar(
            select(func.count())
            .select_from(m.Application)
            .where(
                m.Application.round_id == round_id,
                m.Application.withdrawn_at.is_(None),
                m.Application.revoked_at.is_(None),
                ~decided.exists(),
            )
        )
        return int(count or 0)

    async def add_lines(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(m.AllocationLine), rows)

    async def mark_credited(self, allocation_id: int, now: datetime) -> bool:
        """Compare-and-set: True for the one caller that takes the tranche from waiting."""
        result = await self.session.execute(
            update(m.Allocation)
            .where(
                m.Allocation.id == allocation_id,
                *_WAITING,
            )
            .values(credited_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def mark_withdrawn(self, allocation_id: int, now: datetime, by: str) -> bool:
        result = await self.session.execute(
            update(m.Allocation)
            .where(
                m.Allocation.id == allocation_id,
                *_WAITING,
            )
            .values(withdrawn_at=now, withdrawn_by=by)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def line_ids_to_credit(self, allocation_id: int) -> list[int]:
        """The lines a credit pays: an amount, and the application not revoked."""
        rows = await self.session.scalars(
            select(m.AllocationLine.id)
            .join(m.Application, m.Application.id == m.AllocationLine.application_id)
            .where(
                m.AllocationLine.allocation_id == allocation_id,
                m.AllocationLine.amount_cents > 0,
                m.Application.revoked_at.is_(None),
            )
            .order_by(m.AllocationLine.id)
        )
        return list(rows.all())

    async def mark_decided_unpaid(self, allocation_id: int, now: datetime) -> list[DecidedLine]:
        """The applications this tranche gives nothing (excluded, or no money left) that were
        never told a decision nor paid by any tranche, not revoked: marked notified at `now`
        (once per application: a later tranche finds them marked) and returned by line."""
        line, app, citizen = m.AllocationLine, m.Application, m.Citizen
        earlier = aliased(m.AllocationLine)
        paid_before = (
            select(m.Posting.id)
            .join(earlier, earlier.id == m.Posting.allocation_line_id)
            .where(earlier.application_id == app.id)
            .exists()
        )
        rows = await self.session.execute(
            select(
                app.id,
                app.protocol,
                line.assignment,
                line.exclusion_reason,
                citizen.erased_at,
                citizen.telegram_chat_id,
                citizen.phone,
                citizen.language,
            )
            .join(app, app.id == line.application_id)
            .join(citizen, citizen.id == app.citizen_id)
            .where(
                line.allocation_id == allocation_id,
                line.amount_cents == 0,
                app.revoked_at.is_(None),
                app.decision_notified_at.is_(None),
                ~paid_before,
            )
            .order_by(line.id)
        )
        found = [DecidedLine(*row) for row in rows.all()]
        ids = [row.application_id for row in found]
        for start in range(0, len(ids), _DECIDED_CHUNK):
            await self.session.execute(
                update(app)
                .where(app.id.in_(ids[start : start + _DECIDED_CHUNK]))
                .values(decision_notified_at=now)
                .execution_options(synchronize_session=False)
            )
        return found

    async def still_to_decide(self, application_ids: Sequence[int]) -> int:
        """How many of these applications a tranche paying them nothing would still tell
        its decision (mark_decided_unpaid's rule): never told one, never paid by any
        tranche, not revoked. A first tranche's applicants, or one corrected on appeal."""
        app = m.Application
        paid_before = (
            select(m.Posting.id)
            .join(m.AllocationLine, m.AllocationLine.id == m.Posting.allocation_line_id)
            .where(m.AllocationLine.application_id == app.id)
            .exists()
        )
        found = 0
        ids = list(application_ids)
        for start in range(0, len(ids), _DECIDED_CHUNK):
            found += (
                await self.session.scalar(
                    select(func.count())
                    .select_from(app)
                    .where(
                        app.id.in_(ids[start : start + _DECIDED_CHUNK]),
                        app.revoked_at.is_(None),
                        app.decision_notified_at.is_(None),
                        ~paid_before,
                    )
                )
                or 0
            )
        return found

    async def lines(self, allocation_id: int) -> Sequence[m.AllocationLine]:
        return (
            await self.session.scalars(
                select(m.AllocationLine)
                .where(m.AllocationLine.allocation_id == allocation_id)
                .order_by(m.AllocationLine.id)
            )
        ).all()

    async def lines_for_application(
        self, application_id: int
    ) -> Sequence[tuple[m.AllocationLine, m.Allocation]]:
        rows = await self.session.execute(
            select(m.AllocationLine, m.Allocation)
            .join(m.Allocation, m.Allocation.id == m.AllocationLine.allocation_id)
            .where(m.AllocationLine.application_id == application_id)
            .order_by(m.Allocation.tranche)
        )
        return [(line, alloc) for line, alloc in rows.all()]
