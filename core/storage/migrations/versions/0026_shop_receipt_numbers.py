"""Receipt numbers count per shop

Revision ID: 0026_shop_receipt_numbers
Revises: 0025_delegate_card_requests
Create Date: 2026-12-03 22:40:00

A payment's receipt number was its charge id, counted across the whole installation: a
shop's second receipt could be "no. 17" and told the shop how many payments the town
makes. From now on each shop counts its own receipts: `shops.last_receipt` is the
shop's last number, raised by one (`UPDATE ... RETURNING`, a row lock until the commit)
inside the payment's transaction, and written to `charges.receipt_number`, unique per
shop. Receipts made before keep their number (the charge id, as the shop was told);
each shop's count goes on from its highest, so old and new numbers never collide.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_shop_receipt_numbers"
down_revision: str | None = "0025_delegate_card_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE and CREATE INDEX (SQLite and PostgreSQL): a batch copy of `shops`
    # or `charges` would break the SQLite triggers of other tables (0015_shop_phone_guard).
    op.add_column(
        "shops", sa.Column("last_receipt", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.add_column("charges", sa.Column("receipt_number", sa.BigInteger(), nullable=True))
    # Every payment that was confirmed got a receipt with its id (refunded ones too).
    op.execute("UPDATE charges SET receipt_number = id WHERE status IN ('confirmed', 'refunded')")
    op.execute(
        "UPDATE shops SET last_receipt = COALESCE("
        "(SELECT MAX(c.receipt_number) FROM charges c WHERE c.shop_id = shops.id), 0)"
    )
    op.create_index(
        "uq_charges_shop_receipt", "charges", ["shop_id", "receipt_number"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_charges_shop_receipt", table_name="charges")
    op.execute("ALTER TABLE charges DROP COLUMN receipt_number")
    op.execute("ALTER TABLE shops DROP COLUMN last_receipt")
