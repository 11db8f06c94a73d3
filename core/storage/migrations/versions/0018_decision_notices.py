"""the decision on an application that a credit run did not pay is notified, once

`applications.decision_notified_at`: when the notice of the decision (excluded, or nothing
in this tranche) was queued, by the credit run of the first tranche that decided the
application without paying it; the appeal window of such an application starts there.
`outbox.application_id`: the application whose decision a notice reports (the office's
application page shows that notice).

Applications decided before this revision, never paid, were never told: they keep the
moment their window already had (the latest credit of a tranche that decided them), so
that no appeal window changes under anybody's feet.

Revision ID: 0018_decision_notices
Revises: 0017_phone_changes
Create Date: 2026-12-03 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0018_decision_notices"
down_revision: str | None = "0017_phone_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = core.storage.models.UTCDateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("applications", sa.Column("decision_notified_at", _WHEN, nullable=True))
    op.add_column("outbox", sa.Column("application_id", _ID, nullable=True))
    op.create_index(
        "ix_outbox_application",
        "outbox",
        ["application_id"],
        sqlite_where=sa.text("application_id IS NOT NULL"),
        postgresql_where=sa.text("application_id IS NOT NULL"),
    )
    op.execute(
        """
        UPDATE applications SET decision_notified_at = (
            SELECT max(allocations.credited_at) FROM allocation_lines
            JOIN allocations ON allocations.id = allocation_lines.allocation_id
            WHERE allocation_lines.application_id = applications.id
              AND allocations.credited_at IS NOT NULL AND allocations.withdrawn_at IS NULL
        )
        WHERE NOT EXISTS (
            SELECT 1 FROM allocation_lines
            JOIN postings ON postings.allocation_line_id = allocation_lines.id
            WHERE allocation_lines.application_id = applications.id
        )
        """
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_application", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("application_id")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("decision_notified_at")
