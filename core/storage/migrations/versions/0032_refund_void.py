"""A customer's refund code knows who asked it and whether its request became void

Revision ID: 0032_refund_void
Revises: 0031_card_codes
Create Date: 2026-12-04 14:00:00

A cashier's refund sends the customer a code to consent. When that request became void
(the cashier cancelled it or asked another, left or was removed from the shop, the shop
was blocked, the payment was refunded otherwise) the customer was never told, and kept
reading out a code that no longer worked. `security_events.asked_by` keeps the chat that
asked the code ("channel:address"), so its removal finds the codes it asked, and
`security_events.voided` why its request became void, so the customer is told once and a
code typed later is answered as void (core.services.charges). Codes sent before have
neither: they are void when their request ends, as before, without a notice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_refund_void"
down_revision: str | None = "0031_card_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLEs on both databases (no batch copy of the table).
    op.add_column("security_events", sa.Column("asked_by", sa.String(100), nullable=True))
    op.add_column("security_events", sa.Column("voided", sa.String(24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("security_events") as batch:
        batch.drop_column("voided")
        batch.drop_column("asked_by")
