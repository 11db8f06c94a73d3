"""server_secret: the fingerprint of the server secret the database was set up with

Revision ID: 0034_secret_fingerprint
Revises: 0033_office_contact
Create Date: 2026-12-04 20:40:00

Without BUONISPESA_SECRET_KEY the secret lives in a file found from the current folder
(PostgreSQL: ./data/secret.key); a command run from another folder made a new one and
silently voided printed card grids, pending codes and cashier codes. The database now
remembers an HMAC of a fixed label under its secret, written by the first start after
this upgrade, and a start with another secret is refused (core/bootstrap.py). Empty here:
the start that follows the migration records it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0034_secret_fingerprint"
down_revision: str | None = "0033_office_contact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = core.storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "server_secret",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_server_secret_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_secret")),
    )


def downgrade() -> None:
    op.drop_table("server_secret")
