"""municipalities.privacy_url: the municipality's privacy notice, linked from the consent

Revision ID: 0007_chat
Revises: 0001
Create Date: 2026-12-03 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_chat"
down_revision: str | None = "0004_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("municipalities") as batch:
        batch.add_column(sa.Column("privacy_url", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("municipalities") as batch:
        batch.drop_column("privacy_url")
