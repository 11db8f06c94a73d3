"""0050_accounts_not_negative, on SQLite and PostgreSQL: an UPDATE that would leave a
citizen's vouchers below zero (or a shop's, a voucher's, the settled or donations account)
is refused by the database, whoever sends it; the fund and the provider, which the
double-entry ledger spends down, still go below zero. Down and up again over a database
holding payments keeps every row, the indexes and the references to accounts."""

from __future__ import annotations

import re

from sqlalchemy import CheckConstraint, text
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.domain.ledger import AccountKind, may_go_negative
from core.services.charges import ConfirmOutcome
from core.storage import models as m
from core.storage.engine import make_engine
from tests.conftest import FakeClock
from tests.factories import assert_ledger_ok, confirm, last_code_for, make_town, pay, request
from tests.integration.migrating import core_on, migrate_to, migrated_core
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)

BEFORE = "0049_positive_amounts"
MIGRATION = "core/storage/migrations/versions/0050_accounts_not_negative.py"


async def _set_balance(core: Core, kind: AccountKind, owner_id: int, cents: int) -> bool:
    """Whether a raw UPDATE setting the account's balance to `cents` goes through (rolled
    back either way: the database is left as it was)."""
    async with core.uow() as uow:
        found = await uow.session.execute(
            text("SELECT id FROM accounts WHERE kind = :kind AND owner_id = :owner"),
            {"kind": kind.value, "owner": owner_id},
        )
        [account_id] = found.scalars().all()
        try:
            await uow.session.execute(
                text("UPDATE accounts SET balance_cents = :cents WHERE id = :id"),
                {"cents": cents, "id": account_id},
            )
        except IntegrityError:
            return False
        return True


async def _refusals(core: Core, citizen_id: int, shop_id: int) -> dict[str, bool]:
    return {
        "citizen -1": not await _set_balance(core, AccountKind.CITIZEN, citizen_id, -1),
        "citizen 0": not await _set_balance(core, AccountKind.CITIZEN, citizen_id, 0),
        "shop -1": not await _set_balance(core, AccountKind.SHOP, shop_id, -1),
        "fund -1": not await _set_balance(core, AccountKind.FUND, 0, -1),
    }


REFUSED = {"citizen -1": True, "citizen 0": False, "shop -1": True, "fund -1": False}


async def _rows(url: str) -> tuple[set[str], list[tuple[int, ...]]]:
    """The indexes of accounts, and every account's id, kind and balance."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                names = "SELECT indexname FROM pg_indexes WHERE tablename = 'accounts'"
            else:
                names = (
                    "SELECT name FROM sqlite_master WHERE tbl_name = 'accounts' AND type = 'index'"
                )
            found = set((await connection.scalars(text(names))).all())
            rows = await connection.execute(
                text("SELECT id, kind, owner_id, balance_cents FROM accounts ORDER BY id")
            )
            return found, [tuple(row) for row in rows.all()]
    finally:
        await engine.dispose()


def test_the_check_lets_below_zero_only_the_kinds_the_ledger_spends_down() -> None:
    """The model's CHECK and the migration's name the kinds may_go_negative names."""
    negative = {kind.value for kind in AccountKind if may_go_negative(kind)}
    assert negative == {"fund", "provider"}
    accounts = m.Base.metadata.tables["accounts"]
    [check] = [str(c.sqltext) for c in accounts.constraints if isinstance(c, CheckConstraint)]
    with open(MIGRATION, encoding="utf-8") as migration:
        assert f'CHECK = "{check}"' in migration.read()
    assert set(re.findall(r"'(\w+)'", check)) == negative


async def test_a_raw_update_below_zero_is_refused(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await pay(core, town, 12_50)

    assert await _refusals(core, town.citizen_ids[0], town.shop_id) == REFUSED
    await assert_ledger_ok(core, town.municipality_id)


async def test_down_and_up_again_keeps_rows_indexes_and_references(
    empty_url: str,  # noqa: F811
) -> None:
    clock = FakeClock()
    async with migrated_core(empty_url, clock) as core:
        town = await make_town(core, citizens=2)
        await pay(core, town, 12_50)
        await pay(core, town, 3_00, citizen=1)
        assert await _refusals(core, town.citizen_ids[0], town.shop_id) == REFUSED
    schema = await _rows(empty_url)

    await migrate_to(empty_url, BEFORE, down=True)
    assert await _rows(empty_url) == schema
    async with core_on(empty_url, clock) as core:
        assert await _refusals(core, town.citizen_ids[0], town.shop_id) == {
            key: False for key in REFUSED
        }

    await migrate_to(empty_url, "head")
    assert await _rows(empty_url) == schema
    async with core_on(empty_url, clock) as core:
        assert await _refusals(core, town.citizen_ids[0], town.shop_id) == REFUSED
        await pay(core, town, 1_00)
        await assert_ledger_ok(core, town.municipality_id)
        async with core.uow() as uow:
            if empty_url.startswith("sqlite"):
                broken = await uow.session.execute(text("PRAGMA foreign_key_check"))
                assert broken.all() == []


async def test_the_ledgers_own_guard_still_answers_first(core: Core) -> None:
    """A payment above the balance is refused by the service's guard, as before: the
    CHECK is the net behind it, never what a till hears."""
    town = await make_town(core, citizens=1)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 200_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)

    result = await confirm(core, town.shop_id, requested.charge_id, code)

    assert result.outcome is ConfirmOutcome.INSUFFICIENT_FUNDS
    await assert_ledger_ok(core, town.municipality_id)
