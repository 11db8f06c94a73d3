"""A card is bound to its holder's own request, and one waiting request names a number

Revision ID: 0030_request_identity
Revises: 0029_code_content
Create Date: 2026-12-04 10:30:00

Two rules of the office's requests (phone_changes) lived only in the services:

- a card with a PIN is printed for the approved card request of its holder
  (core.services.identity.check_approval). `citizens.card_change_id` now names the request
  a card was printed for, and the database refuses one asked for another citizen: on
  PostgreSQL a composite foreign key (card_change_id, id) -> phone_changes (id,
  citizen_id), over the new unique index uq_phone_changes_id_citizen. SQLite cannot add
  a table constraint to citizens in place, and cannot copy the table either (its
  children's ON DELETE RESTRICT keys refuse the DROP of the old copy, and the triggers of
  0015_shop_phone_guard would go with it): there, triggers refuse the same writes (a
  citizen's card_change_id that is not a request of this citizen; a request's id or
  citizen changed under a card that names it), with the refusal's code as their message,
  as 0015's do (core.storage.engine turns both databases' refusals into the services'
  NotAllowed request.other_citizen). Cards printed before name the request printed at
  the moment the card was issued (`handed_at` equal to `card_issued_at`: print_card
  gives both the same instant), when there is one; the others (issued without a request,
  nothing at stake) name none.
- one waiting request names a number in a municipality, whichever household and kind (a
  new phone, a delegate: core.services.asked_numbers.refuse_asked). Two operators
  asking at the same moment each found no other request and both were stored; the
  partial unique index uq_phone_changes_waiting_phone (municipality_id, phone WHERE
  status = 'waiting') refuses the second. A database that already holds two such requests
  is not migrated: the error names them, and which one to keep is the office's decision
  (nothing is changed here on its behalf).

On the way down the column, its triggers or key, and both indexes go; nothing else
changes. A later migration that rebuilds phone_changes or citizens on SQLite (a
batch_alter_table copy) drops the triggers of the rebuilt table: it must create them
again, as for 0015's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_request_identity"
down_revision: str | None = "0029_code_content"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "phone_changes"
_WAITING_PHONE = "uq_phone_changes_waiting_phone"
_ID_CITIZEN = "uq_phone_changes_id_citizen"
_KEY = "fk_citizens_card_change_id_phone_changes"
_WAITING = "status = 'waiting'"
# The refusal code of core.domain.errors.Refusal.REQUEST_OTHER_CITIZEN (a migration does
# not import the app's code, whose names may change later).
_OTHER_CITIZEN = "request.other_citizen"

# SQLite: a citizen's card names only a request of this citizen (the composite key's rule).
_NOT_OWN = (
    "NEW.card_change_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM phone_changes pc "
    "WHERE pc.id = NEW.card_change_id AND pc.citizen_id = NEW.id)"
)
_NAMED_ELSEWHERE = (
    "EXISTS (SELECT 1 FROM citizens c WHERE c.card_change_id = OLD.id "
    "AND (NEW.id <> OLD.id OR NEW.citizen_id <> c.id))"
)
_SQLITE_TRIGGERS = (
    ("citizens_card_request_insert", "BEFORE INSERT ON citizens", _NOT_OWN),
    ("citizens_card_request_update", "BEFORE UPDATE OF card_change_id, id ON citizens", _NOT_OWN),
    ("phone_changes_card_holder_update", "BEFORE UPDATE OF id, citizen_id ON phone_changes", _NAMED_ELSEWHERE),
    ("phone_changes_card_holder_delete", "BEFORE DELETE ON phone_changes",
     "EXISTS (SELECT 1 FROM citizens c WHERE c.card_change_id = OLD.id)"),
)

# Cards printed before this migration: the request printed at the moment the card was
# issued, of the same citizen.
_PRINTED_FOR = (
    "UPDATE citizens SET card_change_id = (SELECT max(pc.id) FROM phone_changes pc "
    "WHERE pc.citizen_id = citizens.id AND pc.kind = 'card' AND pc.status = 'approved' "
    "AND pc.handed_at = citizens.card_issued_at) "
    "WHERE card_pin_hash IS NOT NULL AND card_issued_at IS NOT NULL"
)


class WaitingNumberTwice(RuntimeError):
    """Requests that wait for the same number: the office keeps one, then migrates again."""


def _refuse_numbers_asked_twice() -> None:
    rows = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT municipality_id, phone, id FROM phone_changes "
                "WHERE status = 'waiting' AND phone IS NOT NULL AND EXISTS ("
                "SELECT 1 FROM phone_changes other WHERE other.status = 'waiting' "
                "AND other.municipality_id = phone_changes.municipality_id "
                "AND other.phone = phone_changes.phone AND other.id <> phone_changes.id) "
                "ORDER BY municipality_id, phone, id"
            )
        )
        .all()
    )
    if not rows:
        return
    groups: dict[tuple[int, str], list[int]] = {}
    for municipality_id, phone, change_id in rows:
        groups.setdefault((municipality_id, phone), []).append(change_id)
    named = "; ".join(
        f"requests {', '.join(str(i) for i in ids)} (municipality {town}, number ending "
        f"{phone[-3:]})"
        for (town, phone), ids in groups.items()
    )
    raise WaitingNumberTwice(
        "Not migrated to 0030_request_identity: waiting requests of phone_changes name the "
        f"same number, which one request may: {named}. Keep one of each and withdraw the "
        "others with the release before this one (the office's page, or 'buonispesa admin "
        "citizen phone-change withdraw TOWN ID --reason ...'), then migrate again. Nothing "
        "was changed."
    )


def upgrade() -> None:
    _refuse_numbers_asked_twice()
    op.create_index(
        _WAITING_PHONE,
        _TABLE,
        ["municipality_id", "phone"],
        unique=True,
        sqlite_where=sa.text(_WAITING),
        postgresql_where=sa.text(_WAITING),
    )
    op.create_index(_ID_CITIZEN, _TABLE, ["id", "citizen_id"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("citizens", sa.Column("card_change_id", sa.BigInteger(), nullable=True))
        op.execute(_PRINTED_FOR)
        op.create_foreign_key(
            _KEY,
            "citizens",
            _TABLE,
            ["card_change_id", "id"],
            ["id", "citizen_id"],
            ondelete="RESTRICT",
        )
        return
    # SQLite: a plain ALTER TABLE (no batch copy of citizens, see above), then triggers.
    op.execute("ALTER TABLE citizens ADD COLUMN card_change_id INTEGER")
    for name, when, breaks in _SQLITE_TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name} {when} WHEN {breaks} "
            f"BEGIN SELECT RAISE(ABORT, '{_OTHER_CITIZEN}'); END"
        )
    op.execute(_PRINTED_FOR)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(_KEY, "citizens", type_="foreignkey")
        op.drop_column("citizens", "card_change_id")
    else:
        for name, *_ in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        # SQLite 3.35+ drops a column no index, key or trigger names in place.
        op.execute("ALTER TABLE citizens DROP COLUMN card_change_id")
    op.drop_index(_ID_CITIZEN, table_name=_TABLE)
    op.drop_index(_WAITING_PHONE, table_name=_TABLE)
