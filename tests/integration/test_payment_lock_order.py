"""A right and a wrong code for one charge, typed at the same moment, many times: the two
confirmations take their row locks in one order, so the database never has to abort one
as a deadlock (docs/payments-and-codes.md, "Two codes at once")."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.services import charges, security
from core.services.charges import ConfirmOutcome
from core.storage import models as m
from core.storage.engine import make_engine
from tests.conftest import PG_ADMIN_URL, FakeClock
from tests.factories import assert_ledger_ok, last_code_for, make_town, pay, request
from tests.integration.test_payments import default_policy_text

PAIRS = 40


def policy(*, lock_after: int) -> str:
    """Codes asked as often as the test needs; the shop locked after `lock_after` wrong
    codes (for 30 minutes), never blocked for the office."""
    text = default_policy_text()
    for old, new in (
        ("codes_per_person_per_hour = 6", "codes_per_person_per_hour = 60"),
        ("shop_lock_after_wrong_codes = 5", f"shop_lock_after_wrong_codes = {lock_after}"),
        ("shop_block_after_wrong_codes = 10", "shop_block_after_wrong_codes = 1000"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    return text


async def deadlocks_of(database_url: str) -> int:
    """PostgreSQL's own count of deadlocks it broke in this database (pg_stat_database)."""
    import asyncpg

    name = urlsplit(database_url).path.lstrip("/")
    connection = await asyncpg.connect(PG_ADMIN_URL.replace("+asyncpg", ""), timeout=5)
    try:
        # A backend reports its counts when idle (within a second) or when it ends: wait
        # for the closed pool's backends to be gone, then for the last report.
        for _ in range(50):
            others = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name
            )
            if not others:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.2)
        await connection.execute("SELECT pg_stat_clear_snapshot()")
        value = await connection.fetchval(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = $1", name
        )
        return int(value or 0)
    finally:
        await connection.close()


@pytest.mark.parametrize("lock_after", [100, 1], ids=["wrong-code", "wrong-code-locks-shop"])
async def test_a_right_and_a_wrong_code_at_once_never_deadlock(
    database_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture, lock_after: int
) -> None:
    """`lock_after=1`: every wrong code also locks the shop (a write on the shop's row, the
    row a payment numbers its receipt on)."""
    postgresql = database_url.startswith("postgresql")
    before = await deadlocks_of(database_url) if postgresql else 0
    core = Core(engine=make_engine(database_url), clock=clock)
    try:
        town = await make_town(core, citizens=1, policy_toml=policy(lock_after=lock_after))
        await pay(core, town, 1_00)  # the shop's account opened
        paid = counted = 0
        caplog.set_level(logging.INFO, logger="core.services.transactions")
        for _ in range(PAIRS):
            clock.advance(minutes=31)  # past the last pair's lock of the shop
            requested = await request(core, town.shop_id, town.citizen_cfs[0], 1_00)
            code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
            wrong = "000000" if code != "000000" else "111111"
            right_result, wrong_result = await asyncio.gather(
                *(
                    charges.confirm_charge_committed(
                        core,
                        charge_id=requested.charge_id,
                        shop_id=town.shop_id,
                        typed_code=typed,
                        now=core.now(),
                        typed_by=f"sms:{town.shop_phone}",
                    )
                    for typed in (code, wrong)
                )
            )
            # Whichever came first: paid once, or the wrong code stopped it (it locked the
            # shop, or the right one found the charge no longer pending).
            assert right_result.outcome in (
                ConfirmOutcome.CONFIRMED,
                ConfirmOutcome.NOT_PENDING,
                ConfirmOutcome.SHOP_LOCKED,
            ), right_result
            assert wrong_result.outcome in (
                ConfirmOutcome.WRONG_CODE,
                ConfirmOutcome.ALREADY_CONFIRMED,
                ConfirmOutcome.SHOP_LOCKED,
            ), wrong_result
            paid += right_result.outcome is ConfirmOutcome.CONFIRMED
            counted += wrong_result.outcome is not ConfirmOutcome.ALREADY_CONFIRMED
        if lock_after > 1:
            assert paid == PAIRS
        # A wrong code judged after the payment found it paid, and did not count.
        async with core.uow() as uow:
            wrong_codes = await uow.session.scalar(
                select(func.count())
                .select_from(m.SecurityEvent)
                .where(m.SecurityEvent.kind == security.WRONG_PAYMENT_CODE)
            )
        assert wrong_codes == counted
        await assert_ledger_ok(core, town.municipality_id)
    finally:
        await core.close()
    # Neither aborted by the server nor run a second time (core/services/transactions.py).
    deadlocks = await deadlocks_of(database_url) - before if postgresql else 0
    retried = [r for r in caplog.records if "retried" in r.getMessage()]
    assert (deadlocks, len(retried)) == (0, 0)
