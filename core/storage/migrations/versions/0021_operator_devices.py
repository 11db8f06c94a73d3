"""Wrong office passwords are counted per known browser (device cookies)

Revision ID: 0021_operator_devices
Revises: 0020_code_proofs
Create Date: 2026-12-03 18:40:00

`operator_devices`: the wrong passwords typed in a browser holding a valid device cookie
of the operator, by the cookie's nonce, and that browser's lock. The columns
`operators.failed_sign_ins` and `operators.locked_until` keep counting, and now lock,
only the browsers without one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0021_operator_devices"
down_revision: str | None = "0020_code_proofs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = core.storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "operator_devices",
        sa.Column("id", _ID, nullable=False),
        sa.Column("operator_id", _ID, nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("failed_sign_ins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", _WHEN, nullable=True),
        sa.CheckConstraint(
            "failed_sign_ins >= 0", name=op.f("ck_operator_devices_failed_sign_ins")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_devices_operator_id_operators"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_devices")),
        sa.UniqueConstraint("operator_id", "nonce", name=op.f("uq_operator_devices_operator_id")),
    )


def downgrade() -> None:
    op.drop_table("operator_devices")
