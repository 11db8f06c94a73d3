"""One application's desk work (core.services.application_desk), on SQLite and PostgreSQL:
correct or withdraw a paper application, bind a phone, ask a delegate, ask and print the
card (a manager who did not ask approves)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.flows.citizen import status_text
from core.domain.errors import Conflict, DomainError, NotAllowed, NotFound
from core.domain.identity import PhoneProof
from core.i18n import render_text
from core.services import (
    allocation,
    application_desk,
    audit,
    back_office,
    municipalities,
    operators,
)
from core.services.application_desk import Answers
from core.services.applications import ApplicationInput, status_of, submit_application
from core.services.cards import CardData
from core.services.operators import RoleRefused
from core.storage import models as m
from core.storage.engine import make_engine
from tests.conftest import FakeClock
from tests.factories import make_cf
from tests.integration.office_helpers import Office, apply, open_round, person

# The default policy's full amount for one person (core/policies/belforte.toml).
FULL_FOR_ONE = 150_00


async def paper(office: Office, *people: ApplicationInput) -> list[str]:
    """Applications entered by the office from paper; returns their protocols."""
    protocols = []
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        for data in people:
            application = await submit_application(
                uow, town, data, source="paper", now=office.clock(), proof=PhoneProof.OFFICE
            )
            protocols.append(application.protocol)
        await uow.commit()
    return protocols


async def operator(core: Core, code: str, role: str) -> m.Operator:
    async with core.uow() as uow:
        town = await municipalities.require(uow, code)
        name = f"{code.lower()}.{role}"
        found = await uow.session.scalar(select(m.Operator).where(m.Operator.username == name))
        if found is None:
            found, _ = await operators.add_operator(uow, town, name, role, core.now(), password="x")
            await uow.commit()
        return found


async def answers(core: Core, protocol: str) -> Answers:
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(protocol)
        assert application is not None
        return Answers.of(application)


async def log(core: Core, action: str) -> list[m.ActivityEntry]:
    async with core.uow() as uow:
        return list(
            await uow.session.scalars(
                select(m.ActivityEntry)
                .where(m.ActivityEntry.action == action)
                .order_by(m.ActivityEntry.id)
            )
        )


async def test_a_clerk_corrects_a_paper_application_logged_before_and_after(
    core: Core, clock: FakeClock
) -> None:
    bel = await open_round(core, clock)
    [protocol] = await paper(bel, person(1, 1, liquidity_cents=100_00))
    clerk = await operator(core, "BEL", "clerk")
    corrected = replace(await answers(core, protocol), household_size=3, has_pension=True)
    async with core.uow() as uow:
        await application_desk.correct(
            uow, clerk, protocol, corrected, "  Typo:  3 members ", clock()
        )
    assert await answers(core, protocol) == corrected
    [entry] = await log(core, "application.correct")
    assert entry.actor == "bel.clerk" and entry.subject == protocol
    assert entry.before == {"household_size": 1, "has_pension": False}
    assert entry.after == {"household_size": 3, "has_pension": True, "reason": "Typo: 3 members"}


@pytest.mark.parametrize(
    ("change", "reason", "code"),
    [
        ({"household_size": 2}, "   ", "act.reason_missing"),
        ({"household_size": 2}, "x" * 301, "act.reason_too_long"),
        ({}, "nothing changes", "application.unchanged"),
        ({"household_size": 0}, "zero", "application.bad_household_size"),
        ({"liquidity_cents": -1}, "negative", "application.negative_amount"),
    ],
)
async def test_a_bad_correction_changes_nothing(
    core: Core, clock: FakeClock, change: dict[str, Any], reason: str, code: str
) -> None:
    bel = await open_round(core, clock)
    [protocol] = await paper(bel, person(1, 1))
    clerk = await operator(core, "BEL", "clerk")
    before = await answers(core, protocol)
    with pytest.raises(DomainError) as caught:
        async with core.uow() as uow:
            await application_desk.correct(
                uow, clerk, protocol, replace(before, **change), reason, clock()
            )
    assert caught.value.code == code
    assert await answers(core, protocol) == before
    assert await log(core, "application.correct") == []


async def test_who_may_change_what(core: Core, clock: FakeClock) -> None:
    bel = await open_round(core, clock)
    await open_round(core, clock, code="CAL", name="Comune di Calimera")
    [on_paper] = await paper(bel, person(1, 1))
    [in_chat] = await apply(bel, person(2, 1))
    bigger = replace(await answers(core, on_paper), household_size=4)
    cases: list[tuple[m.Operator, str, type[DomainError]]] = [
        (await operator(core, "BEL", "viewer"), on_paper, RoleRefused),
        (await operator(core, "CAL", "clerk"), on_paper, NotFound),
        (await operator(core, "BEL", "clerk"), in_chat, NotAllowed),
    ]
    for who, protocol, refusal in cases:
        with pytest.raises(refusal):
            async with core.uow() as uow:
                await application_desk.correct(uow, who, protocol, bigger, "why", clock())
        with pytest.raises(refusal):
            async with core.uow() as uow:
                await application_desk.withdraw(uow, who, protocol, "why", clock(), confirmed=True)
    assert (await answers(core, on_paper)).household_size == 1
    # A manager may do what a clerk may.
    manager = await operator(core, "BEL", "manager")
    async with core.uow() as uow:
        await application_desk.correct(uow, manager, on_paper, bigger, "document", clock())
    assert (await answers(core, on_paper)).household_size == 4


async def test_after_a_determina_the_application_is_frozen(core: Core, clock: FakeClock) -> None:
    bel = await open_round(core, clock)
    [protocol] = await paper(bel, person(1, 1))
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.close_window(uow, town, clock())
        await uow.commit()
    clerk = await operator(core, "BEL", "clerk")
    before = await answers(core, protocol)
    # Closed window, no determina yet: the office may still correct what it typed.
    async with core.uow() as uow:
        await application_desk.correct(
            uow, clerk, protocol, replace(before, rent_monthly_cents=300_00), "rent", clock()
        )
    clock.advance(days=1)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.approve(uow, town, 1_000_00, clock())
        await uow.commit()
    for attempt in ("correct", "withdraw"):
        with pytest.raises(NotAllowed) as caught:
            async with core.uow() as uow:
                if attempt == "correct":
                    await application_desk.correct(uow, clerk, protocol, before, "x", clock())
                else:
                    await application_desk.withdraw(
                        uow, clerk, protocol, "x", clock(), confirmed=True
                    )
        assert caught.value.code == "application.frozen"
    assert (await answers(core, protocol)).rent_monthly_cents == 300_00


async def test_a_withdrawn_application_is_left_out_and_the_citizen_told(
    core: Core, clock: FakeClock
) -> None:
    bel = await open_round(core, clock)
    kept, gone = await paper(bel, person(1, 1), person(2, 1, phone="+393331112223"))
    clerk = await operator(core, "BEL", "clerk")
    async with core.uow() as uow:
        await application_desk.withdraw(
            uow, clerk, gone, "Renounced in person", clock(), confirmed=True
        )
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(gone)
        assert application is not None
        assert application.withdrawn_at == clock()
        assert application.withdrawal_reason == "Renounced in person"
        notices = list(
            await uow.session.scalars(
                select(m.OutboxMessage).where(m.OutboxMessage.address == "+393331112223")
            )
        )
        assert len(notices) == 1 and gone in str(notices[0].payload)
        town = await municipalities.require(uow, "BEL")
        simulated = await allocation.simulate(uow, town, 1_000_00)
        assert [line.protocol for line in simulated] == [kept]
        dashboard = await back_office.dashboard(uow, clerk, clock())
        assert dashboard.by_state["withdrawn"] == 1 and dashboard.by_state["not_allocated"] == 1
        citizen = await uow.citizens.by_id(application.citizen_id)
        assert citizen is not None
        status = await status_of(uow, citizen, clock())
        assert status is not None
        assert "withdrawn by the office" in render_text(status_text(status), "en")
    [entry] = await log(core, "application.withdraw")
    assert entry.after == {"withdrawn": True, "reason": "Renounced in person"}
    # Withdrawn once: neither corrected nor withdrawn again.
    with pytest.raises(Conflict) as caught:
        async with core.uow() as uow:
            await application_desk.withdraw(uow, clerk, gone, "again", clock(), confirmed=True)
    assert caught.value.code == "application.withdrawn"
    # Nor revoked after the checks: it never received anything.
    with pytest.raises(Conflict) as caught:
        async with core.uow() as uow:
            town = await municipalities.require(uow, "BEL")
            await audit.revoke(uow, town, gone, clock())
    assert caught.value.code == "application.withdrawn"


async def test_the_office_binds_a_proven_phone_never_another_citizens(
    core: Core, clock: FakeClock
) -> None:
    bel = await open_round(core, clock)
    no_phone = replace(person(1, 1), phone=None)
    [protocol, other] = await paper(bel, no_phone, person(2, 1, phone="+393331112223"))
    clerk = await operator(core, "BEL", "clerk")
    with pytest.raises(Conflict) as caught:
        async with core.uow() as uow:
            await application_desk.bind_phone(uow, clerk, protocol, "333 111 2223", clock())
    assert caught.value.code == "identity.phone_of_another"
    async with core.uow() as uow:
        asked = await application_desk.bind_phone(uow, clerk, protocol, "333 444 5556", clock())
    done = asked.applied
    assert done is not None and asked.waiting is None
    assert done.phone == "+393334445556" and done.previous_phone is None
    async with core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale(bel.municipality_id, no_phone.codice_fiscale)
        assert citizen is not None
        assert (citizen.phone, citizen.phone_proven_by) == ("+393334445556", "office")
        events = list(
            await uow.session.scalars(
                select(m.IdentityEvent).where(m.IdentityEvent.citizen_id == citizen.id)
            )
        )
        assert [(e.kind, e.actor) for e in events] == [("phone_rebound", "office:bel.clerk")]
    [entry] = await log(core, "citizen.phone")
    assert entry.after is not None and "4445556" not in str(entry.after)  # masked
    assert other


def printed(card: CardData) -> bytes:
    """The card's page, as a test sees it: its number and one-time codes."""
    return f"{card.card_code} {' '.join(card.codes)}".encode()


async def _approved_card(
    core: Core, clock: FakeClock, protocol: str, *, reissue: bool = False
) -> m.PhoneChange:
    """A card the clerk asked and the manager approved (four eyes), not yet printed."""
    clerk = await operator(core, "BEL", "clerk")
    manager = await operator(core, "BEL", "manager")
    async with core.uow() as uow:
        asked = await application_desk.request_card(uow, clerk, protocol, clock(), reissue=reissue)
    change = asked.change
    async with core.uow() as uow:
        await application_desk.approve_request(uow, manager, change.id, clock())
    return change


async def test_a_card_whose_page_fails_is_not_issued(core: Core, clock: FakeClock) -> None:
    bel = await open_round(core, clock)
    [protocol] = await paper(bel, person(1, 1))
    clerk = await operator(core, "BEL", "clerk")
    change = await _approved_card(core, clock, protocol)

    def broken(card: CardData) -> bytes:
        raise OSError("no font")

    with pytest.raises(OSError):
        async with core.uow() as uow:
            await application_desk.print_card(uow, clerk, protocol, clock(), render=broken)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale(bel.municipality_id, make_cf(1))
        assert citizen is not None and citizen.card_pin_hash is None
        # The approved card still waits to be printed: the failure printed no PIN.
        request = await uow.phone_changes.by_id(change.id)
        assert request is not None and request.handed_at is None
    assert await log(core, "card.issue") == []
    async with core.uow() as uow:
        card, _ = await application_desk.print_card(uow, clerk, protocol, clock(), render=printed)
    assert card.codes


async def test_delegate_and_card_from_the_application(core: Core, clock: FakeClock) -> None:
    bel = await open_round(core, clock)
    [protocol] = await paper(bel, person(1, 1))
    clerk = await operator(core, "BEL", "clerk")
    manager = await operator(core, "BEL", "manager")
    async with core.uow() as uow:
        asked = await application_desk.add_delegate(uow, clerk, protocol, "3339998887", clock())
    async with core.uow() as uow:
        assert await uow.delegates.of_citizen(asked.citizen_id) is None  # not before approval
    async with core.uow() as uow:
        done = await application_desk.approve_request(uow, manager, asked.id, clock())
    assert done.delegate is not None and done.delegate.phone == "+393339998887"
    await _approved_card(core, clock, protocol)
    async with core.uow() as uow:
        first, page = await application_desk.print_card(
            uow, clerk, protocol, clock(), render=printed
        )
    assert first.codes and first.with_pin
    assert page == f"{first.card_code} {' '.join(first.codes)}".encode()
    with pytest.raises(Conflict) as twice:  # the PIN is printed once
        async with core.uow() as uow:
            await application_desk.print_card(uow, manager, protocol, clock(), render=printed)
    assert twice.value.code == "card.already_printed"
    with pytest.raises(Conflict):  # a second card only as a replacement
        async with core.uow() as uow:
            await application_desk.request_card(uow, clerk, protocol, clock(), reissue=False)
    await _approved_card(core, clock, protocol, reissue=True)
    async with core.uow() as uow:  # the approver may print it too
        second, _ = await application_desk.print_card(
            uow, manager, protocol, clock(), render=printed
        )
    assert second.card_code != first.card_code
    [request] = await log(core, "citizen.delegate_request")
    [approved] = await log(core, "citizen.delegate_approve")
    assert (request.actor, approved.actor) == ("bel.clerk", "bel.manager")
    assert "9998887" not in str(request.after) + str(approved.after)  # masked
    [issued] = await log(core, "card.issue")
    [reissued] = await log(core, "card.reissue")
    assert (issued.actor, reissued.actor) == ("bel.clerk", "bel.manager")
    assert issued.after is not None and issued.after["card"] == "******" + first.card_code[-4:]
    assert (issued.after["requested_by"], issued.after["approved_by"]) == (
        "bel.clerk",
        "bel.manager",
    )
    assert reissued.before == {"card": "******" + first.card_code[-4:]}
    assert first.card_code not in str(issued.after) + str(reissued.before)
    assert not any(code in str(issued.after) + str(reissued.after) for code in first.codes)


async def test_a_correction_waits_for_a_determina_being_approved(
    core: Core, clock: FakeClock, database_url: str
) -> None:
    """The determina holds the window's row while it freezes the lists; a correction holds
    it too, so it waits, then sees the determina and is refused: it never changes answers
    the lists were just made from."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: the two cannot overlap")
    bel = await open_round(core, clock)
    [protocol] = await paper(bel, person(1, 1))
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.close_window(uow, town, clock())
        await uow.commit()
    clock.advance(days=1)
    clerk = await operator(core, "BEL", "clerk")
    bigger = replace(await answers(core, protocol), household_size=5)
    rival = Core(engine=make_engine(database_url), clock=clock)

    async def correct() -> object:
        async with core.uow() as uow:
            return await application_desk.correct(uow, clerk, protocol, bigger, "doc", clock())

    try:
        async with rival.uow() as approving:
            town = await municipalities.require(approving, "BEL")
            _, [line] = await allocation.approve(approving, town, 10_000_00, clock())
            correcting = asyncio.create_task(correct())
            await asyncio.sleep(0.5)  # the correction is waiting for the window's row
            assert not correcting.done()
            await approving.commit()
        with pytest.raises(NotAllowed) as caught:
            await correcting
    finally:
        await rival.close()
    assert caught.value.code == "application.frozen"
    assert line.line.full_amount_cents == FULL_FOR_ONE
    assert (await answers(core, protocol)).household_size == 1


async def test_a_withdrawn_application_is_not_drawn_nor_checked(
    core: Core, clock: FakeClock
) -> None:
    bel = await open_round(core, clock)
    kept, gone, later = await paper(bel, person(1, 1), person(2, 1), person(3, 1))
    clerk = await operator(core, "BEL", "clerk")
    async with core.uow() as uow:
        await application_desk.withdraw(
            uow, clerk, gone, "Renounced in person", clock(), confirmed=True
        )
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.close_window(uow, town, clock())
        first = await audit.draw_sample(uow, town, 100, 7, clock())
        await uow.commit()
    assert first == sorted([kept, later])
    # Withdrawn after a draw picked it: no outcome is recorded for it, nothing is written.
    async with core.uow() as uow:
        await application_desk.withdraw(uow, clerk, later, "Moved away", clock(), confirmed=True)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        with pytest.raises(Conflict) as refused:
            await audit.record_check(uow, town, later, "confirmed", "", clock(), clerk)
        assert refused.value.code == "application.withdrawn"
        await audit.record_check(uow, town, kept, "confirmed", "", clock(), clerk)
        await uow.commit()
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        assert sorted(await audit.checks(uow, town)) == [kept]
        again = await audit.draw_sample(uow, town, 100, 7, clock())
    assert again == [kept]
