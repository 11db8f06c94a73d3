"""A payment is never asked of an erased citizen, however a PAGA and the erasure interleave

Revision ID: 0039_no_charge_for_erased
Revises: 0038_code_destination_guard
Create Date: 2026-12-07 09:00:00

An erasure (core.services.privacy.erase_citizen) is refused while a payment of the citizen
waits for its code (`privacy.charge_pending`), but it read the pending payments first: on
PostgreSQL a shop's PAGA committing between that read and the erasure's commit left a
pending payment on the erased citizen, its code on the way to the phone just erased. A
card's payment (no code sent, so no code row for 0038_code_destination_guard to refuse)
could even be written after the erasure had committed, by a PAGA that had found the
citizen a moment before.

The trigger on charges refuses a new payment of an erased citizen. On PostgreSQL it reads
the citizen's row FOR KEY SHARE, the lock the foreign key takes on it anyway (so a PAGA
waits for nothing new), and the erasure takes the row FOR UPDATE before it looks for
pending payments (CitizenRepository.lock). Whichever comes first, the other waits for its
commit: a payment written first is seen by the erasure, which is refused; an erasure
committed first makes the payment refused. The refusal is a serialization failure
(SQLSTATE 40001, message `payment.citizen_erased`): the PAGA read a citizen another
transaction erased, and the dialogue runs it again (core.services.transactions.retrying),
which then finds nobody, as a PAGA typed a moment later.

SQLite has one writer at a time (BEGIN IMMEDIATE): a trigger refuses the same rows there (a
write that skips the services; RAISE ABORT, an IntegrityError), and no lock is needed.
Rows written before are not checked again.

A later migration that rebuilds charges on SQLite (a batch_alter_table) drops this trigger
with the old table: it must create it again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0039_no_charge_for_erased"
down_revision: str | None = "0038_code_destination_guard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The refusal's message (a migration does not import the app's code).
REFUSAL = "payment.citizen_erased"
GUARD = "charges_citizen_not_erased"


def _postgresql_upgrade() -> None:
    # FOR KEY SHARE waits for an erasure holding the row, then reads the row as committed
    # (READ COMMITTED): its WHERE names the id only, so that the row is locked even when
    # this statement's snapshot still saw it not erased.
    op.execute(
        f"CREATE FUNCTION {GUARD}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE erased timestamptz; BEGIN "
        "SELECT erased_at INTO erased FROM citizens WHERE id = NEW.citizen_id FOR KEY SHARE; "
        "IF erased IS NOT NULL THEN "
        "RAISE EXCEPTION USING ERRCODE = 'serialization_failure', "
        f"MESSAGE = '{REFUSAL}', DETAIL = 'a payment asked of an erased citizen'; "
        "END IF; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {GUARD} BEFORE INSERT ON charges FOR EACH ROW "
        f"EXECUTE FUNCTION {GUARD}()"
    )


def _sqlite_upgrade() -> None:
    op.execute(
        f"CREATE TRIGGER {GUARD} BEFORE INSERT ON charges "
        "WHEN (SELECT erased_at FROM citizens WHERE id = NEW.citizen_id) IS NOT NULL "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {GUARD}")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {GUARD} ON charges")
    op.execute(f"DROP FUNCTION IF EXISTS {GUARD}()")
