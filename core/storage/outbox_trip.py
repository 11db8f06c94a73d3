"""Outbox rows the provider accepted, marked sent by a plan (core/storage/trips.py).

The outbox worker records a result for every message it sends (about 29 a second on
Telegram, one by one when they are paced): through the ORM each was a session, its
connection, a compiled UPDATE and, on SQLite, a transaction and an fsync of its own
beside the chat turns' group commit. As a plan it is one guarded UPDATE a row, run in
a unit of work's transaction (`run_plan`) or, on SQLite, in the turns' group commit
(several transactions per fsync, core/storage/group_commit.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime

from core.domain.outbox import OutboxStatus
from core.storage.trips import Plan, drive_sqlite

# Read once: an enum member's `.value` is a Python property on 3.11.
_SENT, _SENDING = OutboxStatus.SENT.value, OutboxStatus.SENDING.value
# Written only while the claim that sent it still holds the row (`sending`, the same
# attempts): a row whose lease another worker took over is left to it.
_MARK_SENT = (
    "UPDATE outbox SET status = ?, sent_at = ?, provider_message_id = ?, last_error = NULL "
    "WHERE id = ? AND attempts = ? AND status = ? RETURNING id"
)

# (id, attempts when claimed, the provider's message id)
Accepted = tuple[int, int, str | None]


def mark_sent_plan(sent: Sequence[Accepted], now: datetime) -> Plan[set[tuple[int, int]]]:
    """The rows accepted by the provider marked sent; returns the (id, attempts) written."""
    written: set[tuple[int, int]] = set()
    for message_id, attempts, provider_id in sent:
        rows = yield _MARK_SENT, (_SENT, now, provider_id, message_id, attempts, _SENDING)
        if rows:
            written.add((message_id, attempts))
    return written


def mark_sent_transaction(
    sent: Sequence[Accepted], now: datetime
) -> Callable[[sqlite3.Connection], set[tuple[int, int]]]:
    """`mark_sent_plan` as a transaction for SQLite's group commit (a new plan each run:
    a batch that fails is run again)."""

    def transaction(connection: sqlite3.Connection) -> set[tuple[int, int]]:
        return drive_sqlite(connection, mark_sent_plan(sent, now))

    return transaction
