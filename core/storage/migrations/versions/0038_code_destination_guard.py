"""A payment code is queued only for where its citizen is reached, whatever writes the row

Revision ID: 0038_code_destination_guard
Revises: 0037_one_open_act
Create Date: 2026-12-06 12:00:00

A payment's code (an outbox row with a charge and a sensitive payload: a PAGA's code, or a
refund's) goes to one of the places core.services.code_destinations.destinations_of names
for the charge's citizen: their own phone by SMS and linked Telegram chat (not erased), or
their delegate's phone by SMS. The services always pick one of them (outbox.payer_of);
when the office takes one away (removes the delegate, binds a new phone, unlinking the
chat), code_destinations.void_codes_gone_elsewhere cancels in the same transaction the
payments whose code went there.

On PostgreSQL a PAGA that read the delegate or the old phone just before that change
committed could still write its code for it after the sweep had run, and that code would
confirm the payment. The trigger on outbox refuses such a row: the database checks the
destination when the code is written, as 0015_shop_phone_guard checks a shop's phone, so
a write that skips the services is refused too. The two sides take a transaction advisory
lock on the citizen (key: "code destinations", the citizen's id):

- a code row takes it shared, then reads what is committed (READ COMMITTED, the engine's
  default: each statement of the function reads anew), so codes never wait for each other;
- a change that takes a destination away takes it exclusive: a citizen's phone or linked
  Telegram chat changed or removed, an erasure, a delegate removed or given another phone
  or citizen. Giving a destination (a first phone, a chat linked, a delegate added) takes
  nothing, so that the paper import binding thousands of phones holds no lock.

Whichever comes first, the other waits for its commit: a code written first is seen by the
sweep that follows the change, which cancels its payment; a change committed first makes
the code's row refused. The refusal is a serialization failure (SQLSTATE 40001, message
`payment.code_elsewhere`): the transaction read a destination another one changed, and
the dialogue runs such a transaction again (core.services.transactions.retrying), so the
PAGA sends its code where the citizen is reached now and the till hears where it went, as
for a PAGA typed a moment later. This costs the payment's hot path nothing: no statement
more, only a trigger on the code's own INSERT (the receipts and the other rows of the
outbox are passed over by the trigger's WHEN, the confirmation writes no code).

SQLite has one writer at a time (BEGIN IMMEDIATE): a trigger on outbox refuses the same
rows there (a write that skips the services; RAISE ABORT, an IntegrityError), and no lock
is needed. Rows queued before are not checked again.

A later migration that rebuilds outbox on SQLite (a batch_alter_table) drops this trigger
with the old table: it must create it again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0038_code_destination_guard"
down_revision: str | None = "0037_one_open_act"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The refusal's message (a migration does not import the app's code).
REFUSAL = "payment.code_elsewhere"
# The advisory lock's first key: "code destinations"; the second is the citizen's id, in
# the int4 the function takes (two citizens sharing a key only wait for each other).
LOCK = "hashtext('buonispesa.code_destinations')"


def _key(citizen_id: str) -> str:
    return f"({citizen_id} % 2147483647)::integer"


# A code row: a charge's message whose payload is sensitive (outbox.carries_code).
_PG_CODE_ROW = "NEW.charge_id IS NOT NULL AND (NEW.payload ->> 'sensitive') = 'true'"
_SQLITE_CODE_ROW = "NEW.charge_id IS NOT NULL AND json_extract(NEW.payload, '$.sensitive') = 1"


def _theirs(holder: str) -> str:
    """Whether NEW's (channel, address) is where citizen `holder` is reached now
    (code_destinations.destinations_of)."""
    return (
        "(EXISTS (SELECT 1 FROM citizens z WHERE z.id = "
        f"{holder} AND z.erased_at IS NULL AND ("
        "(NEW.channel = 'sms' AND z.phone = NEW.address) "
        "OR (NEW.channel = 'telegram' AND z.telegram_chat_id = NEW.address))) "
        "OR (NEW.channel = 'sms' AND EXISTS (SELECT 1 FROM delegates d WHERE d.citizen_id = "
        f"{holder} AND d.phone = NEW.address)))"
    )


_OUTBOX = "outbox_code_to_citizen"
_CITIZENS = "citizens_code_destinations"
_DELEGATES = "delegates_code_destinations"


def _postgresql_upgrade() -> None:
    op.execute(
        f"CREATE FUNCTION {_OUTBOX}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE holder bigint; BEGIN "
        "SELECT citizen_id INTO holder FROM charges WHERE id = NEW.charge_id; "
        "IF NOT FOUND THEN RETURN NEW; END IF; "  # the foreign key refuses it
        f"PERFORM pg_advisory_xact_lock_shared({LOCK}, {_key('holder')}); "
        f"IF NOT {_theirs('holder')} THEN "
        "RAISE EXCEPTION USING ERRCODE = 'serialization_failure', "
        f"MESSAGE = '{REFUSAL}', "
        "DETAIL = 'a payment code for an address its citizen is no longer reached at'; "
        "END IF; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {_OUTBOX} BEFORE INSERT ON outbox FOR EACH ROW "
        f"WHEN ({_PG_CODE_ROW}) EXECUTE FUNCTION {_OUTBOX}()"
    )
    op.execute(
        f"CREATE FUNCTION {_CITIZENS}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF (OLD.phone IS NOT NULL AND NEW.phone IS DISTINCT FROM OLD.phone) "
        "OR (OLD.telegram_chat_id IS NOT NULL "
        "AND NEW.telegram_chat_id IS DISTINCT FROM OLD.telegram_chat_id) "
        "OR (OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL) THEN "
        f"PERFORM pg_advisory_xact_lock({LOCK}, {_key('OLD.id')}); "
        "END IF; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {_CITIZENS} BEFORE UPDATE OF phone, telegram_chat_id, erased_at "
        f"ON citizens FOR EACH ROW EXECUTE FUNCTION {_CITIZENS}()"
    )
    op.execute(
        f"CREATE FUNCTION {_DELEGATES}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'DELETE' OR NEW.phone IS DISTINCT FROM OLD.phone "
        "OR NEW.citizen_id IS DISTINCT FROM OLD.citizen_id THEN "
        f"PERFORM pg_advisory_xact_lock({LOCK}, {_key('OLD.citizen_id')}); "
        "END IF; "
        "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {_DELEGATES} BEFORE DELETE OR UPDATE OF phone, citizen_id "
        f"ON delegates FOR EACH ROW EXECUTE FUNCTION {_DELEGATES}()"
    )


def _sqlite_upgrade() -> None:
    holder = "(SELECT c.citizen_id FROM charges c WHERE c.id = NEW.charge_id)"
    op.execute(
        f"CREATE TRIGGER {_OUTBOX} BEFORE INSERT ON outbox "
        f"WHEN {_SQLITE_CODE_ROW} AND {holder} IS NOT NULL AND NOT {_theirs(holder)} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {_OUTBOX}")
        return
    for table, name in (("outbox", _OUTBOX), ("citizens", _CITIZENS), ("delegates", _DELEGATES)):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
