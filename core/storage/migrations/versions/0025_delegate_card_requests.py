"""A delegate and a card with a PIN under four eyes, like a new phone

Revision ID: 0025_delegate_card_requests
Revises: 0024_operator_sessions
Create Date: 2026-12-03 22:10:00

`phone_changes` holds every request about who receives a citizen's payment codes:
`kind` phone (as before), delegate, card (`reissue` when it replaces a card). A card
request names no number (`phone_masked` may be NULL, only for a card); an approved card
records who printed it, once (`handed_by_id`, `handed_at`). The partial unique index lets
one request of each kind wait per citizen, an approved card not yet printed included;
CHECK four_eyes is unchanged and covers every kind.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0025_delegate_card_requests"
down_revision: str | None = "0024_operator_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = core.storage.models.UTCDateTime(timezone=True)
_TABLE = "phone_changes"
_INDEX = "uq_phone_changes_waiting"
_PENDING = "status = 'waiting' OR (kind = 'card' AND status = 'approved' AND handed_at IS NULL)"
_WHILE_WAITING_BEFORE = (
    "(status = 'waiting' AND phone IS NOT NULL AND decided_at IS NULL) "
    "OR (status <> 'waiting' AND phone IS NULL AND decided_at IS NOT NULL)"
)
_WHILE_WAITING_AFTER = (
    "(status = 'waiting' AND decided_at IS NULL AND (phone IS NOT NULL OR kind = 'card')) "
    "OR (status <> 'waiting' AND phone IS NULL AND decided_at IS NOT NULL)"
)


def upgrade() -> None:
    op.drop_index(_INDEX, table_name=_TABLE)
    with op.batch_alter_table(_TABLE) as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="phone")
        )
        batch.add_column(
            sa.Column("reissue", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("handed_by_id", _ID, nullable=True))
        batch.add_column(sa.Column("handed_at", _WHEN, nullable=True))
        batch.alter_column("phone_masked", existing_type=sa.String(length=16), nullable=True)
        batch.create_foreign_key(
            op.f(f"fk_{_TABLE}_handed_by_id_operators"),
            "operators",
            ["handed_by_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch.drop_constraint(op.f(f"ck_{_TABLE}_phone_while_waiting"), type_="check")
        batch.create_check_constraint(
            op.f(f"ck_{_TABLE}_phone_while_waiting"), sa.text(_WHILE_WAITING_AFTER)
        )
        batch.create_check_constraint(
            op.f(f"ck_{_TABLE}_kind"), sa.text("kind IN ('phone', 'delegate', 'card')")
        )
        batch.create_check_constraint(
            op.f(f"ck_{_TABLE}_card_without_phone"),
            sa.text(
                "(kind = 'card' AND phone IS NULL AND phone_masked IS NULL) "
                "OR (kind <> 'card' AND phone_masked IS NOT NULL AND NOT reissue)"
            ),
        )
        batch.create_check_constraint(
            op.f(f"ck_{_TABLE}_handed_when_approved"),
            sa.text(
                "(handed_at IS NULL AND handed_by_id IS NULL) "
                "OR (handed_at IS NOT NULL AND handed_by_id IS NOT NULL "
                "AND kind = 'card' AND status = 'approved')"
            ),
        )
    op.create_index(
        _INDEX,
        _TABLE,
        ["citizen_id", "kind"],
        unique=True,
        sqlite_where=sa.text(_PENDING),
        postgresql_where=sa.text(_PENDING),
    )


def downgrade() -> None:
    op.drop_index(_INDEX, table_name=_TABLE)
    op.execute("DELETE FROM phone_changes WHERE kind <> 'phone'")
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_constraint(op.f(f"ck_{_TABLE}_handed_when_approved"), type_="check")
        batch.drop_constraint(op.f(f"ck_{_TABLE}_card_without_phone"), type_="check")
        batch.drop_constraint(op.f(f"ck_{_TABLE}_kind"), type_="check")
        batch.drop_constraint(op.f(f"ck_{_TABLE}_phone_while_waiting"), type_="check")
        batch.create_check_constraint(
            op.f(f"ck_{_TABLE}_phone_while_waiting"), sa.text(_WHILE_WAITING_BEFORE)
        )
        batch.drop_constraint(op.f(f"fk_{_TABLE}_handed_by_id_operators"), type_="foreignkey")
        batch.alter_column("phone_masked", existing_type=sa.String(length=16), nullable=False)
        batch.drop_column("handed_at")
        batch.drop_column("handed_by_id")
        batch.drop_column("reissue")
        batch.drop_column("kind")
    op.create_index(
        _INDEX,
        _TABLE,
        ["citizen_id"],
        unique=True,
        sqlite_where=sa.text("status = 'waiting'"),
        postgresql_where=sa.text("status = 'waiting'"),
    )
