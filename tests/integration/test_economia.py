"""An economia frees what a credited determina left unassigned, under four eyes: prepared by
a clerk, approved by another operator with the manager role, freed once however many
approvals run at once, on SQLite and PostgreSQL (docs/allocation.md, what a determina
keeps committed)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.domain.errors import Conflict, DomainError, Refusal
from core.domain.fund import FundPosition
from core.services import acts, allocation, economia, fund, municipalities
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import (
    Office,
    apply,
    close_approve_credit,
    open_round,
    person,
)
from tests.integration.test_act_races import approve, one_wins, prepare, staff

BUDGET = 1_000_00
ALLOCATED = 300_00  # two households of one: 150 € each
REST = BUDGET - ALLOCATED


async def credited_with_a_rest(core: Core, clock: FakeClock) -> tuple[Office, int]:
    """Two households credited by a determina of 1.000,00 €: 700,00 € stay unassigned."""
    office = await open_round(core, clock)
    await apply(office, person(1), person(2))
    await close_approve_credit(office, BUDGET)
    async with core.uow() as uow:
        record = await uow.session.scalar(select(m.Allocation))
    assert record is not None
    return office, record.id


def params(allocation_id: int, clock: FakeClock, amount: int | None = None) -> dict[str, Any]:
    return {
        "allocation_id": allocation_id,
        "amount_cents": amount,
        "reference": "  det. n. 12/2026  ",
        "act_on": clock().date().isoformat(),
    }


async def position(office: Office) -> FundPosition:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        found = await fund.position(uow, town)
    assert found is not None
    return found


async def actions(core: Core) -> list[str]:
    async with core.uow() as uow:
        return list(
            await uow.session.scalars(select(m.ActivityEntry.action).order_by(m.ActivityEntry.id))
        )


async def test_an_economia_approved_by_a_second_operator_gives_the_rest_back_to_the_fund(
    core: Core, clock: FakeClock
) -> None:
    office, allocation_id = await credited_with_a_rest(core, clock)
    clerk, boss, _ = await staff(office)
    before = await position(office)
    assert before.approved_cents == BUDGET

    act = await prepare(core, clerk, acts.ActKind.ECONOMIA, params(allocation_id, clock), clock)
    # The whole rest when no amount is given; nothing is freed while the act waits.
    assert act.params["amount_cents"] == REST
    assert act.params["reference"] == "det. n. 12/2026"
    assert await position(office) == before

    done = await approve(core, boss, act.id, clock)

    assert done.outcome == {"economia_id": 1, "freed_cents": REST, "rest_cents": 0}
    after = await position(office)
    assert after.approved_cents == ALLOCATED
    assert after.freed_cents == REST
    assert after.left_cents == before.left_cents + REST
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        (record,) = await uow.fund.economie(town.id)
        (rest,) = await economia.rests(uow, town)
    assert (record.amount_cents, record.reference, record.act_id) == (
        REST,
        "det. n. 12/2026",
        act.id,
    )
    assert record.recorded_by == boss.username
    assert rest.rest_cents == 0 and rest.freed_cents == REST
    logged = await actions(core)
    assert logged[-3:] == ["economia.prepare", "fund.economia", "economia.approve"]


async def test_whoever_prepared_an_economia_cannot_approve_it(core: Core, clock: FakeClock) -> None:
    office, allocation_id = await credited_with_a_rest(core, clock)
    _, boss, _ = await staff(office)
    act = await prepare(core, boss, acts.ActKind.ECONOMIA, params(allocation_id, clock), clock)

    with pytest.raises(acts.SamePerson):
        await approve(core, boss, act.id, clock)

    assert (await position(office)).freed_cents == 0
    assert "fund.economia" not in await actions(core)


async def test_part_of_the_rest_then_the_remainder_then_nothing(
    core: Core, clock: FakeClock
) -> None:
    office, allocation_id = await credited_with_a_rest(core, clock)
    clerk, boss, _ = await staff(office)
    with pytest.raises(Conflict) as more:
        await prepare(
            core, clerk, acts.ActKind.ECONOMIA, params(allocation_id, clock, REST + 1), clock
        )
    assert more.value.code == Refusal.ECONOMIA_BAD_AMOUNT
    assert more.value.params["rest_cents"] == REST

    first = await prepare(
        core, clerk, acts.ActKind.ECONOMIA, params(allocation_id, clock, 200_00), clock
    )
    await approve(core, boss, first.id, clock)
    second = await prepare(core, clerk, acts.ActKind.ECONOMIA, params(allocation_id, clock), clock)
    assert second.params["amount_cents"] == REST - 200_00
    await approve(core, boss, second.id, clock)

    with pytest.raises(Conflict) as nothing:
        await prepare(core, clerk, acts.ActKind.ECONOMIA, params(allocation_id, clock), clock)
    assert nothing.value.code == Refusal.ECONOMIA_NOTHING_LEFT
    assert (await position(office)).freed_cents == REST


async def test_a_determina_not_credited_is_withdrawn_not_freed(
    core: Core, clock: FakeClock
) -> None:
    office = await open_round(core, clock)
    await apply(office, person(1))
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await municipalities.close_window(uow, town, clock())
        await uow.commit()
    clock.advance(days=1)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        record, _ = await allocation.approve(uow, town, BUDGET, clock())
        await uow.commit()
    clerk, _, _ = await staff(office)
    with pytest.raises(Conflict) as refused:
        await prepare(core, clerk, acts.ActKind.ECONOMIA, params(record.id, clock), clock)
    assert refused.value.code == Refusal.ECONOMIA_NOT_CREDITED


async def test_bad_reference_and_day_are_refused_before_anything_is_prepared(
    core: Core, clock: FakeClock
) -> None:
    office, allocation_id = await credited_with_a_rest(core, clock)
    clerk, _, _ = await staff(office)
    cases: list[tuple[dict[str, Any], Refusal]] = [
        ({"reference": "   "}, Refusal.ECONOMIA_REFERENCE_MISSING),
        ({"reference": "x" * 101}, Refusal.ECONOMIA_REFERENCE_TOO_LONG),
        ({"act_on": "2099-01-01"}, Refusal.ECONOMIA_DATE_FUTURE),
        ({"act_on": "2019-12-31"}, Refusal.ECONOMIA_DATE_TOO_OLD),
        ({"allocation_id": allocation_id + 99}, Refusal.ECONOMIA_NOT_FOUND),
    ]
    for change, code in cases:
        with pytest.raises(DomainError) as refused:
            await prepare(
                core,
                clerk,
                acts.ActKind.ECONOMIA,
                {**params(allocation_id, clock), **change},
                clock,
            )
        assert refused.value.code == code
    async with core.uow() as uow:
        assert list(await uow.session.scalars(select(m.OfficeAct))) == []


async def test_an_economia_dated_before_its_determina_is_refused_prepared_or_approved(
    core: Core, clock: FakeClock
) -> None:
    """The town's act freeing a determina's rest cannot be older than the determina: a day
    before it (a typo of the month, the year) is refused when prepared and when approved,
    nothing prepared, nothing freed; the determina's own day is accepted."""
    office, allocation_id = await credited_with_a_rest(core, clock)
    determina_day = clock().date()
    clock.advance(days=10)
    clerk, boss, _ = await staff(office)
    before = determina_day - timedelta(days=1)
    with pytest.raises(Conflict) as refused:
        await prepare(
            core,
            clerk,
            acts.ActKind.ECONOMIA,
            {**params(allocation_id, clock), "act_on": before.isoformat()},
            clock,
        )
    assert refused.value.code == Refusal.ECONOMIA_DATE_BEFORE_DETERMINA
    assert refused.value.params["determina_day"] == determina_day.isoformat()
    async with core.uow() as uow:
        assert list(await uow.session.scalars(select(m.OfficeAct))) == []
        town = await municipalities.require(uow, office.code)
        with pytest.raises(Conflict) as refused:
            await economia.free(
                uow,
                town,
                allocation_id,
                100_00,
                "det. n. 12/2026",
                before,
                clock(),
                actor=boss.username,
                operator_id=boss.id,
                act_id=None,
            )
        assert refused.value.code == Refusal.ECONOMIA_DATE_BEFORE_DETERMINA
    assert (await position(office)).freed_cents == 0
    assert "fund.economia" not in await actions(core)

    act = await prepare(
        core,
        clerk,
        acts.ActKind.ECONOMIA,
        {**params(allocation_id, clock), "act_on": determina_day.isoformat()},
        clock,
    )
    done = await approve(core, boss, act.id, clock)
    assert done.outcome is not None and done.outcome["freed_cents"] == REST


async def test_one_economia_approved_twice_at_once_frees_once(
    core: Core, rival: Core, clock: FakeClock
) -> None:
    office, allocation_id = await credited_with_a_rest(core, clock)
    clerk, boss, chief = await staff(office)
    act = await prepare(core, clerk, acts.ActKind.ECONOMIA, params(allocation_id, clock), clock)

    _, refused = await one_wins(
        approve(core, boss, act.id, clock), approve(rival, chief, act.id, clock)
    )

    assert isinstance(refused, acts.ActNotOpen), refused
    after = await position(office)
    assert after.freed_cents == REST and after.approved_cents == ALLOCATED
    async with core.uow() as uow:
        assert len(list(await uow.session.scalars(select(m.Economia)))) == 1


async def _free(core: Core, office: Office, allocation_id: int, clock: FakeClock) -> int:
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        freed = await economia.free(
            uow,
            town,
            allocation_id,
            REST,
            "det. n. 12/2026",
            clock().date(),
            clock(),
            actor="x",
            operator_id=None,
            act_id=None,
        )
        await uow.commit()
    return freed.economia.amount_cents


async def test_two_economie_of_the_same_rest_at_once_free_it_once(
    core: Core, rival: Core, clock: FakeClock
) -> None:
    office, allocation_id = await credited_with_a_rest(core, clock)

    outcomes = await asyncio.gather(
        _free(core, office, allocation_id, clock),
        _free(rival, office, allocation_id, clock),
        return_exceptions=True,
    )

    assert [x for x in outcomes if not isinstance(x, BaseException)] == [REST], outcomes
    refused = [x for x in outcomes if isinstance(x, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], Conflict), outcomes
    assert refused[0].code in (Refusal.ECONOMIA_NOTHING_LEFT, Refusal.ECONOMIA_BAD_AMOUNT)
    assert (await position(office)).freed_cents == REST


async def test_the_database_keeps_what_is_freed_within_the_rest(
    core: Core, clock: FakeClock
) -> None:
    _, allocation_id = await credited_with_a_rest(core, clock)
    async with core.uow() as uow:
        # The guarded UPDATE: within budget − allocated, once.
        assert not await uow.fund.free(allocation_id, REST + 1, ALLOCATED)
        assert await uow.fund.free(allocation_id, REST, ALLOCATED)
        assert not await uow.fund.free(allocation_id, 1, ALLOCATED)
        await uow.commit()
    # The CHECK: never above the budget, whatever writes the row.
    with pytest.raises(IntegrityError):
        async with core.uow() as uow:
            await uow.session.execute(
                update(m.Allocation)
                .where(m.Allocation.id == allocation_id)
                .values(freed_cents=BUDGET + 1)
            )
            await uow.commit()
