"""A confirmation code sent keeps its salted hash, its wrong tries and when it was proven

Revision ID: 0020_code_proofs
Revises: 0019_settlement_execution_date
Create Date: 2026-12-03 18:30:00

`security_events` rows of kind `code_sent`: `code_salt` and `code_hash` (the code as the
conversation keeps it, a keyed hash), `wrong_tries` (typed against it, whichever request)
and `proven_at` (the right code came back from the number). A proven code no longer
counts against the number's limits; a number at its limit may go on with a code still
valid of the same kind instead of getting a new one. Rows written before have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0020_code_proofs"
down_revision: str | None = "0019_settlement_execution_date"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = core.storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("security_events") as batch:
        batch.add_column(sa.Column("code_salt", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("code_hash", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("wrong_tries", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("proven_at", _WHEN, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("security_events") as batch:
        batch.drop_column("proven_at")
        batch.drop_column("wrong_tries")
        batch.drop_column("code_hash")
        batch.drop_column("code_salt")
