"""Which database errors mean "this transaction lost a race, run it again"."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError

# PostgreSQL: serialization_failure, deadlock_detected.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_transient(error: BaseException) -> bool:
    """A deadlock or serialization failure (PostgreSQL), or a database still locked by
    another process after the busy timeout (SQLite): nothing was committed, and the same
    transaction run again from the start may succeed."""
    if isinstance(error, DBAPIError):
        original: BaseException | None = error.orig
    elif isinstance(error, sqlite3.OperationalError) or hasattr(error, "sqlstate"):
        # A plan's errors come from the driver itself (core/storage/trips.py).
        original = error
    else:
        return False
    for candidate in (original, getattr(original, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code in RETRYABLE_SQLSTATES:
            return True
    return "database is locked" in str(original)
