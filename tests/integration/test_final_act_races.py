"""The office's final acts confirmed twice at the same moment (a double click reaching two
server processes, two clerks on the same page): withdrawing an application, removing a
cashier, deciding an appeal. Two engines on one database, the two calls run at once: one
acts, the other is refused as it would be a moment later, and the citizen or the cashier is
told once. On SQLite writers queue (BEGIN IMMEDIATE); on PostgreSQL both transactions run
at once, and only the service's lock (or compare-and-set) stops the second."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.errors import Conflict, DomainError, NotFound, Refusal
from core.services import appeals, application_desk, back_office, municipalities, operators
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import (
    Office,
    apply,
    close_approve_credit,
    open_round,
    person,
)
from tests.integration.test_application_desk import paper

T = TypeVar("T")

PHONE = "+393331112223"
CASHIER = "+393330000050"


async def one_wins(*race: Awaitable[T]) -> tuple[T, DomainError]:
    """Run the calls at once: exactly one acts, the other is refused with a domain refusal
    (never a database error), both returned."""
    outcomes = await asyncio.gather(*race, return_exceptions=True)
    refused = [x for x in outcomes if isinstance(x, BaseException)]
    done = [x for x in outcomes if not isinstance(x, BaseException)]
    assert len(done) == 1 and len(refused) == 1, outcomes
    assert isinstance(refused[0], DomainError), refused[0]
    return done[0], refused[0]


async def clerks(office: Office) -> tuple[m.Operator, m.Operator]:
    """Two clerks of the town, one at each server."""
    async with office.core.uow() as uow:
        town = await uow.municipalities.by_id(office.municipality_id)
        assert town is not None
        made = []
        for name in ("anna", "bruno"):
            operator, _ = await operators.add_operator(
                uow, town, f"race.{name}", "clerk", office.clock(), password="x" * 12
            )
            made.append(operator)
        await uow.commit()
    return made[0], made[1]


async def count(core: Core, model: type[m.Base], *where: Any) -> int:
    async with core.uow() as uow:
        return int(
            await uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
        )


async def test_a_withdrawal_confirmed_twice_at_once_withdraws_once(
    core: Core, rival: Core, clock: FakeClock
) -> None:
    office = await open_round(core, clock)
    [protocol] = await paper(office, person(1, 1, phone=PHONE))
    anna, bruno = await clerks(office)

    async def withdraw(via: Core, clerk: m.Operator, reason: str) -> m.Application:
        async with via.uow() as uow:
            return await application_desk.withdraw(
                uow, clerk, protocol, reason, clock(), confirmed=True
            )

    done, refused = await one_wins(
        withdraw(core, anna, "Rinuncia"), withdraw(rival, bruno, "Rinuncia allo sportello")
    )

    assert isinstance(refused, Conflict) and refused.code == Refusal.APPLICATION_WITHDRAWN
    async with core.uow() as uow:
        stored = await uow.applications.by_protocol(protocol)
    assert stored is not None and stored.withdrawal_reason == done.withdrawal_reason
    assert await count(core, m.OutboxMessage, m.OutboxMessage.address == PHONE) == 1
    assert await count(core, m.ActivityEntry, m.ActivityEntry.action == "application.withdraw") == 1


async def test_a_cashier_removed_twice_at_once_is_removed_and_told_once(
    core: Core, rival: Core, clock: FakeClock
) -> None:
    office = await open_round(core, clock)
    shop_id = office.shop_ids[0]
    async with core.uow() as uow:
        cashier = m.ShopMember(
            shop_id=shop_id, channel="sms", address=CASHIER, role="cashier", created_at=clock()
        )
        uow.add(cashier)
        await uow.commit()
        member_id = cashier.id
    anna, bruno = await clerks(office)
    owner = m.OutboxMessage.address == "+393339000000"  # the shop's registration's
    owner_before = await count(core, m.OutboxMessage, owner)

    async def remove(via: Core, clerk: m.Operator) -> object:
        async with via.uow() as uow:
            return await back_office.remove_shop_member(
                uow, clerk, shop_id, member_id, clock(), confirmed=True
            )

    _, refused = await one_wins(remove(core, anna), remove(rival, bruno))

    assert isinstance(refused, NotFound) and refused.code == Refusal.SHOP_MEMBER_NOT_FOUND
    assert await count(core, m.ShopMember, m.ShopMember.id == member_id) == 0
    # The cashier is told once that they no longer work there, the owner once of it.
    assert await count(core, m.OutboxMessage, m.OutboxMessage.address == CASHIER) == 1
    assert await count(core, m.OutboxMessage, owner) == owner_before + 1
    assert await count(core, m.ActivityEntry, m.ActivityEntry.action == "shop.member_remove") == 1


async def test_an_appeal_decided_both_ways_at_once_has_one_decision_told_once(
    core: Core, rival: Core, clock: FakeClock
) -> None:
    office = await open_round(core, clock)
    [protocol] = await apply(office, person(1, 1, phone=PHONE))
    await close_approve_credit(office, 300_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        citizen = await uow.citizens.by_phone(town.id, PHONE)
        assert citizen is not None
        appeal = await appeals.file_appeal(uow, town, citizen, "siamo in tre", "sms", clock())
        await uow.commit()
    anna, bruno = await clerks(office)
    before = await count(core, m.OutboxMessage, m.OutboxMessage.address == PHONE)

    async def decide(via: Core, clerk: m.Operator, outcome: str, reason: str) -> m.Appeal:
        async with via.uow() as uow:
            town = await municipalities.require(uow, office.code)
            decided = await appeals.decide(
                uow, town, appeal.id, outcome, reason, clock(), clerk, confirmed=True
            )
            await uow.commit()
            return decided

    done, refused = await one_wins(
        decide(core, anna, "upheld", "Anagrafe: tre persone."),
        decide(rival, bruno, "rejected", "Anagrafe: una persona."),
    )

    assert isinstance(refused, Conflict) and refused.code == Refusal.APPEAL_NOT_OPEN
    async with core.uow() as uow:
        stored = await uow.appeals.by_id(appeal.id)
    assert stored is not None
    assert (stored.status, stored.decision_reason) == (done.status, done.decision_reason)
    assert await count(core, m.OutboxMessage, m.OutboxMessage.address == PHONE) == before + 1
    decided = m.ActivityEntry.action.in_(("appeal.upheld", "appeal.rejected"))
    assert await count(core, m.ActivityEntry, decided, m.ActivityEntry.subject == protocol) == 1
