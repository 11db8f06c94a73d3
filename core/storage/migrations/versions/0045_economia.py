"""An economia frees a credited determina's unassigned rest

Revision ID: 0045_economia
Revises: 0044_chat_phone_requests
Create Date: 2026-12-06 09:45:00

A determina commits its whole budget; what it did not assign stays committed until the
town's own act (an economia) frees it (docs/allocation.md). `allocations.freed_cents` is what
economie freed of a determina's budget, kept between zero and the budget by a CHECK (the
service's guarded UPDATE keeps it within budget − allocated); `economie` records each one
(the act's reference and day, who recorded it, the office's act approved), append-only as
`fund_entries`; `office_acts` accepts the kind `economia` (four eyes).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0045_economia"
down_revision: str | None = "0044_chat_phone_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = core.storage.models.UTCDateTime(timezone=True)
_MESSAGE = "economie is append-only: an economia is never edited"
_FREED = "freed_cents >= 0 AND freed_cents <= budget_cents"
_KINDS = (
    "'determina', 'credit', 'reimbursement', 'revocation', 'revocation_undo', 'appeal_correction'"
)
_OPEN = "status = 'prepared'"


def _act_kinds(kinds: str) -> None:
    """The CHECK of office_acts' kinds; SQLite rebuilds the table (as 0023 did), setting
    aside the revocations that name an act, and the partial unique index of the open
    drafts (0037) is made again after it. Runs while no economie table names an act."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute(
            "CREATE TEMP TABLE _revocation_acts AS SELECT id, act_id, undo_act_id "
            "FROM revocations WHERE act_id IS NOT NULL OR undo_act_id IS NOT NULL"
        )
        op.execute(
            "UPDATE revocations SET act_id = NULL, undo_act_id = NULL "
            "WHERE id IN (SELECT id FROM _revocation_acts)"
        )
        op.drop_index("uq_office_acts_open", table_name="office_acts")
    with op.batch_alter_table("office_acts") as batch:
        batch.drop_constraint(op.f("ck_office_acts_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_office_acts_kind"), sa.text(kinds))
    if sqlite:
        op.create_index(
            "uq_office_acts_open",
            "office_acts",
            ["municipality_id", "kind", "protocol"],
            unique=True,
            sqlite_where=sa.text(_OPEN),
        )
        op.execute(
            "UPDATE revocations SET "
            "act_id = (SELECT s.act_id FROM _revocation_acts s WHERE s.id = revocations.id), "
            "undo_act_id = (SELECT s.undo_act_id FROM _revocation_acts s "
            "WHERE s.id = revocations.id) "
            "WHERE id IN (SELECT id FROM _revocation_acts)"
        )
        op.execute("DROP TABLE _revocation_acts")


def _sqlite_trigger(action: str) -> None:
    op.execute(
        f"CREATE TRIGGER economie_no_{action.lower()} BEFORE {action} "
        f"ON economie BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
    )


def upgrade() -> None:
    _act_kinds(f"kind IN ({_KINDS}, 'economia')")
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # A plain ALTER TABLE (no rebuild of allocations, which lines and postings name);
        # a downgrade on SQLite leaves the column (all zeros again): it is kept.
        columns = {column["name"] for column in sa.inspect(bind).get_columns("allocations")}
        if "freed_cents" not in columns:
            op.execute(
                "ALTER TABLE allocations ADD COLUMN freed_cents BIGINT NOT NULL DEFAULT 0 "
                f"CONSTRAINT ck_allocations_freed CHECK ({_FREED})"
            )
    else:
        op.add_column(
            "allocations",
            sa.Column("freed_cents", sa.BigInteger(), nullable=False, server_default="0"),
        )
        op.create_check_constraint(op.f("ck_allocations_freed"), "allocations", _FREED)
    op.create_table(
        "economie",
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("allocation_id", _ID, nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("act_on", sa.Date(), nullable=False),
        sa.Column("act_id", _ID, nullable=True),
        sa.Column("operator_id", _ID, nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_economie_amount_positive")),
        sa.CheckConstraint("length(trim(reference)) > 0", name=op.f("ck_economie_reference")),
        sa.CheckConstraint("length(trim(recorded_by)) > 0", name=op.f("ck_economie_recorded_by")),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_economie_municipality_id_municipalities"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["allocation_id"],
            ["allocations.id"],
            name=op.f("fk_economie_allocation_id_allocations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["act_id"],
            ["office_acts.id"],
            name=op.f("fk_economie_act_id_office_acts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_economie_operator_id_operators"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_economie")),
    )
    op.create_index("ix_economie_town", "economie", ["municipality_id", "id"])
    op.create_index("ix_economie_allocation_id", "economie", ["allocation_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION economie_append_only() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER economie_append_only BEFORE UPDATE OR DELETE "
            "ON economie FOR EACH ROW EXECUTE FUNCTION economie_append_only()"
        )
        op.execute(
            "CREATE TRIGGER economie_no_truncate BEFORE TRUNCATE "
            "ON economie FOR EACH STATEMENT EXECUTE FUNCTION economie_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            _sqlite_trigger(action)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS economie_no_truncate ON economie")
        op.execute("DROP TRIGGER IF EXISTS economie_append_only ON economie")
        op.execute("DROP FUNCTION IF EXISTS economie_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS economie_no_update")
        op.execute("DROP TRIGGER IF EXISTS economie_no_delete")
    op.drop_index("ix_economie_allocation_id", table_name="economie")
    op.drop_index("ix_economie_town", table_name="economie")
    op.drop_table("economie")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column its CHECK names only by rebuilding allocations, which lines
        # and postings name (foreign keys are on): the column stays, zero, as no economia
        # is left; upgrading again finds it.
        op.execute("UPDATE allocations SET freed_cents = 0")
    else:
        op.drop_constraint(op.f("ck_allocations_freed"), "allocations", type_="check")
        op.drop_column("allocations", "freed_cents")
    op.execute("DELETE FROM office_acts WHERE kind = 'economia'")
    _act_kinds(f"kind IN ({_KINDS})")
