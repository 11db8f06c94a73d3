"""office: operators of the back-office, its activity log, and acts approved by four eyes

Revision ID: 0011_office
Revises: 0010_outbox
Create Date: 2026-12-03 06:40:00

`office_activity` is append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL), as for identity_events. `office_acts` carries a CHECK that the operator who
approves an act is not the one who prepared it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0011_office"
down_revision: str | None = "0010_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = core.storage.models.UTCDateTime(timezone=True)
_MESSAGE = "office_activity is append-only"


def _fk(column: str, table: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_sign_ins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", _WHEN, nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("password_changed_at", _WHEN, nullable=True),
        sa.Column("last_sign_in_at", _WHEN, nullable=True),
        sa.Column("disabled_at", _WHEN, nullable=True),
        sa.CheckConstraint(
            "role IN ('clerk', 'manager', 'viewer')", name=op.f("ck_operators_role")
        ),
        sa.CheckConstraint("failed_sign_ins >= 0", name=op.f("ck_operators_failed_sign_ins")),
        _fk("municipality_id", "operators", "municipalities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("username", name=op.f("uq_operators_username")),
    )
    op.create_index("ix_operators_municipality_id", "operators", ["municipality_id"])
    op.create_table(
        "office_activity",
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("operator_id", _ID, nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        _fk("municipality_id", "office_activity", "municipalities"),
        _fk("operator_id", "office_activity", "operators"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_activity")),
    )
    op.create_index(
        "ix_office_activity_when", "office_activity", ["municipality_id", "created_at"]
    )
    op.create_table(
        "office_acts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("prepared_by_id", _ID, nullable=False),
        sa.Column("prepared_at", _WHEN, nullable=False),
        sa.Column("decided_by_id", _ID, nullable=True),
        sa.Column("decided_at", _WHEN, nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('determina', 'credit', 'reimbursement', 'revocation')",
            name=op.f("ck_office_acts_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('prepared', 'approved', 'withdrawn')", name=op.f("ck_office_acts_status")
        ),
        sa.CheckConstraint(
            "status <> 'approved' OR (decided_by_id IS NOT NULL AND decided_by_id <> prepared_by_id)",
            name=op.f("ck_office_acts_four_eyes"),
        ),
        _fk("municipality_id", "office_acts", "municipalities"),
        _fk("prepared_by_id", "office_acts", "operators"),
        _fk("decided_by_id", "office_acts", "operators"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_acts")),
    )
    op.create_index("ix_office_acts_open", "office_acts", ["municipality_id", "status"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION office_activity_append_only() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER office_activity_append_only BEFORE UPDATE OR DELETE "
            "ON office_activity FOR EACH ROW EXECUTE FUNCTION office_activity_append_only()"
        )
        op.execute(
            "CREATE TRIGGER office_activity_no_truncate BEFORE TRUNCATE "
            "ON office_activity FOR EACH STATEMENT EXECUTE FUNCTION office_activity_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER office_activity_no_{action.lower()} BEFORE {action} "
                f"ON office_activity BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS office_activity_no_truncate ON office_activity")
        op.execute("DROP TRIGGER IF EXISTS office_activity_append_only ON office_activity")
        op.execute("DROP FUNCTION IF EXISTS office_activity_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS office_activity_no_update")
        op.execute("DROP TRIGGER IF EXISTS office_activity_no_delete")
    op.drop_index("ix_office_acts_open", table_name="office_acts")
    op.drop_table("office_acts")
    op.drop_index("ix_office_activity_when", table_name="office_activity")
    op.drop_table("office_activity")
    op.drop_index("ix_operators_municipality_id", table_name="operators")
    op.drop_table("operators")
