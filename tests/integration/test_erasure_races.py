"""An erasure and a shop's PAGA at the same moment leave no payment waiting on the erased
citizen (migration 0039_no_charge_for_erased).

The erasure is refused while a payment of the citizen waits for its code, but it looked for
one before it wrote: on PostgreSQL a PAGA committing meanwhile left a pending payment (its
code on the way to the phone just erased), and a card's payment, which sends no code, could
be written for the citizen even after the erasure had committed. Now the erasure holds the
citizen's row before it looks, and the database refuses a payment of an erased citizen. The
interleavings are tested on PostgreSQL; SQLite has one writer (BEGIN IMMEDIATE): only the
rule for writes that skip the services is tested there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core.bootstrap import Core
from core.domain.errors import NotFound
from core.services import charges
from core.services.privacy import Erasure, ErasureRefused, erase_citizen
from core.storage import models as m
from core.storage.engine import make_engine
from core.storage.transient import is_transient
from tests.conftest import FakeClock
from tests.dialogue.test_shop import balance
from tests.factories import Town, make_town, outbox_to, pay, request
from tests.integration.migrating import assert_guard_comes_and_goes
from tests.integration.test_cards_delegates import issue
from tests.integration.test_code_destination_races import _blocked_or_done, postgresql_only
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)

ERASED = "payment.citizen_erased"
GUARD = "charges_citizen_not_erased"


@pytest.fixture
async def office(core: Core, database_url: str) -> AsyncIterator[Core]:
    """The office's process: another core on the same database."""
    other = Core(engine=make_engine(database_url), clock=core.clock)
    yield other
    await other.close()


async def erasable(core: Core, clock: FakeClock, *, card: bool = False) -> tuple[Town, str]:
    """A town whose only citizen spent everything and can no longer appeal: erasable. The
    reference a shop charges them by: the codice fiscale, or the card."""
    town = await make_town(core, citizens=1)
    reference = (await issue(core, town)).card_code if card else town.citizen_cfs[0]
    await pay(core, town, await balance(core, town))
    clock.advance(days=31)  # the decision can no longer be appealed (30 days)
    return town, reference


async def erase(core: Core, town: Town) -> Erasure:
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        erasure = await erase_citizen(
            uow, municipality, town.citizen_cfs[0], core.now(), by="cli:test"
        )
        await uow.commit()
        return erasure


async def pending(core: Core, town: Town) -> list[tuple[int, str]]:
    async with core.uow() as uow:
        rows = await uow.session.scalars(
            select(m.Charge).where(m.Charge.citizen_id == town.citizen_ids[0]).order_by(m.Charge.id)
        )
        return [(row.amount_cents, row.status) for row in rows if row.status == "pending"]


async def erased(core: Core, town: Town) -> bool:
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        return citizen.erased_at is not None


@pytest.mark.parametrize("card", [False, True])
async def test_the_database_refuses_a_payment_of_an_erased_citizen(
    core: Core, clock: FakeClock, database_url: str, card: bool
) -> None:
    """A write that skips the services: a payment (a code's, or a card's, which sends no
    code) for a citizen already erased is refused; on PostgreSQL as a lost race, which the
    dialogue runs again, and then finds nobody."""
    town, reference = await erasable(core, clock, card=card)
    await erase(core, town)
    refused = None
    try:
        async with core.uow() as uow:
            uow.add(
                m.Charge(
                    municipality_id=town.municipality_id,
                    shop_id=town.shop_id,
                    citizen_id=town.citizen_ids[0],
                    amount_cents=5_00,
                    status="pending",
                    code_salt="",
                    code_hash="",
                    consent="card_pin" if card else "code",
                    attempts=0,
                    requested_by="test",
                    created_at=core.now(),
                    expires_at=core.now(),
                )
            )
            await uow.commit()
    except DBAPIError as error:
        refused = error
    assert refused is not None and ERASED in str(refused)
    assert is_transient(refused) == database_url.startswith("postgresql")
    assert await pending(core, town) == []
    with pytest.raises(NotFound):
        await request(core, town.shop_id, reference, 5_00)


async def test_an_erasure_meeting_a_payment_not_yet_committed_waits_and_is_refused(
    core: Core, clock: FakeClock, database_url: str, office: Core
) -> None:
    postgresql_only(database_url)
    town, reference = await erasable(core, clock)
    async with core.uow() as uow:
        requested = await charges.request_charge(
            uow,
            shop_id=town.shop_id,
            citizen_reference=reference,
            amount_cents=5_00,
            requested_by="test",
            now=core.now(),
        )
        await uow.flush()  # the payment and its code are written, not committed
        pid = await uow.session.scalar(text("SELECT pg_backend_pid()"))
        erasure = asyncio.ensure_future(erase(office, town))
        await asyncio.wait_for(_blocked_or_done(core, pid, erasure), timeout=10)
        assert not erasure.done()  # it waits for the payment to commit, or roll back
        await uow.commit()
    with pytest.raises(ErasureRefused) as refused:
        await asyncio.wait_for(erasure, timeout=10)

    # The erasure then saw the payment waiting for its code, as if asked before it began.
    assert refused.value.reason == "charge_pending"
    assert not await erased(core, town)
    assert await pending(core, town) == [(5_00, "pending")]
    # Its code went to the citizen's phone, which stays theirs.
    codes = [row for row in await outbox_to(core, town.citizen_phones[0]) if row.charge_id]
    assert codes[-1].charge_id == requested.charge_id


async def test_a_card_payment_written_while_the_erasure_commits_is_refused(
    core: Core, clock: FakeClock, database_url: str, office: Core
) -> None:
    """The PAGA found the citizen by the card before the erasure committed; its payment
    (no code to send, so nothing else stops it) waits for the erasure, then is refused; run
    again, as the dialogue runs it, it finds nobody."""
    postgresql_only(database_url)
    town, card_code = await erasable(core, clock, card=True)
    async with office.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await erase_citizen(uow, municipality, town.citizen_cfs[0], core.now(), by="cli:test")
        await uow.flush()
        pid = await uow.session.scalar(text("SELECT pg_backend_pid()"))
        paga = asyncio.ensure_future(request(core, town.shop_id, card_code, 5_00))
        await asyncio.wait_for(_blocked_or_done(core, pid, paga), timeout=10)
        assert not paga.done()  # it waits for the erasure to commit, or roll back
        await uow.commit()
    with pytest.raises(DBAPIError) as lost:
        await asyncio.wait_for(paga, timeout=10)

    assert ERASED in str(lost.value) and is_transient(lost.value)
    assert await erased(core, town)
    assert await pending(core, town) == []
    with pytest.raises(NotFound):
        await request(core, town.shop_id, card_code, 5_00)


async def test_the_guard_comes_and_goes_with_its_migration(empty_url: str) -> None:  # noqa: F811
    both = {GUARD, f"{GUARD}()"} if empty_url.startswith("postgresql") else {GUARD}
    await assert_guard_comes_and_goes(empty_url, both, "0038_code_destination_guard")
