"""The town's fund: the money received for the vouchers, which every determina is checked against

Revision ID: 0028_town_fund
Revises: 0027_card_print_deadline
Create Date: 2026-12-04 02:40:00

`fund_entries` holds what each municipality received for its vouchers (the State's
"fondo di solidarietà alimentare", its own money) and the corrections of those entries.
A receipt is a positive amount; a correction is a negative amount naming the entry it
corrects (CHECK correction_negative); no entry is zero. The table is append-only, like
the activity log: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL), so a
mistake is corrected by a new entry, never by an edit. No determina may commit more than
the fund minus the budgets of the determine approved or prepared (core.domain.fund).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0028_town_fund"
down_revision: str | None = "0027_card_print_deadline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = core.storage.models.UTCDateTime(timezone=True)
_MESSAGE = "fund_entries is append-only: correct an entry with a new one"


def upgrade() -> None:
    op.create_table(
        "fund_entries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("corrects_id", _ID, nullable=True),
        sa.Column("operator_id", _ID, nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.CheckConstraint("amount_cents <> 0", name=op.f("ck_fund_entries_amount_not_zero")),
        sa.CheckConstraint(
            "(corrects_id IS NULL AND amount_cents > 0) "
            "OR (corrects_id IS NOT NULL AND amount_cents < 0)",
            name=op.f("ck_fund_entries_correction_negative"),
        ),
        sa.CheckConstraint(
            "corrects_id IS NULL OR corrects_id <> id", name=op.f("ck_fund_entries_not_itself")
        ),
        sa.CheckConstraint(
            "length(trim(description)) > 0", name=op.f("ck_fund_entries_description")
        ),
        sa.CheckConstraint(
            "length(trim(recorded_by)) > 0", name=op.f("ck_fund_entries_recorded_by")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_fund_entries_municipality_id_municipalities"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["fund_entries.id"],
            name=op.f("fk_fund_entries_corrects_id_fund_entries"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_fund_entries_operator_id_operators"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_entries")),
    )
    op.create_index("ix_fund_entries_town", "fund_entries", ["municipality_id", "id"])
    op.create_index("ix_fund_entries_corrects_id", "fund_entries", ["corrects_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION fund_entries_append_only() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER fund_entries_append_only BEFORE UPDATE OR DELETE "
            "ON fund_entries FOR EACH ROW EXECUTE FUNCTION fund_entries_append_only()"
        )
        op.execute(
            "CREATE TRIGGER fund_entries_no_truncate BEFORE TRUNCATE "
            "ON fund_entries FOR EACH STATEMENT EXECUTE FUNCTION fund_entries_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER fund_entries_no_{action.lower()} BEFORE {action} "
                f"ON fund_entries BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS fund_entries_no_truncate ON fund_entries")
        op.execute("DROP TRIGGER IF EXISTS fund_entries_append_only ON fund_entries")
        op.execute("DROP FUNCTION IF EXISTS fund_entries_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS fund_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS fund_entries_no_delete")
    op.drop_index("ix_fund_entries_corrects_id", table_name="fund_entries")
    op.drop_index("ix_fund_entries_town", table_name="fund_entries")
    op.drop_table("fund_entries")
