"""A Telegram chat linked to a citizen the office knows without a phone (an application made
from that chat before phones were required) proves a number with its own contact. The link
never proved the chat is the person (whoever typed the codice fiscale there made it: a
relative, a delegate, anybody), so while the citizen has money to spend the number is not
bound from the chat: it waits for the office as a change the chat asked, which a manager
approves (docs/identity-and-consent.md §5 and §6, identity.money_at_stake). With nothing to spend
and nothing coming the chat's number is bound at once. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.domain.identity import PhoneProof
from core.services import identity, phone_changes
from tests.integration.linked_chat import (
    apply_from_chat,
    citizen_row,
    event_kinds,
    holder_without_phone,
    idle_without_phone,
)
from tests.integration.test_phone_changes import _approve, _ask, _operators

CHAT = "990071"
CHAT_PHONE = "+393471230071"
ASKED_PHONE = "+393471230073"
IDLE_CHAT = "990072"
IDLE_PHONE = "+393471230072"


@pytest.mark.parametrize(
    ("asked_before", "refusal", "reason"),
    [
        (False, identity.FirstNumberNeedsOffice, "phone_needs_approval"),
        # While the office changes the phone under four eyes no other number is bound
        # (test_chat_number_while_a_change_waits).
        (True, identity.PhoneChangeWaiting, "phone_change_waiting"),
    ],
    ids=["money_to_spend", "change_waiting"],
)
async def test_a_linked_chat_gives_no_first_number_to_a_citizen_with_money(
    core: Core, asked_before: bool, refusal: type[identity.IdentityRefused], reason: str
) -> None:
    """Refused whether or not the office has already asked a new phone for the citizen;
    the office's decision is then the number."""
    town = await holder_without_phone(core, chat=CHAT)
    holder_id = town.citizen_ids[0]
    team = await _operators(core, town)
    asked = await _ask(core, town, team["clerk"], ASKED_PHONE) if asked_before else None
    before = await event_kinds(core, holder_id)
    # Sharing the contact (SALDO, STATO, the card): refused, nothing bound, the chat still
    # the citizen's, the office sees it.
    async with core.uow() as uow:
        with pytest.raises(refusal) as refused:
            await identity.link_telegram(uow, town.municipality_id, CHAT, CHAT_PHONE, core.now())
        assert refused.value.reason == reason
        await uow.commit()
    holder = await citizen_row(core, holder_id)
    assert (holder.phone, holder.phone_proven_by, holder.telegram_chat_id) == (None, None, CHAT)
    assert await event_kinds(core, holder_id) == [*before, "link_refused"]
    # Applying again from that chat with the number (claim_citizen's linked path): the same.
    async with core.uow() as uow:
        with pytest.raises(refusal):
            await apply_from_chat(core, uow, town, CHAT, CHAT_PHONE)
        await uow.commit()
    assert (await citizen_row(core, holder_id)).phone is None
    assert await event_kinds(core, holder_id) == [*before, "link_refused", "claim_refused"]
    async with core.uow() as uow:
        assert await uow.citizens.by_phone(town.municipality_id, CHAT_PHONE) is None
    # The office decides the number: the change two operators asked, or else the chat's
    # own number, which waits for it as a change the chat asked (an operator checks the
    # person, a manager other than them approves it: test_chat_phone_requests).
    if asked is None:
        waiting = refused.value
        assert isinstance(waiting, identity.FirstNumberNeedsOffice)
        assert waiting.change is not None and waiting.change.phone == CHAT_PHONE
        async with core.uow() as uow:
            await phone_changes.check_chat_request(
                uow, team["clerk"], waiting.change.id, core.now()
            )
            await uow.commit()
        await _approve(core, team["manager"], waiting.change.id)
        assert (await citizen_row(core, holder_id)).phone == CHAT_PHONE
    else:
        assert asked.waiting is not None
        await _approve(core, team["manager"], asked.waiting.id)
        assert (await citizen_row(core, holder_id)).phone == ASKED_PHONE


async def test_the_office_gives_that_number_with_a_second_operator(core: Core) -> None:
    """The person comes to the office: a clerk asks the chat's number, a manager approves
    it (the change unlinks the chat, which shares its contact again to be linked)."""
    town = await holder_without_phone(core, chat=CHAT)
    team = await _operators(core, town)
    asked = await _ask(core, town, team["clerk"], CHAT_PHONE)
    assert asked.applied is None and asked.waiting is not None
    assert (await citizen_row(core, town.citizen_ids[0])).phone is None
    await _approve(core, team["manager"], asked.waiting.id)
    assert (await citizen_row(core, town.citizen_ids[0])).phone == CHAT_PHONE
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
    citizen = await citizen_row(core, citizen_id)
    assert (citizen.phone, citizen.phone_proven_by) == (IDLE_PHONE, "telegram_contact")
    assert (await event_kinds(core, citizen_id))[-1] == "phone_bound"
