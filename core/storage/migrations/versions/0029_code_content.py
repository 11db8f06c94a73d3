"""A confirmation code remembers what it was sent to confirm

Revision ID: 0029_code_content
Revises: 0028_town_fund
Create Date: 2026-12-04 03:00:00

A code sent to a number to confirm an application or an appeal confirmed whatever the
conversation held when it came back: a forged sender who started the request again with
other answers had the owner's code file them, and at the code limit a restarted request
went on with the code the phone already held. `security_events.code_content` keeps a
keyed digest (HMAC, like the code's own hash) of the content the code was sent for; a
code is taken only for that content (core.services.security). Codes sent before have
none, and confirm nothing new.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_code_content"
down_revision: str | None = "0028_town_fund"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ALTER TABLE on both databases (no batch copy of the table).
    op.add_column("security_events", sa.Column("code_content", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("security_events") as batch:
        batch.drop_column("code_content")
