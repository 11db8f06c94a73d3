"""identity: one proven phone and one Telegram user per citizen, and an append-only log

Revision ID: 0002_identity
Revises: 0001
Create Date: 2026-12-03 02:30:00

Within a municipality a phone number and a Telegram user each belong to at most one
citizen (unique indexes), each citizen records how its phone was proven, and every
binding, refusal and rebinding is written to `identity_events`, which triggers keep
append-only. Rows that already break the rule are resolved before the indexes are
built: a phone shared by several citizens stays with the one who had it first; a
Telegram chat linked to several citizens is unlinked from all of them (the person
shares the contact again). Each such change is written to the log as done by
"migration", so the office can review it.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import core.storage.models

revision: str = "0002_identity"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_MESSAGE = "identity_events is append-only"


def _masked(phone: str | None) -> str | None:
    return "***" + phone[-3:] if phone else None


def _resolve_duplicates(connection: sa.Connection) -> None:
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    events = []
    rows = connection.execute(
        sa.text(
            "SELECT id, municipality_id, phone FROM citizens WHERE phone IS NOT NULL "
            "ORDER BY municipality_id, phone, id"
        )
    ).all()
    seen: set[tuple[int, str]] = set()
    for citizen_id, municipality_id, phone in rows:
        if (municipality_id, phone) in seen:
            connection.execute(
                sa.text(
                    "UPDATE citizens SET phone = NULL, phone_proven_by = NULL, "
                    "phone_proven_at = NULL WHERE id = :id"
                ),
                {"id": citizen_id},
            )
            events.append((municipality_id, citizen_id, "phone_unbound", _masked(phone)))
        seen.add((municipality_id, phone))
    rows = connection.execute(
        sa.text(
            "SELECT c.id, c.municipality_id FROM citizens c WHERE c.telegram_chat_id IS NOT NULL "
            "AND EXISTS (SELECT 1 FROM citizens o WHERE o.municipality_id = c.municipality_id "
            "AND o.telegram_chat_id = c.telegram_chat_id AND o.id <> c.id)"
        )
    ).all()
    for citizen_id, municipality_id in rows:
        connection.execute(
            sa.text("UPDATE citizens SET telegram_chat_id = NULL WHERE id = :id"),
            {"id": citizen_id},
        )
        events.append((municipality_id, citizen_id, "telegram_unbound", None))
    for municipality_id, citizen_id, kind, masked in events:
        connection.execute(
            sa.text(
                "INSERT INTO identity_events (municipality_id, citizen_id, kind, previous_phone, "
                "actor, created_at) VALUES (:m, :c, :k, :p, 'migration', :now)"
            ),
            {"m": municipality_id, "c": citizen_id, "k": kind, "p": masked, "now": now},
        )


def upgrade() -> None:
    op.add_column("citizens", sa.Column("phone_proven_by", sa.String(length=16), nullable=True))
    op.add_column(
        "citizens",
        sa.Column(
            "phone_proven_at", core.storage.models.UTCDateTime(timezone=True), nullable=True
        ),
    )
    # How the phones already on file were proven: by the code of the channel they applied
    # from, else (paper, demo) by the office.
    op.execute(
        "UPDATE citizens SET phone_proven_at = created_at, phone_proven_by = COALESCE(("
        "SELECT CASE a.source WHEN 'sms' THEN 'sms_code' WHEN 'terminal' THEN 'sms_code' "
        "WHEN 'telegram' THEN 'telegram_contact' ELSE 'office' END "
        "FROM applications a WHERE a.citizen_id = citizens.id ORDER BY a.id LIMIT 1"
        "), 'office') WHERE phone IS NOT NULL"
    )
    op.create_table(
        "identity_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("municipality_id", _ID, nullable=False),
        sa.Column("citizen_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("proof", sa.String(length=16), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("previous_phone", sa.String(length=16), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at", core.storage.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_identity_events_municipality_id_municipalities"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_identity_events_citizen_id_citizens"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_events")),
    )
    op.create_index(
        "ix_identity_events_municipality_id", "identity_events", ["municipality_id"]
    )
    op.create_index(
        "ix_identity_events_citizen", "identity_events", ["citizen_id", "kind", "created_at"]
    )
    connection = op.get_bind()
    _resolve_duplicates(connection)
    op.create_index(
        "uq_citizens_phone", "citizens", ["municipality_id", "phone"], unique=True
    )
    op.create_index(
        "uq_citizens_telegram", "citizens", ["municipality_id", "telegram_chat_id"], unique=True
    )
    if connection.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION identity_events_append_only() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER identity_events_append_only BEFORE UPDATE OR DELETE "
            "ON identity_events FOR EACH ROW EXECUTE FUNCTION identity_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER identity_events_no_truncate BEFORE TRUNCATE "
            "ON identity_events FOR EACH STATEMENT EXECUTE FUNCTION identity_events_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER identity_events_no_{action.lower()} BEFORE {action} "
                f"ON identity_events BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
            )


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS identity_events_no_truncate ON identity_events")
        op.execute("DROP TRIGGER IF EXISTS identity_events_append_only ON identity_events")
        op.execute("DROP FUNCTION IF EXISTS identity_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS identity_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS identity_events_no_delete")
    op.drop_index("uq_citizens_telegram", table_name="citizens")
    op.drop_index("uq_citizens_phone", table_name="citizens")
    op.drop_index("ix_identity_events_citizen", table_name="identity_events")
    op.drop_index("ix_identity_events_municipality_id", table_name="identity_events")
    op.drop_table("identity_events")
    with op.batch_alter_table("citizens") as batch_op:
        batch_op.drop_column("phone_proven_at")
        batch_op.drop_column("phone_proven_by")
