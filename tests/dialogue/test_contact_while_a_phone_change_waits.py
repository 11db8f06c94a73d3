"""A Telegram chat linked to a citizen without a phone shares its own contact while the
office changes that citizen's phone (four eyes): the number is not bound, and the chat
hears that the office is changing the number, nothing of the change
(docs/identity-and-consent.md §5)."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.flows.citizen import PHONE_CHANGE_WAITING
from core.services import phone_changes
from tests.dialogue.harness import msgids
from tests.dialogue.test_delegate_contact import holder_linked_without_phone, holder_row, telegram

OWN_BALANCE = "Your balance: {balance}."
ASKED = "+393471230071"
SHARED = "+393471230072"


async def _change_waits(core: Core, cf: str) -> None:
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        asker = await uow.operators.by_username("four.eyes.asker")  # delegated_town's
        assert asker is not None
        asked = await phone_changes.request(uow, asker, town, cf, ASKED, core.now())
        assert asked.waiting is not None
        await uow.commit()


@pytest.mark.parametrize("one_trip", [True, False])
async def test_the_chat_is_told_to_wait_and_nothing_is_bound(core: Core, one_trip: bool) -> None:
    cf = await holder_linked_without_phone(core, "7111")
    await _change_waits(core, cf)
    chat = telegram(core, "7111", one_trip=one_trip)
    await chat.expect("/saldo", OWN_BALANCE)  # linked to the citizen, as before
    await chat.send(None, contact=(SHARED, True))
    said = msgids(chat.last)
    assert said == [PHONE_CHANGE_WAITING.msgid], said
    # Nothing of the change: neither number, nor who asked it.
    assert "071" not in str(chat.last) and "four.eyes" not in str(chat.last)
    holder = await holder_row(core, cf)
    assert (holder.phone, holder.telegram_chat_id) == (None, "7111")
    await chat.expect("/saldo", OWN_BALANCE)  # still the citizen's chat
