"""codes: wrong-code strikes and other rate-limited events, office lock and refusal of shops

Revision ID: 0004_codes
Revises: 0001
Create Date: 2026-12-03 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import core.storage.models


revision: str = '0004_codes'
down_revision: str | None = "0003_cards_delegates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('security_events',
    sa.Column('id', _ID, nullable=False),
    sa.Column('municipality_id', _ID, nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('shop_id', _ID, nullable=True),
    sa.Column('charge_id', _ID, nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.String(length=100), nullable=True),
    sa.Column('created_at', core.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_security_events_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_security_events_shop_id_shops'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['charge_id'], ['charges.id'], name=op.f('fk_security_events_charge_id_charges'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_events'))
    )
    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.create_index('ix_security_events_shop', ['kind', 'shop_id', 'created_at'], unique=False)
        batch_op.create_index('ix_security_events_address', ['kind', 'channel', 'address', 'created_at'], unique=False)
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocked_at', core.storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refusal_reason', sa.String(length=300), nullable=True))
        batch_op.drop_column('failed_charge_strikes')


def downgrade() -> None:
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_charge_strikes', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_column('refusal_reason')
        batch_op.drop_column('blocked_at')
    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.drop_index('ix_security_events_address')
        batch_op.drop_index('ix_security_events_shop')
    op.drop_table('security_events')
