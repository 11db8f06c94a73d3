"""Acts under four eyes decided or prepared twice at the same moment, by two processes on one
database (a double click, two managers, two clerks): the database lets one through and the
other is refused as it would be a moment later. On SQLite writers queue (BEGIN IMMEDIATE);
on PostgreSQL both transactions run at once, and only a compare-and-set or a unique index
stops the second."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.domain.ledger import PostingKind
from core.services import acts, operators
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import (
    Office,
    apply,
    assert_ledger_ok,
    close_approve_credit,
    open_round,
    pay,
    person,
)
from tests.integration.test_reimbursement import EXECUTION, render_row

FIRST = 20_00
LATER = 30_00


async def staff(office: Office) -> tuple[m.Operator, m.Operator, m.Operator]:
    """A clerk and two managers."""
    async with office.core.uow() as uow:
        town = await uow.municipalities.by_id(office.municipality_id)
        assert town is not None
        made = []
        for name, role in (("clerk", "clerk"), ("boss", "manager"), ("chief", "manager")):
            operator, _ = await operators.add_operator(
                uow, town, f"race.{name}", role, office.clock(), password="x" * 12
            )
            made.append(operator)
        await uow.commit()
    clerk, boss, chief = made
    return clerk, boss, chief


async def town_with_shops_owed(core: Core, clock: FakeClock) -> tuple[Office, list[str]]:
    office = await open_round(core, clock, shops=2)
    people = [person(1), person(2), person(3)]
    protocols = await apply(office, *people)
    await close_approve_credit(office, 1_000_00)
    await pay(office, office.shop_ids[0], people[0], FIRST)
    return office, protocols


async def prepare(
    core: Core, operator: m.Operator, kind: acts.ActKind, params: dict[str, Any], clock: FakeClock
) -> m.OfficeAct:
    async with core.uow() as uow:
        return await acts.prepare(uow, operator, kind, params, clock())


async def approve(core: Core, operator: m.Operator, act_id: int, clock: FakeClock) -> m.OfficeAct:
    async with core.uow() as uow:
        return await acts.approve(uow, operator, act_id, clock())


async def withdraw(core: Core, operator: m.Operator, act_id: int, clock: FakeClock) -> m.OfficeAct:
    async with core.uow() as uow:
        return await acts.withdraw(uow, operator, act_id, "non serve", clock())


def reimbursement(execution: date = EXECUTION) -> dict[str, Any]:
    return {"execution_date": execution.isoformat()}


async def count(core: Core, model: type[m.Base], *where: Any) -> int:
    async with core.uow() as uow:
        return int(
            await uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
        )


async def one_wins(
    *race: Awaitable[m.OfficeAct],
) -> tuple[m.OfficeAct, BaseException]:
    """Run the calls at once: exactly one gives its act, the other is refused (returned)."""
    outcomes = await asyncio.gather(*race, return_exceptions=True)
    done = [x for x in outcomes if isinstance(x, m.OfficeAct)]
    refused = [x for x in outcomes if isinstance(x, BaseException)]
    assert len(done) == 1 and len(refused) == 1, outcomes
    return done[0], refused[0]


async def test_one_reimbursement_act_approved_twice_at_once_pays_once(
    core: Core, rival: Core, clock: FakeClock
) -> None:
    office, _ = await town_with_shops_owed(core, clock)
    clerk, boss, chief = await staff(office)
    act = await prepare(core, clerk, acts.ActKind.REIMBURSEMENT, reimbursement(), clock)
    assert act.params["total_cents"] == FIRST
    # The shop is owed more by the approval: the act's own 20 € could be paid twice.
    await pay(office, office.shop_ids[0], person(2), LATER)

    approved, refused = await one_wins(
        approve(core, boss, act.id, clock), approve(rival, chief, act.id, clock)
    )

    assert isinstance(refused, acts.ActNotOpen), refused
    assert refused.params["status"] == "approved"
    assert await count(core, m.Settlement) == 1
    async with core.uow() as uow:
        paid = list(
            await uow.session.scalars(
                select(m.Posting.amount_cents).where(
                    m.Posting.kind == PostingKind.REIMBURSEMENT.value
                )
            )
        )
        told = [
            row
            for row in await uow.session.scalars(select(m.OutboxMessage))
            if "Rimborso" in render_row(row)
        ]
        stored = await uow.session.get(m.OfficeAct, act.id)
        logged = await uow.session.scalar(
            select(func.count())
            .select_from(m.ActivityEntry)
            .where(m.ActivityEntry.action == "reimbursement.approve")
        )
    assert paid == [FIRST]
    assert len(told) == 1
    assert logged == 1
    assert stored is not None and stored.status == "approved"
    assert stored.decided_by_id == approved.decided_by_id
    assert stored.outcome == approved.outcome
    await assert_ledger_ok(core, office.municipality_id)


async def test_an_approval_and_a_withdrawal_at_once_leave_one_decision(
    core: Core, rival: Core, clock: FakeClock
) -> None:
    office, _ = await town_with_shops_owed(core, clock)
    clerk, boss, _ = await staff(office)
    act = await prepare(core, clerk, acts.ActKind.REIMBURSEMENT, reimbursement(), clock)

    decided, refused = await one_wins(
        approve(core, boss, act.id, clock), withdraw(rival, clerk, act.id, clock)
    )

    assert isinstance(refused, acts.ActNotOpen), refused
    async with core.uow() as uow:
        stored = await uow.session.get(m.OfficeAct, act.id)
    assert stored is not None and stored.status == decided.status
    settlements = await count(core, m.Settlement)
    assert settlements == (1 if stored.status == "approved" else 0)
    await assert_ledger_ok(core, office.municipality_id)


async def test_a_reimbursement_prepared_twice_at_once_is_one_draft(
    core: Core, rival: Core, clock: FakeClock
) -> None:
    office, _ = await town_with_shops_owed(core, clock)
    clerk, boss, _ = await staff(office)

    _, refused = await one_wins(
        prepare(core, clerk, acts.ActKind.REIMBURSEMENT, reimbursement(), clock),
        prepare(rival, boss, acts.ActKind.REIMBURSEMENT, reimbursement(), clock),
    )

    assert isinstance(refused, acts.ActAlreadyPrepared), refused
    assert await count(core, m.OfficeAct, m.OfficeAct.status == "prepared") == 1
    assert (
        await count(core, m.ActivityEntry, m.ActivityEntry.action == "reimbursement.prepare") == 1
    )


async def test_a_revocation_prepared_twice_at_once_is_one_draft_per_application(
    core: Core, rival: Core, clock: FakeClock
) -> None:
    office, protocols = await town_with_shops_owed(core, clock)
    clerk, boss, _ = await staff(office)
    revoke = acts.ActKind.REVOCATION

    draft, refused = await one_wins(
        prepare(core, clerk, revoke, {"protocol": protocols[0], "reason": "falso"}, clock),
        prepare(rival, boss, revoke, {"protocol": protocols[0], "reason": "falso"}, clock),
    )

    assert isinstance(refused, acts.ActAlreadyPrepared), refused
    assert draft.params["protocol"] == protocols[0]
    # Another application's revocation is a draft of its own.
    other = await prepare(core, clerk, revoke, {"protocol": protocols[1], "reason": "falso"}, clock)
    assert other.params["protocol"] == protocols[1]
    assert await count(core, m.OfficeAct, m.OfficeAct.status == "prepared") == 2


async def test_the_database_keeps_one_open_draft_per_kind(core: Core, clock: FakeClock) -> None:
    office, _ = await town_with_shops_owed(core, clock)
    clerk, boss, _ = await staff(office)
    act = await prepare(core, clerk, acts.ActKind.REIMBURSEMENT, reimbursement(), clock)

    def twin(status: str = "prepared") -> m.OfficeAct:
        return m.OfficeAct(
            municipality_id=act.municipality_id,
            kind=act.kind,
            status=status,
            params=act.params,
            prepared_by_id=clerk.id,
            prepared_at=clock(),
        )

    async with core.uow() as uow:
        uow.add(twin())
        with pytest.raises(IntegrityError):
            await uow.flush()
    # Decided acts of the kind are many; a draft of another kind is its own.
    async with core.uow() as uow:
        uow.add(twin("withdrawn"))
        uow.add(
            m.OfficeAct(
                municipality_id=act.municipality_id,
                kind="credit",
                status="prepared",
                params={},
                prepared_by_id=clerk.id,
                prepared_at=clock(),
            )
        )
        await uow.flush()
        await uow.commit()
    await withdraw(core, boss, act.id, clock)
    again = await prepare(core, clerk, acts.ActKind.REIMBURSEMENT, reimbursement(), clock)
    assert again.status == "prepared" and again.id != act.id
