"""shop_members.phone: the phone of a member who charges by Telegram

Revision ID: 0040_shop_member_phone
Revises: 0039_no_charge_for_erased
Create Date: 2026-12-06 18:00:00

A member on Telegram was known only by their Telegram user: a cashier there whom the
office also registered as a customer's delegate (a phone) received that customer's
payment codes on their own phone, and no rule could see it. An owner or cashier joining on
Telegram now shares their own contact (the phone is proven as a citizen's is), stored
here; members on SMS or at the terminal are addressed by their phone and leave it empty,
and so do Telegram members who joined before, until they share it (the till asks them
before their next charge or refund: core/dialogue/flows/member_phone.py).

The rule of 0015_shop_phone_guard (as 0036_shop_phone_channels left it) reads this phone
too, within one municipality: a citizen (not erased) or a delegate is never given a phone
that is a shop member's phone here, and a member is never given here a citizen's or a
delegate's phone. Rows that already break it stay (the office decides); the till refuses
a code to the shop's own members (shop_rights.refuse_code_to_own_staff). The locks are
0015's. No table is rebuilt (a plain ADD COLUMN), so 0015's other triggers stay.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040_shop_member_phone"
down_revision: str | None = "0039_no_charge_for_erased"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK = "hashtext('buonispesa.shop_phones')"


def _shop_phone(with_member_phone: bool) -> str:
    member_phone = " OR sm.phone = NEW.phone" if with_member_phone else ""
    return (
        "EXISTS (SELECT 1 FROM shop_members sm JOIN shops s ON s.id = sm.shop_id "
        f"WHERE ((sm.channel IN ('sms', 'terminal') AND sm.address = NEW.phone){member_phone}) "
        "AND s.municipality_id = NEW.municipality_id)"
    )


def _holder_of(address: str) -> str:
    """A citizen (not erased) or a delegate of the shop's municipality has this phone."""
    return (
        "(EXISTS (SELECT 1 FROM citizens c "
        f"WHERE c.municipality_id = s.municipality_id AND c.phone = {address} "
        "AND c.erased_at IS NULL) OR EXISTS (SELECT 1 FROM delegates d "
        f"WHERE d.municipality_id = s.municipality_id AND d.phone = {address}))"
    )


def _member_breaks(with_member_phone: bool) -> str:
    member_phone = (
        f" OR (NEW.phone IS NOT NULL AND {_holder_of('NEW.phone')})" if with_member_phone else ""
    )
    return (
        "EXISTS (SELECT 1 FROM shops s WHERE s.id = NEW.shop_id AND ("
        "(NEW.channel = 'telegram' AND EXISTS (SELECT 1 FROM citizens c "
        "WHERE c.municipality_id = s.municipality_id AND c.telegram_chat_id = NEW.address "
        "AND c.erased_at IS NULL)) "
        f"OR (NEW.channel <> 'telegram' AND {_holder_of('NEW.address')}){member_phone}))"
    )


# citizens' and delegates' triggers: table, name, refusal, UPDATE OF, condition, "changed"
_HOLDERS = (
    (
        "citizens",
        "citizens_phone_not_shop",
        "identity.phone_is_shop",
        "phone, municipality_id, erased_at",
        "NEW.phone IS NOT NULL AND NEW.erased_at IS NULL",
        "(NEW.phone IS NOT OLD.phone OR NEW.municipality_id <> OLD.municipality_id "
        "OR (OLD.erased_at IS NOT NULL AND NEW.erased_at IS NULL))",
    ),
    (
        "delegates",
        "delegates_phone_not_shop",
        "delegate.phone_is_shop",
        "phone, municipality_id",
        "TRUE",
        "(NEW.phone <> OLD.phone OR NEW.municipality_id <> OLD.municipality_id)",
    ),
)
_MEMBER = "shop_members_not_holder"
_MEMBER_CODE = "shop.member_is_citizen"


def _member_guard(with_member_phone: bool) -> tuple[str, str]:
    """The shop_members trigger's UPDATE OF columns and its "changed" condition."""
    if with_member_phone:
        return (
            "channel, address, shop_id, phone",
            "(NEW.channel <> OLD.channel OR NEW.address <> OLD.address "
            "OR NEW.shop_id <> OLD.shop_id OR NEW.phone IS NOT OLD.phone)",
        )
    return (
        "channel, address, shop_id",
        "(NEW.channel <> OLD.channel OR NEW.address <> OLD.address OR NEW.shop_id <> OLD.shop_id)",
    )


def _sqlite_trigger(name: str, table: str, code: str, columns: str, when: str, changed: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {name}_insert")
    op.execute(f"DROP TRIGGER IF EXISTS {name}_update")
    op.execute(
        f"CREATE TRIGGER {name}_insert BEFORE INSERT ON {table} "
        f"WHEN {when} BEGIN SELECT RAISE(ABORT, '{code}'); END"
    )
    op.execute(
        f"CREATE TRIGGER {name}_update BEFORE UPDATE OF {columns} ON {table} "
        f"WHEN {when} AND {changed} BEGIN SELECT RAISE(ABORT, '{code}'); END"
    )


def _sqlite(with_member_phone: bool) -> None:
    for table, name, code, columns, applies, changed in _HOLDERS:
        applies = "1" if applies == "TRUE" else applies
        when = f"{applies} AND {_shop_phone(with_member_phone)}"
        _sqlite_trigger(name, table, code, columns, when, changed)
    columns, changed = _member_guard(with_member_phone)
    _sqlite_trigger(
        _MEMBER, "shop_members", _MEMBER_CODE, columns, _member_breaks(with_member_phone), changed
    )


def _pg_function(name: str, applies: str, changed: str, lock: str, breaks: str, code: str) -> None:
    changed = changed.replace(" IS NOT ", " IS DISTINCT FROM ")
    op.execute(
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NOT ({applies}) THEN RETURN NEW; END IF; "
        f"IF TG_OP = 'UPDATE' THEN IF NOT {changed} THEN RETURN NEW; END IF; END IF; "
        f"{lock} "
        f"IF {breaks} THEN "
        f"RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{code}'; "
        "END IF; RETURN NEW; END $$"
    )


def _postgresql(with_member_phone: bool) -> None:
    for _, name, code, _, applies, changed in _HOLDERS:
        lock = f"PERFORM pg_advisory_xact_lock_shared({LOCK}, NEW.municipality_id::integer);"
        _pg_function(name, applies, changed, lock, _shop_phone(with_member_phone), code)
    columns, changed = _member_guard(with_member_phone)
    lock = (
        f"PERFORM pg_advisory_xact_lock({LOCK}, s.municipality_id::integer) "
        "FROM shops s WHERE s.id = NEW.shop_id;"
    )
    _pg_function(_MEMBER, "TRUE", changed, lock, _member_breaks(with_member_phone), _MEMBER_CODE)
    # The trigger's UPDATE OF list changes with the column.
    op.execute(f"DROP TRIGGER IF EXISTS {_MEMBER} ON shop_members")
    op.execute(
        f"CREATE TRIGGER {_MEMBER} BEFORE INSERT OR UPDATE OF {columns} ON shop_members "
        f"FOR EACH ROW EXECUTE FUNCTION {_MEMBER}()"
    )


def _guards(with_member_phone: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql(with_member_phone)
    else:
        _sqlite(with_member_phone)


def upgrade() -> None:
    op.add_column("shop_members", sa.Column("phone", sa.String(32), nullable=True))
    op.create_index("ix_shop_members_phone", "shop_members", ["phone"])
    _guards(with_member_phone=True)


def downgrade() -> None:
    # The triggers first: SQLite drops no column a trigger reads. A plain ALTER TABLE
    # (SQLite >= 3.35 has DROP COLUMN): a batch copy would drop 0015's triggers.
    _guards(with_member_phone=False)
    op.drop_index("ix_shop_members_phone", table_name="shop_members")
    op.drop_column("shop_members", "phone")
