"""Adding or dropping a CHECK on a SQLite table that other tables reference.

SQLite cannot add a CHECK to a table: the table is rebuilt. Alembic's batch mode would copy
it to a new table, drop the old one and rename the copy, but a table referenced by others
(postings reference accounts and charges) cannot be dropped with PRAGMA foreign_keys=ON,
which a migration's transaction cannot switch off. So the rows are kept in a copy, the
table is dropped and created again under its own name with (or without) the CHECK (its
CREATE statement as sqlite_master holds it, plus the constraint), and the rows are put
back, with defer_foreign_keys: the references the drop broke are whole again when the rows
return, before the commit checks them. Every index and trigger of the table is written
again from its own statement. Used by migrations 0049 and 0050.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def check_clause(name: str, check: str) -> str:
    """The table constraint as the rebuilt CREATE TABLE ends with it."""
    return f", CONSTRAINT {name} CHECK ({check})"


def sqlite_rebuild(table: str, constraint: str, *, add: bool) -> None:
    """Rebuild `table` with `constraint` (check_clause) added, or with it dropped."""
    bind = op.get_bind()
    [create] = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
    ).scalars()
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
