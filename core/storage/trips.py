"""One trip per transaction: a transaction's SQL as a plan, run where the database is.

A plan is a generator that yields `(sql, parameters)` and receives the rows each
statement returned (use RETURNING to learn whether a guarded UPDATE changed a
row). It holds no connection and does no I/O itself, so the same plan runs

- on SQLite, whole, in the database thread: one trip through aiosqlite's queue
  for every statement of the transaction (`drive_sqlite`);
- on PostgreSQL, statement after statement on the raw asyncpg connection, with
  no ORM or SQLAlchemy execution in between (`drive_asyncpg`).

SQL is written once with `?` markers and portable SQL; values are Python values
(aware datetimes, dicts for JSON columns), converted here the way the models'
column types store them. See docs/decisions/0005-one-trip-transactions.md.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Generator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.sqlite_driver import OneTripConnection

T = TypeVar("T")
Row = Sequence[Any]
Statement = tuple[str, tuple[Any, ...]]
Plan = Generator[Statement, list[Row], T]

# Values sqlite3 takes as they are: most of a plan's (checked by exact type, the cheapest
# test: a plain turn converts some 30 values in the database thread).
_AS_THEY_ARE = frozenset({str, int, float, bool, bytes, type(None)})
# "YYYY-MM-DD HH:MM:SS.ffffff": how SQLAlchemy's DateTime stores a value on SQLite (naive
# UTC, always with microseconds), the first 26 characters of an aware UTC isoformat.
_SQLITE_DATETIME_LENGTH = 26


# The last datetime converted and its text: a plan stores the same `now` several times (a
# plain turn four: the dedupe record, the conversation, the outbox row's two times), and
# isoformat builds its text through C's printf, about 7,000 instructions a call. One
# tuple, replaced whole: threads that share it see a pair that belongs together.
_last_datetime: tuple[datetime, str] | None = None


def _sqlite_value(value: Any) -> Any:
    global _last_datetime
    if type(value) in _AS_THEY_ARE:
        return value
    if isinstance(value, datetime):
        last = _last_datetime
        if last is not None and last[0] is value:
            return last[1]
        original = value
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        # isoformat, not strftime: a third of the time, and the year always in 4 digits.
        text = value.isoformat(" ", "microseconds")[:_SQLITE_DATETIME_LENGTH]
        _last_datetime = (original, text)
        return text
    if isinstance(value, dict):
        return _json_text(value)
    return value


# json.dumps's own text (the same separators and escapes as the ORM's JSON columns)
# without its check for a container inside itself, which a plan's values (JSON from
# json.loads or pydantic, a reply's payload) never hold: a fifth of the encoding's
# instructions, about 11,000 of a plain turn's (its outbox payload and its state).
# JSONEncoder.encode also makes a new C encoder, and a closure, at every call: the C
# encoder is made once here, as encode makes it (a conversation's state `{}`: about four
# times less work).
_ENCODER = json.JSONEncoder(check_circular=False)
_c_encoder = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None,  # markers: check_circular=False
        _ENCODER.default,
        json.encoder.encode_basestring_ascii,
        None,  # indent
        _ENCODER.key_separator,
        _ENCODER.item_separator,
        False,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )
    if json.encoder.c_make_encoder is not None  # type: ignore[attr-defined]
    else None
)


def _json_text(value: dict[str, Any]) -> str:
    if _c_encoder is None:
        return _ENCODER.encode(value)
    return "".join(_c_encoder(value, 0))


def _pg_value(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def utc(value: datetime | str | None) -> datetime | None:
    """A datetime column as read by a plan: aware UTC on both databases."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
        try:
            # SQLite's text is naive UTC (as SQLAlchemy's DateTime stores it): read as UTC in
            # the one parse. datetime.replace(tzinfo=UTC) parses its keyword argument in
            # C's slow way, about 9,000 instructions a call, several times the parse.
            value = datetime.fromisoformat(text + "+00:00")
        except ValueError:
            value = datetime.fromisoformat(text)  # a text with its own offset
    if value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# An INSERT of one row that returns its id. SQLite runs a RETURNING clause through a
# temporary table (a b-tree opened, a table created, a page zeroed), about 22,000
# instructions a statement; without it sqlite3 reads the inserted row's rowid anyway,
# which is its `id` (every table's `id` is its INTEGER PRIMARY KEY, SQLite's rowid), and
# the count of changed rows says whether ON CONFLICT ... DO NOTHING inserted the row.
_INSERT_RETURNING_ID = re.compile(
    r"(INSERT INTO \w+ \([\w, ]+\) VALUES \([?\d, ]+\)"
    r"(?: ON CONFLICT \([\w, ]+\) DO NOTHING)?) RETURNING id"
)


@lru_cache(maxsize=256)
def _insert_without_returning(sql: str) -> str | None:
    """The INSERT without its `RETURNING id` if `sql` inserts one row that way, else None."""
    match = _INSERT_RETURNING_ID.fullmatch(sql)
    return match.group(1) if match else None


def drive_sqlite(connection: sqlite3.Connection, plan: Plan[T]) -> T:
    """Run a plan on a sqlite3 connection (in its own thread), inside its transaction."""
    # One cursor for the plan: Connection.execute makes a new one for every statement.
    cursor = connection.cursor()
    try:
        sql, parameters = next(plan)
        while True:
            values = tuple(map(_sqlite_value, parameters))
            insert = _insert_without_returning(sql)
            if insert is None:
                rows: list[Row] = cursor.execute(sql, values).fetchall()
            else:
                # The rows RETURNING id gives: the new row's id, or none (DO NOTHING).
                cursor.execute(insert, values)
                rows = [(cursor.lastrowid,)] if cursor.rowcount == 1 else []
            sql, parameters = plan.send(rows)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


@lru_cache(maxsize=256)
def _numbered(sql: str) -> str:
    """`?` markers as asyncpg's `$1, $2, …` (plans put no `?` inside literals)."""
    parts = sql.split("?")
    return "".join(
        part + (f"${index}" if index < len(parts) else "")
        for index, part in enumerate(parts, start=1)
    )


async def drive_asyncpg(connection: Any, plan: Plan[T]) -> T:
    """Run a plan on an asyncpg connection, inside its transaction."""
    try:
        sql, parameters = next(plan)
        while True:
            records = await connection.fetch(_numbered(sql), *map(_pg_value, parameters))
            sql, parameters = plan.send(records)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


class Transaction(Protocol):
    """The transaction a unit of work's repositories share (core.storage.uow.UnitOfWork):
    its ORM session, opened on first use, and the way a plan runs in it."""

    # The database's dialect name ("sqlite", "postgresql"), known without a session.
    dialect: str
    # A payment-lane outbox row was written (core/storage/uow.py).
    queued_payment: bool

    @property
    def session(self) -> AsyncSession: ...

    async def run_plan(self, plan: Plan[T]) -> T: ...


async def run_plan(session: AsyncSession, plan: Plan[T]) -> T:
    """Run a plan inside the session's transaction (begun if it was not yet): what the
    plan writes commits or rolls back with the unit of work."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapted: Any = raw.dbapi_connection
    if isinstance(adapted, OneTripConnection):
        return await adapted.run_in_thread(drive_sqlite, plan)
    if connection.dialect.name == "postgresql":
        # SQLAlchemy's asyncpg adapter opens its transaction with the first statement it
        # runs itself; a plan may be the first, so open it here (a no-op when open).
        if adapted._transaction is None:
            await adapted._start_transaction()
        return await drive_asyncpg(raw.driver_connection, plan)
    raise NotImplementedError(f"no plan driver for {connection.dialect.name}")
