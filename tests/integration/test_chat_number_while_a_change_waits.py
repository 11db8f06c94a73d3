"""A Telegram chat linked to a citizen without a phone (an older application) proves a
number with its own contact: while the office changes that citizen's phone under four eyes,
or while a waiting request names the number, nothing is bound (docs/identity-and-consent.md
§5; the office's rule: while a change waits no other number is bound; the chat's own contact
and its application again are refused alike, with the refusal of a first number to a citizen
with money to spend, in test_chat_first_number_four_eyes). On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from core.bootstrap import Core
from core.services import identity, municipalities, phone_changes
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from tests.factories import Town
from tests.integration.linked_chat import (
    apply_from_chat,
    citizen_row,
    event_kinds,
    holder_without_phone,
)
from tests.integration.test_identity_races import _committed, first_then_second
from tests.integration.test_phone_changes import _ask, _operators

CHAT = "990061"
CHAT_PHONE = "+393471230061"
ASKED_PHONE = "+393471230062"


async def _town(core: Core) -> tuple[Town, dict[str, m.Operator]]:
    """Citizen 0 without a phone, CHAT linked to them; both citizens have a balance (so a new
    phone waits for a second operator)."""
    town = await holder_without_phone(core, chat=CHAT)
    return town, await _operators(core, town)


async def _holder(core: Core, town: Town) -> m.Citizen:
    return await citizen_row(core, town.citizen_ids[0])


async def test_a_chat_binds_no_number_a_waiting_request_names(core: Core) -> None:
    """Another household's new phone, asked and waiting, names the number: the request is
    the one claim on it until it is approved or withdrawn."""
    town, team = await _town(core)
    await _ask(core, town, team["clerk"], CHAT_PHONE, citizen=1)
    async with core.uow() as uow:
        with pytest.raises(identity.IdentityRefused) as refused:
            await identity.link_telegram(uow, town.municipality_id, CHAT, CHAT_PHONE, core.now())
        assert refused.value.reason == "number_asked"
        await uow.commit()
    holder = await _holder(core, town)
    assert (holder.phone, holder.telegram_chat_id) == (None, CHAT)
    assert (await event_kinds(core, town.citizen_ids[0]))[-1] == "link_refused"
    async with core.uow() as uow:
        with pytest.raises(identity.IdentityRefused) as again:
            await apply_from_chat(core, uow, town, CHAT, CHAT_PHONE)
        assert again.value.reason == "number_asked"


async def test_without_a_waiting_request_the_money_to_spend_still_needs_the_office(
    core: Core,
) -> None:
    """No change waits and nobody asked the number, but the citizen has a balance: a first
    number needs a second operator (test_chat_first_number_four_eyes)."""
    town, _ = await _town(core)
    async with core.uow() as uow:
        with pytest.raises(identity.FirstNumberNeedsOffice):
            await identity.link_telegram(uow, town.municipality_id, CHAT, CHAT_PHONE, core.now())
        await uow.commit()
    assert (await _holder(core, town)).phone is None


async def test_a_chat_proving_its_number_while_the_office_asks_a_change_waits_for_it(
    core: Core, database_url: str
) -> None:
    """The office's request holds the citizen's row until its commit (phone_changes.request);
    the chat takes the same lock, so it sees the waiting change and binds nothing (on
    PostgreSQL it waits; SQLite's one writer runs them in turn)."""
    town, team = await _town(core)

    async def ask(uow: UnitOfWork) -> Any:
        municipality = await municipalities.require(uow, town.code)
        return await phone_changes.request(
            uow, team["clerk"], municipality, town.citizen_cfs[0], ASKED_PHONE, core.now()
        )

    async def link(uow: UnitOfWork) -> Any:
        return await identity.link_telegram(uow, town.municipality_id, CHAT, CHAT_PHONE, core.now())

    asked, late = await first_then_second(core, database_url, ask, lambda: _committed(core, link))
    assert asked.waiting is not None
    with pytest.raises(identity.PhoneChangeWaiting):
        await late
    holder = await _holder(core, town)
    assert (holder.phone, holder.telegram_chat_id) == (None, CHAT)
