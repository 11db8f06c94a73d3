"""Two identity decisions on the same person at the same moment end as if one had come
after the other.

- Two chats claiming two forms of one codice fiscale (omocodia folded: one person key)
  both found nobody and both made a citizen: two households for one person. A claim
  now holds the person key before it looks (CitizenRepository.hold_person), so the
  second finds the first's citizen and is refused as a late claim is.

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
from sqlalchemy import text

from core.bootstrap import Core
from core.domain.identity import PhoneProof
from core.services import identity
from core.services.applications import submit_application
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from tests.dialogue.harness import Chat, msgids, param, town_with_open_window
from tests.dialogue.test_identity import ANSWERS, CODE, MEMBERS, NOTICE, REFUSED, notices_to
from tests.factories import Town, make_cf
from tests.integration.test_code_destination_races import _blocked_or_done
from tests.integration.test_identity import _application, _count, _submit_from_chat, omocode
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)

T = TypeVar("T")
PERSON = make_cf(820)
FIRST_PHONE = "+393471230081"
SECOND_PHONE = "+393471230082"


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
