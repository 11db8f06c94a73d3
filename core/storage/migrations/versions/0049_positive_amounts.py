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

SQLite cannot add a CHECK to a table: the table is rebuilt. Alembic's batch mode would copy
it to a new table, drop the old one and rename the copy, but charges is referenced by other
tables (postings, outbox, ...) with PRAGMA foreign_keys=ON, which a migration's transaction
cannot switch off: dropping charges is refused. So the rows are kept in a copy, the table is
dropped and created again under its own name with the CHECK (its CREATE statement as
sqlite_master holds it, plus the constraint), and the rows are put back, with
defer_foreign_keys: the references the drop broke are whole again when the rows return,
before the commit checks them. Every index and trigger of the table (uq_postings_charge_kind
of 0048, charges_citizen_not_erased of 0039, ...) is written again from its own statement.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0049_positive_amounts"
down_revision: str | None = "0048_one_posting_per_charge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("postings", "charges")
CHECK = "amount_cents > 0"


def _name(table: str) -> str:
    return f"ck_{table}_amount_positive"


def _constraint(table: str) -> str:
    return f", CONSTRAINT {_name(table)} CHECK ({CHECK})"


def _sqlite_rebuild(table: str, *, add: bool) -> None:
    bind = op.get_bind()
    [create] = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
    ).scalars()
    constraint = _constraint(table)
    if add:
        body = create.rstrip()
        assert body.endswith(")"), create
        new_create = body[:-1].rstrip() + constraint + "\n)"
    else:
        assert constraint in create, create
        new_create = create.replace(constraint, "")
    # Indexes and triggers on the table, each as written (an automatic index has no SQL:
    # CREATE TABLE makes it again).
    kept = list(
        bind.execute(
            sa.text(
                "SELECT sql FROM sqlite_master WHERE tbl_name = :t "
                "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
            ),
            {"t": table},
        ).scalars()
    )
    copy = f"_{table}_rows"
    op.execute("PRAGMA defer_foreign_keys = ON")  # back to off at the commit
    op.execute(f"CREATE TABLE {copy} AS SELECT * FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(new_create)
    op.execute(f"INSERT INTO {table} SELECT * FROM {copy}")
    op.execute(f"DROP TABLE {copy}")
    for sql in kept:
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            _sqlite_rebuild(table, add=True)
        return
    for table in TABLES:
        op.create_check_constraint(op.f(_name(table)), table, sa.text(CHECK))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            _sqlite_rebuild(table, add=False)
        return
    for table in TABLES:
        op.drop_constraint(op.f(_name(table)), table, type_="check")
