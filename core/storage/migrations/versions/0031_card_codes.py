"""A card's grid of one-time codes: every card payment is confirmed by a code used once

Revision ID: 0031_card_codes
Revises: 0030_request_identity
Create Date: 2026-12-04 11:20:00

A card for a citizen without a phone had one static PIN: a cashier who once heard or saw
it could charge the card again, any time, without the holder. A card issued from now on
comes with a printed grid of numbered one-time codes (`card_codes`, one row a cell,
salted keyed hashes like a payment code); at the till the server draws one unused
position and binds it to the pending charge (`charges.card_code_position`), and only
that code confirms it, once (`used_at`, set by a guarded UPDATE in the payment's
transaction). A reissued card voids its old grid (`voided_at`).

Cards issued before this migration have no grid: they keep working with their PIN, so
no household is left without its vouchers, and the office reissues them
(`buonispesa admin cards --pin-only` lists them; docs/cards-and-delegates.md).

On the way down the table and the column go; cards keep their PINs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0031_card_codes"
down_revision: str | None = "0030_request_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = core.storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "card_codes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("citizen_id", _ID, nullable=False),
        sa.Column("card_code", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code_salt", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("used_at", _WHEN, nullable=True),
        sa.Column("charge_id", _ID, nullable=True),
        sa.Column("voided_at", _WHEN, nullable=True),
        sa.CheckConstraint("position >= 1", name=op.f("ck_card_codes_position_positive")),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_card_codes_citizen_id_citizens"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["charge_id"],
            ["charges.id"],
            name=op.f("fk_card_codes_charge_id_charges"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_codes")),
    )
    op.create_index(
        "uq_card_codes_position",
        "card_codes",
        ["citizen_id", "card_code", "position"],
        unique=True,
    )
    op.add_column("charges", sa.Column("card_code_position", sa.Integer(), nullable=True))
    legacy = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT count(*) FROM citizens "
                "WHERE card_pin_hash IS NOT NULL AND erased_at IS NULL"
            )
        )
        .scalar()
    )
    if legacy:
        print(
            f"0031_card_codes: {legacy} card(s) with a PIN and no grid of one-time codes keep "
            "working with their PIN; reissue them (buonispesa admin cards --pin-only)."
        )


def downgrade() -> None:
    op.execute("ALTER TABLE charges DROP COLUMN card_code_position")
    op.drop_index("uq_card_codes_position", table_name="card_codes")
    op.drop_table("card_codes")
