"""A Telegram chat linked to a citizen without a phone who has money to spend shares its own
contact: the number is not bound from the chat (the link never proved the chat is the
person), and the chat hears, in its language, that the office will confirm the number
(docs/identity-and-consent.md §5). Said alike when the contact is shared unasked and at the
application's contact question."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.flows.citizen import NUMBER_NEEDS_OFFICE
from tests.dialogue.harness import msgids
from tests.dialogue.test_delegate_contact import holder_linked_without_phone, holder_row, telegram

OWN_BALANCE = "Your balance: {balance}."
SHARED = "+393471230081"


@pytest.mark.parametrize("one_trip", [True, False])
async def test_the_chat_is_told_the_office_confirms_the_number(core: Core, one_trip: bool) -> None:
    cf = await holder_linked_without_phone(core, "7121")
    chat = telegram(core, "7121", one_trip=one_trip)
    await chat.expect("/saldo", OWN_BALANCE)  # linked to the citizen, with a balance
    await chat.send(None, contact=(SHARED, True))
    said = msgids(chat.last)
    assert said == [NUMBER_NEEDS_OFFICE.msgid], said
    holder = await holder_row(core, cf)
    assert (holder.phone, holder.telegram_chat_id) == (None, "7121")
    await chat.expect("/saldo", OWN_BALANCE)  # still the citizen's chat


async def test_applying_again_from_that_chat_says_the_same(core: Core) -> None:
    cf = await holder_linked_without_phone(core, "7122")
    chat = telegram(core, "7122", one_trip=False)
    await chat.send("/apply")
    await chat.send("1")
    assert chat.last[-1].request == "contact"
    await chat.send(None, contact=(SHARED, True))
    assert NUMBER_NEEDS_OFFICE.msgid in msgids(chat.last), msgids(chat.last)
    assert (await holder_row(core, cf)).phone is None
