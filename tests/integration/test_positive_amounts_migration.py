"""0049_positive_amounts, on SQLite and PostgreSQL: a posting or a charge of 0 or -1 written
straight to its table (a script, a service that forgot its check) is refused; down and up
again over a database holding payments keeps every row, every index and trigger (0048's
partial unique index, 0039's guard on charges) and the references to the rebuilt tables."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.storage.engine import make_engine
from tests.conftest import FakeClock
from tests.factories import make_town, pay
from tests.integration.migrating import core_on, migrate_to, migrated_core
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)

BEFORE = "0048_one_posting_per_charge"
# What a later migration adds on these tables: gone on the way down to BEFORE.
# 0051_no_refund_to_erased, 0052_no_undo_to_erased
LATER = {"postings_no_refund_to_erased", "postings_no_undo_to_erased"}

# A copy of an existing row with another amount: every other column is valid.
_POSTING = (
    "INSERT INTO postings (municipality_id, kind, from_account_id, to_account_id, "
    "amount_cents, created_at, charge_id) SELECT municipality_id, 'donation', "
    "from_account_id, to_account_id, :amount, created_at, charge_id FROM postings "
    "WHERE charge_id = :charge"
)
_CHARGE = (
    "INSERT INTO charges (municipality_id, shop_id, citizen_id, amount_cents, status, "
    "code_salt, code_hash, consent, attempts, requested_by, created_at, expires_at) "
    "SELECT municipality_id, shop_id, citizen_id, :amount, 'cancelled', code_salt, code_hash, "
    "consent, attempts, requested_by, created_at, expires_at FROM charges WHERE id = :charge"
)


async def _written(core: Core, sql: str, amount: int, charge: int) -> bool:
    """Whether the row goes in (rolled back either way: the database is left as it was)."""
    async with core.uow() as uow:
        try:
            await uow.session.execute(text(sql), {"amount": amount, "charge": charge})
        except IntegrityError:
            return False
        return True


async def _refusals(core: Core, charge: int) -> dict[tuple[str, int], bool]:
    return {
        (table, amount): not await _written(core, sql, amount, charge)
        for table, sql in (("postings", _POSTING), ("charges", _CHARGE))
        for amount in (0, -1, 1)
    }


REFUSED = {
    ("postings", 0): True,
    ("postings", -1): True,
    ("postings", 1): False,
    ("charges", 0): True,
    ("charges", -1): True,
    ("charges", 1): False,
}


async def _schema(url: str) -> tuple[set[str], list[tuple[int, ...]]]:
    """The indexes and triggers of postings and charges, and the rows' ids and amounts."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                names = (
                    "SELECT indexname FROM pg_indexes WHERE tablename IN ('postings', 'charges') "
                    "UNION SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                    "AND tgrelid IN ('postings'::regclass, 'charges'::regclass)"
                )
            else:
                names = (
                    "SELECT name FROM sqlite_master WHERE tbl_name IN ('postings', 'charges') "
                    "AND type IN ('index', 'trigger')"
                )
            found = set((await connection.scalars(text(names))).all())
            rows = (
                await connection.execute(
                    text(
                        "SELECT id, amount_cents, charge_id FROM postings UNION ALL "
                        "SELECT id, amount_cents, -1 FROM charges ORDER BY 3, 1"
                    )
                )
            ).all()
            return found, [tuple(row) for row in rows]
    finally:
        await engine.dispose()


async def test_a_raw_insert_of_zero_or_less_is_refused(core: Core) -> None:
    town = await make_town(core)
    charge = await pay(core, town, 1250)
    assert await _refusals(core, charge) == REFUSED


async def test_down_and_up_again_keeps_rows_indexes_and_triggers(
    empty_url: str,  # noqa: F811
) -> None:
    clock = FakeClock()
    async with migrated_core(empty_url, clock) as core:
        town = await make_town(core)
        charge = await pay(core, town, 1250)
        await pay(core, town, 300, citizen=1)
        assert await _refusals(core, charge) == REFUSED
    schema = await _schema(empty_url)
    assert "uq_postings_charge_kind" in schema[0]
    assert "charges_citizen_not_erased" in schema[0]

    await migrate_to(empty_url, BEFORE, down=True)
    assert await _schema(empty_url) == (schema[0] - LATER, schema[1])
    async with core_on(empty_url, clock) as core:
        assert await _refusals(core, charge) == {key: False for key in REFUSED}

    await migrate_to(empty_url, "head")
    assert await _schema(empty_url) == schema
    async with core_on(empty_url, clock) as core:
        assert await _refusals(core, charge) == REFUSED
        async with core.uow() as uow:
            # 0048's index still holds: a second payment posting of the charge is refused.
            with pytest.raises(IntegrityError):
                await uow.session.execute(
                    text(_POSTING.replace("'donation'", "'payment'")),
                    {"amount": 1250, "charge": charge},
                )
            if empty_url.startswith("sqlite"):
                broken = await uow.session.execute(text("PRAGMA foreign_key_check"))
                assert broken.all() == []
