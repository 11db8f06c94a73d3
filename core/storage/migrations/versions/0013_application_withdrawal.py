"""paper applications withdrawn by the office, with the reason

Revision ID: 0013_withdrawal
Revises: 0008_rounds
Create Date: 2026-12-03 09:30:00

A withdrawn application keeps its row and its protocol (a registered document is never
deleted): the date and the reason say it was withdrawn, and the allocation leaves it out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0013_withdrawal"
down_revision: str | None = "0008_rounds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = core.storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("withdrawn_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("withdrawal_reason", sa.String(length=300), nullable=True))
        batch.create_check_constraint(
            "withdrawal_has_reason",
            "(withdrawn_at IS NULL) = (withdrawal_reason IS NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_constraint("ck_applications_withdrawal_has_reason", type_="check")
        batch.drop_column("withdrawal_reason")
        batch.drop_column("withdrawn_at")
