"""Group commit for SQLite: one writer, several transactions per fsync.

With synchronous=FULL every COMMIT waits for the disk. `GroupCommit.run(fn)` queues a
transaction (a function over the sqlite3 connection, typically a plan driven by
core/storage/trips.drive_sqlite) to one writer task. The writer takes every transaction
waiting in the queue (up to `max_batch`), and runs them in one trip to the database
thread, in one SQLite transaction: a transaction that raises leaves nothing it wrote
and its caller gets the exception, while its batch-mates go on (the batch is then run
again, each transaction in a SAVEPOINT of its own: a transaction must be a function of
the database alone, which may run twice). One COMMIT (one fsync) then
makes the whole batch durable, and only then does each caller's `run` return. If the
COMMIT itself fails, every caller of the batch gets the error and nothing of it stays.

While one batch waits for the disk, the next one gathers in the queue: under load the
batches grow by themselves, with no timer and no added latency when idle.

A caller cancelled after queueing may still see its transaction committed (as a
request whose client went away after the commit). See
docs/decisions/0006-group-commit.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from core.storage.sqlite_driver import OneTripConnection

T = TypeVar("T")
Transaction = Callable[[sqlite3.Connection], T]

MAX_BATCH = 64
_SAVEPOINT = "group_member"


@dataclass(slots=True)
class _Queued(Generic[T]):
    transaction: Transaction[T]
    future: asyncio.Future[T]


def run_batch(
    connection: sqlite3.Connection, transactions: list[Transaction[Any]]
) -> list[tuple[bool, Any]]:
    """In the database thread: the transactions in one SQLite transaction, then one
    COMMIT. Returns (ok, value or exception) per transaction. They run first without any
    savepoint (_run_together). When one raises, nothing stays: a batch of one returns its
    error (a quiet hour, a till confirming on its own), and a larger batch is run again,
    each transaction in its own savepoint (_run_in_savepoints): a transaction may run
    twice, and is a function of the database alone (a plan's), so what stays is what its
    last run wrote."""
    together = _run_together(connection, transactions)
    if not isinstance(together, Exception):
        return together
    if len(transactions) == 1:
        return [(False, together)]
    return _run_in_savepoints(connection, transactions)


def _run_together(
    connection: sqlite3.Connection, transactions: list[Transaction[Any]]
) -> list[tuple[bool, Any]] | Exception:
    """The batch with no savepoint: SAVEPOINT and RELEASE cost a plain turn about 16,000
    instructions (a tenth of its database thread's SQLite work) and a one-trip payment
    about a fifth of its time on a small machine (bench_payments: 0.43 of raw sqlite3 with
    them, 0.57 without), for a guarantee only a failing batch-mate needs, which is rare.
    The first error, with nothing written, when one raises."""
    connection.execute("BEGIN IMMEDIATE")
    outcomes: list[tuple[bool, Any]] = []
    try:
        for transaction in transactions:
            try:
                value = transaction(connection)
            except Exception as error:
                # Its caller gets the error (or the batch runs again), the writer goes on.
                if connection.in_transaction:  # (some errors end it in SQLite already)
                    connection.execute("ROLLBACK")
                return error
            outcomes.append((True, value))
        connection.execute("COMMIT")
    except BaseException:
        # The COMMIT failed, or the thread is stopping: the callers get it (GroupCommit._write).
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return outcomes


def _run_in_savepoints(
    connection: sqlite3.Connection, transactions: list[Transaction[Any]]
) -> list[tuple[bool, Any]]:
    """Each transaction in its own savepoint: one that raises is rolled back alone."""
    connection.execute("BEGIN IMMEDIATE")
    outcomes: list[tuple[bool, Any]] = []
    try:
        for transaction in transactions:
            connection.execute(f"SAVEPOINT {_SAVEPOINT}")
            try:
                value = transaction(connection)
            except Exception as error:
                connection.execute(f"ROLLBACK TO {_SAVEPOINT}")
                connection.execute(f"RELEASE {_SAVEPOINT}")
                outcomes.append((False, error))
            else:
                connection.execute(f"RELEASE {_SAVEPOINT}")
                outcomes.append((True, value))
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return outcomes


class GroupCommit:
    """The writer of one SQLite database in this process (see the module's doc)."""

    def __init__(
        self,
        engine: AsyncEngine,
        writer_lock: asyncio.Lock | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._engine = engine
        # Shared with the units of work: a batch and a unit of work never write at once.
        self._writer_lock = writer_lock or asyncio.Lock()
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Queued[Any] | None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._connection: Any = None  # the pool's connection the writer keeps
        self.batches = 0  # how many COMMITs, for benchmarks and tests
        self.committed = 0  # how many transactions they carried

    async def run(self, transaction: Transaction[T]) -> T:
        """Run `transaction(sqlite3_connection)` in the next batch; return its value once
        the batch committed (or raise what it raised, with nothing of it written)."""
        if self._writer is None or self._writer.done() or self._queue is None:
            # Started here, without awaiting: concurrent first callers share one writer.
            self._queue = asyncio.Queue()
            self._writer = asyncio.create_task(self._write(self._queue), name="sqlite-group-commit")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Queued(transaction, future))
        return await future

    async def _write(self, queue: asyncio.Queue[_Queued[Any] | None]) -> None:
        try:
            if self._connection is None:
                self._connection = await self._engine.raw_connection()
            adapted = self._connection.dbapi_connection
            if not isinstance(adapted, OneTripConnection):
                raise NotImplementedError("group commit needs the aiosqlite one-trip driver")
        except Exception as error:
            while not queue.empty():
                queued = queue.get_nowait()
                if queued is not None and not queued.future.done():
                    queued.future.set_exception(error)
            raise
        stopping = False
        while not stopping:
            first = await queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch and not queue.empty():
                queued = queue.get_nowait()
                if queued is None:
                    stopping = True  # after this batch
                    break
                batch.append(queued)
            try:
                async with self._writer_lock:
                    outcomes = await adapted.run_in_thread(
                        run_batch, [queued.transaction for queued in batch]
                    )
            except Exception as error:
                for queued in batch:
                    if not queued.future.done():
                        queued.future.set_exception(error)
                continue
            self.batches += 1
            self.committed += len(batch)
            for queued, (ok, value) in zip(batch, outcomes, strict=True):
                if queued.future.done():
                    continue  # its caller was cancelled; the transaction stands
                if ok:
                    queued.future.set_result(value)
                else:
                    queued.future.set_exception(value)

    async def close(self) -> None:
        """Commit what is queued, stop the writer and give its connection back."""
        if self._writer is not None and self._queue is not None:
            if not self._writer.done():
                self._queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        self._writer = self._queue = None
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await _close(connection)


async def _close(connection: Any) -> None:
    from sqlalchemy.util.concurrency import greenlet_spawn

    await greenlet_spawn(connection.close)
