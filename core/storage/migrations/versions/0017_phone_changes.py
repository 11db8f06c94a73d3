"""A citizen's new phone under four eyes while they have money to spend

Revision ID: 0017_phone_changes
Revises: 0016_outbox_reply_lane
Create Date: 2026-12-03 15:40:00

`phone_changes`: a phone change asked by one operator for a citizen with a positive
balance or a charge waiting for its code, applied only when a second operator approves.
CHECK four_eyes refuses an approved change whose approver is its requester; CHECK
phone_while_waiting keeps the full number only while the change waits; a partial unique
index lets one change wait per citizen.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0017_phone_changes"
down_revision: str | None = "0016_outbox_reply_lane"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = core.storage.models.UTCDateTime(timezone=True)
_TABLE = "phone_changes"


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{_TABLE}_{column}_{target}"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("citizen_id", _ID, nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("phone_masked", sa.String(length=16), nullable=False),
        sa.Column("previous_masked", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by_id", _ID, nullable=False),
        sa.Column("requested_at", _WHEN, nullable=False),
        sa.Column("decided_by_id", _ID, nullable=True),
        sa.Column("decided_at", _WHEN, nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "status IN ('waiting', 'approved', 'withdrawn')", name=op.f(f"ck_{_TABLE}_status")
        ),
        sa.CheckConstraint(
            "status <> 'approved' "
            "OR (decided_by_id IS NOT NULL AND decided_by_id <> requested_by_id)",
            name=op.f(f"ck_{_TABLE}_four_eyes"),
        ),
        sa.CheckConstraint(
            "(status = 'waiting' AND phone IS NOT NULL AND decided_at IS NULL) "
            "OR (status <> 'waiting' AND phone IS NULL AND decided_at IS NOT NULL)",
            name=op.f(f"ck_{_TABLE}_phone_while_waiting"),
        ),
        _fk("municipality_id", "municipalities"),
        _fk("citizen_id", "citizens"),
        _fk("requested_by_id", "operators"),
        _fk("decided_by_id", "operators"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{_TABLE}")),
    )
    op.create_index("ix_phone_changes_queue", _TABLE, ["municipality_id", "status"])
    op.create_index(
        "uq_phone_changes_waiting",
        _TABLE,
        ["citizen_id"],
        unique=True,
        sqlite_where=sa.text("status = 'waiting'"),
        postgresql_where=sa.text("status = 'waiting'"),
    )


def downgrade() -> None:
    op.drop_index("uq_phone_changes_waiting", table_name=_TABLE)
    op.drop_index("ix_phone_changes_queue", table_name=_TABLE)
    op.drop_table(_TABLE)
