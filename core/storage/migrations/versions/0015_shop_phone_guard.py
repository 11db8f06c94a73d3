"""A shop's phone is never a voucher holder's, and the reverse, whatever writes the row

Revision ID: 0015_shop_phone_guard
Revises: 0014_activity_subject
Create Date: 2026-12-03 12:40:00

The services refuse it first, with a sentence (identity.refuse_shop_phone and
_is_shop_chat, delegates.add_delegate, shops._refuse_citizens_phone); these triggers are the backstop for
a race between two transactions or a write that skips the services. The rule, exactly as
the services apply it, within one municipality:

- a citizen (not erased) is never given a phone that is the address of an SMS member
  (owner or cashier) of a shop, whatever the shop's status;
- a citizen (not erased) is never linked to a Telegram chat that is a shop member's
  (identity.IdentityRefused "telegram_is_shop");
- a delegate is never given such a phone either;
- a shop member is never given, on Telegram, a citizen's Telegram chat, and on any other
  channel (SMS, the terminal), a citizen's (not erased) or a delegate's phone.

Phones are compared as stored: the services store them normalised (E.164).
Rows that already break the rule are left as they are (which one to unbind is the
office's decision); the triggers check only rows written from now on, and an UPDATE that
keeps the phone (or address) unchanged is let through.

The refusal codes are the messages, so core.storage.engine turns the database's error
back into the services' Conflict. On PostgreSQL two transactions could each miss the
other's uncommitted row, so each trigger takes a transaction advisory lock on the
municipality first: shared when a citizen's or delegate's phone is written (bindings never
wait for each other), exclusive when a shop member is (it waits for the bindings in
flight, and they for it); the check then reads what they committed (READ COMMITTED, the
engine's default). SQLite has one writer at a time (BEGIN IMMEDIATE), so no lock is needed.

A later migration that rebuilds citizens, delegates or shop_members on SQLite (a
batch_alter_table) drops these triggers with the old table: it must create them again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_shop_phone_guard"
down_revision: str | None = "0014_activity_subject"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The refusal codes of core.domain.errors.Refusal (a migration does not import the app's
# code, whose names may change later).
CITIZEN = "identity.phone_is_shop"
# Not a Refusal of its own: the services say IdentityRefused("telegram_is_shop").
CITIZEN_CHAT = "identity.telegram_is_shop"
DELEGATE = "delegate.phone_is_shop"
MEMBER = "shop.member_is_citizen"
# The advisory lock's first key: "shop phones" (the second is the municipality).
LOCK = "hashtext('buonispesa.shop_phones')"

# SQL conditions over NEW, shared by both dialects.
_SHOP_SMS_PHONE = (
    "EXISTS (SELECT 1 FROM shop_members sm JOIN shops s ON s.id = sm.shop_id "
    "WHERE sm.channel = 'sms' AND sm.address = NEW.phone "
    "AND s.municipality_id = NEW.municipality_id)"
)
_SHOP_TELEGRAM_CHAT = (
    "EXISTS (SELECT 1 FROM shop_members sm JOIN shops s ON s.id = sm.shop_id "
    "WHERE sm.channel = 'telegram' AND sm.address = NEW.telegram_chat_id "
    "AND s.municipality_id = NEW.municipality_id)"
)
_HOLDER_OF_ADDRESS = (
    "EXISTS (SELECT 1 FROM shops s WHERE s.id = NEW.shop_id AND ("
    "(NEW.channel = 'telegram' AND EXISTS (SELECT 1 FROM citizens c "
    "WHERE c.municipality_id = s.municipality_id AND c.telegram_chat_id = NEW.address "
    "AND c.erased_at IS NULL)) "
    "OR (NEW.channel <> 'telegram' AND (EXISTS (SELECT 1 FROM citizens c "
    "WHERE c.municipality_id = s.municipality_id AND c.phone = NEW.address "
    "AND c.erased_at IS NULL) OR EXISTS (SELECT 1 FROM delegates d "
    "WHERE d.municipality_id = s.municipality_id AND d.phone = NEW.address)))))"
)
_CITIZEN_CHANGED = (
    "(NEW.phone IS NOT OLD.phone OR NEW.municipality_id <> OLD.municipality_id "
    "OR (OLD.erased_at IS NOT NULL AND NEW.erased_at IS NULL))"
)
_CHAT_CHANGED = (
    "(NEW.telegram_chat_id IS NOT OLD.telegram_chat_id "
    "OR NEW.municipality_id <> OLD.municipality_id "
    "OR (OLD.erased_at IS NOT NULL AND NEW.erased_at IS NULL))"
)
_DELEGATE_CHANGED = "(NEW.phone <> OLD.phone OR NEW.municipality_id <> OLD.municipality_id)"
_MEMBER_CHANGED = (
    "(NEW.channel <> OLD.channel OR NEW.address <> OLD.address OR NEW.shop_id <> OLD.shop_id)"
)

# table, trigger name, refusal, columns an UPDATE must touch, extra condition, "changed"
_GUARDS = (
    (
        "citizens",
        "citizens_phone_not_shop",
        CITIZEN,
        "phone, municipality_id, erased_at",
        "NEW.phone IS NOT NULL AND NEW.erased_at IS NULL",
        _CITIZEN_CHANGED,
        _SHOP_SMS_PHONE,
    ),
    (
        "citizens",
        "citizens_telegram_not_shop",
        CITIZEN_CHAT,
        "telegram_chat_id, municipality_id, erased_at",
        "NEW.telegram_chat_id IS NOT NULL AND NEW.erased_at IS NULL",
        _CHAT_CHANGED,
        _SHOP_TELEGRAM_CHAT,
    ),
    (
        "delegates",
        "delegates_phone_not_shop",
        DELEGATE,
        "phone, municipality_id",
        "TRUE",
        _DELEGATE_CHANGED,
        _SHOP_SMS_PHONE,
    ),
    (
        "shop_members",
        "shop_members_not_holder",
        MEMBER,
        "channel, address, shop_id",
        "TRUE",
        _MEMBER_CHANGED,
        _HOLDER_OF_ADDRESS,
    ),
)


def _sqlite_upgrade() -> None:
    for table, name, code, columns, applies, changed, breaks in _GUARDS:
        applies = "1" if applies == "TRUE" else applies
        op.execute(
            f"CREATE TRIGGER {name}_insert BEFORE INSERT ON {table} "
            f"WHEN {applies} AND {breaks} "
            f"BEGIN SELECT RAISE(ABORT, '{code}'); END"
        )
        op.execute(
            f"CREATE TRIGGER {name}_update BEFORE UPDATE OF {columns} ON {table} "
            f"WHEN {applies} AND {changed} AND {breaks} "
            f"BEGIN SELECT RAISE(ABORT, '{code}'); END"
        )


def _postgresql_upgrade() -> None:
    for table, name, code, columns, applies, changed, breaks in _GUARDS:
        if table == "shop_members":
            lock = (
                f"PERFORM pg_advisory_xact_lock({LOCK}, s.municipality_id::integer) "
                "FROM shops s WHERE s.id = NEW.shop_id;"
            )
        else:
            lock = f"PERFORM pg_advisory_xact_lock_shared({LOCK}, NEW.municipality_id::integer);"
        changed = changed.replace(" IS NOT ", " IS DISTINCT FROM ")
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NOT ({applies}) THEN RETURN NEW; END IF; "
            f"IF TG_OP = 'UPDATE' THEN IF NOT {changed} THEN RETURN NEW; END IF; END IF; "
            f"{lock} "
            f"IF {breaks} THEN "
            f"RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{code}'; "
            "END IF; RETURN NEW; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE OF {columns} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, name, *_ in _GUARDS:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}_insert")
            op.execute(f"DROP TRIGGER IF EXISTS {name}_update")
