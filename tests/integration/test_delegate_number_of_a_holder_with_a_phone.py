"""A Telegram chat linked to a citizen who has a phone of their own shares its own contact,
and the number is that citizen's registered delegate: Telegram says the account is the
delegate's, so the chat stops acting as the holder (their card, status, payment codes in
that chat) and acts as the delegate's number does, exactly as for a holder without a phone
(docs/identity-and-consent.md §5, docs/cards-and-delegates.md "One phone speaks for one
person"). The holder's own phone stays; their own account links again with it. On SQLite
and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.bootstrap import Core
from core.services import delegates, identity
from core.storage import models as m
from tests.factories import Town, make_town, request
from tests.integration.linked_chat import citizen_row, event_kinds

DELEGATE = "+393471230061"
OTHER_DELEGATE = "+393471230062"
CHAT = "990061"
OWN_CHAT = "990063"


async def _holder_with_a_phone(core: Core) -> Town:
    """Citizen 0 with their own phone, CHAT linked to them; OTHER_DELEGATE citizen 1's
    delegate. _register(DELEGATE) makes DELEGATE citizen 0's."""
    town = await make_town(core, citizens=2)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[0])
            .values(telegram_chat_id=CHAT)
        )
        await uow.commit()
    await _register(core, town, 1, OTHER_DELEGATE)
    return town


async def _register(core: Core, town: Town, index: int, phone: str) -> None:
    async with core.uow() as uow:
        uow.session.add(
            m.Delegate(
                municipality_id=town.municipality_id,
                citizen_id=town.citizen_ids[index],
                phone=phone,
                created_at=core.now(),
            )
        )
        await uow.commit()


async def test_the_chat_proving_the_delegates_number_acts_as_the_delegate(core: Core) -> None:
    town = await _holder_with_a_phone(core)
    await _register(core, town, 0, DELEGATE)
    holder_id = town.citizen_ids[0]
    async with core.uow() as uow:
        with pytest.raises(identity.DelegateNumber):
            await identity.link_telegram(uow, town.municipality_id, CHAT, DELEGATE, core.now())
        await uow.commit()
    holder = await citizen_row(core, holder_id)
    # The holder's own phone stays; the chat (the delegate's account) is no longer theirs.
    assert (holder.phone, holder.telegram_chat_id) == (town.citizen_phones[0], None)
    assert (await event_kinds(core, holder_id))[-2:] == ["telegram_unbound", "link_refused"]
    async with core.uow() as uow:
        assert await identity.citizen_of(uow, town.municipality_id, telegram_chat=CHAT) is None
        acts_for = await delegates.represented_by(uow, town.municipality_id, DELEGATE)
        assert acts_for is not None and acts_for.id == holder_id
        # The holder's own account links again by sharing their own number.
        linked = await identity.link_telegram(
            uow, town.municipality_id, OWN_CHAT, town.citizen_phones[0], core.now()
        )
        assert linked is not None and linked.id == holder_id
        await uow.commit()


async def test_a_code_sent_to_the_chat_it_unlinks_confirms_nothing(core: Core) -> None:
    """A payment asked while the chat was the holder's (before the delegate was registered)
    sent its code there: once the chat is unlinked it is cancelled."""
    town = await _holder_with_a_phone(core)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 5_00)
    async with core.uow() as uow:
        assert await uow.outbox.for_address("telegram", CHAT)  # the code went to the chat
    await _register(core, town, 0, DELEGATE)
    async with core.uow() as uow:
        with pytest.raises(identity.DelegateNumber):
            await identity.link_telegram(uow, town.municipality_id, CHAT, DELEGATE, core.now())
        await uow.commit()
    async with core.uow() as uow:
        charge = await uow.charges.by_id(requested.charge_id)
        assert charge is not None
        assert (charge.status, charge.closed_reason) == ("cancelled", "code_elsewhere")


async def test_another_households_delegate_number_unlinks_the_chat_too(core: Core) -> None:
    """Another household's delegate's number: the account is that delegate's (Telegram
    verified it), no more the holder's than their own delegate's would be. Unlinked, it acts
    as that number does; the holder's own phone stays."""
    town = await _holder_with_a_phone(core)
    holder_id = town.citizen_ids[0]
    async with core.uow() as uow:
        with pytest.raises(identity.DelegateNumber):
            await identity.link_telegram(
                uow, town.municipality_id, CHAT, OTHER_DELEGATE, core.now()
            )
        await uow.commit()
    holder = await citizen_row(core, holder_id)
    assert (holder.phone, holder.telegram_chat_id) == (town.citizen_phones[0], None)
    assert (await event_kinds(core, holder_id))[-2:] == ["telegram_unbound", "link_refused"]
    async with core.uow() as uow:
        assert await identity.citizen_of(uow, town.municipality_id, telegram_chat=CHAT) is None
        acts_for = await delegates.represented_by(uow, town.municipality_id, OTHER_DELEGATE)
        assert acts_for is not None and acts_for.id == town.citizen_ids[1]
