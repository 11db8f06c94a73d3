"""A request about who receives a citizen's codes (a new phone, a delegate, a card) is that
citizen's only, on SQLite and PostgreSQL.

An approved card waiting to be printed once matched every citizen of every town (the
pending-request condition was put unparenthesised beside the citizen's): every page showed
it as its own, printing from another citizen's page made a PIN card for a person nobody
asked one for, and nobody else could ask a phone, a delegate or a card, or be erased. And
one number could be asked for two households, or as a citizen's delegate and new phone at
once, refused only at the approval, after the numbers were told by SMS.
"""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.domain.errors import Conflict, NotAllowed, NotFound, Refusal
from core.services import (
    application_desk,
    cards,
    delegates,
    identity,
    municipalities,
    phone_changes,
    privacy,
)
from core.storage import models as m
from tests.factories import Town, make_town, pay
from tests.integration.test_phone_changes import _operators

NEW_PHONE = "+393471230055"


async def _card_waiting_to_print(core: Core, town: Town, team: dict[str, m.Operator]) -> int:
    """A card asked by the clerk for citizen 0 and approved by a manager, not printed."""
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        change = await phone_changes.request_card(
            uow, team["clerk"], municipality, town.citizen_cfs[0], core.now(), reissue=False
        )
        await uow.commit()
    async with core.uow() as uow:
        await phone_changes.approve_any(uow, team["manager"], change.id, core.now())
        await uow.commit()
    return change.id


async def _citizen(core: Core, citizen_id: int) -> m.Citizen:
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(citizen_id)
        assert citizen is not None
        return citizen


async def test_an_approved_card_is_nobody_elses(core: Core) -> None:
    town = await make_town(core, citizens=2)
    other_town = await make_town(core, citizens=1, code="OTH")
    team = await _operators(core, town)
    await pay(core, town, 150_00, citizen=1)  # citizen 1 has nothing left: erasable
    card = await _card_waiting_to_print(core, town, team)

    async with core.uow() as uow:
        owner = await uow.citizens.by_id(town.citizen_ids[0])
        other = await uow.citizens.by_id(town.citizen_ids[1])
        stranger = await uow.citizens.by_id(other_town.citizen_ids[0])
        assert owner is not None and other is not None and stranger is not None
        found = await uow.phone_changes.waiting_for(owner, "card")
        assert found is not None and found.id == card
        assert [x.id for x in await uow.phone_changes.pending_for(owner)] == [card]
        # Neither the other citizen of the town nor one of another town has a request.
        for citizen in (other, stranger):
            for kind in ("phone", "delegate", "card"):
                assert await uow.phone_changes.waiting_for(citizen, kind) is None
            assert list(await uow.phone_changes.pending_for(citizen)) == []
            assert await phone_changes.printable_card(uow, citizen, core.now()) is None
        # The application's page of the other citizen shows nothing waiting.
        application = await uow.applications.latest_for_citizen(other.id)
        assert application is not None
        desk = await application_desk.desk(uow, application, other)
        assert (desk.phone_change, desk.delegate_request, desk.card_request) == (None, None, None)

    # Printing from the other citizen's page: nothing to print there, and the request shown
    # elsewhere is refused by name. No card, no PIN; the request still waits for its owner.
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        other = await uow.citizens.by_id(town.citizen_ids[1])
        assert other is not None
        with pytest.raises(Conflict) as nothing:
            await phone_changes.print_card(uow, team["clerk"], municipality, other, core.now())
        assert nothing.value.code == Refusal.CARD_ALREADY_PRINTED
        with pytest.raises(NotAllowed) as named:
            await phone_changes.print_card(
                uow, team["clerk"], municipality, other, core.now(), change_id=card
            )
        assert named.value.code == Refusal.REQUEST_OTHER_CITIZEN
        # Nor does the card service take the approval for somebody else's.
        approved = await uow.phone_changes.by_id(card)
        with pytest.raises(NotAllowed) as issued:
            await cards.issue_card(
                uow, municipality, town.citizen_cfs[1], core.now(), approved=approved
            )
        assert issued.value.code == Refusal.REQUEST_OTHER_CITIZEN
        # An operator of another town does not reach the request.
        outsider = m.Operator(
            id=team["clerk"].id, municipality_id=other_town.municipality_id, role="clerk"
        )
        with pytest.raises(NotFound) as elsewhere:
            await phone_changes.print_card(
                uow, outsider, municipality, other, core.now(), change_id=card
            )
        assert elsewhere.value.code == Refusal.REQUEST_NOT_FOUND
    assert (await _citizen(core, town.citizen_ids[1])).card_pin_hash is None
    assert (await _citizen(core, town.citizen_ids[0])).card_pin_hash is None

    # The other citizen asks a new phone, a delegate and a card like anybody else.
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        cf = town.citizen_cfs[1]
        asked = await phone_changes.request(
            uow, team["clerk"], municipality, cf, NEW_PHONE, core.now()
        )
        assert asked.applied is not None  # nothing to spend: applied at once
        delegate = await phone_changes.request_delegate(
            uow, team["clerk"], municipality, cf, "+393471230066", core.now()
        )
        other_card = await phone_changes.request_card(
            uow, team["clerk"], municipality, cf, core.now(), reissue=False
        )
        assert (delegate.citizen_id, other_card.citizen_id) == (town.citizen_ids[1],) * 2
        await uow.commit()
    for change_id in (delegate.id, other_card.id):
        async with core.uow() as uow:
            await phone_changes.withdraw(uow, team["clerk"], change_id, "test", core.now())
            await uow.commit()

    # The owner's card prints for the owner, named in the log.
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        owner = await uow.citizens.by_id(town.citizen_ids[0])
        assert owner is not None
        printed = await phone_changes.print_card(
            uow, team["clerk"], municipality, owner, core.now(), change_id=card
        )
        await uow.commit()
    owner = await _citizen(core, town.citizen_ids[0])
    assert owner.card_pin_hash is not None and printed.card_code == owner.card_code
    assert (await _citizen(core, town.citizen_ids[1])).card_pin_hash is None

    # Erasing the other citizen is not held back by anybody's request (once the decision
    # can no longer be appealed, 30 days).
    core.clock.advance(days=31)  # type: ignore[attr-defined]
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        await privacy.erase_citizen(
            uow, municipality, town.citizen_cfs[1], core.now(), by="cli:test"
        )
        await uow.commit()
    assert (await _citizen(core, town.citizen_ids[1])).erased_at is not None


async def test_erasure_is_not_held_back_by_another_citizens_card(core: Core) -> None:
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    for citizen in (0, 1):  # both spent everything: erasable, but for a request
        await pay(core, town, 150_00, citizen=citizen)
    await _card_waiting_to_print(core, town, team)
    # Only the decision that may still be appealed (30 days) holds it back, not the card.
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        with pytest.raises(NotAllowed) as held:
            await privacy.erase_citizen(
                uow, municipality, town.citizen_cfs[1], core.now(), by="cli:test"
            )
    assert held.value.code == Refusal.PRIVACY_APPEAL_PERIOD
    # The owner's own approved card still holds the owner's erasure back.
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        with pytest.raises(NotAllowed) as refused:
            await privacy.erase_citizen(
                uow, municipality, town.citizen_cfs[0], core.now(), by="cli:test"
            )
    assert refused.value.code == Refusal.PRIVACY_PHONE_CHANGE_WAITING


async def test_one_number_is_asked_for_one_household(core: Core) -> None:
    """Refused when asked, in the service, with nothing written and nobody told."""
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    first, second = town.citizen_cfs
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        asked = await phone_changes.request(
            uow, team["clerk"], municipality, first, NEW_PHONE, core.now()
        )
        assert asked.waiting is not None  # money at stake: it waits
        await uow.commit()
    waiting = asked.waiting.id

    async def refused(kind: str, cf: str, phone: str) -> Conflict:
        async with core.uow() as uow:
            municipality = await municipalities.require(uow, town.code)
            ask = phone_changes.request if kind == "phone" else phone_changes.request_delegate
            with pytest.raises(Conflict) as error:
                await ask(uow, team["manager"], municipality, cf, phone, core.now())
            return error.value

    # Another household: neither its new phone nor its delegate.
    for kind in ("phone", "delegate"):
        error = await refused(kind, second, NEW_PHONE)
        assert error.code == Refusal.REQUEST_NUMBER_ASKED, kind
        assert error.params["change_id"] == waiting and error.params["phone"] == "***055"
    # The same citizen: a delegate equal to the new phone asked for them.
    error = await refused("delegate", first, NEW_PHONE)
    assert error.code == Refusal.REQUEST_NUMBER_OWN and error.params["kind"] == "phone"

    # And the other way round: a new phone equal to the delegate asked for them, or for
    # another household.
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        delegate = await phone_changes.request_delegate(
            uow, team["clerk"], municipality, second, "+393471230066", core.now()
        )
        await uow.commit()
    error = await refused("phone", second, "+393471230066")
    assert error.code == Refusal.REQUEST_NUMBER_OWN and error.params["kind"] == "delegate"
    error = await refused("phone", first, "+393471230066")
    assert error.code == Refusal.REQUEST_NUMBER_ASKED  # (first's own change waits anyway)

    async with core.uow() as uow:
        rows = await uow.phone_changes.waiting(town.municipality_id)
        assert [change.id for change, _ in rows] == [waiting, delegate.id]
        # The number heard only of the first request.
        assert len(await uow.outbox.for_address("sms", NEW_PHONE)) == 1

    # Once the first request is withdrawn, the number is free again.
    async with core.uow() as uow:
        await phone_changes.withdraw(uow, team["clerk"], waiting, "typo", core.now())
        await uow.commit()
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        again = await phone_changes.request(
            uow, team["clerk"], municipality, second, NEW_PHONE, core.now()
        )
        assert again.waiting is not None and again.waiting.citizen_id == town.citizen_ids[1]
        await uow.commit()


async def test_the_direct_delegate_is_refused_a_number_a_request_names(core: Core) -> None:
    """The command line's direct registration (delegates.add_delegate without a request,
    for a citizen with nothing to spend), and its phone given at once
    (identity.rebind_phone), meet the numbers waiting requests name as asking does:
    refused, nothing written, nobody told; once the request is withdrawn, the number may
    be registered."""
    town = await make_town(core, citizens=3)
    team = await _operators(core, town)
    first, second, third = town.citizen_cfs
    await pay(core, town, 150_00, citizen=1)  # the second has nothing to spend
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        phone = await phone_changes.request(
            uow, team["clerk"], municipality, first, NEW_PHONE, core.now()
        )
        delegate = await phone_changes.request_delegate(
            uow, team["clerk"], municipality, third, "+393471230066", core.now()
        )
        await uow.commit()
    assert phone.waiting is not None
    told = {
        number: len(await _sms_to(core, number))
        for number in (NEW_PHONE, "+393471230066", *town.citizen_phones)
    }

    async def direct(cf: str, number: str) -> Conflict:
        async with core.uow() as uow:
            municipality = await municipalities.require(uow, town.code)
            with pytest.raises(Conflict) as error:
                await delegates.add_delegate(uow, municipality, cf, number, core.now())
            return error.value

    # Another household's new phone, another household's delegate.
    for number, change in ((NEW_PHONE, phone.waiting.id), ("+393471230066", delegate.id)):
        error = await direct(second, number)
        assert error.code == Refusal.REQUEST_NUMBER_ASKED
        assert error.params["change_id"] == change
    # The citizen's own new phone, asked: not also their delegate.
    error = await direct(first, NEW_PHONE)
    assert error.code == Refusal.REQUEST_NUMBER_OWN and error.params["kind"] == "phone"
    async with core.uow() as uow:
        assert await uow.delegates.of_citizen(town.citizen_ids[1]) is None
        assert await uow.delegates.of_citizen(town.citizen_ids[0]) is None
    for number, count in told.items():
        assert len(await _sms_to(core, number)) == count, number

    # Nor is the number given at once as the second's own phone (identity.rebind_phone,
    # the command line's `admin citizen phone`).
    for number, change in ((NEW_PHONE, phone.waiting.id), ("+393471230066", delegate.id)):
        async with core.uow() as uow:
            municipality = await municipalities.require(uow, town.code)
            with pytest.raises(Conflict) as given:
                await identity.rebind_phone(
                    uow, municipality, second, number, operator="cli:test", now=core.now()
                )
        assert given.value.code == Refusal.REQUEST_NUMBER_ASKED
        assert given.value.params["change_id"] == change
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[1])
        assert citizen is not None and citizen.phone == town.citizen_phones[1]
    for number, count in told.items():
        assert len(await _sms_to(core, number)) == count, number

    # Withdrawn, the request no longer claims the number.
    async with core.uow() as uow:
        await phone_changes.withdraw(uow, team["clerk"], delegate.id, "typo", core.now())
        await uow.commit()
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        added = await delegates.add_delegate(uow, municipality, second, "+393471230066", core.now())
        await uow.commit()
    assert added.citizen_id == town.citizen_ids[1]


async def _sms_to(core: Core, number: str) -> list[m.OutboxMessage]:
    async with core.uow() as uow:
        return list(await uow.outbox.for_address("sms", number))


async def test_a_delegates_phone_is_nobody_elses_phone(core: Core) -> None:
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        delegate = await phone_changes.request_delegate(
            uow, team["clerk"], municipality, town.citizen_cfs[0], "+393471230066", core.now()
        )
        await uow.commit()
    async with core.uow() as uow:
        await phone_changes.approve_any(uow, team["manager"], delegate.id, core.now())
        await uow.commit()
    for cf in town.citizen_cfs:  # the delegate's own citizen, and another
        async with core.uow() as uow:
            municipality = await municipalities.require(uow, town.code)
            with pytest.raises(Conflict) as error:
                await phone_changes.request(
                    uow, team["clerk"], municipality, cf, "+393471230066", core.now()
                )
        assert error.value.code == Refusal.IDENTITY_PHONE_IS_DELEGATE
