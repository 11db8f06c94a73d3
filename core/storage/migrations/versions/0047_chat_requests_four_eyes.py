"""A Telegram chat's number is checked by one operator and approved by another

Revision ID: 0047_chat_requests_four_eyes
Revises: 0046_chat_request_needs_its_chat
Create Date: 2026-12-06 17:10:00

0044_chat_phone_requests let one manager approve a phone change a Telegram chat asked (its
contact counted as the first pair of eyes). The office cannot tell whose a chat is: a
manager whose own Telegram an older application linked to a citizen approved their own
number alone (trial 10). Now an operator who checked the person takes the chat's request
up (core.services.phone_changes.check_chat_request writes them as `requested_by_id`, the
chat stays in `requested_by_chat`), and a manager other than them approves it. So:

- CHECK one_requester becomes CHECK requester: an operator, the chat, or both (a chat's
  request an operator took up); a chat still asks only for a new phone;
- CHECK four_eyes wants an operator requester on every approved request, other than its
  approver (a NULL requester no longer passes it).

A chat's request approved by one manager before this migration cannot meet the new
CHECK, and nobody can be named as its second operator after the fact: the row is deleted,
as 0044's downgrade deletes the chats' requests. What happened stays where the office
reads it: the activity log (`citizen.phone_request`, `citizen.phone_approve`) and the
citizen's identity log (`phone_rebound`). Withdrawn and waiting ones stay.

On SQLite the table is rebuilt keeping its triggers, as in 0044 (0046's among them).
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0047_chat_requests_four_eyes"
down_revision: str | None = "0046_chat_request_needs_its_chat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "phone_changes"
_FOUR_EYES_BEFORE = (
    "status <> 'approved' OR (decided_by_id IS NOT NULL "
    "AND (requested_by_id IS NULL OR decided_by_id <> requested_by_id))"
)
_FOUR_EYES_AFTER = (
    "status <> 'approved' OR (decided_by_id IS NOT NULL "
    "AND requested_by_id IS NOT NULL AND decided_by_id <> requested_by_id)"
)
_ONE_REQUESTER = (
    "(requested_by_id IS NOT NULL AND requested_by_chat IS NULL) "
    "OR (requested_by_id IS NULL AND requested_by_chat IS NOT NULL AND kind = 'phone')"
)
_REQUESTER = (
    "(requested_by_id IS NOT NULL OR requested_by_chat IS NOT NULL) "
    "AND (requested_by_chat IS NULL OR kind = 'phone')"
)

# SQLite triggers that read phone_changes (as 0044_chat_phone_requests keeps them).
_READERS = (
    "citizens_card_request_insert",
    "citizens_card_request_update",
    "citizens_no_phone_while_change_waits",
)
_ON_TABLE = (
    "phone_changes_card_holder_update",
    "phone_changes_card_holder_delete",
    "phone_changes_chat_request_needs_its_chat",  # 0046
)


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
    op.execute(
        "DELETE FROM phone_changes WHERE status = 'approved' AND requested_by_id IS NULL"
    )

    def alter(batch: BatchOperations) -> None:
        batch.drop_constraint(op.f(f"ck_{_TABLE}_one_requester"), type_="check")
        batch.drop_constraint(op.f(f"ck_{_TABLE}_four_eyes"), type_="check")
        batch.create_check_constraint(op.f(f"ck_{_TABLE}_requester"), sa.text(_REQUESTER))
        batch.create_check_constraint(op.f(f"ck_{_TABLE}_four_eyes"), sa.text(_FOUR_EYES_AFTER))

    _rebuild(alter)


def downgrade() -> None:
    # A chat's request an operator took up goes back to the chat's alone (waiting: one
    # manager approves it, as before; decided: the operator stays in the activity log).
    op.execute(
        "UPDATE phone_changes SET requested_by_id = NULL "
        "WHERE requested_by_chat IS NOT NULL AND status <> 'approved'"
    )
    op.execute(
        "UPDATE phone_changes SET requested_by_chat = NULL "
        "WHERE requested_by_chat IS NOT NULL AND requested_by_id IS NOT NULL"
    )

    def alter(batch: BatchOperations) -> None:
        batch.drop_constraint(op.f(f"ck_{_TABLE}_requester"), type_="check")
        batch.drop_constraint(op.f(f"ck_{_TABLE}_four_eyes"), type_="check")
        batch.create_check_constraint(op.f(f"ck_{_TABLE}_four_eyes"), sa.text(_FOUR_EYES_BEFORE))
        batch.create_check_constraint(op.f(f"ck_{_TABLE}_one_requester"), sa.text(_ONE_REQUESTER))

    _rebuild(alter)
