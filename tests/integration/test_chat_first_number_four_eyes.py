"""A Telegram chat linked to a citizen the office knows without a phone (an application made
from that chat before phones were required) proves a number with its own contact. The link
never proved the chat is the person (whoever typed the codice fiscale there made it: a
relative, a delegate, anybody), so while the citizen has money to spend the number is not
bound from the chat: as for the office's first number, a second operator approves it
(docs/identity-and-consent.md §5 and §6, identity.money_at_stake). With nothing to spend
and nothing coming the chat's number is bound at once. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.domain.identity import PhoneProof
from core.services import identity, municipalities, operators, phone_changes
from core.storage import models as m
from tests.integration.linked_chat import (
    apply_from_chat,
    holder_without_phone,
    idle_without_phone,
)

CHAT = "990071"
CHAT_PHONE = "+393471230071"
IDLE_CHAT = "990072"
IDLE_PHONE = "+393471230072"


async def _citizen(core: Core, citizen_id: int) -> m.Citizen:
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(citizen_id)
        assert citizen is not None
        return citizen


async def _kinds(core: Core, citizen_id: int) -> list[str]:
    async with core.uow() as uow:
        return [e.kind for e in await uow.identity_events.for_citizen(citizen_id)]


async def test_a_linked_chat_gives_no_first_number_to_a_citizen_with_money(core: Core) -> None:
    town = await holder_without_phone(core, chat=CHAT)
    holder_id = town.citizen_ids[0]
    before = await _kinds(core, holder_id)
    # Sharing the contact (SALDO, STATO, the card): refused, nothing bound, the office sees it.
    async with core.uow() as uow:
        with pytest.raises(identity.FirstNumberNeedsOffice) as refused:
            await identity.link_telegram(uow, town.municipality_id, CHAT, CHAT_PHONE, core.now())
        assert refused.value.reason == "phone_needs_approval"
        await uow.commit()
    holder = await _citizen(core, holder_id)
    assert (holder.phone, holder.phone_proven_by, holder.telegram_chat_id) == (None, None, CHAT)
    assert await _kinds(core, holder_id) == [*before, "link_refused"]
    # Applying again from that chat with the number (claim_citizen's linked path): the same.
    async with core.uow() as uow:
        with pytest.raises(identity.FirstNumberNeedsOffice):
            await apply_from_chat(core, uow, town, CHAT, CHAT_PHONE)
        await uow.commit()
    assert (await _citizen(core, holder_id)).phone is None
    assert await _kinds(core, holder_id) == [*before, "link_refused", "claim_refused"]
    async with core.uow() as uow:
        assert await uow.citizens.by_phone(town.municipality_id, CHAT_PHONE) is None


async def test_the_office_gives_that_number_with_a_second_operator(core: Core) -> None:
    """The person comes to the office: a clerk asks the chat's number, a manager approves
    it (the change unlinks the chat, which shares its contact again to be linked)."""
    town = await holder_without_phone(core, chat=CHAT)
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        team = {}
        for name in ("clerk", "manager"):
            team[name], _ = await operators.add_operator(
                uow, municipality, f"tst.{name}", name, core.now(), password="x" * 12
            )
        asked = await phone_changes.request(
            uow, team["clerk"], municipality, town.citizen_cfs[0], CHAT_PHONE, core.now()
        )
        await uow.commit()
    assert asked.applied is None and asked.waiting is not None
    assert (await _citizen(core, town.citizen_ids[0])).phone is None
    async with core.uow() as uow:
        await phone_changes.approve(uow, team["manager"], asked.waiting.id, core.now())
        await uow.commit()
    assert (await _citizen(core, town.citizen_ids[0])).phone == CHAT_PHONE
    async with core.uow() as uow:
        linked = await identity.link_telegram(
            uow, town.municipality_id, CHAT, CHAT_PHONE, core.now()
        )
        assert linked is not None and linked.id == town.citizen_ids[0]
        await uow.commit()


@pytest.mark.parametrize("by", ["contact", "application"])
async def test_with_nothing_to_spend_the_chat_binds_its_number(core: Core, by: str) -> None:
    town = await holder_without_phone(core)
    citizen_id, code = await idle_without_phone(core, town, IDLE_CHAT, 71)
    async with core.uow() as uow:
        if by == "contact":
            bound = await identity.link_telegram(
                uow, town.municipality_id, IDLE_CHAT, IDLE_PHONE, core.now()
            )
        else:
            bound, _ = await identity.claim_citizen(
                uow,
                town.municipality_id,
                code,
                phone=IDLE_PHONE,
                proof=PhoneProof.TELEGRAM_CONTACT,
                now=core.now(),
                telegram_user=IDLE_CHAT,
                channel="telegram",
            )
        assert bound is not None and bound.id == citizen_id
        await uow.commit()
    citizen = await _citizen(core, citizen_id)
    assert (citizen.phone, citizen.phone_proven_by) == (IDLE_PHONE, "telegram_contact")
    assert (await _kinds(core, citizen_id))[-1] == "phone_bound"
