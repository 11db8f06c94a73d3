"""Wrong card PINs are counted from security_events, not in a column of the citizen

Revision ID: 0022_card_pin_failures
Revises: 0021_operator_devices
Create Date: 2026-12-03 18:30:00

A wrong PIN is a wrong payment code of the shop that typed it (a `security_events` row
naming the card); the limits per card and shop and per card count those rows over 24
hours, so `citizens.card_pin_failures` (wrong PINs in a row) is dropped.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_card_pin_failures"
down_revision: str | None = "0021_operator_devices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ALTER TABLE (SQLite 3.35+ and PostgreSQL): a batch copy of `citizens` would
    # break the SQLite triggers of other tables that read it (0015_shop_phone_guard).
    op.execute("ALTER TABLE citizens DROP COLUMN card_pin_failures")


def downgrade() -> None:
    op.add_column(
        "citizens",
        sa.Column("card_pin_failures", sa.Integer(), server_default="0", nullable=False),
    )
