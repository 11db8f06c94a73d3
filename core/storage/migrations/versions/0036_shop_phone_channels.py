"""A shop's phone is a phone on the terminal channel too, not only by SMS

Revision ID: 0036_shop_phone_channels
Revises: 0035_settlement_document
Create Date: 2026-12-05 00:00:00

0015_shop_phone_guard's triggers refused a citizen's or a delegate's phone only when it
was the address of an SMS member of a shop. The terminal chat (`buonispesa chat`) is
addressed by a phone number too: a cashier who joined there could then be made a
delegate (or apply) with that number, and receive the codes of the charges they asked.
The two triggers now read every channel whose address is a phone (SMS and the terminal,
core.domain.channels.PHONE_CHANNELS), as the services do (identity.is_shop_phone). The
trigger on shop_members already treated every channel but Telegram as a phone; the
Telegram triggers are unchanged.

Rows that already break the rule stay as they are (the office decides which one to
unbind); the till refuses to send a payment code to the charging shop's own members
(charges.request_charge, PAYMENT_CODE_TO_SHOP). The locks are 0015's.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0036_shop_phone_channels"
down_revision: str | None = "0035_settlement_document"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK = "hashtext('buonispesa.shop_phones')"
NOW = "('sms', 'terminal')"
BEFORE = "('sms')"


def _shop_phone(channels: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM shop_members sm JOIN shops s ON s.id = sm.shop_id "
        f"WHERE sm.channel IN {channels} AND sm.address = NEW.phone "
        "AND s.municipality_id = NEW.municipality_id)"
    )


# table, trigger name, refusal, columns an UPDATE must touch, condition, "changed" (0015's)
_GUARDS = (
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


def _sqlite(channels: str) -> None:
    for table, name, code, columns, applies, changed in _GUARDS:
        applies = "1" if applies == "TRUE" else applies
        breaks = _shop_phone(channels)
        op.execute(f"DROP TRIGGER IF EXISTS {name}_insert")
        op.execute(f"DROP TRIGGER IF EXISTS {name}_update")
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


def _postgresql(channels: str) -> None:
    # The triggers stay; only the functions they run change.
    for _, name, code, _, applies, changed in _GUARDS:
        changed = changed.replace(" IS NOT ", " IS DISTINCT FROM ")
        lock = f"PERFORM pg_advisory_xact_lock_shared({LOCK}, NEW.municipality_id::integer);"
        op.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NOT ({applies}) THEN RETURN NEW; END IF; "
            f"IF TG_OP = 'UPDATE' THEN IF NOT {changed} THEN RETURN NEW; END IF; END IF; "
            f"{lock} "
            f"IF {_shop_phone(channels)} THEN "
            f"RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{code}'; "
            "END IF; RETURN NEW; END $$"
        )


def _apply(channels: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql(channels)
    else:
        _sqlite(channels)


def upgrade() -> None:
    _apply(NOW)


def downgrade() -> None:
    _apply(BEFORE)
