"""The database behind two rules of the office's requests, on SQLite and PostgreSQL
(migration 0030_request_identity).

A card is bound only to a request asked for its holder: the services check it
(identity.check_approval), and the database refuses it whatever they miss (a composite
foreign key on PostgreSQL, triggers on SQLite), in the services' own refusal. And one
waiting request names a number in a town: two clerks asking at the same moment both find
no other request, and the index uq_phone_changes_waiting_phone refuses the second, which
is told as if the first had been found before. The predicate of the indexes is the one
the queries use: a request the index counts as pending is the one the services find.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from buonispesa.cli.refusals import describe as cli_describe
from core.bootstrap import Core
from core.domain.errors import Conflict, DomainError, NotAllowed, Refusal
from core.i18n import render_text
from core.services import cards, municipalities, phone_changes
from core.storage import models as m
from core.storage.office_repositories import PhoneChangeRepository
from core.storage.repositories.people import CitizenRepository
from office.refusals import describe as office_describe
from tests.factories import Town, make_town
from tests.integration.test_phone_changes import _operators
from tests.integration.test_requests_stay_with_their_citizen import _card_waiting_to_print
from tests.unit.fakes import _pending as fake_pending

NEW_PHONE = "+393471230088"


async def _card_change_of(core: Core, citizen_id: int) -> int | None:
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(citizen_id)
        assert citizen is not None
        return citizen.card_change_id


async def test_a_card_bound_to_another_citizens_request_is_refused(core: Core) -> None:
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    owner, other = town.citizen_ids
    card = await _card_waiting_to_print(core, town, team)  # asked for citizen 0

    # A raw write: the database itself refuses, in the services' words.
    for citizen_id, change_id in ((other, card), (owner, card + 1000)):
        with pytest.raises(NotAllowed) as refused:
            async with core.uow() as uow:
                await uow.session.execute(
                    update(m.Citizen)
                    .where(m.Citizen.id == citizen_id)
                    .values(card_change_id=change_id)
                )
                await uow.commit()
        assert refused.value.code == Refusal.REQUEST_OTHER_CITIZEN
        assert refused.value.params["change_id"] == change_id
    # Nor may the request move to another citizen under the card that names it.
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen).where(m.Citizen.id == owner).values(card_change_id=card)
        )
        with pytest.raises((NotAllowed, IntegrityError)):
            await uow.session.execute(
                update(m.PhoneChange).where(m.PhoneChange.id == card).values(citizen_id=other)
            )

    # The bug a service check once missed (a card printed for the citizen on the page with
    # the request of another): with the checks gone, the database still refuses, and
    # nothing is made or told.
    async with core.uow() as uow:
        told = len(await uow.outbox.for_address("sms", town.citizen_phones[1]))
        town_row = await municipalities.require(uow, town.code)
        approved = await uow.phone_changes.by_id(card)
        assert approved is not None
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cards, "check_approval", lambda change, citizen: None)
            patch.setattr(cards, "approves", lambda change, citizen, kind: True)
            with pytest.raises(NotAllowed) as refused:
                await cards.issue_card(
                    uow, town_row, town.citizen_cfs[1], core.now(), approved=approved
                )
    assert refused.value.code == Refusal.REQUEST_OTHER_CITIZEN
    assert refused.value.params["change_id"] == card
    _said_in_both_languages(refused.value, f"{card}")
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(other)
        assert citizen is not None and citizen.card_pin_hash is None
        assert citizen.card_change_id is None
        assert len(await uow.outbox.for_address("sms", town.citizen_phones[1])) == told

    # Printed the right way, the card names its own request.
    async with core.uow() as uow:
        town_row = await municipalities.require(uow, town.code)
        holder = await uow.citizens.by_id(owner)
        assert holder is not None
        await phone_changes.print_card(
            uow, team["clerk"], town_row, holder, core.now(), change_id=card
        )
        await uow.commit()
    assert await _card_change_of(core, owner) == card


def _said_in_both_languages(error: DomainError, detail: str) -> None:
    """The office's page and the command line say the refusal, in Italian and English."""
    for sentence in (office_describe(error), cli_describe(error)):
        italian, english = render_text(sentence, "it"), render_text(sentence, "en")
        assert italian != english and detail in italian and detail in english
        assert "refused" not in english.split("(")[0].lower(), english


async def _hold_nothing(_self: CitizenRepository, _municipality_id: int, _phone: str) -> None:
    """CitizenRepository.hold_phone taken away: what the index alone holds."""


async def _ask(
    core: Core, town: Town, who: m.Operator, citizen: int, kind: str
) -> phone_changes.Asked | m.PhoneChange:
    async with core.uow() as uow:
        town_row = await municipalities.require(uow, town.code)
        ask = phone_changes.request if kind == "phone" else phone_changes.request_delegate
        done = await ask(uow, who, town_row, town.citizen_cfs[citizen], NEW_PHONE, core.now())
        await uow.commit()
        return done


@pytest.mark.parametrize("held", [True, False])
@pytest.mark.parametrize("second_kind", ["phone", "delegate"])
async def test_two_clerks_asking_one_number_at_once_one_wins(
    core: Core, monkeypatch: pytest.MonkeyPatch, second_kind: str, held: bool
) -> None:
    """Both clerks ask for one number at once. Each holds the number before it looks
    (CitizenRepository.hold_phone), so the second waits and finds the first's request, as
    on SQLite, which runs one writer at a time. Without that hold (`held` False) both look
    for a request naming the number before either writes one on PostgreSQL (they are let
    in together), and the index refuses the second."""
    if not held:
        monkeypatch.setattr(CitizenRepository, "hold_phone", _hold_nothing)
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    looked: list[int] = []
    both_looked = asyncio.Event()
    original = PhoneChangeRepository.waiting_with_phone
    first_look: set[asyncio.Task[Any] | None] = set()

    async def look_together(self: PhoneChangeRepository, municipality_id: int, phone: str) -> Any:
        found = await original(self, municipality_id, phone)
        task = asyncio.current_task()
        if task not in first_look:  # the look before writing (not the one after a refusal)
            first_look.add(task)
            looked.append(len(found))
            if len(looked) == 2:
                both_looked.set()
            # The other clerk, unless it waits for this transaction (SQLite).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(both_looked.wait(), timeout=1)
        return found

    monkeypatch.setattr(PhoneChangeRepository, "waiting_with_phone", look_together)
    results = await asyncio.gather(
        _ask(core, town, team["clerk"], 0, "phone"),
        _ask(core, town, team["manager"], 1, second_kind),
        return_exceptions=True,
    )

    refused = [result for result in results if isinstance(result, BaseException)]
    assert len(refused) == 1, results
    error = refused[0]
    assert isinstance(error, Conflict) and error.code == Refusal.REQUEST_NUMBER_ASKED
    assert error.params["phone"] == "***088"
    _said_in_both_languages(error, "***088")
    if core.engine.dialect.name == "postgresql" and not held:
        assert looked == [0, 0]  # both found nothing: the index refused the second
    else:
        assert sorted(looked) == [0, 1]
    async with core.uow() as uow:
        rows = await uow.phone_changes.waiting(town.municipality_id)
        assert len(rows) == 1 and error.params["change_id"] == rows[0][0].id
        # Nothing of the refused request: no row, no SMS to the number, one log entry.
        # (a new phone is told to the number; a delegate request, to the citizen)
        told = 1 if rows[0][0].kind == "phone" else 0
        assert len(await uow.outbox.for_address("sms", NEW_PHONE)) == told
        entries = await uow.activity.newest_first(town.municipality_id, None, 0)
        asked = [e for e in entries if e.action.endswith(("phone_request", "delegate_request"))]
        assert len(asked) == 1


async def test_the_database_refuses_a_second_waiting_request_for_a_number(core: Core) -> None:
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    await _ask(core, town, team["clerk"], 0, "phone")
    with pytest.raises(IntegrityError):
        async with core.uow() as uow:
            uow.add(_row(town, team, 1, "delegate", "waiting", core.now()))
            await uow.commit()
    # Another town may ask the same number.
    other = await make_town(core, citizens=1, code="OTH")
    async with core.uow() as uow:
        uow.add(_row(other, team, 0, "delegate", "waiting", core.now()))
        await uow.commit()


def _row(
    town: Town,
    team: dict[str, m.Operator],
    citizen: int,
    kind: str,
    state: str,
    now: datetime,
    phone: str = NEW_PHONE,
) -> m.PhoneChange:
    """A request in `state` that every CHECK of the table accepts."""
    card = kind == "card"
    status = state.split("_")[0]
    decided = status != "waiting"
    approved_card = card and state in ("approved", "approved_printed", "expired")
    return m.PhoneChange(
        municipality_id=town.municipality_id,
        citizen_id=town.citizen_ids[citizen],
        kind=kind,
        subject="x",
        phone=None if card or decided else phone,
        phone_masked=None if card else "***" + phone[-3:],
        reissue=False,
        status=status,
        requested_by_id=team["clerk"].id,
        requested_at=now - timedelta(hours=2),
        decided_by_id=team["manager"].id if decided else None,
        decided_at=now - timedelta(hours=1) if decided else None,
        print_by=now + timedelta(days=1) if approved_card else None,
        handed_by_id=team["clerk"].id if state == "approved_printed" else None,
        handed_at=now if state == "approved_printed" else None,
    )


STATES = [
    (kind, state)
    for kind in ("phone", "delegate", "card")
    for state in ("waiting", "approved", "withdrawn")
] + [("card", "approved_printed"), ("card", "expired")]


async def test_the_index_refuses_exactly_the_requests_the_services_find_pending(
    core: Core,
) -> None:
    """m.PENDING_REQUEST is the index's predicate and the queries': for a request in each
    state, the database refuses a second pending one of its kind for the citizen exactly
    when the repository finds it pending (and the unit tests' fake agrees)."""
    town = await make_town(core, citizens=len(STATES))
    team = await _operators(core, town)
    now = core.now()
    for citizen, (kind, state) in enumerate(STATES):
        phone = f"+39347123{citizen:04d}"
        async with core.uow() as uow:
            row = _row(town, team, citizen, kind, state, now, phone)
            uow.add(row)
            await uow.commit()
        async with core.uow() as uow:
            holder = await uow.citizens.by_id(town.citizen_ids[citizen])
            assert holder is not None
            found = await uow.phone_changes.waiting_for(holder, kind)
        second = _row(town, team, citizen, kind, "waiting", now, f"+39348123{citizen:04d}")
        refused = not await _insert(core, second)
        assert refused == (found is not None), (kind, state)
        assert fake_pending(row) == refused, (kind, state)
        if kind == "card":
            assert refused == (state in ("waiting", "approved"))
        else:
            assert refused == (state == "waiting")


async def _insert(core: Core, change: m.PhoneChange) -> bool:
    async with core.uow() as uow:
        added = await uow.phone_changes.add_waiting(change)
        await uow.commit()
    return added


async def test_a_request_found_pending_is_this_citizens(core: Core) -> None:
    """The shared predicate keeps its parentheses beside the citizen's condition."""
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    async with core.uow() as uow:
        uow.add(_row(town, team, 0, "card", "approved", core.now()))
        await uow.commit()
    async with core.uow() as uow:
        other = await uow.citizens.by_id(town.citizen_ids[1])
        assert other is not None
        assert await uow.phone_changes.pending_for(other) == []
        rows = await uow.session.scalars(select(m.PhoneChange).where(m.PENDING_REQUEST))
        assert len(rows.all()) == 1
