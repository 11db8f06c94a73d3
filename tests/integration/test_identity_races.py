"""Two identity decisions on the same person or the same number at the same moment end as
if one had come after the other.

- Two chats claiming two forms of one codice fiscale (omocodia folded: one person key)
  both found nobody and both made a citizen: two households for one person. A claim
  now holds the person key before it looks (CitizenRepository.hold_person), so the
  second finds the first's citizen and is refused as a late claim is.
- A citizen's new phone and a delegate registered on the same number both committed:
  one number speaking for two households, or a citizen's own number also their
  delegate's. Both services hold the number before they look
  (CitizenRepository.hold_phone), and the delegate's row is refused by the database
  (migration 0041_phone_one_person), which takes the same lock.

On PostgreSQL the first transaction is left open (written, not committed) and the second
is started beside it: it must wait for the first (blocked on its backend, a condition,
not a time), then decide on what the first committed. SQLite has one writer at a time
(BEGIN IMMEDIATE): a second transaction cannot begin before the first commits, so there
the second runs after the first, the only order its writer lock allows, and the same
outcome is checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import select, text

from core.bootstrap import Core
from core.domain.errors import Conflict, Refusal
from core.domain.identity import PhoneProof
from core.services import delegates, identity, municipalities, phone_changes
from core.services.applications import submit_application
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from tests.dialogue.harness import Chat, msgids, param, town_with_open_window
from tests.dialogue.test_identity import ANSWERS, CODE, MEMBERS, NOTICE, REFUSED, notices_to
from tests.factories import Town, approved_request, make_cf, make_town, pay
from tests.integration.migrating import assert_guard_comes_and_goes
from tests.integration.test_code_destination_races import _blocked_or_done
from tests.integration.test_identity import _application, _count, _submit_from_chat, omocode
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)
from tests.integration.test_phone_changes import _ask, _operators
from tests.integration.test_request_identity import _said_in_both_languages

T = TypeVar("T")
PERSON = make_cf(820)
FIRST_PHONE = "+393471230081"
SECOND_PHONE = "+393471230082"
NUMBER = "+393471230083"
GUARD = "delegates_phone_not_citizen"


async def first_then_second(
    core: Core,
    database_url: str,
    first: Callable[[UnitOfWork], Awaitable[T]],
    second: Callable[[], Awaitable[Any]],
) -> tuple[T, asyncio.Future[Any]]:
    """`first` in a transaction, and `second` (its own transaction) started while the first
    is written but not committed: on PostgreSQL it must be waiting for the first when the
    first commits. `first`'s result, and `second` as a future to await."""
    postgresql = database_url.startswith("postgresql")
    async with core.uow() as uow:
        done = await first(uow)
        await uow.flush()
        if postgresql:
            pid = await uow.session.scalar(text("SELECT pg_backend_pid()"))
            late = asyncio.ensure_future(second())
            await asyncio.wait_for(_blocked_or_done(core, pid, late), timeout=10)
            assert not late.done()  # it waits for the first to commit, or roll back
        await uow.commit()
    if not postgresql:
        # One writer (BEGIN IMMEDIATE): the second begins only now.
        late = asyncio.ensure_future(second())
    return done, late


def _chat_claim(core: Core, town: Town, cf: str, phone: str) -> Callable[[UnitOfWork], Any]:
    async def claim(uow: UnitOfWork) -> m.Application:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        return await submit_application(
            uow,
            municipality,
            _application(cf, phone),
            source="sms",
            now=core.now(),
            proof=PhoneProof.SMS_CODE,
        )

    return claim


async def test_two_chats_claiming_two_forms_of_one_code_at_once_make_one_citizen(
    core: Core, database_url: str
) -> None:
    town = await town_with_open_window(core)
    before = await _count(core, m.Citizen)
    other_form = omocode(PERSON, 14)

    _, late = await first_then_second(
        core,
        database_url,
        _chat_claim(core, town, PERSON, FIRST_PHONE),
        lambda: _submit_from_chat(core, town, other_form, SECOND_PHONE, PhoneProof.SMS_CODE),
    )

    # The second found the first's citizen, as a claim a moment later does.
    with pytest.raises(identity.IdentityRefused) as refused:
        await asyncio.wait_for(late, timeout=10)
    assert refused.value.reason == "codice_fiscale_omocode"
    assert await _count(core, m.Citizen) == before + 1
    async with core.uow() as uow:
        found = await uow.citizens.by_person_key(town.municipality_id, PERSON)
        assert [(c.codice_fiscale, c.phone) for c in found] == [(PERSON, FIRST_PHONE)]


async def test_the_chat_that_lost_the_race_hears_the_refusal_and_the_holder_is_told(
    core: Core, database_url: str
) -> None:
    town = await town_with_open_window(core)
    before = await _count(core, m.Application)
    late_chat = Chat(core, SECOND_PHONE)
    for said in ("DOMANDA", "1"):
        await late_chat.send(said)
    # Nobody has this person key yet: the questions go on up to the code.
    await late_chat.expect(omocode(PERSON, 13), MEMBERS)
    for said in ANSWERS:
        await late_chat.send(said)
    await late_chat.expect("1", CODE)
    code = str(param(late_chat.last, "code"))

    _, late = await first_then_second(
        core,
        database_url,
        _chat_claim(core, town, PERSON, FIRST_PHONE),
        lambda: late_chat.send(code),
    )

    replies = await asyncio.wait_for(late, timeout=10)
    assert REFUSED in msgids(replies)  # the neutral refusal of a late claim
    assert await _count(core, m.Application) == before + 1
    [(_row, reply)] = await notices_to(core, FIRST_PHONE)
    assert reply.texts[0].msgid == NOTICE and reply.texts[0].params["phone"] == "***082"


async def test_the_office_registers_a_genuine_omocode_while_a_chat_claims_the_person(
    core: Core, database_url: str
) -> None:
    # The office sees the documents of a different person with the same key: its paper
    # application waits for the chat's claim, then registers them all the same.
    town = await town_with_open_window(core)
    genuine = omocode(PERSON, 14)

    async def on_paper() -> m.Application:
        async with core.uow() as uow:
            municipality = await uow.municipalities.by_id(town.municipality_id)
            assert municipality is not None
            application = await submit_application(
                uow,
                municipality,
                _application(genuine, SECOND_PHONE),
                source="paper",
                now=core.now(),
            )
            await uow.commit()
            return application

    _, late = await first_then_second(
        core, database_url, _chat_claim(core, town, PERSON, FIRST_PHONE), on_paper
    )

    await asyncio.wait_for(late, timeout=10)
    async with core.uow() as uow:
        found = await uow.citizens.by_person_key(town.municipality_id, PERSON)
        assert sorted(c.codice_fiscale for c in found) == sorted([PERSON, genuine])


def _approve(core: Core, who: m.Operator, change_id: int) -> Callable[[UnitOfWork], Any]:
    async def approve(uow: UnitOfWork) -> identity.Rebinding:
        return await phone_changes.approve(uow, who, change_id, core.now())

    return approve


def _register_delegate(
    core: Core, town: Town, index: int, phone: str
) -> Callable[[UnitOfWork], Any]:
    async def register(uow: UnitOfWork) -> m.Delegate:
        municipality = await municipalities.require(uow, town.code)
        cf = town.citizen_cfs[index]
        yes = await approved_request(uow, municipality, cf, "delegate", phone)
        return await delegates.add_delegate(uow, municipality, cf, phone, core.now(), approved=yes)

    return register


async def _committed(core: Core, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    async with core.uow() as uow:
        done = await work(uow)
        await uow.commit()
        return done


async def _holders(core: Core, town: Town) -> tuple[list[str | None], list[tuple[int, str]]]:
    """The citizens' phones, and the delegates (citizen index, phone)."""
    async with core.uow() as uow:
        phones = []
        for citizen_id in town.citizen_ids:
            citizen = await uow.citizens.by_id(citizen_id)
            assert citizen is not None
            phones.append(citizen.phone)
        rows = await uow.session.scalars(select(m.Delegate).order_by(m.Delegate.id))
        return phones, [(town.citizen_ids.index(row.citizen_id), row.phone) for row in rows]


@pytest.mark.parametrize(
    ("index", "refusal"),
    [(1, Refusal.DELEGATE_PHONE_IS_CITIZEN), (0, Refusal.DELEGATE_OWN_PHONE)],
)
async def test_a_delegate_registered_while_a_new_phone_is_approved_is_refused(
    core: Core, database_url: str, index: int, refusal: Refusal
) -> None:
    # The manager approves citizen 0's new number while another operator registers the
    # same number as a delegate (of another citizen, or of citizen 0 themselves).
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    asked = await _ask(core, town, team["clerk"], NUMBER)
    assert asked.waiting is not None

    _, late = await first_then_second(
        core,
        database_url,
        _approve(core, team["manager"], asked.waiting.id),
        lambda: _committed(core, _register_delegate(core, town, index, NUMBER)),
    )

    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(late, timeout=10)
    assert refused.value.code == refusal  # what the office reads when the phone came first
    _said_in_both_languages(refused.value, "***083")
    phones, registered = await _holders(core, town)
    assert phones[0] == NUMBER and registered == []


async def test_a_new_phone_given_while_a_delegate_is_registered_is_refused(
    core: Core, database_url: str
) -> None:
    # Citizen 0 has nothing to spend: the new number applies as the office asks it (no
    # request waits, which would claim the number before any delegate: asked_numbers).
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    await pay(core, town, 150_00)

    async def give(uow: UnitOfWork) -> phone_changes.Asked:
        municipality = await municipalities.require(uow, town.code)
        return await phone_changes.request(
            uow, team["clerk"], municipality, town.citizen_cfs[0], NUMBER, core.now()
        )

    _, late = await first_then_second(
        core,
        database_url,
        _register_delegate(core, town, 1, NUMBER),
        lambda: _committed(core, give),
    )

    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(late, timeout=10)
    assert refused.value.code == Refusal.IDENTITY_PHONE_IS_DELEGATE
    _said_in_both_languages(refused.value, "***083")
    phones, registered = await _holders(core, town)
    assert phones[0] == town.citizen_phones[0] and registered == [(1, NUMBER)]


@pytest.mark.parametrize("kind", ["phone", "delegate"])
async def test_a_delegate_registered_directly_while_a_request_names_the_number_is_refused(
    core: Core, database_url: str, kind: str
) -> None:
    """The command line registers a delegate at once (no request: its citizen has nothing
    to spend) while another operator asks the same number for citizen 0, as a new phone or
    a delegate, not committed yet: the registration waits for the request (both hold the
    number), then is refused as when the request came before. One live claim stays."""
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    await pay(core, town, 150_00, citizen=1)

    async def ask(uow: UnitOfWork) -> int:
        municipality = await municipalities.require(uow, town.code)
        cf = town.citizen_cfs[0]
        if kind == "phone":
            asked = await phone_changes.request(
                uow, team["clerk"], municipality, cf, NUMBER, core.now()
            )
            assert asked.waiting is not None
            return asked.waiting.id
        change = await phone_changes.request_delegate(
            uow, team["clerk"], municipality, cf, NUMBER, core.now()
        )
        return change.id

    async def direct(uow: UnitOfWork) -> m.Delegate:
        municipality = await municipalities.require(uow, town.code)
        return await delegates.add_delegate(
            uow, municipality, town.citizen_cfs[1], NUMBER, core.now()
        )

    change_id, late = await first_then_second(
        core, database_url, ask, lambda: _committed(core, direct)
    )
    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(late, timeout=10)
    assert refused.value.code == Refusal.REQUEST_NUMBER_ASKED
    assert refused.value.params == {"change_id": change_id, "phone": "***083"}
    _said_in_both_languages(refused.value, "***083")
    phones, registered = await _holders(core, town)
    assert registered == [] and NUMBER not in phones
    async with core.uow() as uow:
        waiting = await uow.phone_changes.waiting(town.municipality_id)
        assert [(change.id, change.phone) for change, _ in waiting] == [(change_id, NUMBER)]


async def test_the_database_refuses_a_delegate_on_a_citizens_own_number(
    core: Core, database_url: str
) -> None:
    """A write that skips the services, and on PostgreSQL one that meets a phone change
    not committed yet: the trigger waits for it, then refuses the row with the refusal
    the services give."""
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    asked = await _ask(core, town, team["clerk"], NUMBER)
    assert asked.waiting is not None

    def raw(index: int, phone: str) -> Callable[[], Awaitable[None]]:
        async def write() -> None:
            async with core.uow() as uow:
                uow.add(
                    m.Delegate(
                        municipality_id=town.municipality_id,
                        citizen_id=town.citizen_ids[index],
                        phone=phone,
                        created_at=core.now(),
                    )
                )
                await uow.commit()

        return write

    _, late = await first_then_second(
        core, database_url, _approve(core, team["manager"], asked.waiting.id), raw(1, NUMBER)
    )
    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(late, timeout=10)
    assert refused.value.code == Refusal.DELEGATE_PHONE_IS_CITIZEN
    assert refused.value.params == {"phone": "***083"}
    with pytest.raises(Conflict) as own:
        await raw(1, town.citizen_phones[1])()
    assert own.value.code == Refusal.DELEGATE_OWN_PHONE
    # A number that is nobody's own goes through, and so does moving it to another
    # free one; moving it onto a citizen's is refused.
    await raw(1, "+393471230084")()
    async with core.uow() as uow:
        delegate = await uow.delegates.of_citizen(town.citizen_ids[1])
        assert delegate is not None
        delegate.phone = "+393471230085"
        await uow.commit()
    with pytest.raises(Conflict) as moved:
        async with core.uow() as uow:
            delegate = await uow.delegates.of_citizen(town.citizen_ids[1])
            assert delegate is not None
            delegate.phone = NUMBER
            await uow.commit()
    assert moved.value.code == Refusal.DELEGATE_PHONE_IS_CITIZEN
    assert (await _holders(core, town))[1] == [(1, "+393471230085")]


async def test_the_guard_comes_and_goes_with_its_migration(empty_url: str) -> None:  # noqa: F811
    if empty_url.startswith("postgresql"):
        both = {GUARD, f"{GUARD}()"}
    else:
        both = {f"{GUARD}_insert", f"{GUARD}_update"}
    await assert_guard_comes_and_goes(empty_url, both, "0040_shop_member_phone")
