"""A payment is posted to the ledger once, and refunded once, whatever writes it

Revision ID: 0048_one_posting_per_charge
Revises: 0047_chat_requests_four_eyes
Create Date: 2026-12-06 21:00:00

The services post a charge's payment (citizen -> shop) after a guarded UPDATE of its status
and its refund (shop -> citizen) after a guarded mark (core.services.charges), so a code
typed twice, or two cashiers refunding the same receipt at once, move the money once. This
partial unique index holds the same rule in the database: a second PAYMENT or a second
REFUND posting of one charge (a script, a service that forgot its guard) is refused, as an
allocation line is credited once (uq_postings_allocation_line).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0048_one_posting_per_charge"
down_revision: str | None = "0047_chat_requests_four_eyes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "uq_postings_charge_kind"
WHERE = sa.text("charge_id IS NOT NULL AND kind IN ('payment', 'refund')")


def upgrade() -> None:
    op.create_index(
        NAME,
        "postings",
        ["charge_id", "kind"],
        unique=True,
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="postings")
