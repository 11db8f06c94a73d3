"""settlements.document: every reimbursement run keeps its SEPA file

Revision ID: 0035_settlement_document
Revises: 0034_secret_fingerprint
Create Date: 2026-12-04 23:30:00

The pain.001 file of a run was kept only on the office act that ordered it
(office_acts.document): a run ordered by the command line (`buonispesa admin reimburse`)
left its file on the server's disk alone, and the office neither listed the run nor could
download it again. The settlement now keeps its own file. Runs approved in the office get
theirs back here, from their act (the act's outcome names the settlement's message id);
earlier command-line runs have none to recover.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035_settlement_document"
down_revision: str | None = "0034_secret_fingerprint"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_acts = sa.table(
    "office_acts",
    sa.column("kind", sa.String),
    sa.column("status", sa.String),
    sa.column("outcome", sa.JSON),
    sa.column("document", sa.LargeBinary),
)
_settlements = sa.table(
    "settlements",
    sa.column("message_id", sa.String),
    sa.column("document", sa.LargeBinary),
)


def upgrade() -> None:
    # A plain ALTER TABLE on both databases: ledger postings reference settlements, so the
    # table is never copied (batch mode) on SQLite.
    op.add_column("settlements", sa.Column("document", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    approved = bind.execute(
        sa.select(_acts.c.outcome, _acts.c.document).where(
            _acts.c.kind == "reimbursement",
            _acts.c.status == "approved",
            _acts.c.document.is_not(None),
        )
    ).all()
    # The JSON column is read in Python: the same on SQLite and PostgreSQL.
    for outcome, document in approved:
        reference = (outcome or {}).get("message_id")
        if not reference:
            continue
        bind.execute(
            sa.update(_settlements)
            .where(_settlements.c.message_id == str(reference), _settlements.c.document.is_(None))
            .values(document=document)
        )


def downgrade() -> None:
    # SQLite (3.35+) drops a column in place too: no copy of a referenced table.
    op.drop_column("settlements", "document")
