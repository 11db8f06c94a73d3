"""A posting and a charge move a positive amount, whatever writes them

Revision ID: 0049_positive_amounts
Revises: 0048_one_posting_per_charge
Create Date: 2026-12-07 01:00:00

The services refuse a posting or a charge of zero or less (ledger.post, charges.asking):
every amount is stored positive, its direction in the row itself (a posting's from and to
accounts and its kind: a refund is shop -> citizen, a reversal a new posting the other way;
a charge is what the shop asks, its refund a posting of the same amount). CHECK amount_positive
on both tables holds it in the database: a raw INSERT of 0 or -1 (a script, a service that
forgot) is refused. Rows written before are positive already (the services never wrote
others); an upgrade over one that is not fails, naming the constraint.

SQLite cannot add a CHECK to a table: the table is rebuilt, under its own name, every index
and trigger of it (uq_postings_charge_kind of 0048, charges_citizen_not_erased of 0039, ...)
written again (core/storage/migrations/rebuild.py: charges is referenced by other tables,
which Alembic's batch mode cannot drop with foreign keys on).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.storage.migrations.rebuild import check_clause, sqlite_rebuild

revision: str = "0049_positive_amounts"
down_revision: str | None = "0048_one_posting_per_charge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("postings", "charges")
CHECK = "amount_cents > 0"


def _name(table: str) -> str:
    return f"ck_{table}_amount_positive"


def _constraint(table: str) -> str:
    return check_clause(_name(table), CHECK)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            sqlite_rebuild(table, _constraint(table), add=True)
        return
    for table in TABLES:
        op.create_check_constraint(op.f(_name(table)), table, sa.text(CHECK))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            sqlite_rebuild(table, _constraint(table), add=False)
        return
    for table in TABLES:
        op.drop_constraint(op.f(_name(table)), table, type_="check")
