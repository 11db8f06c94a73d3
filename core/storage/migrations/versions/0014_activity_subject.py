"""The activity log read by subject (an application's history)

Revision ID: 0014_activity_subject
Revises: 0013_appeals
Create Date: 2026-12-03 11:15:00

An application's page shows the entries about its protocol (and about the acts that name
it): `ix_office_activity_subject` finds them without reading the town's whole log.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_activity_subject"
down_revision: str | None = "0013_appeals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_office_activity_subject", "office_activity", ["municipality_id", "subject", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_office_activity_subject", table_name="office_activity")
