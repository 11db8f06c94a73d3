"""An approved card with a PIN is printed within days, or expires

Revision ID: 0027_card_print_deadline
Revises: 0026_shop_receipt_numbers
Create Date: 2026-12-04 02:50:00

An approved card request not printed stayed printable for ever: a PIN could be made
months after two operators vouched for the person at the desk. `phone_changes.print_by`
is the moment an approved card must be printed before (its approval and
core.services.cards.CARD_PRINT_DAYS); afterwards the service refuses to print it and the
request becomes `expired` (a new status) when a new card is asked, so the partial unique
index lets the new request in. CHECK printed_in_time: only an approved card (or one
withdrawn or expired after its approval) has a deadline, every approved card has one, a
card is printed before it, and only an approved card never printed expires. Cards
approved before keep their deadline from their approval (and a card already printed one
just after its printing).
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0027_card_print_deadline"
down_revision: str | None = "0026_shop_receipt_numbers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = core.storage.models.UTCDateTime(timezone=True)
_TABLE = "phone_changes"
# The constant of core.services.cards when this migration was written.
_CARD_PRINT_DAYS = 7
_STATUS_BEFORE = "status IN ('waiting', 'approved', 'withdrawn')"
_STATUS_AFTER = "status IN ('waiting', 'approved', 'withdrawn', 'expired')"
_PRINTED_IN_TIME = (
    "(print_by IS NULL AND status <> 'expired' "
    "AND (kind <> 'card' OR status <> 'approved')) "
    "OR (print_by IS NOT NULL AND kind = 'card' "
    "AND (status = 'withdrawn' OR (status = 'expired' AND handed_at IS NULL) "
    "OR (status = 'approved' AND (handed_at IS NULL OR handed_at < print_by))))"
)


def upgrade() -> None:
    with op.batch_alter_table(_TABLE) as batch:
        batch.add_column(sa.Column("print_by", _WHEN, nullable=True))
    rows = sa.table(
        _TABLE,
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("status", sa.String()),
        sa.column("decided_at", _WHEN),
        sa.column("handed_at", _WHEN),
        sa.column("print_by", _WHEN),
    )
    bind = op.get_bind()
    approved = bind.execute(
        sa.select(rows.c.id, rows.c.decided_at, rows.c.handed_at).where(
            rows.c.kind == "card", rows.c.status == "approved"
        )
    ).all()
    for change_id, decided_at, handed_at in approved:
        deadline = decided_at + timedelta(days=_CARD_PRINT_DAYS)
        if handed_at is not None and handed_at >= deadline:
            deadline = handed_at + timedelta(seconds=1)
        bind.execute(sa.update(rows).where(rows.c.id == change_id).values(print_by=deadline))
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_constraint(op.f(f"ck_{_TABLE}_status"), type_="check")
        batch.create_check_constraint(op.f(f"ck_{_TABLE}_status"), sa.text(_STATUS_AFTER))
        batch.create_check_constraint(
            op.f(f"ck_{_TABLE}_printed_in_time"), sa.text(_PRINTED_IN_TIME)
        )


def downgrade() -> None:
    # An expired card was never printed: as withdrawn, it stays out of the unique index.
    op.execute("UPDATE phone_changes SET status = 'withdrawn' WHERE status = 'expired'")
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_constraint(op.f(f"ck_{_TABLE}_printed_in_time"), type_="check")
        batch.drop_constraint(op.f(f"ck_{_TABLE}_status"), type_="check")
        batch.create_check_constraint(op.f(f"ck_{_TABLE}_status"), sa.text(_STATUS_BEFORE))
        batch.drop_column("print_by")
