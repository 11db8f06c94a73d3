"""A phone change a Telegram chat asked (its own contact proved the number: identity.
FirstNumberNeedsOffice) stops waiting when that chat stops being the citizen's: the chat
proves its account's number is the delegate's, and is unlinked. Approved afterwards, it
went out as the office's own change: the number bound by one manager on the word of a
chat no longer the citizen's, and told by SMS "the office registered this number". Now
the request is withdrawn in the same transaction, logged with why, the chat told; an
approval of a chat's request whose chat is not linked any more is refused
(docs/identity-and-consent.md §5). On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.bootstrap import Core
from core.domain.errors import Conflict, Refusal
from core.i18n import render_text
from core.services import identity, municipalities, operators, phone_changes
from core.services.outbox import reply_of
from core.storage import models as m
from tests.factories import Town
from tests.integration.linked_chat import citizen_row, holder_without_phone

CHAT = "990101"
CHAT_PHONE = "+393471230101"
DELEGATE = "+393471230102"


async def _asked(core: Core) -> tuple[Town, m.Operator, int]:
    """Citizen 0 without a phone but with money to spend, CHAT linked to them, which asked
    CHAT_PHONE as their number (waiting, checked by a clerk); a manager who may approve it."""
    town = await holder_without_phone(core, chat=CHAT)
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        manager, _ = await operators.add_operator(
            uow, municipality, "tst.manager", "manager", core.now(), password="x" * 12
        )
        clerk, _ = await operators.add_operator(
            uow, municipality, "tst.clerk", "clerk", core.now(), password="x" * 12
        )
        await uow.commit()
    async with core.uow() as uow:
        with pytest.raises(identity.FirstNumberNeedsOffice) as refused:
            await identity.link_telegram(uow, town.municipality_id, CHAT, CHAT_PHONE, core.now())
        await uow.commit()
    assert refused.value.change is not None
    change_id = refused.value.change.id
    async with core.uow() as uow:
        await phone_changes.check_chat_request(uow, clerk, change_id, core.now())
        await uow.commit()
    return town, manager, change_id


async def _chat_proves_a_delegates_number(core: Core, town: Town, delegator_id: int) -> None:
    """DELEGATE registered as `delegator_id`'s delegate, then shared by CHAT as its contact:
    refused as that delegate's number (the chat is unlinked from citizen 0)."""
    async with core.uow() as uow:
        uow.add(
            m.Delegate(
                municipality_id=town.municipality_id,
                citizen_id=delegator_id,
                phone=DELEGATE,
                created_at=core.now(),
            )
        )
        await uow.commit()
    async with core.uow() as uow:
        with pytest.raises(identity.DelegateNumber):
            await identity.link_telegram(uow, town.municipality_id, CHAT, DELEGATE, core.now())
        await uow.commit()


async def test_the_chat_unlinked_as_the_delegate_withdraws_its_request(core: Core) -> None:
    town, manager, change_id = await _asked(core)
    # The account's number is now the holder's delegate's: the chat is unlinked.
    await _chat_proves_a_delegates_number(core, town, town.citizen_ids[0])
    async with core.uow() as uow:
        change = await uow.phone_changes.by_id(change_id)
        assert change is not None
        assert (change.status, change.phone, change.decided_by_id, change.reason) == (
            "withdrawn",
            None,
            None,
            identity.CHAT_UNLINKED,
        )
        assert await phone_changes.waiting(uow, town.municipality_id) == []
        [entry] = [
            e
            for e in await uow.activity.newest_first(town.municipality_id, 10, 0)
            if e.action == "citizen.phone_withdraw"
        ]
        chat = list(await uow.outbox.for_address("telegram", CHAT))
        sms = list(await uow.outbox.for_address("sms", CHAT_PHONE))
    assert (entry.actor, entry.operator_id, entry.subject) == (
        "chat:telegram",
        None,
        change.subject,
    )
    assert entry.before == {"phone": "***101", "change": change_id}
    assert entry.after == {"status": "withdrawn", "outcome": identity.CHAT_UNLINKED}
    said = render_text(reply_of(core.keys, chat[-1]).texts[0], "en")
    assert "***101" in said and "withdrawn" in said
    assert sms == []
    # The manager who would have approved it is told it no longer waits; nothing is bound.
    async with core.uow() as uow:
        with pytest.raises(Conflict) as late:
            await phone_changes.approve(uow, manager, change_id, core.now())
    assert late.value.code == Refusal.PHONE_CHANGE_NOT_WAITING
    holder = await citizen_row(core, town.citizen_ids[0])
    assert (holder.phone, holder.telegram_chat_id) == (None, None)


async def test_a_chats_request_is_not_approved_once_the_chat_is_unlinked(core: Core) -> None:
    """Whatever unlinked the chat (a script, an older row): the approval refuses, nothing is
    bound and no SMS tells the number it was registered."""
    town, manager, change_id = await _asked(core)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[0])
            .values(telegram_chat_id=None)
        )
        await uow.commit()
    async with core.uow() as uow:
        with pytest.raises(Conflict) as refused:
            await phone_changes.approve(uow, manager, change_id, core.now())
    assert refused.value.code == Refusal.PHONE_CHANGE_CHAT_UNLINKED
    holder = await citizen_row(core, town.citizen_ids[0])
    assert holder.phone is None
    async with core.uow() as uow:
        change = await uow.phone_changes.by_id(change_id)
        assert change is not None and change.status == "waiting"
        assert list(await uow.outbox.for_address("sms", CHAT_PHONE)) == []


async def test_the_database_refuses_approving_it_whatever_writes_it(core: Core) -> None:
    """Migration 0046_chat_request_needs_its_chat: the approval written straight to the row,
    the chat unlinked, is refused with the service's code; withdrawing it goes through."""
    town, manager, change_id = await _asked(core)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[0])
            .values(telegram_chat_id=None)
        )
        await uow.commit()
    decided = {"decided_by_id": manager.id, "decided_at": core.now(), "phone": None}
    with pytest.raises(Conflict) as refused:
        async with core.uow() as uow:
            await uow.session.execute(
                update(m.PhoneChange)
                .where(m.PhoneChange.id == change_id)
                .values(status="approved", **decided)
            )
    assert refused.value.code == Refusal.PHONE_CHANGE_CHAT_UNLINKED
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.PhoneChange)
            .where(m.PhoneChange.id == change_id)
            .values(status="withdrawn", reason="x", **decided)
        )
        await uow.commit()
        change = await uow.phone_changes.by_id(change_id)
        assert change is not None and change.status == "withdrawn"


async def test_the_chat_proving_another_households_delegate_withdraws_it_too(
    core: Core,
) -> None:
    """While its request waits the chat proves another household's delegate's number: that
    number cannot become the citizen's (a change waits, money to spend), and the account is
    that delegate's. Unlinked, its request withdrawn."""
    town, _, change_id = await _asked(core)
    await _chat_proves_a_delegates_number(core, town, town.citizen_ids[1])
    holder = await citizen_row(core, town.citizen_ids[0])
    assert (holder.phone, holder.telegram_chat_id) == (None, None)
    async with core.uow() as uow:
        change = await uow.phone_changes.by_id(change_id)
        assert change is not None
        assert (change.status, change.reason) == ("withdrawn", identity.CHAT_UNLINKED)
