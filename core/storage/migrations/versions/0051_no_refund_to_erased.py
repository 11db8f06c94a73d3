"""A shop's refund never puts money on an erased citizen's account, whatever writes it

Revision ID: 0051_no_refund_to_erased
Revises: 0050_accounts_not_negative
Create Date: 2026-12-07 23:00:00

An erasure (core.services.privacy.erase_citizen) needs the citizen's balance at zero and
leaves a pseudonymised account nobody can spend from or be reimbursed for. A payment of
today could still be refunded to it afterwards: the owner's refund needs no code from the
customer. The services refuse it (refund.customer_erased, core.services.refund_codes
.refuse_after_erasure); this trigger on postings refuses a REFUND posting to the account of
an erased citizen, whoever writes it (a script, a service that forgot its check).

On PostgreSQL it reads the citizen's row FOR KEY SHARE, as 0039_no_charge_for_erased does
for a payment, and the erasure holds that row FOR UPDATE before it reads the balance
(CitizenRepository.lock). Whichever comes first, the other waits for its commit: a refund
written first is seen by the erasure (privacy.balance_not_zero); an erasure committed first
makes the refund refused, as a serialization failure (SQLSTATE 40001, message
`refund.customer_erased`) that core.services.transactions.retrying runs again, and the
refund, run again, is refused by the service in words.

SQLite has one writer at a time (BEGIN IMMEDIATE): a trigger refuses the same rows there
(RAISE ABORT, an IntegrityError). Rows written before are not checked again. A later
migration that rebuilds postings on SQLite must create the trigger again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0051_no_refund_to_erased"
down_revision: str | None = "0050_accounts_not_negative"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The refusal's message and the posting kind (a migration does not import the app's code).
REFUSAL = "refund.customer_erased"
GUARD = "postings_no_refund_to_erased"


def _postgresql_upgrade() -> None:
    # FOR KEY SHARE waits for an erasure holding the row, then reads it as committed.
    op.execute(
        f"CREATE FUNCTION {GUARD}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE holder bigint; erased timestamptz; BEGIN "
        "IF NEW.kind <> 'refund' THEN RETURN NEW; END IF; "
        "SELECT owner_id INTO holder FROM accounts "
        "WHERE id = NEW.to_account_id AND kind = 'citizen'; "
        "IF holder IS NULL THEN RETURN NEW; END IF; "
        "SELECT erased_at INTO erased FROM citizens WHERE id = holder FOR KEY SHARE; "
        "IF erased IS NOT NULL THEN "
        "RAISE EXCEPTION USING ERRCODE = 'serialization_failure', "
        f"MESSAGE = '{REFUSAL}', DETAIL = 'a refund to an erased citizen'; "
        "END IF; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {GUARD} BEFORE INSERT ON postings FOR EACH ROW "
        f"EXECUTE FUNCTION {GUARD}()"
    )


def _sqlite_upgrade() -> None:
    op.execute(
        f"CREATE TRIGGER {GUARD} BEFORE INSERT ON postings "
        "WHEN NEW.kind = 'refund' AND (SELECT c.erased_at FROM accounts a "
        "JOIN citizens c ON c.id = a.owner_id "
        "WHERE a.id = NEW.to_account_id AND a.kind = 'citizen') IS NOT NULL "
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
    op.execute(f"DROP TRIGGER IF EXISTS {GUARD} ON postings")
    op.execute(f"DROP FUNCTION IF EXISTS {GUARD}()")
