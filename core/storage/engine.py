"""Engines for the embedded SQLite default and for PostgreSQL, same code above them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.domain.errors import Conflict, DomainError, NotAllowed, Refusal
from core.domain.identity import mask_phone
from core.storage import sqlite_driver

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/buonispesa.sqlite3"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # A database error's message names the statement, never its values: a traceback in
    # the server's log would otherwise carry a codice fiscale, a phone or an amount.
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.get_driver_name() == "aiosqlite":
            # Same driver, one thread trip per statement (see sqlite_driver).
            parsed = parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            parsed, connect_args={"timeout": 30}, pool_size=4, max_overflow=4, **kwargs
        )
        _configure_sqlite(engine)
    elif parsed.get_driver_name() == "asyncpg":
        engine = create_async_engine(url, **kwargs)
        _check_on_checkout(engine)
    else:
        engine = create_async_engine(url, pool_pre_ping=True, **kwargs)
    _refusals_from_triggers(engine)
    return engine


# A pooled connection idle for longer than this is pinged before use (see below).
IDLE_BEFORE_PING = 10.0


def _check_on_checkout(engine: AsyncEngine) -> None:
    """The pool's pre-ping, without its cost on the hot path.

    SQLAlchemy's pre-ping on asyncpg is three round trips per checkout (BEGIN, an empty
    statement, ROLLBACK): more than a payment's own statements cost together. Here a
    connection whose socket the server closed (a restart) is replaced without a trip,
    and a round trip is spent only on a connection idle for IDLE_BEFORE_PING seconds,
    which a firewall or a failover may have cut without closing it. A connection in
    steady use is handed out as it is."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed this connection")
        idle_since = record.info.pop("idle_since", None)
        if idle_since is not None and time.monotonic() - idle_since > IDLE_BEFORE_PING:
            try:
                engine.dialect.do_ping(dbapi_connection)
            except Exception as error:
                raise DisconnectionError("the idle connection did not answer") from error


# The refusals database triggers raise, as their message (migrations 0015_shop_phone_guard,
# 0041_phone_one_person, 0042_citizen_not_own_delegate, 0043_no_phone_while_change_waits and
# 0046_chat_request_needs_its_chat):
# the backstop of rules the services check first, met only by a race or a raw write.
# (0038_code_destination_guard's `payment.code_elsewhere`, 0039_no_charge_for_erased's
# `payment.citizen_erased`, 0051_no_refund_to_erased's `refund.customer_erased` and
# 0052_no_undo_to_erased's `application.revocation_erased` are not:
# on PostgreSQL each is a serialization failure, which core.services.transactions.retrying
# runs again.)
TRIGGER_REFUSALS = (
    Refusal.IDENTITY_PHONE_IS_SHOP,
    Refusal.DELEGATE_PHONE_IS_SHOP,
    Refusal.SHOP_MEMBER_IS_CITIZEN,
    Refusal.DELEGATE_OWN_PHONE,
    Refusal.DELEGATE_PHONE_IS_CITIZEN,
    Refusal.IDENTITY_PHONE_IS_DELEGATE,
    Refusal.IDENTITY_PHONE_CHANGE_WAITING,
    Refusal.PHONE_CHANGE_CHAT_UNLINKED,
)
# A shop's Telegram chat linked to a citizen: what core.services.identity.IdentityRefused
# says for it (that class lives above storage), the same neutral refusal in the chat.
TELEGRAM_IS_SHOP = "identity.telegram_is_shop"
# Where the phone is among a statement's parameters: the ORM's citizens/delegates
# column, and the paper import's bulk binding (core.storage.paper_import.bind_phones).
_PHONE_PARAMETERS = ("phone", "new_phone")


# A card bound to a request that is not its holder's (migration 0030_request_identity):
# PostgreSQL's composite foreign key names itself, SQLite's trigger says the refusal.
CARD_REQUEST_KEY = "fk_citizens_card_change_id_phone_changes"
_CARD_REQUEST_REFUSED = (f'"citizens" violates foreign key constraint "{CARD_REQUEST_KEY}"',)


def card_request_refused(error: BaseException) -> bool:
    """Whether the database refused to bind a citizen's card to another's request."""
    said = str(error)
    return Refusal.REQUEST_OTHER_CITIZEN.value in said or any(
        words in said for words in _CARD_REQUEST_REFUSED
    )


def trigger_refusal(error: BaseException) -> Refusal | None:
    """The refusal a trigger raised with this database error, if it is one."""
    said = str(error)
    return next((refusal for refusal in TRIGGER_REFUSALS if refusal.value in said), None)


def _refusal(context: ExceptionContext) -> DomainError | None:
    if TELEGRAM_IS_SHOP in str(context.original_exception):
        return NotAllowed(Refusal.IDENTITY_REFUSED, reason="telegram_is_shop")
    execution = context.execution_context
    # The default execution context (not the abstract one) keeps the bound values.
    rows: list[dict[str, object]] = getattr(execution, "compiled_parameters", None) or []
    if card_request_refused(context.original_exception):
        # As core.services.identity.check_approval says it, naming the request when the
        # statement wrote one row.
        change = rows[0].get("card_change_id") if len(rows) == 1 else None
        return NotAllowed(
            Refusal.REQUEST_OTHER_CITIZEN, change_id=change if isinstance(change, int) else 0
        )
    refusal = trigger_refusal(context.original_exception)
    if refusal is None:
        return None
    params: dict[str, object] = {}
    if refusal is not Refusal.SHOP_MEMBER_IS_CITIZEN and len(rows) == 1:
        # The masked phone, as the services' own refusal gives it (one row: an
        # executemany does not say which of its rows was refused).
        phone = next((rows[0][key] for key in _PHONE_PARAMETERS if rows[0].get(key)), None)
        if isinstance(phone, str):
            params["phone"] = mask_phone(phone)
    return Conflict(refusal, **params)


def _refusals_from_triggers(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        refused = _refusal(context)
        if refused is not None:
            raise refused from context.sqlalchemy_exception


# Writers take the lock at transaction start: no deadlock-prone lock upgrades, and a
# guarded balance UPDATE can never read a stale value.
SQLITE_BEGIN = "BEGIN IMMEDIATE"


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # FULL: a payment the cashier saw confirmed survives a power cut (NORMAL in WAL
        # mode may lose the last commits). It costs one fsync per commit.
        cursor.execute("PRAGMA synchronous=FULL")
        # Deleted and overwritten content is zeroed in the file, not left in free space:
        # an erased codice fiscale must not stay readable on disk (builds differ in default).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        adapted = connection.connection.dbapi_connection
        if isinstance(adapted, sqlite_driver.OneTripConnection):
            if adapted.joins_plan_transaction():
                # A unit of work's plan began it (core/storage/uow.py): the session joins.
                return
            # Sent with the transaction's first statement, without a trip of its own.
            adapted.defer_begin(SQLITE_BEGIN)
        else:
            connection.exec_driver_sql(SQLITE_BEGIN)


async def checkpoint_wal(engine: AsyncEngine) -> bool:
    """Copy SQLite's write-ahead log into the database file and empty the log, so older page
    images (the data before an erasure) leave the disk. True when the log is empty now;
    False when readers kept it busy (it empties at a later checkpoint). Other databases:
    True, nothing to do here (see docs/office-command-line.md on PostgreSQL)."""
    if not is_sqlite(engine):
        return True
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        # Outside any transaction: a checkpoint cannot run inside one.
        cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, _log_frames, _checkpointed = await cursor.fetchone()
        await cursor.close()
    return not busy


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database (the health check); raises when it cannot."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"
