"""Unit of work: one database transaction, rolled back unless committed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from core.domain.keys import PROCESS_KEYS, ServerKeys
from core.storage import models as m
from core.storage import office_repositories as o
from core.storage import repositories as r
from core.storage.community_repository import CommunityRepository
from core.storage.engine import SQLITE_BEGIN
from core.storage.paper_import import PaperImportRepository
from core.storage.read_models import ReadModels
from core.storage.review_repository import AppealRepository, AuditRepository
from core.storage.sqlite_driver import OneTripConnection
from core.storage.trips import Plan, drive_asyncpg, drive_sqlite, run_plan

T = TypeVar("T")
R = TypeVar("R")

# core.services.outbox.PAYMENT_LANE (storage sits below services and cannot import it).
_PAYMENT_LANE = 0


class _Repository(Generic[R]):
    """A unit of work's repository, made on first use and kept in the unit of work's
    attributes (as functools.cached_property does): a plain payment uses one of two dozen
    repositories, and makes only that one (docs/decisions/0005-one-trip-transactions.md)."""

    def __init__(self, make: Callable[[UnitOfWork], R]) -> None:
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type[UnitOfWork], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type[UnitOfWork]) -> _Repository[R]: ...

    @overload
    def __get__(self, instance: UnitOfWork, owner: type[UnitOfWork]) -> R: ...

    def __get__(self, instance: UnitOfWork | None, owner: type[UnitOfWork]) -> _Repository[R] | R:
        if instance is None:
            return self
        repository = self._make(instance)
        # No __set__: from now on the instance's own attribute is found first.
        instance.__dict__[self._name] = repository
        return repository


class UnitOfWork:
    """`async with uow:` opens a transaction; leaving without `commit()` rolls it back.

    The SQL implementation of the protocol services are typed against
    (core.services.unit_of_work.UnitOfWork); tests/unit/fakes.py holds the in-memory one."""

    municipalities = _Repository(r.MunicipalityRepository)
    rounds = _Repository(r.RoundRepository)
    citizens = _Repository(r.CitizenRepository)
    delegates = _Repository(r.DelegateRepository)
    applications = _Repository(r.ApplicationRepository)
    allocations = _Repository(r.AllocationRepository)
    ledger = _Repository(r.LedgerRepository)
    shops = _Repository(r.ShopRepository)
    charges = _Repository(r.ChargeRepository)
    outbox = _Repository(r.OutboxRepository)
    conversations = _Repository(r.ConversationRepository)
    identity_events = _Repository(r.IdentityEventRepository)
    security = _Repository(r.SecurityEventRepository)
    community = _Repository(CommunityRepository)
    operators = _Repository(o.OperatorRepository)
    acts = _Repository(o.OfficeActRepository)
    fund = _Repository(o.FundRepository)
    phone_changes = _Repository(o.PhoneChangeRepository)
    activity = _Repository(o.ActivityRepository)
    settlements = _Repository(o.SettlementRepository)
    audit_samples = _Repository(o.AuditSampleRepository)
    read = _Repository(ReadModels)
    paper_import = _Repository(PaperImportRepository)
    audit = _Repository(AuditRepository)
    appeals = _Repository(AppealRepository)
    server_secret = _Repository(r.ServerSecretRepository)

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        engine: AsyncEngine,
        writer_lock: asyncio.Lock | None = None,
        keys: ServerKeys = PROCESS_KEYS,
    ) -> None:
        self._session_factory = session_factory
        self._engine = engine
        # The server secret's keys: hashing codes and sealing the outbox need them.
        self.keys = keys
        self.dialect = engine.dialect.name
        self._writer_lock = writer_lock
        # A payment-lane outbox row was added (a code, a receipt): whoever commits this
        # wakes the outbox's payment loop (outbox.worker).
        self.queued_payment = False
        self._session: AsyncSession | None = None
        # The pooled connection whose transaction a plan began before any session was
        # needed (run_plan), and the SQLAlchemy connection a session opened later in this
        # unit of work shares it through.
        self._plan_connection: PoolProxiedConnection | None = None
        self._shared: AsyncConnection | None = None

    @property
    def supports_skip_locked(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def session(self) -> AsyncSession:
        """The ORM session, opened on first use: a unit of work whose only work is a plan
        (a plain payment) never builds one (docs/decisions/0005-one-trip-transactions.md)."""
        if self._session is None:
            self._session = self._open_session()
        return self._session

    def _open_session(self) -> AsyncSession:
        if self._plan_connection is None:
            return self._session_factory()
        # A plan began the transaction on this connection: the session joins it, so what
        # it writes commits or rolls back with what the plan wrote.
        shared = Connection(self._engine.sync_engine, connection=self._plan_connection)
        self._shared = AsyncConnection(self._engine, shared)
        return self._session_factory(bind=self._shared)

    async def run_plan(self, plan: Plan[T]) -> T:
        """Run a plan (core/storage/trips.py) in this unit of work's transaction.

        Before any session is open, the plan runs on a connection taken from the pool as
        it is: BEGIN, the plan's statements (on SQLite all of them in one trip to the
        database thread, on PostgreSQL on asyncpg), and the commit or the rollback of this
        unit of work, with no session, SQLAlchemy connection or greenlet bridge around
        them. Once a session is open, the plan runs in the session's transaction."""
        if self._session is not None:
            return await run_plan(self.session, plan)
        if self._plan_connection is None:
            self._plan_connection = await self._engine.raw_connection()
            try:
                await _begin(self._plan_connection)
            except BaseException:
                await self._end_plan_connection()
                raise
        adapted = _adapted(self._plan_connection)
        if isinstance(adapted, OneTripConnection):
            return await adapted.run_in_thread(drive_sqlite, plan)
        return await drive_asyncpg(self._plan_connection.driver_connection, plan)

    async def __aenter__(self) -> UnitOfWork:
        if self._writer_lock is not None:
            # SQLite has one writer at a time. Queueing here, in the event loop, replaces
            # SQLite's busy handler, which polls with growing sleeps under contention.
            await self._writer_lock.acquire()
        self._session = None
        self._plan_connection = None
        self._shared = None
        self._drop_repositories()
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
            if self._session is not None:
                await self._session.close()
        finally:
            try:
                await self._end_plan_connection()
            finally:
                self._drop_repositories()
                self._release()

    def _drop_repositories(self) -> None:
        # Each repository holds this unit of work: a reference cycle, which only the
        # garbage collector would free. Broken here, the unit of work and its
        # repositories go as soon as their last reference does (a later use of this
        # unit of work makes new ones).
        for name in _REPOSITORIES:
            self.__dict__.pop(name, None)

    def _release(self) -> None:
        if self._writer_lock is not None and self._writer_lock.locked():
            self._writer_lock.release()

    async def commit(self) -> None:
        if self._session is not None:
            # A session that joined a plan's connection commits the plan's writes too.
            await self._session.commit()
        if self._plan_connection is not None:
            # The plan's transaction, when no session took it over (none was used).
            try:
                await _finish(self._plan_connection, commit=True)
            except BaseException:
                # Lost, or cancelled mid-commit: this connection's state is unknown.
                await self._end_plan_connection(invalidate=True)
                raise
            if self._shared is None:
                await self._end_plan_connection()

    async def rollback(self) -> None:
        if self._session is not None and self._session.in_transaction():
            await self._session.rollback()
        if self._shared is not None:
            await _finish(self._plan_connection, commit=False)
        else:
            await self._end_plan_connection()

    async def _end_plan_connection(self, *, invalidate: bool = False) -> None:
        """Give a plan's connection back to the pool. The pool's reset rolls back what was
        not committed, and drops a connection that cannot (the server closed it, a plan
        was cancelled mid-statement), as for a session's connection; `invalidate` drops
        it at once."""
        connection, self._plan_connection = self._plan_connection, None
        shared, self._shared = self._shared, None
        if connection is not None and invalidate:
            await greenlet_spawn(connection.invalidate)
        if shared is not None:
            # Its session is closed (__aexit__): a later one starts on a fresh connection.
            self._session = None
            await shared.close()
        elif connection is not None and not invalidate:
            await greenlet_spawn(connection.close)

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


def _adapted(connection: PoolProxiedConnection) -> Any:
    """SQLAlchemy's adapter around the driver's connection (asyncpg's, or the SQLite
    OneTripConnection): it tracks the transaction, so a session joining the connection
    later commits or rolls back the one a plan began."""
    return connection.dbapi_connection


# The names of UnitOfWork's repositories (dropped when it ends).
_REPOSITORIES = tuple(
    name for name, value in vars(UnitOfWork).items() if isinstance(value, _Repository)
)


async def _begin(connection: PoolProxiedConnection) -> None:
    """Begin a plan's transaction on a connection taken from the pool."""
    adapted = _adapted(connection)
    if isinstance(adapted, OneTripConnection):
        # Sent with the plan's first statement, as the engine's "begin" event would.
        adapted.begin_for_plan(SQLITE_BEGIN)
    else:
        await adapted._start_transaction()


async def _finish(connection: PoolProxiedConnection | None, *, commit: bool) -> None:
    """Commit or roll back the transaction a plan began on this connection, if still open."""
    if connection is None:
        return
    adapted = _adapted(connection)
    if isinstance(adapted, OneTripConnection):
        await adapted.end_transaction(commit=commit)
        return
    transaction = adapted._transaction
    # Forgotten before the trip, as SQLAlchemy's adapter does: whatever the server
    # answers, this transaction is over.
    adapted._transaction = None
    if transaction is not None:
        await (transaction.commit() if commit else transaction.rollback())
