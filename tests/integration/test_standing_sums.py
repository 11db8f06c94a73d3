"""AllocationRepository.standing_sums: what a window's tranches not withdrawn allocated
and what the credited ones of them gave, in one query, on the in-memory fake, SQLite and
PostgreSQL alike (the dashboard's "Allocated" and "Credited", back_office.window_figures)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.bootstrap import Core
from core.storage import models as m
from core.storage.engine import make_engine
from core.storage.repositories.results import StandingSums
from tests.conftest import fresh_database
from tests.integration.test_repository_contract import NOW, NewUow, seed
from tests.unit.fakes import FakeStore, FakeUnitOfWork


@pytest.fixture(params=["fake", "sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None for the fake; else a fresh migrated database of that kind."""
    if request.param == "fake":
        yield None
        return
    yield from fresh_database(request, request.param, tmp_path / "sums.sqlite3")


@pytest.fixture
async def new_uow(backend_url: str | None) -> AsyncIterator[NewUow]:
    if backend_url is None:
        store = FakeStore()
        yield lambda: FakeUnitOfWork(store)
        return
    core = Core(engine=make_engine(backend_url))
    yield core.uow
    await core.close()


def _application(town_id: int, round_id: int, citizen_id: int, protocol: str) -> m.Application:
    return m.Application(
        municipality_id=town_id,
        round_id=round_id,
        citizen_id=citizen_id,
        protocol=protocol,
        household_size=1,
        has_work_income=False,
        has_pension=False,
        liquidity_cents=0,
        public_support_monthly_cents=0,
        rent_monthly_cents=0,
        source="paper",
        submitted_at=NOW,
        updated_at=NOW,
    )


async def test_the_standing_tranches_sums_and_the_credited_ones(new_uow: NewUow) -> None:
    """Window 1: tranche 1 credited (two households, 50 + 70), tranche 2 withdrawn (1.000,
    never paid), tranche 3 approved and waiting (30): allocated 150, credited 120. Window
    2's credited tranche (7) counts in window 1's sums in neither."""
    town_id, citizen_id, _ = await seed(new_uow)
    async with new_uow() as uow:
        neighbour = m.Citizen(
            municipality_id=town_id, codice_fiscale="Y", card_code="C2", created_at=NOW
        )
        rounds = [
            m.Round(municipality_id=town_id, number=number, opens_at=NOW, closes_at=NOW)
            for number in (1, 2)
        ]
        for row in (neighbour, *rounds):
            uow.add(row)
        await uow.flush()
        window, other = rounds
        mine, theirs, later = (
            _application(town_id, window.id, citizen_id, "P-1"),
            _application(town_id, window.id, neighbour.id, "P-2"),
            _application(town_id, other.id, citizen_id, "P-3"),
        )
        first, withdrawn, waiting, elsewhere = (
            m.Allocation(
                municipality_id=town_id,
                round_id=round_.id,
                tranche=tranche,
                budget_cents=10_000,
                approved_at=NOW + timedelta(minutes=tranche),
            )
            for round_, tranche in ((window, 1), (window, 2), (window, 3), (other, 1))
        )
        for row in (mine, theirs, later, first, withdrawn, waiting, elsewhere):
            uow.add(row)
        await uow.flush()
        await uow.allocations.add_lines(
            [
                {
                    "allocation_id": tranche.id,
                    "application_id": application.id,
                    "assignment": "assigned",
                    "full_amount_cents": 2_000,
                    "amount_cents": cents,
                }
                for tranche, application, cents in (
                    (first, mine, 50),
                    (first, theirs, 70),
                    (withdrawn, mine, 1_000),
                    (waiting, mine, 30),
                    (elsewhere, later, 7),
                )
            ]
        )
        assert await uow.allocations.mark_credited(first.id, NOW)
        assert await uow.allocations.mark_withdrawn(withdrawn.id, NOW, "boss")
        assert await uow.allocations.mark_credited(elsewhere.id, NOW)
        await uow.commit()
        ids = (window.id, other.id)
    window_id, other_id = ids
    async with new_uow() as uow:
        assert await uow.allocations.standing_sums(window_id) == StandingSums(
            allocated_cents=150, credited_cents=120
        )
        assert await uow.allocations.standing_sums(other_id) == StandingSums(
            allocated_cents=7, credited_cents=7
        )
        assert await uow.allocations.standing_sums(other_id + 1) == StandingSums(0, 0)
