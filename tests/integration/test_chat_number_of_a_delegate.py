"""Trial 9: a Telegram chat linked to a citizen without a phone proves, with its own
contact, the number another household registered as its delegate, while the citizen has
money to spend. It went on as a phone change asked by the chat, waiting for a manager whose
approval the office's own rule then refused (identity.check_new_phone: a delegate's phone
is nobody's new phone), the number held by the request meanwhile. It is refused at once,
logged on the citizen, and nothing waits for the office. The account proved to be that
delegate's is no longer the citizen's either: unlinked, it acts as the delegate's number
does, as a chat proving the citizen's own delegate's number does (DelegateNumber). (For a
citizen with nothing to spend the number still becomes theirs: a delegate applying for
their own household, tests/integration/test_delegate_number_not_the_holders.py.) On SQLite
and PostgreSQL."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.services import delegates, identity, phone_changes
from core.storage import models as m
from tests.integration.linked_chat import apply_from_chat, holder_without_phone

CHAT = "990091"
DELEGATES_PHONE = "+393471230091"


async def test_a_chat_proving_another_households_delegates_number_is_refused(
    core: Core,
) -> None:
    town = await holder_without_phone(core, chat=CHAT)
    async with core.uow() as uow:
        # Citizen 1's delegate, registered by the office.
        uow.add(
            m.Delegate(
                municipality_id=town.municipality_id,
                citizen_id=town.citizen_ids[1],
                phone=DELEGATES_PHONE,
                created_at=core.now(),
            )
        )
        await uow.commit()
    async with core.uow() as uow:
        with pytest.raises(identity.IdentityRefused) as refused:
            await identity.link_telegram(
                uow, town.municipality_id, CHAT, DELEGATES_PHONE, core.now()
            )
        await uow.commit()
    assert isinstance(refused.value, identity.DelegateNumber)
    async with core.uow() as uow:
        assert await phone_changes.waiting(uow, town.municipality_id) == []
        holder = await uow.citizens.by_id(town.citizen_ids[0])
        assert holder is not None and (holder.phone, holder.telegram_chat_id) == (None, None)
        kinds = [e.kind for e in await uow.identity_events.for_citizen(holder.id)]
        assert await identity.citizen_of(uow, town.municipality_id, telegram_chat=CHAT) is None
        acts_for = await delegates.represented_by(uow, town.municipality_id, DELEGATES_PHONE)
        assert acts_for is not None and acts_for.id == town.citizen_ids[1]
    assert kinds[-2:] == ["telegram_unbound", identity.LINK_REFUSED]
    # Applying again from the chat with that number: refused, nothing waits.
    async with core.uow() as uow:
        with pytest.raises(identity.IdentityRefused) as applied:
            await apply_from_chat(core, uow, town, CHAT, DELEGATES_PHONE)
        await uow.commit()
    assert not isinstance(applied.value, identity.FirstNumberNeedsOffice)
    async with core.uow() as uow:
        assert await phone_changes.waiting(uow, town.municipality_id) == []
