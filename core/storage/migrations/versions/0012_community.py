"""community vouchers and donations paid through Telegram Payments

Revision ID: 0012_community
Revises: 0007_chat
Create Date: 2026-12-03 06:30:00

A municipality turns the feature on; a shop turns its vouchers on and sets their limits.
Payments reported by the provider are recorded once (unique Telegram charge id) with
the provider's references; a bought voucher is a ledger account usable at one shop,
and its charges at the till wait for the holder's code like any other charge.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0012_community"
down_revision: str | None = "0007_chat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = core.storage.models.UTCDateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    with op.batch_alter_table("municipalities") as batch:
        batch.add_column(
            sa.Column("community_enabled", sa.Boolean(), server_default="false", nullable=False)
        )
    with op.batch_alter_table("shops") as batch:
        batch.add_column(
            sa.Column("vouchers_enabled", sa.Boolean(), server_default="false", nullable=False)
        )
        batch.add_column(
            sa.Column("voucher_min_cents", sa.BigInteger(), server_default="500", nullable=False)
        )
        batch.add_column(
            sa.Column("voucher_max_cents", sa.BigInteger(), server_default="10000", nullable=False)
        )
    op.create_table(
        "provider_payments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("shop_id", _ID, nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("telegram_payment_charge_id", sa.String(length=128), nullable=False),
        sa.Column("provider_payment_charge_id", sa.String(length=128), nullable=False),
        sa.Column("payer_channel", sa.String(length=16), nullable=False),
        sa.Column("payer_address", sa.String(length=64), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("posting_id", _ID, nullable=True),
        sa.Column("refunded_at", _WHEN, nullable=True),
        sa.Column("refund_reference", sa.String(length=128), nullable=True),
        _fk("provider_payments", "municipality_id", "municipalities"),
        _fk("provider_payments", "shop_id", "shops"),
        _fk("provider_payments", "posting_id", "postings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_payments")),
        sa.UniqueConstraint(
            "telegram_payment_charge_id",
            name=op.f("uq_provider_payments_telegram_payment_charge_id"),
        ),
    )
    op.create_index(
        op.f("ix_provider_payments_municipality_id"), "provider_payments", ["municipality_id"]
    )
    op.create_index(op.f("ix_provider_payments_shop_id"), "provider_payments", ["shop_id"])
    op.create_table(
        "vouchers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("shop_id", _ID, nullable=False),
        sa.Column("payment_id", _ID, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("holder_channel", sa.String(length=16), nullable=False),
        sa.Column("holder_address", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("given_at", _WHEN, nullable=True),
        _fk("vouchers", "municipality_id", "municipalities"),
        _fk("vouchers", "shop_id", "shops"),
        _fk("vouchers", "payment_id", "provider_payments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_vouchers_payment_id")),
        sa.UniqueConstraint("code", name=op.f("uq_vouchers_code")),
    )
    op.create_index(op.f("ix_vouchers_municipality_id"), "vouchers", ["municipality_id"])
    op.create_index(op.f("ix_vouchers_shop_id"), "vouchers", ["shop_id"])
    op.create_index(op.f("ix_vouchers_holder_address"), "vouchers", ["holder_address"])
    op.create_table(
        "voucher_charges",
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("shop_id", _ID, nullable=False),
        sa.Column("voucher_id", _ID, nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("code_salt", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("confirmed_at", _WHEN, nullable=True),
        sa.Column("closed_reason", sa.String(length=32), nullable=True),
        sa.Column("posting_id", _ID, nullable=True),
        _fk("voucher_charges", "municipality_id", "municipalities"),
        _fk("voucher_charges", "shop_id", "shops"),
        _fk("voucher_charges", "voucher_id", "vouchers"),
        _fk("voucher_charges", "posting_id", "postings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_charges")),
    )
    for column in ("municipality_id", "shop_id", "voucher_id"):
        op.create_index(op.f(f"ix_voucher_charges_{column}"), "voucher_charges", [column])


def downgrade() -> None:
    op.drop_table("voucher_charges")
    op.drop_table("vouchers")
    op.drop_table("provider_payments")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("voucher_max_cents")
        batch.drop_column("voucher_min_cents")
        batch.drop_column("vouchers_enabled")
    with op.batch_alter_table("municipalities") as batch:
        batch.drop_column("community_enabled")
