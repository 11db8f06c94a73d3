"""outbox.lane and outbox.deliver_by: a priority lane for payment messages, and the time
after which a message is no longer worth sending

Revision ID: 0010_outbox
Revises: 0012_community
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.storage.models import UTCDateTime

revision: str = "0010_outbox"
down_revision: str | None = "0012_community"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lane", sa.SmallInteger(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("deliver_by", UTCDateTime(timezone=True), nullable=True))
    # Messages about a payment (the code, receipts) already waiting go first too.
    op.execute("UPDATE outbox SET lane = 0 WHERE charge_id IS NOT NULL")
    op.create_index("ix_outbox_claim", "outbox", ["channel", "status", "lane", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_claim", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("deliver_by")
        batch.drop_column("lane")
