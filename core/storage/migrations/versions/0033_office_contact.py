"""municipalities.office_contact: how citizens reach the social-services office

Revision ID: 0033_office_contact
Revises: 0032_refund_void
Create Date: 2026-12-04 20:10:00

Many answers send a citizen to the office ("contact the office", "ask the office for a new
card"); UFFICIO in the chat now says how (a phone, opening hours, where), as the office
wrote it with `admin municipality set --office-contact`. None: the chat says to ask at the
town hall, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_office_contact"
down_revision: str | None = "0032_refund_void"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("municipalities", sa.Column("office_contact", sa.String(100), nullable=True))


def downgrade() -> None:
    # A plain ALTER TABLE (SQLite >= 3.35 has DROP COLUMN): a batch copy would drop and
    # recreate `municipalities`, which every table's foreign key refers to.
    op.drop_column("municipalities", "office_contact")
