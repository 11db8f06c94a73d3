"""The act that corrects an application's answers after an upheld appeal

Revision ID: 0023_appeal_corrections
Revises: 0022_card_pin_failures
Create Date: 2026-12-03 19:00:00

`office_acts` accepts the kind `appeal_correction`; `appeals.corrected_at` records when
the answers of an upheld appeal's application were last corrected, and a CHECK keeps it
on upheld appeals only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0023_appeal_corrections"
down_revision: str | None = "0022_card_pin_failures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = core.storage.models.UTCDateTime(timezone=True)
_KINDS_BEFORE = "kind IN ('determina', 'credit', 'reimbursement', 'revocation', 'revocation_undo')"
_KINDS_AFTER = (
    "kind IN ('determina', 'credit', 'reimbursement', 'revocation', 'revocation_undo', "
    "'appeal_correction')"
)


def _act_kinds(kinds: str) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite rebuilds office_acts to change its CHECK, and dropping the old table
        # breaks the revocations that name an act (foreign keys are on): they are set
        # aside while it is rebuilt and put back after.
        op.execute(
            "CREATE TEMP TABLE _revocation_acts AS SELECT id, act_id, undo_act_id "
            "FROM revocations WHERE act_id IS NOT NULL OR undo_act_id IS NOT NULL"
        )
        op.execute(
            "UPDATE revocations SET act_id = NULL, undo_act_id = NULL "
            "WHERE id IN (SELECT id FROM _revocation_acts)"
        )
    with op.batch_alter_table("office_acts") as batch:
        batch.drop_constraint(op.f("ck_office_acts_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_office_acts_kind"), sa.text(kinds))
    if sqlite:
        op.execute(
            "UPDATE revocations SET "
            "act_id = (SELECT s.act_id FROM _revocation_acts s WHERE s.id = revocations.id), "
            "undo_act_id = (SELECT s.undo_act_id FROM _revocation_acts s "
            "WHERE s.id = revocations.id) "
            "WHERE id IN (SELECT id FROM _revocation_acts)"
        )
        op.execute("DROP TABLE _revocation_acts")


def upgrade() -> None:
    _act_kinds(_KINDS_AFTER)
    with op.batch_alter_table("appeals") as batch:
        batch.add_column(sa.Column("corrected_at", _WHEN, nullable=True))
        batch.create_check_constraint(
            op.f("ck_appeals_corrected_upheld"),
            sa.text("corrected_at IS NULL OR status = 'upheld'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("appeals") as batch:
        batch.drop_constraint(op.f("ck_appeals_corrected_upheld"), type_="check")
        batch.drop_column("corrected_at")
    op.execute("DELETE FROM office_acts WHERE kind = 'appeal_correction'")
    _act_kinds(_KINDS_BEFORE)
