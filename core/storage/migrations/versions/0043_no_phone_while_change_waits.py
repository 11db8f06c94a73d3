"""No number is bound to a citizen while a new phone the office asked for them waits

Revision ID: 0043_no_phone_while_change_waits
Revises: 0042_citizen_not_own_delegate
Create Date: 2026-12-06 02:40:00

The office's rule (docs/identity-and-consent.md §6): while a change of a citizen's phone
waits for its second operator, no other number is bound to that citizen; the change decides
the number. The services hold it, each after holding the citizen's row as the office's
request does (CitizenRepository.lock, the paper import's lock_citizens): identity.rebind_phone
(PHONE_CHANGE_WAITING), a Telegram chat's contact and application (identity.PhoneChangeWaiting),
a paper application imported or typed at the desk (`application.phone_change_waiting`). This
trigger refuses the row whatever writes it (a script, a service that forgot), with
`identity.phone_change_waiting` (core.storage.engine.TRIGGER_REFUSALS).

The approval itself goes through: phone_changes marks the change approved before
identity.rebind_phone writes the number, in the same transaction, so the change no longer
waits when the citizen's row changes. A phone written again unchanged, or taken away
(NULL: nothing bound), goes through too; a new citizen has no change yet, so INSERT needs
no trigger. No lock here either: the partial unique index of the waiting changes is
probed once per row written (a paper import binds thousands in one statement).

A later migration that rebuilds citizens on SQLite (a batch_alter_table) drops this trigger
with the old table: it must create it again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0043_no_phone_while_change_waits"
down_revision: str | None = "0042_citizen_not_own_delegate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The refusal code of core.domain.errors.Refusal (a migration does not import the app's code).
REFUSAL = "identity.phone_change_waiting"
NAME = "citizens_no_phone_while_change_waits"
_CHANGE_WAITS = (
    "EXISTS (SELECT 1 FROM phone_changes pc WHERE pc.citizen_id = NEW.id "
    "AND pc.kind = 'phone' AND pc.status = 'waiting')"
)


def _postgresql_upgrade() -> None:
    op.execute(
        f"CREATE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.phone IS NULL OR NEW.phone IS NOT DISTINCT FROM OLD.phone THEN "
        "RETURN NEW; END IF; "
        f"IF {_CHANGE_WAITS} THEN "
        f"RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{REFUSAL}'; "
        "END IF; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {NAME} BEFORE UPDATE OF phone ON citizens "
        f"FOR EACH ROW EXECUTE FUNCTION {NAME}()"
    )


def _sqlite_upgrade() -> None:
    op.execute(
        f"CREATE TRIGGER {NAME} BEFORE UPDATE OF phone ON citizens "
        "WHEN NEW.phone IS NOT NULL AND (OLD.phone IS NULL OR NEW.phone <> OLD.phone) "
        f"AND {_CHANGE_WAITS} BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {NAME} ON citizens")
        op.execute(f"DROP FUNCTION IF EXISTS {NAME}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {NAME}")
