"""cards with a PIN, delegates

Revision ID: 0003_cards_delegates
Revises: 0001
Create Date: 2026-12-03 02:20:00

Citizens without a phone pay with a printed card and its PIN (stored hashed, wrong
PINs counted, blocked at the limit); a delegate's phone receives codes and receipts
for a citizen. Charges record which consent confirms them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import core.storage.models


revision: str = '0003_cards_delegates'
down_revision: str | None = "0002_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_pin_salt', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('card_pin_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('card_pin_failures', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(
            sa.Column('card_issued_at', core.storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column('card_blocked_at', core.storage.models.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('consent', sa.String(length=16), server_default='code', nullable=False)
        )
    op.create_table('delegates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('municipality_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('citizen_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('created_at', core.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], name=op.f('fk_delegates_citizen_id_citizens'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_delegates_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegates')),
    sa.UniqueConstraint('citizen_id', name=op.f('uq_delegates_citizen_id')),
    sa.UniqueConstraint('municipality_id', 'phone', name=op.f('uq_delegates_municipality_id'))
    )
    with op.batch_alter_table('delegates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegates_municipality_id'), ['municipality_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delegates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegates_municipality_id'))
    op.drop_table('delegates')
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.drop_column('consent')
    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.drop_column('card_blocked_at')
        batch_op.drop_column('card_issued_at')
        batch_op.drop_column('card_pin_failures')
        batch_op.drop_column('card_pin_hash')
        batch_op.drop_column('card_pin_salt')
