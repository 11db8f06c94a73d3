"""0051_no_refund_to_erased, on SQLite and PostgreSQL: the trigger that refuses a refund
posting to an erased citizen comes and goes with its migration; and on PostgreSQL an owner's
refund written while the erasure commits waits for it, then is refused, and run again is
refused in words (tests/dialogue/test_refund_erased.py has the rest)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.bootstrap import Core
from core.domain.errors import NotAllowed
from core.services import charges
from core.services.privacy import ErasureRefused, erase_citizen
from core.storage.transient import is_transient
from tests.conftest import FakeClock
from tests.dialogue.test_refund_erased import spent_and_erasable
from tests.dialogue.test_shop import balance
from tests.integration.migrating import assert_guard_comes_and_goes
from tests.integration.test_code_destination_races import _blocked_or_done, postgresql_only
from tests.integration.test_erasure_races import erase, office  # noqa: F401  (a fixture)
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)

GUARD = "postings_no_refund_to_erased"
BEFORE = "0050_accounts_not_negative"


async def test_the_guard_comes_and_goes_with_its_migration(empty_url: str) -> None:  # noqa: F811
    both = {GUARD, f"{GUARD}()"} if empty_url.startswith("postgresql") else {GUARD}
    await assert_guard_comes_and_goes(empty_url, both, BEFORE)


async def _owner_refund(core: Core, shop_id: int, receipt: int, by: tuple[str, str]) -> None:
    async with core.uow() as uow:
        await charges.refund_charge(uow, charge_id=receipt, shop_id=shop_id, by=by, now=core.now())
        await uow.commit()


async def test_a_refund_written_while_the_erasure_commits_is_refused(
    core: Core,
    clock: FakeClock,
    database_url: str,
    office: Core,  # noqa: F811
) -> None:
    """The refund passed the service's check before the erasure committed: its posting waits
    for the erasure, then is refused; run again, the service refuses it in words."""
    postgresql_only(database_url)
    town, _till, receipt = await spent_and_erasable(core, clock)
    owner = ("sms", town.shop_phone)
    async with office.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await erase_citizen(uow, municipality, town.citizen_cfs[0], core.now(), by="cli:test")
        await uow.flush()
        pid = await uow.session.scalar(text("SELECT pg_backend_pid()"))
        storno = asyncio.ensure_future(_owner_refund(core, town.shop_id, receipt, owner))
        await asyncio.wait_for(_blocked_or_done(core, pid, storno), timeout=10)
        assert not storno.done()  # it waits for the erasure to commit, or roll back
        await uow.commit()
    with pytest.raises(DBAPIError) as lost:
        await asyncio.wait_for(storno, timeout=10)
    assert "refund.customer_erased" in str(lost.value) and is_transient(lost.value)
    assert await balance(core, town) == 0
    with pytest.raises(NotAllowed) as refused:
        await _owner_refund(core, town.shop_id, receipt, owner)
    assert refused.value.code == "refund.customer_erased"


async def test_an_erasure_meeting_a_refund_not_yet_committed_waits_and_is_refused(
    core: Core,
    clock: FakeClock,
    database_url: str,
    office: Core,  # noqa: F811
) -> None:
    """The refund wrote its posting first: the erasure waits for it, then sees the balance
    it put back, and is refused."""
    postgresql_only(database_url)
    town, _till, receipt = await spent_and_erasable(core, clock)
    async with core.uow() as uow:
        await charges.refund_charge(
            uow,
            charge_id=receipt,
            shop_id=town.shop_id,
            by=("sms", town.shop_phone),
            now=core.now(),
        )
        await uow.flush()
        pid = await uow.session.scalar(text("SELECT pg_backend_pid()"))
        erasure = asyncio.ensure_future(erase(office, town))
        await asyncio.wait_for(_blocked_or_done(core, pid, erasure), timeout=10)
        assert not erasure.done()  # it waits for the refund to commit, or roll back
        await uow.commit()
    with pytest.raises(ErasureRefused) as refused:
        await asyncio.wait_for(erasure, timeout=10)
    assert refused.value.reason == "balance_not_zero"
    assert await balance(core, town) > 0
