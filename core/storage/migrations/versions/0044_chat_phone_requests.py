"""A Telegram chat's refused first number waits for the office as a phone change

Revision ID: 0044_chat_phone_requests
Revises: 0043_no_phone_while_change_waits
Create Date: 2026-12-06 09:50:00

A Telegram chat linked to a citizen without a phone who has money to spend proves a
number with its own contact: nothing is bound (identity.FirstNumberNeedsOffice), and the
number now waits for the office as a phone change (kind `phone`) asked by the chat, not
by an operator (docs/identity-and-consent.md §5). So:

- `requested_by_id` may be NULL, and `requested_by_chat` (new) holds the Telegram chat
  that asked; CHECK one_requester: exactly one of the two names the requester, and a chat
  asks only for a new phone;
- CHECK four_eyes says what it said for an operator's request (the approver is not the
  asker) and lets one operator approve a chat's request: the chat's proof is the first
  pair of eyes.

On SQLite the table is rebuilt (batch_alter_table): the triggers of 0030_request_identity
on phone_changes are created again, as that migration asks. Triggers of other tables that
read phone_changes (0030's on citizens, 0043) are dropped before the rebuild and created
again after it: SQLite refuses to rename a table while a trigger names a missing one.

On the way down the chat's requests are deleted (waiting ones: the chat shares its
contact again after the next upgrade; decided ones: the identity log and the office's
activity log keep what happened), then the columns and checks are as before.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0044_chat_phone_requests"
down_revision: str | None = "0043_no_phone_while_change_waits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "phone_changes"
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_FOUR_EYES_BEFORE = (
    "status <> 'approved' OR (decided_by_id IS NOT NULL AND decided_by_id <> requested_by_id)"
)
_FOUR_EYES_AFTER = (
    "status <> 'approved' OR (decided_by_id IS NOT NULL "
    "AND (requested_by_id IS NULL OR decided_by_id <> requested_by_id))"
)
_ONE_REQUESTER = (
    "(requested_by_id IS NOT NULL AND requested_by_chat IS NULL) "
    "OR (requested_by_id IS NULL AND requested_by_chat IS NOT NULL AND kind = 'phone')"
)

# SQLite triggers that read phone_changes, as 0030_request_identity and
# 0043_no_phone_while_change_waits created them (names and statements read back from
# sqlite_master, so they are created again exactly).
_READERS = (
    "citizens_card_request_insert",
    "citizens_card_request_update",
    "citizens_no_phone_while_change_waits",
)
_ON_TABLE = ("phone_changes_card_holder_update", "phone_changes_card_holder_delete")


def _sqlite_triggers(names: Sequence[str]) -> list[str]:
    rows = op.get_bind().execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    )
    found = {name: sql for name, sql in rows}
    return [found[name] for name in names if name in found]


def _rebuild(alter: Callable[[BatchOperations], None]) -> None:
    """Run `alter` (a batch_alter_table body); on SQLite keep the triggers around it."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    kept = _sqlite_triggers((*_READERS, *_ON_TABLE)) if sqlite else []
    if sqlite:
        for name in (*_READERS, *_ON_TABLE):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table(_TABLE) as batch:
        alter(batch)
    for sql in kept:
        op.execute(sql)


def upgrade() -> None:
    def alter(batch: BatchOperations) -> None:
        batch.add_column(sa.Column("requested_by_chat", sa.String(length=64), nullable=True))
        batch.alter_column("requested_by_id", existing_type=_ID, nullable=True)
        batch.drop_constraint(op.f(f"ck_{_TABLE}_four_eyes"), type_="check")
        batch.create_check_constraint(op.f(f"ck_{_TABLE}_four_eyes"), sa.text(_FOUR_EYES_AFTER))
        batch.create_check_constraint(op.f(f"ck_{_TABLE}_one_requester"), sa.text(_ONE_REQUESTER))

    _rebuild(alter)


def downgrade() -> None:
    op.execute("DELETE FROM phone_changes WHERE requested_by_id IS NULL")

    def alter(batch: BatchOperations) -> None:
        batch.drop_constraint(op.f(f"ck_{_TABLE}_one_requester"), type_="check")
        batch.drop_constraint(op.f(f"ck_{_TABLE}_four_eyes"), type_="check")
        batch.create_check_constraint(op.f(f"ck_{_TABLE}_four_eyes"), sa.text(_FOUR_EYES_BEFORE))
        batch.alter_column("requested_by_id", existing_type=_ID, nullable=False)
        batch.drop_column("requested_by_chat")

    _rebuild(alter)
