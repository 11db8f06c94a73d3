"""A citizen's own phone is never the number of their own delegate, whatever writes it

Revision ID: 0042_citizen_not_own_delegate
Revises: 0041_phone_one_person
Create Date: 2026-12-05 23:20:00

One phone speaks for one person (docs/cards-and-delegates.md). 0041_phone_one_person
refuses a delegate on a number that is a voucher holder's own; the citizens' side had no
trigger, so a citizen known without a phone (an application made on Telegram before phones
were required, a paper one) could be given the very number registered as their delegate:
by identity.link_telegram when the chat linked to them proved that number with its own
contact (the delegate's Telegram account acting as the holder), by identity.claim_citizen
on the same chat's application, or by a paper row. The delegate would then receive what is
meant for the holder, and act as the holder. The services now refuse it
(identity.is_own_delegates_number, `phone_is_delegate`); this trigger refuses the row
whatever writes it, with the refusal the office already reads for a delegate's phone
(`identity.phone_is_delegate`, core.storage.engine.TRIGGER_REFUSALS).

Only the citizen's own delegate: a number that is another household's delegate may still
be a citizen's own (the delegate applying for their own household, as 0041 explains).

The trigger takes no advisory lock (a paper import binds thousands of phones in one
statement, and each lock would stay in PostgreSQL's lock table until the commit): the
services that bind a phone to a citizen hold the number first
(CitizenRepository.hold_phone), which the delegates' trigger of 0041 also takes, so a
delegate registered at the same moment waits for the other's commit and is refused there.

Only a phone that changes is checked: rows that broke the rule before stay as they are
until the office changes the phone or removes the delegate; an UPDATE that keeps the phone
goes through. A new citizen has no delegate yet, so INSERT needs no trigger.

A later migration that rebuilds citizens on SQLite (a batch_alter_table) drops this trigger
with the old table: it must create it again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0042_citizen_not_own_delegate"
down_revision: str | None = "0041_phone_one_person"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The refusal code of core.domain.errors.Refusal (a migration does not import the app's code).
REFUSAL = "identity.phone_is_delegate"
NAME = "citizens_phone_not_own_delegate"
_OWN_DELEGATE = (
    "EXISTS (SELECT 1 FROM delegates d WHERE d.citizen_id = NEW.id AND d.phone = NEW.phone)"
)


def _postgresql_upgrade() -> None:
    op.execute(
        f"CREATE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.phone IS NULL OR NEW.phone IS NOT DISTINCT FROM OLD.phone THEN "
        "RETURN NEW; END IF; "
        f"IF {_OWN_DELEGATE} THEN "
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
        f"AND {_OWN_DELEGATE} BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
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
