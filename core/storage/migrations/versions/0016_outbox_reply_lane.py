"""outbox.lane 1 becomes the lane of answers to a message just received; notices move to 2

Until now lane 1 held both the dialogue's answers and the notices the service sends on its
own, in the order they were written: during a tranche's notices (over an hour for 100,000
households at 20 SMS/s) a citizen's SALDO waited behind all of them.

Revision ID: 0016_outbox_reply_lane
Revises: 0015_shop_phone_guard
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_outbox_reply_lane"
down_revision: str | None = "0015_shop_phone_guard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows already queued cannot tell an answer from a notice: all become notices, and
    # only what is written from now on is sorted (an answer older than this is late anyway).
    op.execute("UPDATE outbox SET lane = 2 WHERE lane = 1")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "lane",
            existing_type=sa.SmallInteger(),
            existing_nullable=False,
            server_default="2",
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "lane",
            existing_type=sa.SmallInteger(),
            existing_nullable=False,
            server_default="1",
        )
    op.execute("UPDATE outbox SET lane = 1 WHERE lane = 2")
