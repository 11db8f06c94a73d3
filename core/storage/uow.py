"""Unit of work: one database transaction, rolled back unless committed."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.domain.keys import PROCESS_KEYS, ServerKeys
from core.storage import models as m
from core.storage import office_repositories as o
from core.storage import repositories as r
from core.storage.community_repository import CommunityRepository
from core.storage.paper_import import PaperImportRepository
from core.storage.read_models import ReadModels
from core.storage.review_repository import AppealRepository, AuditRepository

# core.services.outbox.PAYMENT_LANE (storage sits below services and cannot import it).
_PAYMENT_LANE = 0


class UnitOfWork:
    """`async with uow:` opens a transaction; leaving without `commit()` rolls it back.

    The SQL implementation of the protocol services are typed against
    (core.services.unit_of_work.UnitOfWork); tests/unit/fakes.py holds the in-memory one."""

    session: AsyncSession
    municipalities: r.MunicipalityRepository
    rounds: r.RoundRepository
    citizens: r.CitizenRepository
    delegates: r.DelegateRepository
    applications: r.ApplicationRepository
    allocations: r.AllocationRepository
    ledger: r.LedgerRepository
    shops: r.ShopRepository
    charges: r.ChargeRepository
    outbox: r.OutboxRepository
    conversations: r.ConversationRepository
    identity_events: r.IdentityEventRepository
    security: r.SecurityEventRepository
    community: CommunityRepository
    operators: o.OperatorRepository
    acts: o.OfficeActRepository
    phone_changes: o.PhoneChangeRepository
    activity: o.ActivityRepository
    settlements: o.SettlementRepository
    audit_samples: o.AuditSampleRepository
    read: ReadModels
    paper_import: PaperImportRepository
    audit: AuditRepository
    appeals: AppealRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        dialect: str,
        writer_lock: asyncio.Lock | None = None,
        keys: ServerKeys = PROCESS_KEYS,
    ) -> None:
        self._session_factory = session_factory
        # The server secret's keys: hashing codes and sealing the outbox need them.
        self.keys = keys
        self.dialect = dialect
        self._writer_lock = writer_lock
        # A payment-lane outbox row was added (a code, a receipt): whoever commits this
        # wakes the outbox's payment loop (outbox.worker).
        self.queued_payment = False

    @property
    def supports_skip_locked(self) -> bool:
        return self.dialect == "postgresql"

    async def __aenter__(self) -> UnitOfWork:
        if self._writer_lock is not None:
            # SQLite has one writer at a time. Queueing here, in the event loop, replaces
            # SQLite's busy handler, which polls with growing sleeps under contention.
            await self._writer_lock.acquire()
        try:
            self.session = self._session_factory()
            await self.session.begin()
        except BaseException:
            self._release()
            raise
        self.municipalities = r.MunicipalityRepository(self.session)
        self.rounds = r.RoundRepository(self.session)
        self.citizens = r.CitizenRepository(self.session)
        self.delegates = r.DelegateRepository(self.session)
        self.applications = r.ApplicationRepository(self.session)
        self.allocations = r.AllocationRepository(self.session)
        self.ledger = r.LedgerRepository(self.session)
        self.shops = r.ShopRepository(self.session)
        self.charges = r.ChargeRepository(self.session)
        self.outbox = r.OutboxRepository(self.session)
        self.conversations = r.ConversationRepository(self.session)
        self.identity_events = r.IdentityEventRepository(self.session)
        self.security = r.SecurityEventRepository(self.session)
        self.community = CommunityRepository(self.session)
        self.operators = o.OperatorRepository(self.session)
        self.acts = o.OfficeActRepository(self.session)
        self.phone_changes = o.PhoneChangeRepository(self.session)
        self.activity = o.ActivityRepository(self.session)
        self.settlements = o.SettlementRepository(self.session)
        self.audit_samples = o.AuditSampleRepository(self.session)
        self.read = ReadModels(self.session)
        self.paper_import = PaperImportRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.appeals = AppealRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back what was not committed and detaches the objects with the
        # values they were loaded with, so results stay readable after the block.
        try:
            await self.session.close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._writer_lock is not None and self._writer_lock.locked():
            self._writer_lock.release()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        if self.session.in_transaction():
            await self.session.rollback()

    def add(self, row: m.Base) -> None:
        """A new row in this transaction (written at the next flush or the commit)."""
        if isinstance(row, m.OutboxMessage) and row.lane == _PAYMENT_LANE:
            self.queued_payment = True
        self.session.add(row)

    async def flush(self) -> None:
        await self.session.flush()

    async def delete(self, row: m.Base) -> None:
        """Remove a row (at the next flush or the commit)."""
        await self.session.delete(row)

    async def refresh(self, row: m.Base) -> None:
        """Read a row again from the database (after a savepoint was rolled back)."""
        await self.session.refresh(row)

    def expire_all(self) -> None:
        """Forget every row read so far: the next access reads it again."""
        self.session.expire_all()

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        """A nested transaction: a statement the database refuses inside it (a unique key
        taken meanwhile) undoes only what the block did, and the transaction goes on."""
        return self.session.begin_nested()
