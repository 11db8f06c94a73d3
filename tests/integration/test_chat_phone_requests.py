"""A Telegram chat linked to a citizen without a phone who has money to spend proves a number
with its own contact: nothing is bound, and the number waits for the office as a phone change
the chat asked (no operator): an operator checks the person, and a manager other than that
operator approves it (docs/identity-and-consent.md §5).
Sharing it again asks nothing more; another number while it waits is refused; approved, the
number is the citizen's and the chat stays theirs. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.domain.errors import Conflict, NotAllowed, Refusal
from core.i18n import render_text
from core.services import identity, municipalities, operators, phone_changes
from core.services.outbox import reply_of
from core.storage import models as m
from tests.factories import Town
from tests.integration.linked_chat import (
    apply_from_chat,
    holder_without_phone,
    idle_without_phone,
)

CHAT = "990081"
CHAT_PHONE = "+393471230081"
OTHER_PHONE = "+393471230082"
IDLE_CHAT = "990083"
IDLE_PHONE = "+393471230083"


async def _town(core: Core) -> tuple[Town, dict[str, m.Operator]]:
    """Citizen 0 without a phone, CHAT linked to them, a balance to spend; a clerk and two
    managers."""
    town = await holder_without_phone(core, chat=CHAT)
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        team = {}
        for name in ("clerk", "manager", "manager2"):
            team[name], _ = await operators.add_operator(
                uow, municipality, f"tst.{name}", name.rstrip("2"), core.now(), password="x" * 12
            )
        await uow.commit()
    return town, team


async def _share(core: Core, town: Town, phone: str = CHAT_PHONE) -> identity.IdentityRefused:
    """CHAT shares its own contact; the refusal, committed with what it wrote."""
    async with core.uow() as uow:
        with pytest.raises(identity.IdentityRefused) as refused:
            await identity.link_telegram(uow, town.municipality_id, CHAT, phone, core.now())
        await uow.commit()
    return refused.value


async def _waiting(core: Core, town: Town) -> list[phone_changes.Waiting]:
    async with core.uow() as uow:
        return await phone_changes.waiting(uow, town.municipality_id)


async def _holder(core: Core, town: Town) -> m.Citizen:
    async with core.uow() as uow:
        holder = await uow.citizens.by_id(town.citizen_ids[0])
        assert holder is not None
        return holder


async def test_the_refused_first_number_waits_for_the_office_asked_by_the_chat(
    core: Core,
) -> None:
    town, _ = await _town(core)
    refused = await _share(core, town)
    assert isinstance(refused, identity.FirstNumberNeedsOffice)
    assert refused.change is not None
    [item] = await _waiting(core, town)
    change = item.change
    assert (change.id, change.kind, change.status) == (refused.change.id, "phone", "waiting")
    assert (change.requested_by_id, change.requested_by_chat) == (None, CHAT)
    assert (change.phone, change.phone_masked, change.previous_masked) == (
        CHAT_PHONE,
        "***081",
        None,
    )
    assert item.by_chat and item.requested_by == identity.CHAT_ACTOR
    assert item.citizen.id == town.citizen_ids[0]
    # Nothing bound; the office sees the attempt in the identity log and the request in its
    # activity log, in the same transaction.
    holder = await _holder(core, town)
    assert (holder.phone, holder.telegram_chat_id) == (None, CHAT)
    async with core.uow() as uow:
        kinds = [e.kind for e in await uow.identity_events.for_citizen(holder.id)]
        entries = await uow.activity.newest_first(town.municipality_id, 5, 0)
    assert kinds[-1] == "link_refused"
    entry = entries[0]
    assert (entry.actor, entry.action, entry.operator_id) == (
        "chat:telegram",
        "citizen.phone_request",
        None,
    )
    assert entry.after == {"phone": "***081", "change": change.id, "requested_by": "chat:telegram"}


async def test_sharing_again_asks_nothing_more_and_another_number_is_refused(
    core: Core,
) -> None:
    town, _ = await _town(core)
    first = await _share(core, town)
    assert isinstance(first, identity.FirstNumberNeedsOffice) and first.change is not None
    again = await _share(core, town)
    assert isinstance(again, identity.FirstNumberNeedsOffice) and again.change is not None
    assert again.change.id == first.change.id
    # Applying again from the chat with the number: the same request.
    async with core.uow() as uow:
        with pytest.raises(identity.FirstNumberNeedsOffice) as applied:
            await apply_from_chat(core, uow, town, CHAT, CHAT_PHONE)
        await uow.commit()
    assert applied.value.change is not None and applied.value.change.id == first.change.id
    # Another number while the first waits: refused as any waiting change refuses it; the
    # office decides the one asked.
    other = await _share(core, town, OTHER_PHONE)
    assert isinstance(other, identity.PhoneChangeWaiting)
    assert [item.change.phone for item in await _waiting(core, town)] == [CHAT_PHONE]


async def _check(core: Core, operator: m.Operator, change_id: int) -> None:
    """`operator` checked the person (a call, a document): the first pair of eyes."""
    async with core.uow() as uow:
        await phone_changes.check_chat_request(uow, operator, change_id, core.now())
        await uow.commit()


async def test_a_manager_alone_never_approves_it_and_the_chat_stays_the_citizens(
    core: Core,
) -> None:
    """Trial 10: one manager approved the chat's number alone, the chat's contact counted as
    the first pair of eyes. A manager who holds that chat (their own Telegram, linked to
    the citizen by an older application) approved their own number: one person chose who
    receives the citizen's payment codes. An operator checks the person first, and a
    manager other than that operator approves."""
    town, team = await _town(core)
    refused = await _share(core, town)
    assert isinstance(refused, identity.FirstNumberNeedsOffice) and refused.change is not None
    change_id = refused.change.id
    for operator in (team["clerk"], team["manager"]):
        async with core.uow() as uow:
            with pytest.raises(NotAllowed) as alone:
                await phone_changes.approve(uow, operator, change_id, core.now())
    assert alone.value.code == Refusal.PHONE_CHANGE_NOT_CHECKED
    # A manager checks it: another manager approves, never the one who checked.
    await _check(core, team["manager"], change_id)
    [item] = await _waiting(core, town)
    assert (item.by_chat, item.requested_by, item.change.requested_by_chat) == (
        True,
        "tst.manager",
        CHAT,
    )
    async with core.uow() as uow:
        with pytest.raises(NotAllowed) as own:
            await phone_changes.approve(uow, team["manager"], change_id, core.now())
    assert own.value.code == Refusal.PHONE_CHANGE_SAME_PERSON
    async with core.uow() as uow:
        done = await phone_changes.approve(uow, team["manager2"], change_id, core.now())
        await uow.commit()
    assert (done.previous_phone, done.phone, done.telegram_unlinked) == (None, CHAT_PHONE, False)
    holder = await _holder(core, town)
    assert (holder.phone, holder.phone_proven_by, holder.telegram_chat_id) == (
        CHAT_PHONE,
        "telegram_contact",
        CHAT,
    )
    assert await _waiting(core, town) == []
    async with core.uow() as uow:
        change = await uow.phone_changes.by_id(change_id)
        assert change is not None
        assert (change.status, change.phone, change.requested_by_id, change.decided_by_id) == (
            "approved",
            None,
            team["manager"].id,
            team["manager2"].id,
        )
        entries = await uow.activity.newest_first(town.municipality_id, 2, 0)
        assert [x.action for x in entries] == ["citizen.phone_approve", "citizen.phone_check"]
        assert entries[0].before is not None
        assert entries[0].before["requested_by"] == "tst.manager"
        # The chat is answered as the citizen's now.
        linked = await identity.link_telegram(
            uow, town.municipality_id, CHAT, CHAT_PHONE, core.now()
        )
        assert linked is not None and linked.id == holder.id


async def test_a_clerk_checks_it_once_and_a_manager_approves(core: Core) -> None:
    town, team = await _town(core)
    refused = await _share(core, town)
    assert isinstance(refused, identity.FirstNumberNeedsOffice) and refused.change is not None
    await _check(core, team["clerk"], refused.change.id)
    # Checked once: another operator checking it again is refused, nothing changes.
    async with core.uow() as uow:
        with pytest.raises(Conflict) as again:
            await phone_changes.check_chat_request(
                uow, team["manager"], refused.change.id, core.now()
            )
    assert again.value.code == Refusal.PHONE_CHANGE_CHECKED
    async with core.uow() as uow:
        await phone_changes.approve(uow, team["manager"], refused.change.id, core.now())
        await uow.commit()
    assert (await _holder(core, town)).phone == CHAT_PHONE


async def test_the_database_refuses_a_chats_request_approved_by_one_operator(
    core: Core,
) -> None:
    town, team = await _town(core)
    refused = await _share(core, town)
    assert isinstance(refused, identity.FirstNumberNeedsOffice) and refused.change is not None
    with pytest.raises(IntegrityError):
        async with core.uow() as uow:
            await uow.phone_changes.mark_decided(
                refused.change.id,
                status="approved",
                decided_by_id=team["manager"].id,
                decided_at=core.now(),
                phone=None,
            )
            await uow.flush()


async def test_withdrawn_the_chat_may_ask_again(core: Core) -> None:
    town, team = await _town(core)
    refused = await _share(core, town)
    assert isinstance(refused, identity.FirstNumberNeedsOffice) and refused.change is not None
    async with core.uow() as uow:
        await phone_changes.withdraw(
            uow, team["manager"], refused.change.id, "not the person's", core.now()
        )
        await uow.commit()
    assert await _waiting(core, town) == []
    assert (await _holder(core, town)).phone is None
    again = await _share(core, town)
    assert isinstance(again, identity.FirstNumberNeedsOffice) and again.change is not None
    assert again.change.id != refused.change.id


async def test_withdrawn_only_the_chat_that_asked_is_told_never_the_number(core: Core) -> None:
    """The citizen asked from the Telegram chat: the withdrawal is said in that chat (where
    they wait for the answer). The number the chat proved is the chat's, not proven the
    citizen's: no SMS tells it about a citizen who may not be its holder's."""
    town, team = await _town(core)
    refused = await _share(core, town)
    assert isinstance(refused, identity.FirstNumberNeedsOffice) and refused.change is not None
    async with core.uow() as uow:
        before = len(await uow.outbox.for_address("telegram", CHAT))
        await phone_changes.withdraw(
            uow, team["manager"], refused.change.id, "not the person's", core.now()
        )
        await uow.commit()
    async with core.uow() as uow:
        chat = list(await uow.outbox.for_address("telegram", CHAT))
        sms = list(await uow.outbox.for_address("sms", CHAT_PHONE))
    assert len(chat) == before + 1
    said = render_text(reply_of(core.keys, chat[-1]).texts[0], chat[-1].language)
    assert "***081" in said and "withdrawn" in render_text(
        reply_of(core.keys, chat[-1]).texts[0], "en"
    )
    assert "non ha approvato il numero ***081" in said  # the citizen's language: Italian
    assert sms == []


async def test_approved_the_chat_that_asked_is_told_there_not_by_sms(core: Core) -> None:
    """Approved, the answer goes where it was asked, the chat (still the citizen's, and
    where they are reached now); the number is the chat's own account's: no SMS."""
    town, team = await _town(core)
    refused = await _share(core, town)
    assert isinstance(refused, identity.FirstNumberNeedsOffice) and refused.change is not None
    await _check(core, team["clerk"], refused.change.id)
    async with core.uow() as uow:
        before = len(await uow.outbox.for_address("telegram", CHAT))
        await phone_changes.approve(uow, team["manager"], refused.change.id, core.now())
        await uow.commit()
    async with core.uow() as uow:
        chat = list(await uow.outbox.for_address("telegram", CHAT))
        sms = list(await uow.outbox.for_address("sms", CHAT_PHONE))
    assert len(chat) == before + 1
    reply = reply_of(core.keys, chat[-1])
    assert "approved the number ***081" in render_text(reply.texts[0], "en")
    assert "ha approvato il numero ***081" in render_text(reply.texts[0], chat[-1].language)
    assert sms == []


async def test_with_nothing_to_spend_no_request_is_made(core: Core) -> None:
    town, _ = await _town(core)
    citizen_id, _ = await idle_without_phone(core, town, IDLE_CHAT, 83)
    async with core.uow() as uow:
        bound = await identity.link_telegram(
            uow, town.municipality_id, IDLE_CHAT, IDLE_PHONE, core.now()
        )
        assert bound is not None and bound.id == citizen_id
        await uow.commit()
    assert await _waiting(core, town) == []


@pytest.mark.parametrize("requester", ["neither", "chat_delegate"])
async def test_the_database_wants_a_requester(core: Core, requester: str) -> None:
    """An operator, the chat, or both (the chat's number an operator checked); a chat asks
    only for a phone."""
    town, _ = await _town(core)
    choices: dict[str, dict[str, Any]] = {
        "neither": {"requested_by_id": None, "requested_by_chat": None},
        "chat_delegate": {"requested_by_id": None, "requested_by_chat": CHAT, "kind": "delegate"},
    }
    values = choices[requester]
    row = {
        "municipality_id": town.municipality_id,
        "citizen_id": town.citizen_ids[0],
        "kind": "phone",
        "subject": "x",
        "phone": CHAT_PHONE,
        "phone_masked": "***081",
        "status": "waiting",
        "requested_at": core.now(),
        **values,
    }
    with pytest.raises(IntegrityError):
        async with core.uow() as uow:
            uow.add(m.PhoneChange(**row))
            await uow.flush()
