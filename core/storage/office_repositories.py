"""Repositories of the office's own records: operators, four-eyes acts, the activity log,
the town's fund, reimbursement runs and audit samples."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from core.storage import models as m
from core.storage.repositories.base import _Repository
from core.storage.repositories.results import DeterminaRest


class OperatorRepository(_Repository):
    async def by_id(self, operator_id: int) -> m.Operator | None:
        return await self.session.get(m.Operator, operator_id)

    async def by_username(self, username: str, *, lock: bool = False) -> m.Operator | None:
        """With `lock`, held until commit (two sign-ins at once count their failures in turn)."""
        query = select(m.Operator).where(m.Operator.username == username)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def of_municipality(self, municipality_id: int) -> Sequence[m.Operator]:
        return (
            await self.session.scalars(
                select(m.Operator)
                .where(m.Operator.municipality_id == municipality_id)
                .order_by(m.Operator.username)
            )
        ).all()

    async def count(self, municipality_id: int) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(m.Operator)
                .where(m.Operator.municipality_id == municipality_id)
            )
            or 0
        )

    async def device(self, operator_id: int, nonce: str) -> m.OperatorDevice | None:
        """The wrong passwords of one known browser (read under the operator's row lock)."""
        return await self.session.scalar(
            select(m.OperatorDevice).where(
                m.OperatorDevice.operator_id == operator_id, m.OperatorDevice.nonce == nonce
            )
        )

    async def devices(self, operator_id: int) -> Sequence[m.OperatorDevice]:
        return (
            await self.session.scalars(
                select(m.OperatorDevice)
                .where(m.OperatorDevice.operator_id == operator_id)
                .order_by(m.OperatorDevice.id)
            )
        ).all()

    async def session_by_hash(self, token_hash: str) -> m.OperatorSession | None:
        return await self.session.scalar(
            select(m.OperatorSession).where(m.OperatorSession.token_hash == token_hash)
        )

    async def sessions(self, operator_id: int) -> Sequence[m.OperatorSession]:
        return (
            await self.session.scalars(
                select(m.OperatorSession)
                .where(m.OperatorSession.operator_id == operator_id)
                .order_by(m.OperatorSession.id)
            )
        ).all()

    async def end_session(self, token_hash: str) -> bool:
        """Delete one session; False when it was already gone."""
        result = await self.session.execute(
            delete(m.OperatorSession)
            .where(m.OperatorSession.token_hash == token_hash)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def end_sessions(self, operator_id: int) -> int:
        """Delete every session of the operator; how many there were."""
        result = await self.session.execute(
            delete(m.OperatorSession)
            .where(m.OperatorSession.operator_id == operator_id)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def drop_expired_sessions(self, now: datetime) -> int:
        """Delete the sessions of every operator that expired by `now` (idle or at the
        end of their lifetime); how many."""
        result = await self.session.execute(
            delete(m.OperatorSession)
            .where(or_(m.OperatorSession.idle_until <= now, m.OperatorSession.expires_at <= now))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def keep_session(self, session_id: int, idle_until: datetime) -> None:
        """Move a session's idle deadline on (the operator made a request)."""
        await self.session.execute(
            update(m.OperatorSession)
            .where(m.OperatorSession.id == session_id)
            .values(idle_until=idle_until)
            .execution_options(synchronize_session=False)
        )


class OfficeActRepository(_Repository):
    async def by_id(self, act_id: int) -> m.OfficeAct | None:
        return await self.session.get(m.OfficeAct, act_id)

    async def add_open(self, act: m.OfficeAct) -> bool:
        """Insert a draft; False (nothing written) when another of the same kind (and
        application, `protocol`) was prepared a moment earlier and waits
        (uq_office_acts_open). On PostgreSQL the insert waits for that one's transaction."""
        try:
            async with self.session.begin_nested():
                self.session.add(act)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def decide(self, act: m.OfficeAct, status: str, by_id: int, now: datetime) -> bool:
        """Compare-and-set: the act leaves "prepared" for `status`, decided by `by_id` at
        `now`; False (nothing written) when it is no longer prepared, another approval or
        withdrawal having won it (on PostgreSQL the UPDATE waits for that one's transaction,
        then finds the row changed). `act` is read again either way: its status is the
        stored one."""
        result = await self.session.execute(
            update(m.OfficeAct)
            .where(m.OfficeAct.id == act.id, m.OfficeAct.status == "prepared")
            .values(status=status, decided_by_id=by_id, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        await self.session.refresh(act)
        return bool(getattr(result, "rowcount", 0))

    async def prepared(self, municipality_id: int, kind: str | None) -> Sequence[m.OfficeAct]:
        """Acts waiting for a decision, oldest first (of one kind, or all)."""
        query = select(m.OfficeAct).where(
            m.OfficeAct.municipality_id == municipality_id, m.OfficeAct.status == "prepared"
        )
        if kind is not None:
            query = query.where(m.OfficeAct.kind == kind)
        return (await self.session.scalars(query.order_by(m.OfficeAct.id))).all()

    async def naming(self, municipality_id: int, protocol: str) -> Sequence[m.OfficeAct]:
        """The acts about one application (a revocation, its undoing), oldest first. Acts
        are few (a handful a round): their parameters are read here, whatever the database's
        JSON dialect."""
        acts = await self.session.scalars(
            select(m.OfficeAct)
            .where(m.OfficeAct.municipality_id == municipality_id)
            .order_by(m.OfficeAct.id)
        )
        return [act for act in acts if (act.params or {}).get("protocol") == protocol]

    async def approved_of_kind(
        self, municipality_id: int, kind: str, limit: int
    ) -> Sequence[m.OfficeAct]:
        """The municipality's latest approved acts of one kind, newest first."""
        return (
            await self.session.scalars(
                select(m.OfficeAct)
                .where(
                    m.OfficeAct.municipality_id == municipality_id,
                    m.OfficeAct.kind == kind,
                    m.OfficeAct.status == "approved",
                )
                .order_by(m.OfficeAct.id.desc())
                .limit(limit)
            )
        ).all()

    async def recent(self, municipality_id: int, limit: int) -> Sequence[m.OfficeAct]:
        return (
            await self.session.scalars(
                select(m.OfficeAct)
                .where(m.OfficeAct.municipality_id == municipality_id)
                .order_by(m.OfficeAct.id.desc())
                .limit(limit)
            )
        ).all()


def _of(citizen: m.Citizen) -> ColumnElement[bool]:
    """The requests of this citizen, in their municipality."""
    return and_(
        m.PhoneChange.citizen_id == citizen.id,
        m.PhoneChange.municipality_id == citizen.municipality_id,
    )


def _pending() -> ColumnElement[bool]:
    """m.PENDING_REQUEST: the very expression of the index uq_phone_changes_waiting."""
    return m.PENDING_REQUEST


class FundRepository(_Repository):
    """The town's fund entries and what its determine commit of it (core.domain.fund)."""

    async def by_id(self, entry_id: int) -> m.FundEntry | None:
        return await self.session.get(m.FundEntry, entry_id)

    async def of_municipality(self, municipality_id: int) -> Sequence[m.FundEntry]:
        """Every entry, the first recorded first."""
        return (
            await self.session.scalars(
                select(m.FundEntry)
                .where(m.FundEntry.municipality_id == municipality_id)
                .order_by(m.FundEntry.id)
            )
        ).all()

    async def total(self, municipality_id: int) -> int | None:
        """The fund: every entry added up; None when the town recorded none."""
        count, total = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(m.FundEntry.amount_cents), 0)).where(
                    m.FundEntry.municipality_id == municipality_id
                )
            )
        ).one()
        return int(total) if count else None

    async def corrected(self, entry_id: int) -> int:
        """What the corrections of an entry took back from it (a positive amount)."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(m.FundEntry.amount_cents), 0)).where(
                m.FundEntry.corrects_id == entry_id
            )
        )
        return -int(total or 0)

    async def approved_budgets(self, municipality_id: int) -> int:
        """The budgets of the town's determine approved and not withdrawn, in every window,
        less what economie freed of them."""
        total = await self.session.scalar(
            select(
                func.coalesce(func.sum(m.Allocation.budget_cents - m.Allocation.freed_cents), 0)
            ).where(
                m.Allocation.municipality_id == municipality_id,
                m.Allocation.withdrawn_at.is_(None),
            )
        )
        return int(total or 0)

    async def freed(self, municipality_id: int) -> int:
        """What economie freed of the town's determine, in every window."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(m.Allocation.freed_cents), 0)).where(
                m.Allocation.municipality_id == municipality_id,
                m.Allocation.withdrawn_at.is_(None),
            )
        )
        return int(total or 0)

    async def rests(self, municipality_id: int) -> list[DeterminaRest]:
        """Each determina standing (approved, not withdrawn) with what its lines allocated
        and what economie freed of it: the earliest first."""
        allocated = (
            select(func.coalesce(func.sum(m.AllocationLine.amount_cents), 0))
            .where(m.AllocationLine.allocation_id == m.Allocation.id)
            .scalar_subquery()
        )
        # Columns, not the rows: an Allocation already in the session keeps what it held
        # before a guarded UPDATE (free) changed freed_cents.
        rows = (
            await self.session.execute(
                select(
                    m.Allocation.id,
                    m.Round.number,
                    m.Allocation.tranche,
                    m.Allocation.budget_cents,
                    allocated,
                    m.Allocation.freed_cents,
                    m.Allocation.credited_at,
                    m.Allocation.approved_at,
                )
                .join(m.Round, m.Round.id == m.Allocation.round_id)
                .where(
                    m.Allocation.municipality_id == municipality_id,
                    m.Allocation.withdrawn_at.is_(None),
                )
                .order_by(m.Round.number, m.Allocation.tranche)
            )
        ).all()
        return [
            DeterminaRest(
                allocation_id=int(row[0]),
                window=int(row[1]),
                tranche=int(row[2]),
                budget_cents=int(row[3]),
                allocated_cents=int(row[4] or 0),
                freed_cents=int(row[5]),
                credited=row[6] is not None,
                approved_at=row[7],
            )
            for row in rows
        ]

    async def free(self, allocation_id: int, amount_cents: int, allocated_cents: int) -> bool:
        """Guarded UPDATE: add `amount_cents` to what economie freed of a credited determina
        standing, only while it stays within budget − `allocated_cents` (what its lines
        allocated, frozen at its approval). False, nothing written, otherwise: of two
        economie at once that would free the same rest, the second finds it freed (the
        CHECK ck_allocations_freed keeps it within the budget whatever writes it)."""
        result = await self.session.execute(
            update(m.Allocation)
            .where(
                m.Allocation.id == allocation_id,
                m.Allocation.credited_at.is_not(None),
                m.Allocation.withdrawn_at.is_(None),
                m.Allocation.freed_cents + amount_cents
                <= m.Allocation.budget_cents - allocated_cents,
            )
            .values(freed_cents=m.Allocation.freed_cents + amount_cents)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def economie(self, municipality_id: int) -> Sequence[m.Economia]:
        """Every economia recorded, the first first."""
        return (
            await self.session.scalars(
                select(m.Economia)
                .where(m.Economia.municipality_id == municipality_id)
                .order_by(m.Economia.id)
            )
        ).all()

    async def lock(self, municipality_id: int) -> None:
        """Hold the town's row until commit: whatever reads the fund to commit some of it
        (a determina prepared or approved, an entry corrected) runs one at a time. On
        PostgreSQL FOR NO KEY UPDATE, which the town's other writes (rows that only refer
        to it) do not wait for; SQLite has one writer already (BEGIN IMMEDIATE)."""
        await self.session.execute(
            select(m.Municipality.id)
            .where(m.Municipality.id == municipality_id)
            .with_for_update(key_share=True)
        )


class PhoneChangeRepository(_Repository):
    async def add_waiting(self, change: m.PhoneChange) -> bool:
        """Insert a waiting change; False (nothing written) when another operator asked a
        moment earlier one of the same kind for the citizen (uq_phone_changes_waiting) or
        one naming the same number in the municipality (uq_phone_changes_waiting_phone)."""
        try:
            async with self.session.begin_nested():
                self.session.add(change)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def by_id(self, change_id: int) -> m.PhoneChange | None:
        return await self.session.get(m.PhoneChange, change_id)

    async def locked(self, change_id: int) -> m.PhoneChange | None:
        """The request, its row held until the commit and read afresh: of two decisions on
        it at once (a double click) the second waits, then finds the first's."""
        return await self._row_locked(m.PhoneChange, change_id)

    async def waiting_for(self, citizen: m.Citizen, kind: str = "phone") -> m.PhoneChange | None:
        """The citizen's request of this kind still to be acted on (m.PENDING_REQUEST): only
        this citizen's, of their municipality."""
        return await self.session.scalar(
            select(m.PhoneChange).where(_of(citizen), m.PhoneChange.kind == kind, _pending())
        )

    async def pending_for(self, citizen: m.Citizen) -> Sequence[m.PhoneChange]:
        """Every request of the citizen still to be acted on, oldest first."""
        return (
            await self.session.scalars(
                select(m.PhoneChange).where(_of(citizen), _pending()).order_by(m.PhoneChange.id)
            )
        ).all()

    async def waiting_with_phone(self, municipality_id: int, phone: str) -> Sequence[m.PhoneChange]:
        """The waiting requests of the municipality (a new phone, a delegate) that would give
        this number to somebody, oldest first."""
        return (
            await self.session.scalars(
                select(m.PhoneChange)
                .where(
                    m.PhoneChange.municipality_id == municipality_id,
                    m.WAITING_REQUEST,
                    m.PhoneChange.phone == phone,
                )
                .order_by(m.PhoneChange.id)
            )
        ).all()

    async def waiting(self, municipality_id: int) -> Sequence[tuple[m.PhoneChange, m.Citizen]]:
        """The requests waiting for a second operator, oldest first, with their citizen."""
        rows = await self.session.execute(
            select(m.PhoneChange, m.Citizen)
            .join(m.Citizen, m.Citizen.id == m.PhoneChange.citizen_id)
            .where(m.PhoneChange.municipality_id == municipality_id, m.WAITING_REQUEST)
            .order_by(m.PhoneChange.id)
        )
        return [(change, citizen) for change, citizen in rows.all()]

    async def mark_handed(
        self, change_id: int, citizen: m.Citizen, operator_id: int, now: datetime
    ) -> bool:
        """Record that an approved card was printed for `citizen`; False when it already was
        (the PIN is printed once), when its deadline has passed, or when the request is not
        this citizen's."""
        result = await self.session.execute(
            update(m.PhoneChange)
            .where(
                m.PhoneChange.id == change_id,
                _of(citizen),
                m.PhoneChange.kind == "card",
                m.PhoneChange.status == "approved",
                m.PhoneChange.handed_at.is_(None),
                m.PhoneChange.print_by > now,
            )
            .values(handed_by_id=operator_id, handed_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def forget_chats(self, citizen_id: int) -> None:
        """An erased citizen's requests keep that a chat asked them, not which chat (its
        Telegram user is personal data): m.ERASED_CHAT."""
        await self.session.execute(
            update(m.PhoneChange)
            .where(
                m.PhoneChange.citizen_id == citizen_id, m.PhoneChange.requested_by_chat.is_not(None)
            )
            .values(requested_by_chat=m.ERASED_CHAT)
            .execution_options(synchronize_session=False)
        )

    async def mark_expired(self, change_id: int, now: datetime) -> bool:
        """An approved card not printed by its deadline becomes expired; False when it is
        not one (printed, withdrawn, or its deadline not passed)."""
        result = await self.session.execute(
            update(m.PhoneChange)
            .where(
                m.PhoneChange.id == change_id,
                m.PhoneChange.kind == "card",
                m.PhoneChange.status == "approved",
                m.PhoneChange.handed_at.is_(None),
                m.PhoneChange.print_by <= now,
            )
            .values(status="expired")
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def mark_checked(self, change_id: int, operator_id: int) -> bool:
        """A waiting request a Telegram chat asked, not checked yet, becomes `operator_id`'s
        (the first pair of eyes); False when it is not one any more (checked by another
        operator, or decided, a moment earlier)."""
        result = await self.session.execute(
            update(m.PhoneChange)
            .where(
                m.PhoneChange.id == change_id,
                m.PhoneChange.status == "waiting",
                m.PhoneChange.requested_by_id.is_(None),
                m.PhoneChange.requested_by_chat.is_not(None),
            )
            .values(requested_by_id=operator_id)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def mark_decided(
        self, change_id: int, *, status_was: str = "waiting", **values: object
    ) -> bool:
        """Close a waiting change; False when it was no longer waiting (another operator
        decided it a moment earlier): whoever closes it applies it, once."""
        result = await self.session.execute(
            update(m.PhoneChange)
            .where(
                m.PhoneChange.id == change_id,
                m.PhoneChange.status == status_was,
                m.PhoneChange.handed_at.is_(None),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


class ActivityRepository(_Repository):
    """The activity log: rows are only ever added (the database refuses changes)."""

    async def record(self, entry: m.ActivityEntry) -> None:
        self.session.add(entry)
        await self.session.flush()

    async def newest_first(
        self, municipality_id: int, limit: int | None, offset: int
    ) -> Sequence[m.ActivityEntry]:
        query = (
            select(m.ActivityEntry)
            .where(m.ActivityEntry.municipality_id == municipality_id)
            .order_by(m.ActivityEntry.id.desc())
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        return (await self.session.scalars(query)).all()

    async def about(
        self, municipality_id: int, subjects: Sequence[str], limit: int | None
    ) -> Sequence[m.ActivityEntry]:
        """The entries about these subjects (a protocol, an act's "#id"), newest first."""
        if not subjects:
            return []
        query = (
            select(m.ActivityEntry)
            .where(
                m.ActivityEntry.municipality_id == municipality_id,
                m.ActivityEntry.subject.in_(list(subjects)),
            )
            .order_by(m.ActivityEntry.id.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        return (await self.session.scalars(query)).all()

    async def member_removal(
        self, municipality_id: int, shop_id: int, member_id: int
    ) -> m.ActivityEntry | None:
        """The entry that removed this member from the shop (the office, the owner, or the
        member leaving), if any: the row itself is gone."""
        entries = await self.session.scalars(
            select(m.ActivityEntry)
            .where(
                m.ActivityEntry.municipality_id == municipality_id,
                m.ActivityEntry.action.in_(["shop.member_remove", "shop.member_leave"]),
                m.ActivityEntry.subject.startswith(f"{shop_id} ", autoescape=True),
            )
            .order_by(m.ActivityEntry.id.desc())
        )
        return next((x for x in entries if (x.before or {}).get("member_id") == member_id), None)


class AuditSampleRepository(_Repository):
    async def of_round(self, round_id: int) -> Sequence[m.AuditSample]:
        """The window's draws, the first (binding) one first."""
        return (
            await self.session.scalars(
                select(m.AuditSample)
                .where(m.AuditSample.round_id == round_id)
                .order_by(m.AuditSample.id)
            )
        ).all()


class SettlementRepository(_Repository):
    async def by_id(self, settlement_id: int) -> m.Settlement | None:
        return await self.session.get(m.Settlement, settlement_id)

    async def recent(self, municipality_id: int, limit: int) -> Sequence[tuple[m.Settlement, bool]]:
        """The municipality's latest runs, newest first, each with whether its SEPA file is
        kept (the file itself is not read: a listing needs no megabytes of XML)."""
        rows = await self.session.execute(
            select(m.Settlement, m.Settlement.document.is_not(None))
            .options(defer(m.Settlement.document))
            .where(m.Settlement.municipality_id == municipality_id)
            .order_by(m.Settlement.id.desc())
            .limit(limit)
        )
        return [(settlement, bool(kept)) for settlement, kept in rows.all()]

    async def first_after(self, municipality_id: int, moment: datetime) -> m.Settlement | None:
        """The municipality's first run made after `moment` (an act's cut-off), if any."""
        return await self.session.scalar(
            select(m.Settlement)
            .options(defer(m.Settlement.document))
            .where(
                m.Settlement.municipality_id == municipality_id,
                m.Settlement.created_at > moment,
            )
            .order_by(m.Settlement.created_at, m.Settlement.id)
            .limit(1)
        )

    async def latest_at(self, municipality_id: int) -> datetime | None:
        """When the municipality's latest reimbursement run was made."""
        return await self.session.scalar(
            select(m.Settlement.created_at)
            .where(m.Settlement.municipality_id == municipality_id)
            .order_by(m.Settlement.id.desc())
            .limit(1)
        )
