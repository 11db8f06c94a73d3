"""Tranches: one posting per allocation line (unique), withdrawn determinas

Revision ID: 0008_rounds
Revises: 0011_office
Create Date: 2026-12-03 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_rounds"
down_revision: str | None = "0011_office"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Existing allocation postings get their line: the first posting of each (tranche, citizen)
# only, so a tranche an old version paid twice keeps its extra postings unlinked and the
# ledger check reports it instead of the migration failing on the unique index.
_BACKFILL = """
UPDATE postings SET allocation_line_id = (
    SELECT l.id FROM allocation_lines l
    JOIN applications a ON a.id = l.application_id
    JOIN accounts c ON c.kind = 'citizen' AND c.owner_id = a.citizen_id
        AND c.municipality_id = a.municipality_id
    WHERE l.allocation_id = postings.allocation_id AND c.id = postings.to_account_id
)
WHERE kind = 'allocation' AND allocation_id IS NOT NULL AND id IN (
    SELECT min(id) FROM postings WHERE kind = 'allocation' AND allocation_id IS NOT NULL
    GROUP BY allocation_id, to_account_id
)
"""


def upgrade() -> None:
    with op.batch_alter_table("allocations") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("withdrawn_by", sa.String(length=100), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place: no copy of the postings table
        # (which other tables reference) as a batch rebuild would make.
        op.execute(
            "ALTER TABLE postings ADD COLUMN allocation_line_id INTEGER "
            "REFERENCES allocation_lines (id) ON DELETE RESTRICT"
        )
    else:
        op.add_column("postings", sa.Column("allocation_line_id", _ID, nullable=True))
        op.create_foreign_key(
            "fk_postings_allocation_line_id_allocation_lines",
            "postings",
            "allocation_lines",
            ["allocation_line_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    op.execute(_BACKFILL)
    op.create_index("uq_postings_allocation_line", "postings", ["allocation_line_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_postings_allocation_line", table_name="postings")
    with op.batch_alter_table("postings") as batch:
        if op.get_bind().dialect.name != "sqlite":  # on SQLite the rebuild drops it
            batch.drop_constraint(
                "fk_postings_allocation_line_id_allocation_lines", type_="foreignkey"
            )
        batch.drop_column("allocation_line_id")
    with op.batch_alter_table("allocations") as batch:
        batch.drop_column("withdrawn_by")
        batch.drop_column("withdrawn_at")
