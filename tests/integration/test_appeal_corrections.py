"""The remedy for an upheld appeal, on both databases: an act under four eyes corrects the
answers of a chat application after its window's lists were frozen; the next tranche
assesses it on them and pays it, once; an outcome still without money is notified again,
with a new time to appeal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.domain.errors import Conflict, DomainError, Refusal
from core.services import acts, allocation, appeals, ledger, municipalities, operators
from core.storage import models as m
from core.storage.engine import make_engine
from tests.conftest import FakeClock
from tests.factories import outbox_to
from tests.integration.migrating import migrate_to
from tests.integration.office_helpers import (
    Office,
    apply,
    approve_and_credit,
    assert_ledger_ok,
    close_approve_credit,
    open_round,
    person,
)

PENSIONER = person(0, 3, pension=True)  # excluded: someone in the household has a pension
NEIGHBOUR = person(1, 2)
BUDGET = 10_000_00  # enough for every household's full amount


def answers(**changed: Any) -> dict[str, Any]:
    """The parameters of a correction: PENSIONER's answers with `changed` applied."""
    return {
        "household_size": PENSIONER.household_size,
        "has_work_income": PENSIONER.has_work_income,
        "has_pension": PENSIONER.has_pension,
        "liquidity_cents": PENSIONER.liquidity_cents,
        "public_support_monthly_cents": PENSIONER.public_support_monthly_cents,
        "rent_monthly_cents": PENSIONER.rent_monthly_cents,
        **changed,
    }


async def decided(core: Core, clock: FakeClock) -> tuple[Office, list[str]]:
    office = await open_round(core, clock)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        for username, role in (("clerk", "clerk"), ("boss", "manager"), ("boss2", "manager")):
            await operators.add_operator(uow, town, username, role, clock(), password="x" * 12)
        await uow.commit()
    protocols = await apply(office, PENSIONER, NEIGHBOUR)
    await close_approve_credit(office, BUDGET)
    return office, protocols


async def operator(core: Core, username: str) -> m.Operator:
    async with core.uow() as uow:
        found = await uow.session.scalar(select(m.Operator).where(m.Operator.username == username))
        assert found is not None
        return found


async def prepare(core: Core, username: str, protocol: str, **changed: Any) -> m.OfficeAct:
    who = await operator(core, username)
    async with core.uow() as uow:
        return await acts.prepare(
            uow,
            who,
            acts.ActKind.APPEAL_CORRECTION,
            {"protocol": protocol, "reason": "ricorso accolto", **answers(**changed)},
            core.now(),
        )


async def approve(core: Core, username: str, act_id: int) -> m.OfficeAct:
    who = await operator(core, username)
    async with core.uow() as uow:
        return await acts.approve(uow, who, act_id, core.now())


async def appeal_and_decide(core: Core, data_index: int, outcome: str) -> m.Appeal:
    data = (PENSIONER, NEIGHBOUR)[data_index]
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        citizen = await uow.citizens.by_codice_fiscale(town.id, data.codice_fiscale)
        assert citizen is not None
        appeal = await appeals.file_appeal(
            uow, town, citizen, "ho solo l'invalidità", "sms", core.now()
        )
        await uow.commit()
    if outcome == "open":
        return appeal
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        done = await appeals.decide(
            uow, town, appeal.id, outcome, "Verificato.", core.now(), "cli:t", confirmed=True
        )
        await uow.commit()
        return done


async def application(core: Core, protocol: str) -> m.Application:
    async with core.uow() as uow:
        found = await uow.applications.by_protocol(protocol)
        assert found is not None
        return found


async def balance(core: Core, protocol: str) -> int:
    app = await application(core, protocol)
    async with core.uow() as uow:
        return await ledger.citizen_balance(uow, app.municipality_id, app.citizen_id)


async def refused(core: Core, protocol: str, **changed: Any) -> str:
    with pytest.raises(DomainError) as caught:
        await prepare(core, "clerk", protocol, **changed)
    return caught.value.code


async def test_only_an_upheld_appeal_opens_the_correction_and_a_second_manager_approves(
    core: Core, clock: FakeClock
) -> None:
    _, (pensioner, neighbour) = await decided(core, clock)
    assert await refused(core, pensioner, has_pension=False) == Refusal.APPEAL_NOT_UPHELD
    await appeal_and_decide(core, 0, "open")
    assert await refused(core, pensioner, has_pension=False) == Refusal.APPEAL_NOT_UPHELD
    await appeal_and_decide(core, 1, "rejected")
    assert await refused(core, neighbour, household_size=5) == Refusal.APPEAL_NOT_UPHELD
    async with core.uow() as uow:
        appeal = await uow.session.scalar(select(m.Appeal).where(m.Appeal.status == "open"))
        assert appeal is not None
        town = await municipalities.require(uow, "BEL")
        await appeals.decide(
            uow, town, appeal.id, "upheld", "Pensione di invalidità.", clock(), "t", confirmed=True
        )
        await uow.commit()
    # Upheld: the answers must still be valid and change something.
    assert await refused(core, pensioner) == Refusal.APPLICATION_UNCHANGED
    assert (
        await refused(core, pensioner, household_size=0) == Refusal.APPLICATION_BAD_HOUSEHOLD_SIZE
    )
    act = await prepare(core, "boss", pensioner, has_pension=False)
    with pytest.raises(acts.SamePerson):
        await approve(core, "boss", act.id)
    with pytest.raises(DomainError):
        await approve(core, "clerk", act.id)  # a clerk approves nothing
    with pytest.raises(acts.ActAlreadyPrepared):
        await prepare(core, "clerk", pensioner, has_pension=False)
    assert (await application(core, pensioner)).has_pension is True  # nothing yet

    await approve(core, "boss2", act.id)

    app = await application(core, pensioner)
    assert (app.has_pension, app.household_size, app.decision_notified_at) == (False, 3, None)
    async with core.uow() as uow:
        logged = list(
            await uow.session.scalars(
                select(m.ActivityEntry).where(
                    m.ActivityEntry.action == "application.correct_on_appeal"
                )
            )
        )
        appeal_row = await uow.session.scalar(
            select(m.Appeal).where(m.Appeal.application_id == app.id)
        )
    assert [(e.actor, e.subject) for e in logged] == [("boss2", pensioner)]
    assert logged[0].before is not None and logged[0].after is not None
    assert logged[0].before["has_pension"] is True and logged[0].before["decision_notified_at"]
    assert logged[0].after == {
        "has_pension": False,
        "decision_notified_at": None,
        "appeal": appeal_row.id if appeal_row else None,
        "reason": "ricorso accolto",
        "act": act.id,
    }
    assert appeal_row is not None and appeal_row.corrected_at == clock()


async def test_the_next_tranche_pays_the_corrected_household_once(
    core: Core, clock: FakeClock
) -> None:
    office, (pensioner, neighbour) = await decided(core, clock)
    assert await balance(core, pensioner) == 0
    paid_neighbour = await balance(core, neighbour)
    assert paid_neighbour > 0
    await appeal_and_decide(core, 0, "upheld")
    act = await prepare(core, "clerk", pensioner, has_pension=False)
    await approve(core, "boss", act.id)
    sent_before = len(await outbox_to(core, PENSIONER.phone or ""))

    clock.advance(days=1)
    await approve_and_credit(office, BUDGET)

    paid = await balance(core, pensioner)
    assert paid > 0
    assert await balance(core, neighbour) == paid_neighbour
    assert len(await outbox_to(core, PENSIONER.phone or "")) == sent_before + 1  # credit notice
    await assert_ledger_ok(core, office.municipality_id)
    # A further tranche would pay nobody and tell nobody anything: each was given all they
    # are due. It is refused, and nothing moves.
    clock.advance(days=1)
    with pytest.raises(Conflict) as refused:
        await approve_and_credit(office, BUDGET)
    assert refused.value.code == Refusal.ALLOCATION_PAYS_NOBODY
    assert (await balance(core, pensioner), await balance(core, neighbour)) == (
        paid,
        paid_neighbour,
    )
    await assert_ledger_ok(core, office.municipality_id)
    # The payment is a new decision: a new time to appeal it.
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        citizen = await uow.citizens.by_codice_fiscale(town.id, PENSIONER.codice_fiscale)
        assert citizen is not None
        appealable = await appeals.check_appealable(uow, town, citizen, clock())
    assert appealable.decision_at > (await application(core, pensioner)).submitted_at


async def test_an_outcome_still_without_money_is_notified_again_with_a_new_window(
    core: Core, clock: FakeClock
) -> None:
    office, (pensioner, _) = await decided(core, clock)
    first_notice = (await application(core, pensioner)).decision_notified_at
    assert first_notice is not None
    await appeal_and_decide(core, 0, "upheld")
    act = await prepare(core, "clerk", pensioner, household_size=4)  # still a pension
    await approve(core, "boss", act.id)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        citizen = await uow.citizens.by_codice_fiscale(town.id, PENSIONER.codice_fiscale)
        assert citizen is not None
        with pytest.raises(Conflict) as caught:
            await appeals.check_appealable(uow, town, citizen, clock())
    assert caught.value.code == Refusal.APPEAL_NO_DECISION  # until the next tranche decides
    sent_before = len(await outbox_to(core, PENSIONER.phone or ""))

    clock.advance(days=1)
    when: datetime = clock()
    await approve_and_credit(office, BUDGET)

    assert (await application(core, pensioner)).decision_notified_at == when
    assert len(await outbox_to(core, PENSIONER.phone or "")) == sent_before + 1
    assert await balance(core, pensioner) == 0
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        citizen = await uow.citizens.by_codice_fiscale(town.id, PENSIONER.codice_fiscale)
        assert citizen is not None
        again = await appeals.file_appeal(uow, town, citizen, "siamo in quattro", "sms", clock())
        await uow.commit()
    assert again.decision_at == when
    await assert_ledger_ok(core, office.municipality_id)


async def test_the_database_keeps_corrections_on_upheld_appeals(
    core: Core, clock: FakeClock
) -> None:
    await decided(core, clock)
    appeal = await appeal_and_decide(core, 0, "rejected")
    async with core.uow() as uow:
        row = await uow.session.get(m.Appeal, appeal.id)
        assert row is not None
        row.corrected_at = clock()
        with pytest.raises(IntegrityError):
            await uow.session.flush()


async def test_the_migration_keeps_the_revocations_that_name_their_acts(
    core: Core, clock: FakeClock, database_url: str
) -> None:
    # Rebuilding office_acts on SQLite (to change its CHECK) must not break, nor lose, the
    # revocations whose act was approved before the upgrade. (The neighbour was paid: the
    # excluded pensioner has nothing to revoke.)
    _, (_, neighbour) = await decided(core, clock)
    who = await operator(core, "clerk")
    async with core.uow() as uow:
        act = await acts.prepare(
            uow,
            who,
            acts.ActKind.REVOCATION,
            {"protocol": neighbour, "reason": "falso"},
            clock(),
        )
    await approve(core, "boss", act.id)
    await core.close()
    await migrate_to(database_url, "0022_card_pin_failures", down=True)
    await migrate_to(database_url, "head", down=False)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT act_id FROM revocations"))).all()
    finally:
        await engine.dispose()
    assert [row.act_id for row in rows] == [act.id]


async def test_an_application_of_an_earlier_window_is_not_corrected(
    core: Core, clock: FakeClock
) -> None:
    # Tranches are approved for the latest window only: nothing could pay it any more.
    _, (pensioner, _) = await decided(core, clock)
    await appeal_and_decide(core, 0, "upheld")
    clock.advance(days=3)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.open_window(uow, town, clock(), days=4)
        await uow.commit()
    assert await refused(core, pensioner, has_pension=False) == Refusal.APPEAL_PAST_WINDOW
    assert (await application(core, pensioner)).has_pension is True


async def test_a_tranche_approved_before_the_correction_waits_for_its_credit_first(
    core: Core, clock: FakeClock
) -> None:
    """A determina is computed on the answers of the day it is approved. Corrected between
    its approval and its credit, the application's cleared decision made that credit tell
    the household the old outcome ('excluded: a pension') as a new decision with new days
    to appeal, after the appeal against it was upheld. The correction waits for that credit
    (or the determina's withdrawal), when prepared and when approved; nothing changes."""
    office = await open_round(core, clock)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        for username, role in (("clerk", "clerk"), ("boss", "manager")):
            await operators.add_operator(uow, town, username, role, clock(), password="x" * 12)
        await uow.commit()
    pensioner, _ = await apply(office, PENSIONER, NEIGHBOUR)
    # A first tranche that pays the neighbour only in part: a second one is still due.
    await close_approve_credit(office, 100_00)
    await appeal_and_decide(core, 0, "upheld")
    act = await prepare(core, "clerk", pensioner, has_pension=False)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.approve(uow, town, BUDGET, clock())
        await uow.commit()
    before = await application(core, pensioner)
    with pytest.raises(Conflict) as refused:
        await approve(core, "boss", act.id)
    assert refused.value.code == Refusal.APPEAL_TRANCHE_WAITING
    assert refused.value.params["tranche"] == 2
    after = await application(core, pensioner)
    assert (after.has_pension, after.decision_notified_at) == (True, before.decision_notified_at)
    with pytest.raises(Conflict) as again:
        await prepare(core, "clerk", pensioner, household_size=4)
    assert again.value.code == Refusal.APPEAL_TRANCHE_WAITING
    sent_before = len(await outbox_to(core, PENSIONER.phone or ""))

    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.credit(uow, town, clock())
        await uow.commit()
    # The credit told the pensioner nothing new: the decision stands as notified.
    assert len(await outbox_to(core, PENSIONER.phone or "")) == sent_before
    # Credited, the act waiting goes through, and the next tranche pays the household.
    clock.advance(days=1)
    await approve(core, "boss", act.id)
    assert (await application(core, pensioner)).has_pension is False
    clock.advance(days=1)
    await approve_and_credit(office, BUDGET)
    assert await balance(core, pensioner) > 0
    await assert_ledger_ok(core, office.municipality_id)
