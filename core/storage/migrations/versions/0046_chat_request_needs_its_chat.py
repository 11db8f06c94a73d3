"""A phone change a Telegram chat asked is approved only while that chat is the citizen's

Revision ID: 0046_chat_request_needs_its_chat
Revises: 0045_economia
Create Date: 2026-12-06 17:00:00

A chat linked to a citizen without a phone, who has money to spend, asks their first number
with its own contact (migration 0044_chat_phone_requests, identity.FirstNumberNeedsOffice);
one manager approves it, the contact being the first pair of eyes. That contact vouches for
the number only while the chat is the citizen's: once it is unlinked (it proved to be a
delegate's account, identity.DelegateNumber) the services withdraw its request
(identity.withdraw_chat_request) and refuse to approve one whose chat is not linked any
more (phone_changes, `phone_change.chat_unlinked`), each holding the citizen's row. This
trigger refuses the approval whatever writes it (a script, a service that forgot), with the
same code (core.storage.engine.TRIGGER_REFUSALS): an approval of a chat's request whose
chat is no longer the citizen's would bind, on one manager's word, the number of an account
that is not theirs. Withdrawing such a request goes through.

A later migration that rebuilds phone_changes on SQLite (a batch_alter_table) drops this
trigger with the old table: it must create it again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0046_chat_request_needs_its_chat"
down_revision: str | None = "0045_economia"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The refusal code of core.domain.errors.Refusal (a migration does not import the app's code).
REFUSAL = "phone_change.chat_unlinked"
NAME = "phone_changes_chat_request_needs_its_chat"
_CHAT_GONE = (
    "NEW.status = 'approved' AND OLD.status = 'waiting' AND NEW.requested_by_chat IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM citizens c WHERE c.id = NEW.citizen_id "
    "AND c.telegram_chat_id = NEW.requested_by_chat)"
)


def _postgresql_upgrade() -> None:
    op.execute(
        f"CREATE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF {_CHAT_GONE} THEN "
        f"RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{REFUSAL}'; "
        "END IF; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {NAME} BEFORE UPDATE OF status ON phone_changes "
        f"FOR EACH ROW EXECUTE FUNCTION {NAME}()"
    )


def _sqlite_upgrade() -> None:
    op.execute(
        f"CREATE TRIGGER {NAME} BEFORE UPDATE OF status ON phone_changes "
        f"WHEN {_CHAT_GONE} BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {NAME} ON phone_changes")
        op.execute(f"DROP FUNCTION IF EXISTS {NAME}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {NAME}")
