"""An undone revocation never puts money on an erased citizen's account, whatever writes it

Revision ID: 0052_no_undo_to_erased
Revises: 0051_no_refund_to_erased
Create Date: 2026-12-07 23:45:00

An erasure (core.services.privacy.erase_citizen) may follow a revocation that left nothing
to recover; undoing that revocation afterwards gave the returned money back to a
pseudonymised account nobody can spend from. The service refuses it
(application.revocation_erased, core.services.audit.check_undoable); this trigger refuses a
`revocation_undo` posting to an erased citizen's account whoever writes it, as 0051 does for
a shop's refund, with the same locking on PostgreSQL (the citizen's row FOR KEY SHARE against
the erasure's FOR UPDATE; a lost race is a serialization failure, run again and refused in
words) and a RAISE(ABORT) on SQLite. Its own trigger beside 0051's, so that each refusal names
its own rule. A later migration that rebuilds postings on SQLite must create it again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0052_no_undo_to_erased"
down_revision: str | None = "0051_no_refund_to_erased"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The refusal's message and the posting kind (a migration does not import the app's code).
REFUSAL = "application.revocation_erased"
KIND = "revocation_undo"
GUARD = "postings_no_undo_to_erased"


def _postgresql_upgrade() -> None:
    op.execute(
        f"CREATE FUNCTION {GUARD}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE holder bigint; erased timestamptz; BEGIN "
        f"IF NEW.kind <> '{KIND}' THEN RETURN NEW; END IF; "
        "SELECT owner_id INTO holder FROM accounts "
        "WHERE id = NEW.to_account_id AND kind = 'citizen'; "
        "IF holder IS NULL THEN RETURN NEW; END IF; "
        "SELECT erased_at INTO erased FROM citizens WHERE id = holder FOR KEY SHARE; "
        "IF erased IS NOT NULL THEN "
        "RAISE EXCEPTION USING ERRCODE = 'serialization_failure', "
        f"MESSAGE = '{REFUSAL}', DETAIL = 'an undone revocation to an erased citizen'; "
        "END IF; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {GUARD} BEFORE INSERT ON postings FOR EACH ROW "
        f"EXECUTE FUNCTION {GUARD}()"
    )


def _sqlite_upgrade() -> None:
    op.execute(
        f"CREATE TRIGGER {GUARD} BEFORE INSERT ON postings "
        f"WHEN NEW.kind = '{KIND}' AND (SELECT c.erased_at FROM accounts a "
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
