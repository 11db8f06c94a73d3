"""One open draft per kind of office act (per application for the acts about one)

Revision ID: 0037_one_open_act
Revises: 0036_shop_phone_channels
Create Date: 2026-12-06 00:00:00

core.services.acts.prepare refused a second draft of a kind while one waited (of the same
kind and application, for a revocation, its undoing or an appeal's correction), but only by
reading the open acts first: two "Prepare" sent at the same moment on PostgreSQL each found
none and both were stored, and each could then be approved. The partial unique index
uq_office_acts_open (municipality_id, kind, protocol WHERE status = 'prepared') now refuses
the second; the service turns the refusal into the same act.already_prepared as the
sequential case.

`protocol` is a new column: the application an act is about, copied here from the act's
parameters (read in Python: the same on SQLite and PostgreSQL), "" for the town's acts (a
determina, a credit, a reimbursement run).

A database where the race already happened holds two open drafts of one key. Neither has
moved any money (only an approval does), and the database now lets one be approved: the
oldest is kept, as the index keeps the first draft committed, and each later one is
withdrawn, decided at the moment it was prepared, undecided by anyone (decided_by_id
NULL), with a reason naming the draft kept. Whoever needs the later one's figures
prepares it again once the kept one is approved or withdrawn.

On the way down the index and the column go; drafts withdrawn here stay withdrawn.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037_one_open_act"
down_revision: str | None = "0036_shop_phone_channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "office_acts"
_INDEX = "uq_office_acts_open"
_OPEN = "status = 'prepared'"
# core.services.acts.PER_PROTOCOL (a migration does not import the app's code).
_PER_PROTOCOL = ("revocation", "revocation_undo", "appeal_correction")

_acts = sa.table(
    _TABLE,
    sa.column("id", sa.BigInteger),
    sa.column("municipality_id", sa.BigInteger),
    sa.column("kind", sa.String),
    sa.column("status", sa.String),
    sa.column("params", sa.JSON),
    sa.column("protocol", sa.String),
    sa.column("prepared_at", sa.DateTime),
    sa.column("decided_at", sa.DateTime),
    sa.column("outcome", sa.JSON),
)


def _withdrawn_reason(kept: int) -> str:
    """Shown as written, as an operator's reason is: in Italian, then in English."""
    return (
        f"Ritirato con l'aggiornamento 0037: l'atto n. {kept} dello stesso tipo era già in "
        f"attesa di approvazione (withdrawn on upgrade: act {kept} of the same kind was "
        "already waiting)."
    )


def upgrade() -> None:
    # A plain ALTER TABLE on both databases (SQLite adds a NOT NULL column with a default).
    op.add_column(
        _TABLE, sa.Column("protocol", sa.String(32), nullable=False, server_default="")
    )
    bind = op.get_bind()
    for act_id, params in bind.execute(
        sa.select(_acts.c.id, _acts.c.params).where(_acts.c.kind.in_(_PER_PROTOCOL))
    ).all():
        protocol = str((params or {}).get("protocol") or "")
        if protocol:
            bind.execute(
                sa.update(_acts).where(_acts.c.id == act_id).values(protocol=protocol)
            )
    kept: dict[tuple[int, str, str], int] = {}
    for act_id, town, kind, protocol in bind.execute(
        sa.select(_acts.c.id, _acts.c.municipality_id, _acts.c.kind, _acts.c.protocol)
        .where(_acts.c.status == "prepared")
        .order_by(_acts.c.id)
    ).all():
        first = kept.setdefault((town, kind, protocol), act_id)
        if first == act_id:
            continue
        bind.execute(
            sa.update(_acts)
            .where(_acts.c.id == act_id, _acts.c.status == "prepared")
            .values(
                status="withdrawn",
                decided_at=_acts.c.prepared_at,
                outcome={"reason": _withdrawn_reason(first)},
            )
        )
    op.create_index(
        _INDEX,
        _TABLE,
        ["municipality_id", "kind", "protocol"],
        unique=True,
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )


def downgrade() -> None:
    op.drop_index(_INDEX, table_name=_TABLE)
    # SQLite 3.35+ drops a column no index, key or trigger names in place.
    op.drop_column(_TABLE, "protocol")
