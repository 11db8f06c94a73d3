"""A Telegram chat linked to a citizen without a phone who has money to spend shares its own
contact: the number is not bound from the chat (the link never proved the chat is the
person): it waits for the office as a phone change the chat asked, and the chat hears, in
its language, that the office will check the number (docs/identity-and-consent.md §5). Said
alike when the contact is shared unasked and at the application's contact question; shared
again, nothing more is asked."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.flows.citizen import NUMBER_NEEDS_OFFICE
from core.i18n import render_text
from core.services import phone_changes
from tests.dialogue.harness import msgids
from tests.dialogue.test_delegate_contact import holder_linked_without_phone, holder_row, telegram

OWN_BALANCE = "Your balance: {balance}."
SHARED = "+393471230081"


async def _asked_by_chats(core: Core) -> list[tuple[str | None, str | None]]:
    """The waiting phone changes: (the chat that asked, the number)."""
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        return [
            (item.change.requested_by_chat, item.change.phone)
            for item in await phone_changes.waiting(uow, town.id)
        ]


@pytest.mark.parametrize("one_trip", [True, False])
async def test_the_chat_is_told_the_office_checks_the_number(core: Core, one_trip: bool) -> None:
    cf = await holder_linked_without_phone(core, "7121")
    chat = telegram(core, "7121", one_trip=one_trip)
    await chat.expect("/saldo", OWN_BALANCE)  # linked to the citizen, with a balance
    await chat.send(None, contact=(SHARED, True))
    said = msgids(chat.last)
    assert said == [NUMBER_NEEDS_OFFICE.msgid], said
    assert await _asked_by_chats(core) == [("7121", SHARED)]
    holder = await holder_row(core, cf)
    assert (holder.phone, holder.telegram_chat_id) == (None, "7121")
    await chat.expect("/saldo", OWN_BALANCE)  # still the citizen's chat
    await chat.send(None, contact=(SHARED, True))  # again: the same answer, one request
    assert msgids(chat.last) == [NUMBER_NEEDS_OFFICE.msgid]
    assert await _asked_by_chats(core) == [("7121", SHARED)]


def test_the_answer_says_the_office_checks_it_in_italian_and_english() -> None:
    english = render_text(NUMBER_NEEDS_OFFICE, "en")
    italian = render_text(NUMBER_NEEDS_OFFICE, "it")
    assert "office will check this number" in english
    assert "verificherà questo numero" in italian


async def test_applying_again_from_that_chat_says_the_same(core: Core) -> None:
    cf = await holder_linked_without_phone(core, "7122")
    chat = telegram(core, "7122", one_trip=False)
    await chat.send("/apply")
    await chat.send("1")
    assert chat.last[-1].request == "contact"
    await chat.send(None, contact=(SHARED, True))
    assert NUMBER_NEEDS_OFFICE.msgid in msgids(chat.last), msgids(chat.last)
    assert (await holder_row(core, cf)).phone is None
    assert await _asked_by_chats(core) == [("7122", SHARED)]
