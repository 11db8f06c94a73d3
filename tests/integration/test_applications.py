"""Applications, windows, allocation and crediting over real databases."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.errors import Conflict, InvalidIdentifier, NotAllowed
from core.domain.messages import reply_from_json
from core.services import allocation, applications, ledger, municipalities
from core.services.applications import ApplicationInput
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import make_cf, record_fund


def person(
    index: int, size: int = 1, support: int = 0, rent: int = 0, **kw: object
) -> ApplicationInput:
    values: dict[str, object] = dict(
        codice_fiscale=make_cf(index),
        phone=f"+39333{3000000 + index:07d}",
        household_size=size,
        has_work_income=False,
        has_pension=False,
        liquidity_cents=0,
        public_support_monthly_cents=support,
        rent_monthly_cents=rent,
    )
    values.update(kw)
    return ApplicationInput(**values)  # type: ignore[arg-type]


async def open_town(core: Core) -> m.Municipality:
    async with core.uow() as uow:
        town = await municipalities.add_municipality(
            uow, code="BEL", name="Belforte", now=core.now()
        )
        await record_fund(uow, town)
        await municipalities.open_window(uow, town, core.now())
        await uow.commit()
        return town


async def submit(core: Core, town: m.Municipality, data: ApplicationInput) -> str:
    async with core.uow() as uow:
        application = await applications.submit_application(
            uow, town, data, source="sms", now=core.now()
        )
        await uow.commit()
        return application.protocol


async def test_protocol_numbers_are_sequential_per_year(core: Core) -> None:
    town = await open_town(core)
    protocols = [await submit(core, town, person(i)) for i in range(3)]
    assert protocols == ["BEL-2026-000001", "BEL-2026-000002", "BEL-2026-000003"]


async def test_one_application_per_household_and_round(core: Core) -> None:
    town = await open_town(core)
    await submit(core, town, person(1))
    with pytest.raises(Conflict) as error:
        await submit(core, town, person(1, size=3))
    assert error.value.code == "application.already_applied"


async def test_window_closed_refuses_and_writes_nothing(core: Core, clock: FakeClock) -> None:
    town = await open_town(core)
    clock.advance(days=4)  # the default window lasts 4 days
    with pytest.raises(NotAllowed):
        await submit(core, town, person(1))
    async with core.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(m.Citizen)) == 0


async def test_wrong_codice_fiscale_is_refused(core: Core) -> None:
    town = await open_town(core)
    bad = make_cf(1)[:-1] + ("A" if make_cf(1)[-1] != "A" else "B")
    with pytest.raises(InvalidIdentifier) as error:
        await submit(core, town, person(1, codice_fiscale=bad))
    assert error.value.code == "codice_fiscale.checksum"


async def test_edit_only_while_open(core: Core, clock: FakeClock) -> None:
    town = await open_town(core)
    protocol = await submit(core, town, person(1))
    async with core.uow() as uow:
        edited = await applications.edit_application(
            uow, town, protocol, person(1, size=4), core.now()
        )
        await uow.commit()
        assert edited.household_size == 4
    clock.advance(days=5)
    async with core.uow() as uow:
        with pytest.raises(NotAllowed):
            await applications.edit_application(uow, town, protocol, person(1, size=2), core.now())


async def test_approve_credit_and_status(core: Core, clock: FakeClock) -> None:
    town = await open_town(core)
    await submit(core, town, person(1, size=3))  # list 1: 250 €
    await submit(core, town, person(2, size=1, support=400_00, rent=300_00))  # list 2: 150 €
    await submit(core, town, person(3, size=1, has_pension=True))  # excluded
    async with core.uow() as uow:
        with pytest.raises(Conflict):  # the window must close before the determina
            await allocation.approve(uow, town, 300_00, core.now())
    clock.advance(days=4)
    async with core.uow() as uow:
        simulated = await allocation.simulate(uow, town, 300_00)
    assert [x.line.amount_cents for x in simulated] == [250_00, 50_00, 0]
    async with core.uow() as uow:
        await allocation.approve(uow, town, 300_00, core.now())
        result = await allocation.credit(uow, town, core.now())
        await uow.commit()
    assert (result.tranche, result.citizens, result.total_cents) == (1, 2, 300_00)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale(town.id, make_cf(2))
        assert citizen is not None
        status = await applications.status_of(uow, citizen, core.now())
        assert status is not None
        assert (status.assignment, status.amount_cents, status.credited_cents) == (
            "2",
            50_00,
            50_00,
        )
        notices = await uow.outbox.for_address("sms", citizen.phone or "")
        assert reply_from_json(notices[-1].payload).texts[0].params["amount"].cents == 50_00  # type: ignore[union-attr]
        assert (await ledger.verify(uow, town.id)).ok
        with pytest.raises(Conflict):  # crediting twice is refused
            await allocation.credit(uow, town, core.now())


async def test_second_tranche_adds_to_balances(core: Core, clock: FakeClock) -> None:
    town = await open_town(core)
    await submit(core, town, person(1, size=2))
    clock.advance(days=4)
    for budget in (100_00, 100_00):
        async with core.uow() as uow:
            await allocation.approve(uow, town, budget, core.now())
            await allocation.credit(uow, town, core.now())
            await uow.commit()
        clock.advance(hours=1)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale(town.id, make_cf(1))
        assert citizen is not None
        assert await ledger.citizen_balance(uow, town.id, citizen.id) == 200_00


async def test_import_is_all_or_nothing(core: Core) -> None:
    town = await open_town(core)
    await submit(core, town, person(2))
    # Both rows dated inside the window (it opened at now): only the second is refused.
    rows = [(person(1), core.now()), (person(2), core.now())]
    async with core.uow() as uow:
        with pytest.raises(applications.ImportRowError) as error:
            await applications.import_applications(uow, town, rows, core.now())
        assert error.value.index == 1
        assert [p.index for p in error.value.problems] == [1]
    async with core.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(m.Application)) == 1


async def test_concurrent_first_applications_get_distinct_protocols(core: Core) -> None:
    town = await open_town(core)
    protocols = await asyncio.gather(*(submit(core, town, person(i)) for i in range(8)))
    assert sorted(protocols) == [f"BEL-2026-{n:06d}" for n in range(1, 9)]
