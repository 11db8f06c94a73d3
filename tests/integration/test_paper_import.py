"""Importing paper applications in bulk: the rules of one application for every row, all
rows or none, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.errors import NotAllowed
from core.domain.shops import ShopCategory
from core.services import allocation, applications, municipalities, shops
from core.services.applications import ApplicationInput
from core.services.paper_applications import ImportRefused
from core.services.shops import ShopInput
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import make_cf, make_partita_iva, record_fund


def person(index: int, phone: str | None = "default", size: int = 1) -> ApplicationInput:
    return ApplicationInput(
        codice_fiscale=make_cf(index),
        phone=f"+39333{5000000 + index:07d}" if phone == "default" else phone,
        household_size=size,
        has_work_income=False,
        has_pension=False,
        liquidity_cents=0,
        public_support_monthly_cents=0,
        rent_monthly_cents=0,
    )


async def open_town(core: Core) -> m.Municipality:
    async with core.uow() as uow:
        town = await municipalities.add_municipality(
            uow, code="BEL", name="Belforte", now=core.now()
        )
        await record_fund(uow, town)
        await municipalities.open_window(uow, town, core.now())
        await uow.commit()
        return town


async def import_rows(
    core: Core, town: m.Municipality, rows: list[tuple[ApplicationInput, datetime]]
) -> int:
    async with core.uow() as uow:
        count = await applications.import_applications(uow, town, rows, core.now())
        await uow.commit()
        return count


async def refused(
    core: Core, town: m.Municipality, rows: list[tuple[ApplicationInput, datetime]]
) -> list[tuple[int, str, str]]:
    async with core.uow() as uow:
        with pytest.raises(ImportRefused) as caught:
            await applications.import_applications(uow, town, rows, core.now())
    return [(p.index, p.column, p.error.code) for p in caught.value.problems]


async def count(core: Core, model: type[m.Base]) -> int:
    async with core.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_rows_are_numbered_and_phones_bound_by_the_office(
    core: Core, clock: FakeClock
) -> None:
    town = await open_town(core)
    clock.advance(hours=1)
    rows = [(person(i, phone=None if i == 2 else "default"), core.now()) for i in range(5)]
    assert await import_rows(core, town, rows) == 5
    async with core.uow() as uow:
        round_ = await uow.rounds.latest(town.id)
        assert round_ is not None
        found = await uow.applications.with_citizens(round_.id)
        year = core.now().year
        assert sorted(app.protocol for app, _ in found) == [
            f"BEL-{year}-{n:06d}" for n in range(1, 6)
        ]
        by_cf = {citizen.codice_fiscale: citizen for _, citizen in found}
        first = by_cf[make_cf(0)]
        assert first.phone == "+393335000000" and first.phone_proven_by == "office"
        assert by_cf[make_cf(2)].phone is None
        events = await uow.identity_events.for_citizen(first.id)
        assert [(e.kind, e.proof, e.phone) for e in events] == [("phone_bound", "office", "***000")]
    # A chat application afterwards continues the numbering.
    async with core.uow() as uow:
        app = await applications.submit_application(
            uow, town, person(9), source="sms", now=core.now()
        )
        await uow.commit()
    assert app.protocol == f"BEL-{core.now().year}-000006"


async def test_a_phone_of_another_household_is_refused_naming_the_row(
    core: Core, clock: FakeClock
) -> None:
    town = await open_town(core)
    clock.advance(hours=1)
    await import_rows(core, town, [(person(1), core.now())])
    taken = "+393335000001"
    rows = [(person(2), core.now()), (person(3, phone=taken), core.now())]
    assert await refused(core, town, rows) == [(1, "phone", "identity.refused")]
    assert await count(core, m.Application) == 1
    assert await count(core, m.Citizen) == 1


async def test_a_shops_phone_is_refused_naming_the_row(core: Core, clock: FakeClock) -> None:
    """A shop's owner would receive the household's payment codes: no row binds it."""
    town = await open_town(core)
    owner = "+393335000003"
    async with core.uow() as uow:
        shop = await shops.register_shop(
            uow,
            town.id,
            ShopInput(
                "Alimentari",
                make_partita_iva(1),
                ShopCategory.GROCERY,
                "Via Roma 1",
                "Belforte",
                "62020",
                None,
                None,
                "IT40S0542811101000000123456",
            ),
            owner_channel="sms",
            owner_address=owner,
            now=core.now(),
        )
        # A cashier at the terminal chat, addressed by a phone as an SMS one is.
        uow.add(
            m.ShopMember(
                shop_id=shop.id,
                channel="terminal",
                address="+393335000004",
                role="cashier",
                created_at=core.now(),
            )
        )
        # A cashier on Telegram, with the phone they shared (migration 0040).
        uow.add(
            m.ShopMember(
                shop_id=shop.id,
                channel="telegram",
                address="880060",
                role="cashier",
                created_at=core.now(),
                phone="+393335000005",
            )
        )
        await uow.commit()
    clock.advance(hours=1)
    rows = [(person(n), core.now()) for n in (2, 3, 4, 5)]
    assert await refused(core, town, rows) == [
        (1, "phone", "identity.phone_is_shop"),
        (2, "phone", "identity.phone_is_shop"),
        (3, "phone", "identity.phone_is_shop"),
    ]
    assert await count(core, m.Application) == 0
    assert await count(core, m.Citizen) == 0


async def close_and_decide(core: Core, town: m.Municipality) -> None:
    """Close the window and credit a tranche that decides its applications: the next
    window opens only then (municipalities.open_window)."""
    async with core.uow() as uow:
        await municipalities.close_window(uow, town, core.now())
        await allocation.approve(uow, town, 150_00, core.now())
        await allocation.credit(uow, town, core.now())
        await uow.commit()


async def test_a_known_person_keeps_the_phone_on_file(core: Core, clock: FakeClock) -> None:
    town = await open_town(core)
    clock.advance(hours=1)
    # Known from a previous round without a phone, which paid them nothing (savings above
    # the threshold; person 2 is paid): with nothing to spend the office's paper proves a
    # first number (with money to spend it would not: test_paper_number_while_a_change_waits).
    wealthy = replace(person(1, phone=None), liquidity_cents=90_000_00)
    await import_rows(core, town, [(wealthy, core.now()), (person(2), core.now())])
    await close_and_decide(core, town)
    clock.advance(days=1)
    async with core.uow() as uow:
        await municipalities.open_window(uow, town, core.now())
        await uow.commit()
    clock.advance(hours=1)
    await import_rows(core, town, [(person(1), core.now())])
    async with core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale(town.id, make_cf(1))
        assert citizen is not None and citizen.phone == "+393335000001"
        assert citizen.phone_proven_by == "office"
    # A third round: another phone for the same person is refused, none is fine.
    await close_and_decide(core, town)
    clock.advance(days=1)
    async with core.uow() as uow:
        await municipalities.open_window(uow, town, core.now())
        await uow.commit()
    clock.advance(hours=1)
    other = person(1, phone="+393335999999")
    assert await refused(core, town, [(other, core.now())]) == [
        (0, "codice_fiscale", "identity.refused")
    ]
    assert await import_rows(core, town, [(person(1, phone=None), core.now())]) == 1


async def test_a_known_persons_own_delegate_number_is_refused_naming_the_row(
    core: Core, clock: FakeClock
) -> None:
    """A person known without a phone whose delegate the office registered: a paper row
    giving them that very number is refused (one phone speaks for one person), the row
    named, nothing imported; another household may still have it (the delegate's own)."""
    town = await open_town(core)
    clock.advance(hours=1)
    await import_rows(core, town, [(person(1, phone=None), core.now())])
    delegate = "+393335000077"
    async with core.uow() as uow:
        holder = await uow.citizens.by_codice_fiscale(town.id, make_cf(1))
        assert holder is not None
        uow.add(
            m.Delegate(
                municipality_id=town.id, citizen_id=holder.id, phone=delegate, created_at=core.now()
            )
        )
        await uow.commit()
    await close_and_decide(core, town)
    clock.advance(days=1)
    async with core.uow() as uow:
        await municipalities.open_window(uow, town, core.now())
        await uow.commit()
    clock.advance(hours=1)
    rows = [(person(0), core.now()), (person(1, phone=delegate), core.now())]
    assert await refused(core, town, rows) == [(1, "phone", "identity.phone_is_delegate")]
    async with core.uow() as uow:
        holder = await uow.citizens.by_codice_fiscale(town.id, make_cf(1))
        assert holder is not None and holder.phone is None
    assert await import_rows(core, town, [(person(2, phone=delegate), core.now())]) == 1


async def test_dates_outside_the_window_and_implausible_answers(
    core: Core, clock: FakeClock
) -> None:
    town = await open_town(core)
    opened = core.now()
    clock.advance(hours=2)
    rows = [
        (person(1), opened - timedelta(minutes=1)),  # before the window opened
        (person(2), opened.replace(year=2019)),
        (person(3), core.now() + timedelta(hours=1)),  # later than now
        (person(4, size=250), core.now()),
        (person(5), core.now()),
        (person(6, phone="+393335000005"), core.now()),  # person 5's phone again
        (person(5, phone=None), core.now()),  # person 5 again
    ]
    assert await refused(core, town, rows) == [
        (0, "submitted_at", "application.outside_window"),
        (1, "submitted_at", "application.outside_window"),
        (2, "submitted_at", "application.dated_in_future"),
        (3, "household_size", "application.bad_household_size"),
        (5, "phone", "application.repeated_phone"),
        (6, "codice_fiscale", "application.repeated_codice_fiscale"),
    ]
    assert await count(core, m.Application) == 0
    assert await count(core, m.Citizen) == 0


async def test_no_import_once_a_tranche_is_approved(core: Core, clock: FakeClock) -> None:
    town = await open_town(core)
    clock.advance(hours=1)
    await import_rows(core, town, [(person(1), core.now())])
    async with core.uow() as uow:
        await municipalities.close_window(uow, town, core.now())
        await allocation.approve(uow, town, 1000_00, core.now())
        await uow.commit()
    late = [(person(2), core.now() - timedelta(minutes=30))]
    async with core.uow() as uow:
        with pytest.raises(NotAllowed) as caught:
            await applications.import_applications(uow, town, late, core.now())
    assert caught.value.code == "application.import_after_approval"
    assert await count(core, m.Application) == 1


async def test_a_thousand_rows_in_one_go(core: Core, clock: FakeClock) -> None:
    town = await open_town(core)
    clock.advance(hours=1)
    rows = [(person(i), core.now() - timedelta(seconds=1000 - i)) for i in range(1000)]
    seen: list[tuple[int, int]] = []
    async with core.uow() as uow:
        await applications.import_applications(
            uow, town, rows, core.now(), progress=lambda done, total: seen.append((done, total))
        )
        await uow.commit()
    assert seen[-1] == (1000, 1000)
    assert await count(core, m.Application) == 1000
    assert await count(core, m.IdentityEvent) == 1000


async def test_the_same_person_imported_twice_at_once_is_one_application(
    core: Core, rival: Core, clock: FakeClock
) -> None:
    """A file sent twice (or the desk's form beside a file): one import enters the person,
    the other is refused as already applied, never a failure on the unique application."""
    town = await open_town(core)
    clock.advance(hours=1)
    rows = [(person(7), core.now()), (person(8), core.now())]

    async def attempt(side: Core) -> int | ImportRefused:
        async with side.uow() as uow:
            try:
                imported = await applications.import_applications(uow, town, rows, side.now())
            except ImportRefused as refusal:
                return refusal
            await uow.commit()
            return imported

    outcomes = await asyncio.gather(attempt(core), attempt(rival))
    assert sorted(outcomes, key=lambda x: isinstance(x, ImportRefused))[0] == 2, outcomes
    refusals = [x for x in outcomes if isinstance(x, ImportRefused)]
    assert len(refusals) == 1, outcomes
    assert {(p.index, p.error.code) for p in refusals[0].problems} == {
        (0, "application.already_applied"),
        (1, "application.already_applied"),
    }
    assert await count(core, m.Application) == 2
