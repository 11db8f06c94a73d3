"""aiosqlite for SQLAlchemy, one thread trip per statement (or per transaction).

aiosqlite runs sqlite3 in a thread of its own and every call is a round trip to
it. SQLAlchemy's stock adapter makes four per statement (open a cursor, execute,
fetch, close); on a small machine each trip costs more than the SQL itself. This
adapter does the same four steps in one trip. It also sends no trip of its own
for a transaction's BEGIN (it travels with the first statement), nor for a
commit or rollback when no transaction is open (the pool's reset on return).
`OneTripConnection.run_in_thread` runs a whole function on the sqlite3
connection in one trip: what the hot paths use (docs/decisions/0005).
Everything else (connections, transactions, pooling, errors) is the stock
`sqlite+aiosqlite` dialect.

`make_engine` selects it for `sqlite+aiosqlite://` URLs; the URL people write
does not change.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "aiosqlite_onetrip"

T = TypeVar("T")

_Outcome = tuple[Any, int, int | None, list[Any], bool]


def _null(_: None) -> None:
    return None


# sqlite3 binds an int, float, str or bytearray parameter as it is; any other (None, a
# bool) it first tries to adapt, and the try raises and clears an AttributeError inside
# the module (no `__adapt__` on its protocol type): about 1,900 instructions a parameter,
# five a plain dialogue turn. With an adapter registered for the type, the lookup finds
# it at once. Both bind what they bound before: NULL, and the integer 0 or 1. For the
# whole process (the registry is the module's): the same values for every sqlite3 user.
sqlite3.register_adapter(type(None), _null)
sqlite3.register_adapter(bool, int)


def _deferrable(operation: Any, parameters: Any, in_transaction: bool) -> bool:
    """A statement that returns nothing and may travel with the next one: BEGIN outside a
    transaction; SAVEPOINT and RELEASE inside one (outside, a SAVEPOINT would open one)."""
    if not isinstance(operation, str) or parameters:
        return False
    head = operation.lstrip()[:18].upper()
    if head.startswith("BEGIN"):
        return not in_transaction
    return in_transaction and head.startswith(("SAVEPOINT ", "RELEASE SAVEPOINT "))


def _run(
    connection: sqlite3.Connection,
    pending: list[str],
    operation: str,
    parameters: Any,
    many: bool,
) -> _Outcome:
    """In aiosqlite's thread: the deferred statements, execute, read everything, close."""
    for statement in pending:
        connection.execute(statement)
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        # Rows first: with RETURNING, sqlite3 knows the rowcount only once they are read.
        rows = cursor.fetchall() if cursor.description else []
        return (
            cursor.description,
            cursor.rowcount,
            cursor.lastrowid,
            rows,
            connection.in_transaction,
        )
    finally:
        cursor.close()


def _call(
    connection: sqlite3.Connection,
    pending: list[str],
    fn: Callable[..., Any],
    args: tuple[Any, ...],
) -> tuple[bool, Any, bool]:
    """In aiosqlite's thread: the deferred statements, then fn(connection, *args).
    Returns (raised, value or exception, whether a transaction is open now)."""
    try:
        for statement in pending:
            connection.execute(statement)
        value = fn(connection, *args)
    except Exception as error:
        return True, error, connection.in_transaction
    return False, value, connection.in_transaction


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose results are fetched in the same trip as the statement."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        # No aiosqlite cursor is opened: that would be a trip of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid or 0

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._trip(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._trip(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapt: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        if not many and _deferrable(operation, parameters, adapt._in_a_transaction()):
            # No trip: the statement goes with the next one (BEGIN with the transaction's
            # first statement, a savepoint's SAVEPOINT and RELEASE with their neighbours).
            adapt._pending.append(operation)
            self._description, self._rowcount, self._lastrowid = None, -1, None
            self._rows = collections.deque()
            return
        connection = self._connection
        async with adapt._execute_mutex:
            pending, adapt._pending = adapt._pending, []
            try:
                outcome: _Outcome = await connection._execute(
                    _run, connection._conn, pending, operation, parameters, many
                )
            except BaseException:
                adapt._in_transaction = True  # unknown: let commit/rollback make their trip
                raise
        self._description, self._rowcount, self._lastrowid, rows, adapt._in_transaction = outcome
        self._rows = collections.deque(rows)

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    # _pending: statements not sent yet (a BEGIN, SAVEPOINTs, RELEASEs), in order;
    # _in_transaction: whether sqlite3 had one open after the last trip (with
    # isolation_level None only BEGIN, or a SAVEPOINT outside one, opens one);
    # _begun_for_plan: a unit of work's plan began the transaction outside SQLAlchemy, and
    # a session joining it must not begin another (joins_plan_transaction).
    __slots__ = ("_begun_for_plan", "_in_transaction", "_pending")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._pending: list[str] = []
        self._in_transaction = False
        self._begun_for_plan = False

    def _in_a_transaction(self) -> bool:
        """Open in SQLite, or about to be (a BEGIN is pending)."""
        return self._in_transaction or bool(self._pending)

    def defer_begin(self, begin: str) -> None:
        """Open a transaction with `begin`, sent with the next statement (no trip now)."""
        if self._in_a_transaction():
            raise sqlite3.OperationalError("cannot start a transaction within a transaction")
        self._pending.append(begin)

    def begin_for_plan(self, begin: str) -> None:
        """defer_begin for a plan run on this connection outside SQLAlchemy (a unit of
        work's plan before any session): a session that joins it later must not begin."""
        self.defer_begin(begin)
        self._begun_for_plan = True

    def joins_plan_transaction(self) -> bool:
        """Whether SQLAlchemy, beginning on this connection, joins a plan's transaction
        (then it sends no BEGIN). Asked once: later transactions begin as usual."""
        joins, self._begun_for_plan = self._begun_for_plan, False
        return joins

    async def end_transaction(self, *, commit: bool) -> None:
        """commit() or rollback() from the event loop, without SQLAlchemy's greenlet
        bridge: how a unit of work ends a plan's transaction that no session joined."""
        self._pending = []
        self._begun_for_plan = False
        if not self._in_transaction:
            return
        connection = self._connection
        if not commit:
            await connection.rollback()
            self._in_transaction = False
            return
        try:
            await connection.commit()
        except Exception:
            # As in commit(): SQLite may keep a refused COMMIT's transaction open.
            try:
                await connection.rollback()
                self._in_transaction = False
            except Exception:
                pass  # left marked open: the pool's reset rolls back or drops it
            raise
        self._in_transaction = False

    async def run_in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(sqlite3_connection, *args) in the database thread, in one trip, inside the
        transaction this connection has begun (its BEGIN is sent first if still deferred).
        fn must not commit or roll back the connection's transaction."""
        connection = self._connection
        async with self._execute_mutex:
            pending, self._pending = self._pending, []
            try:
                raised, value, self._in_transaction = await connection._execute(
                    _call, connection._conn, pending, fn, args
                )
            except BaseException:
                self._in_transaction = True
                raise
        if raised:
            raise value
        return value  # type: ignore[no-any-return]

    def commit(self) -> None:
        # What is pending only opens or closes savepoints (or opens the transaction):
        # COMMIT ends them all alike, so they need not be sent.
        self._pending = []
        self._begun_for_plan = False
        if not self._in_transaction:
            # Nothing ran since BEGIN, or no transaction: nothing to commit, no trip.
            return
        try:
            super().commit()
        except Exception:
            # SQLite may keep the transaction open when its COMMIT fails (it does for a
            # foreign key checked at COMMIT), write lock included; SQLAlchemy takes a failed
            # commit as the transaction's end and gives the connection back to the pool
            # without a rollback, so the next unit of work would find it open. End it here,
            # as PostgreSQL does: the caller gets the COMMIT's error and nothing stays.
            self._rollback_after_failed_commit()
            raise
        self._in_transaction = False

    def _rollback_after_failed_commit(self) -> None:
        try:
            super().rollback()
        except Exception:
            # Left marked open: the next BEGIN on this connection is refused, and the pool's
            # reset then rolls back again, dropping the connection if that fails too.
            return
        self._in_transaction = False

    def rollback(self) -> None:
        self._pending = []
        self._begun_for_plan = False
        if not self._in_transaction:
            return
        super().rollback()
        self._in_transaction = False


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


class OneTripDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True
    # Results are always buffered in full: no server-side cursors.
    supports_server_side_cursors = False

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripDialect")
