"""An account that must not go below zero never does, whatever writes it

Revision ID: 0050_accounts_not_negative
Revises: 0049_positive_amounts
Create Date: 2026-12-07 11:00:00

The ledger holds each balance by a guarded UPDATE (`balance_cents >= amount` in the
statement that takes the money: a payment, a revocation, a refund from the shop's account,
a voucher spent). CHECK balance_not_negative on accounts holds the same rule in the
database: an UPDATE that would leave a citizen's vouchers (or a shop's, a voucher's, the
settled or donations account) below zero is refused, whoever sends it (a script, a service
that forgot its guard). Only the two accounts the double-entry ledger spends down may go
below zero (core/domain/ledger.py, may_go_negative): the municipality's fund, which gives
every allocation, and the payment provider's, which gives every community voucher and
donation as money comes in from outside. Balances written before are not negative (every
path that lowers them is guarded); an upgrade over one that is fails, naming the constraint.

On SQLite the table is rebuilt under its own name, its indexes written again
(core/storage/migrations/rebuild.py: postings reference accounts, which Alembic's batch
mode cannot drop with foreign keys on).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.storage.migrations.rebuild import check_clause, sqlite_rebuild

revision: str = "0050_accounts_not_negative"
down_revision: str | None = "0049_positive_amounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "accounts"
NAME = "ck_accounts_balance_not_negative"
# The kinds that may go negative, as core.domain.ledger.may_go_negative says today (written
# out: a migration keeps the rule it was written with).
CHECK = "balance_cents >= 0 OR kind IN ('fund', 'provider')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        sqlite_rebuild(TABLE, check_clause(NAME, CHECK), add=True)
        return
    op.create_check_constraint(op.f(NAME), TABLE, sa.text(CHECK))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        sqlite_rebuild(TABLE, check_clause(NAME, CHECK), add=False)
        return
    op.drop_constraint(op.f(NAME), TABLE, type_="check")
