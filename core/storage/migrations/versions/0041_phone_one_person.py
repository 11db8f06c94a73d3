"""A delegate's phone is never a voucher holder's own, whatever writes the row

Revision ID: 0041_phone_one_person
Revises: 0040_shop_member_phone
Create Date: 2026-12-05 13:30:00

One phone speaks for one person (docs/cards-and-delegates.md): the office registers no
delegate on a number that is a citizen's own (not erased: the delegate's citizen's,
`delegate.own_phone`, or another's, `delegate.phone_is_citizen`), and gives no citizen a
number that is a delegate's (`identity.phone_is_delegate`). The services check both
(delegates.check_delegate, identity.check_new_phone), but on PostgreSQL a phone change
and a delegate's registration on one number at the same moment each found nothing of the
other, uncommitted, and both committed: one number receiving a household's codes and
another's, or a citizen's own number also their delegate's.

Both services now hold the number first (a transaction advisory lock, key "phone holders"
and "municipality:phone", core.storage.repositories.people.CitizenRepository.hold_phone),
then look; this trigger on delegates takes the same lock before it looks for a citizen
with the number (READ COMMITTED, the engine's default: it reads what is committed once it
holds the lock), so a delegate's row is refused whatever writes it, as 0015_shop_phone_guard
refuses a shop's phone. Whichever comes first, the other waits for its commit: a phone
change committed first makes the delegate refused here (the office reads the same
refusal as when the number was the citizen's before); a delegate committed first is found
by the phone change, which is refused `identity.phone_is_delegate`.

The citizens' side has no trigger: a citizen's own application from a chat (or on paper)
may use a number that is already somebody's delegate (the delegate applying for their own
household, docs/cards-and-delegates.md); only the office's change of a citizen's phone
refuses it, and that is the service's rule, held by the same lock.

SQLite has one writer at a time (BEGIN IMMEDIATE): the services' checks already run one
after the other, and triggers refuse the same rows there (a write that skips the
services; RAISE ABORT). Rows that break the rule already stay as they are (the office
decides); only rows written from now on are checked, and an UPDATE that keeps the phone,
the municipality and the citizen is let through.

A later migration that rebuilds delegates on SQLite (a batch_alter_table) drops these
triggers with the old table: it must create them again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0041_phone_one_person"
down_revision: str | None = "0040_shop_member_phone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The refusal codes of core.domain.errors.Refusal (a migration does not import the app's code).
OWN = "delegate.own_phone"
OTHER = "delegate.phone_is_citizen"
# The advisory lock: the same keys as CitizenRepository.hold_phone takes.
LOCK = (
    "hashtext('buonispesa.phone_holders'), "
    "hashtext(NEW.municipality_id::text || ':' || NEW.phone)"
)
NAME = "delegates_phone_not_citizen"


def _holder(whose: str) -> str:
    """A citizen (not erased) of the municipality has NEW.phone as their own; `whose`
    narrows it to the delegate's citizen, or to another."""
    return (
        "EXISTS (SELECT 1 FROM citizens c WHERE c.municipality_id = NEW.municipality_id "
        f"AND c.phone = NEW.phone AND c.erased_at IS NULL AND {whose})"
    )


_OWN = _holder("c.id = NEW.citizen_id")
_ANY = _holder("1 = 1")
_CHANGED = (
    "(NEW.phone <> OLD.phone OR NEW.municipality_id <> OLD.municipality_id "
    "OR NEW.citizen_id <> OLD.citizen_id)"
)
_COLUMNS = "phone, municipality_id, citizen_id"


def _postgresql_upgrade() -> None:
    op.execute(
        f"CREATE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'UPDATE' THEN IF NOT {_CHANGED} THEN RETURN NEW; END IF; END IF; "
        f"PERFORM pg_advisory_xact_lock({LOCK}); "
        f"IF {_OWN} THEN "
        f"RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{OWN}'; "
        "END IF; "
        f"IF {_ANY} THEN "
        f"RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{OTHER}'; "
        "END IF; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {NAME} BEFORE INSERT OR UPDATE OF {_COLUMNS} ON delegates "
        f"FOR EACH ROW EXECUTE FUNCTION {NAME}()"
    )


def _sqlite_upgrade() -> None:
    refuse = (
        f"BEGIN SELECT RAISE(ABORT, '{OWN}') WHERE {_OWN}; "
        f"SELECT RAISE(ABORT, '{OTHER}'); END"
    )
    op.execute(f"CREATE TRIGGER {NAME}_insert BEFORE INSERT ON delegates WHEN {_ANY} {refuse}")
    op.execute(
        f"CREATE TRIGGER {NAME}_update BEFORE UPDATE OF {_COLUMNS} ON delegates "
        f"WHEN {_CHANGED} AND {_ANY} {refuse}"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {NAME} ON delegates")
        op.execute(f"DROP FUNCTION IF EXISTS {NAME}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {NAME}_insert")
        op.execute(f"DROP TRIGGER IF EXISTS {NAME}_update")
