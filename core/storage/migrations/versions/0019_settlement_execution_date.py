"""A reimbursement run keeps the execution date of its SEPA file

Revision ID: 0019_settlement_execution_date
Revises: 0018_decision_notices
Create Date: 2026-12-03 16:20:00

`settlements.execution_date`: the day the municipality asked its bank to pay the shops.
A shop's RIMBORSI says the transfer was ordered for that day, not that it was paid.
Runs made before this column have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_settlement_execution_date"
down_revision: str | None = "0018_decision_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("settlements", sa.Column("execution_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("settlements") as batch:
        batch.drop_column("execution_date")
