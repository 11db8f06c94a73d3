"""Checks' outcomes, revocations that can be undone, appeals from the chat

Revision ID: 0013_appeals
Revises: 0013_withdrawal
Create Date: 2026-12-03 09:40:00

`revocations` records each revocation (backfilled from the applications revoked so far,
with what their revocation posting returned to the fund) and its undoing; a CHECK keeps
what goes back to the citizen at most what was returned. `office_acts` accepts the act
that undoes a revocation. `appeals`: one open appeal per application (partial unique index).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0013_appeals"
down_revision: str | None = "0013_withdrawal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = core.storage.models.UTCDateTime(timezone=True)
_KINDS_BEFORE = "kind IN ('determina', 'credit', 'reimbursement', 'revocation')"
_KINDS_AFTER = "kind IN ('determina', 'credit', 'reimbursement', 'revocation', 'revocation_undo')"

# Applications revoked before this table existed: what their revocation posting (made at
# the moment of the revocation, from the citizen's account) returned to the fund.
_BACKFILL = """
INSERT INTO revocations (municipality_id, application_id, revoked_at, returned_cents,
                         recover_cents)
SELECT a.municipality_id, a.id, a.revoked_at,
       COALESCE((SELECT SUM(p.amount_cents) FROM postings p
                 JOIN accounts c ON c.id = p.from_account_id
                 WHERE p.kind = 'revocation' AND c.kind = 'citizen'
                   AND c.owner_id = a.citizen_id AND c.municipality_id = a.municipality_id
                   AND p.created_at = a.revoked_at), 0),
       a.recover_cents
FROM applications a WHERE a.revoked_at IS NOT NULL
"""


def _fk(column: str, table: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    op.create_table(
        "audit_checks",
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("application_id", _ID, nullable=False),
        sa.Column("sample_id", _ID, nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("checked_by", sa.String(length=100), nullable=False),
        sa.Column("operator_id", _ID, nullable=True),
        sa.Column("checked_at", _WHEN, nullable=False),
        sa.CheckConstraint(
            "outcome IN ('confirmed', 'discrepancy')", name=op.f("ck_audit_checks_outcome")
        ),
        _fk("municipality_id", "audit_checks", "municipalities"),
        _fk("application_id", "audit_checks", "applications"),
        _fk("sample_id", "audit_checks", "audit_samples"),
        _fk("operator_id", "audit_checks", "operators"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checks")),
        sa.UniqueConstraint("application_id", name=op.f("uq_audit_checks_application_id")),
    )
    op.create_index("ix_audit_checks_municipality_id", "audit_checks", ["municipality_id"])
    op.create_table(
        "revocations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("application_id", _ID, nullable=False),
        sa.Column("revoked_at", _WHEN, nullable=False),
        sa.Column("returned_cents", sa.BigInteger(), nullable=False),
        sa.Column("recover_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("act_id", _ID, nullable=True),
        sa.Column("undone_at", _WHEN, nullable=True),
        sa.Column("undone_by", sa.String(length=100), nullable=True),
        sa.Column("undo_reason", sa.String(length=300), nullable=True),
        sa.Column("undo_act_id", _ID, nullable=True),
        sa.Column("restored_cents", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "returned_cents >= 0 AND recover_cents >= 0", name=op.f("ck_revocations_amounts")
        ),
        sa.CheckConstraint(
            "(undone_at IS NULL AND restored_cents IS NULL) "
            "OR (undone_at IS NOT NULL AND restored_cents IS NOT NULL "
            "AND restored_cents >= 0 AND restored_cents <= returned_cents)",
            name=op.f("ck_revocations_restored_le_returned"),
        ),
        _fk("municipality_id", "revocations", "municipalities"),
        _fk("application_id", "revocations", "applications"),
        _fk("act_id", "revocations", "office_acts"),
        _fk("undo_act_id", "revocations", "office_acts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocations")),
    )
    op.create_index("ix_revocations_municipality_id", "revocations", ["municipality_id"])
    op.create_index(
        "uq_revocations_standing",
        "revocations",
        ["application_id"],
        unique=True,
        sqlite_where=sa.text("undone_at IS NULL"),
        postgresql_where=sa.text("undone_at IS NULL"),
    )
    op.execute(_BACKFILL)
    op.create_table(
        "appeals",
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("application_id", _ID, nullable=False),
        sa.Column("citizen_id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("decision_at", _WHEN, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("operator_id", _ID, nullable=True),
        sa.Column("decided_at", _WHEN, nullable=True),
        sa.Column("decision_reason", sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'upheld', 'rejected')", name=op.f("ck_appeals_status")
        ),
        sa.CheckConstraint(
            "status = 'open' OR (decided_at IS NOT NULL AND decision_reason IS NOT NULL "
            "AND decided_by IS NOT NULL)",
            name=op.f("ck_appeals_decided"),
        ),
        _fk("municipality_id", "appeals", "municipalities"),
        _fk("application_id", "appeals", "applications"),
        _fk("citizen_id", "appeals", "citizens"),
        _fk("operator_id", "appeals", "operators"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    op.create_index("ix_appeals_queue", "appeals", ["municipality_id", "status"])
    op.create_index(
        "uq_appeals_open",
        "appeals",
        ["application_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    _act_kinds(_KINDS_AFTER)


def _act_kinds(kinds: str) -> None:
    # Nothing references office_acts but revocations (none of whose rows names an act yet
    # on upgrade, and dropped first on downgrade), so SQLite's rebuild of it is safe.
    with op.batch_alter_table("office_acts") as batch:
        batch.drop_constraint(op.f("ck_office_acts_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_office_acts_kind"), sa.text(kinds))


def downgrade() -> None:
    op.drop_index("uq_appeals_open", table_name="appeals")
    op.drop_index("ix_appeals_queue", table_name="appeals")
    op.drop_table("appeals")
    op.drop_index("uq_revocations_standing", table_name="revocations")
    op.drop_index("ix_revocations_municipality_id", table_name="revocations")
    op.drop_table("revocations")
    op.drop_index("ix_audit_checks_municipality_id", table_name="audit_checks")
    op.drop_table("audit_checks")
    op.execute("DELETE FROM office_acts WHERE kind = 'revocation_undo'")
    _act_kinds(_KINDS_BEFORE)
