"""Office sessions kept in the database, so that signing out ends them

Revision ID: 0024_operator_sessions
Revises: 0023_appeal_corrections
Create Date: 2026-12-03 22:00:00

`operator_sessions`: one row per signed-in browser, by the SHA-256 of the random token in
its session cookie, with when it started, until when it stays valid without a request
(the idle timeout) and when it ends anyway (the absolute lifetime). Sessions signed in
before this migration held no token: their operators sign in again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0024_operator_sessions"
down_revision: str | None = "0023_appeal_corrections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = core.storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "operator_sessions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("operator_id", _ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("idle_until", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.CheckConstraint("expires_at > created_at", name=op.f("ck_operator_sessions_lifetime")),
        sa.CheckConstraint(
            "idle_until <= expires_at", name=op.f("ck_operator_sessions_idle_within_lifetime")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_sessions_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_operator_sessions_token_hash")),
    )
    op.create_index(
        op.f("ix_operator_sessions_operator_id"), "operator_sessions", ["operator_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_operator_sessions_operator_id"), table_name="operator_sessions")
    op.drop_table("operator_sessions")
