"""SMS trial (oldphone22): "ho perso il telefono e la tessera" got only the lost card's
answer, and "mi hanno rubato portafoglio e telefono" only the lost phone's. Both get both
now: the payment waiting for the lost phone's code cancelled and named, that only the
office moves the vouchers to a new number, and what to do about the card. By SMS each
answer is an SMS of its own; elsewhere one message, the office's contact once."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.questions import AND_CARD, question_of
from tests.dialogue.harness import Chat, msgids, open_till
from tests.dialogue.test_lost_phone import (
    CANCELLED,
    LOST_CARD,
    LOST_PHONE,
    LOST_PHONE_AND_CONTACT,
    WAITS,
)
from tests.dialogue.test_own_words import NO_CONTACT
from tests.factories import make_town

BOTH = [
    "ho perso il telefono e la tessera",
    "mi hanno rubato portafoglio e telefono",
    "Mi hanno rubato la borsa col cellulare",
    "ho perso la carta e il telefono",
    "I lost my phone and my card",
    "my wallet and phone were stolen",
]


@pytest.mark.parametrize("said", BOTH)
def test_the_phone_and_the_card_lost_together_are_read(said: str) -> None:
    assert question_of(said) == ("lost_phone", AND_CARD)


@pytest.mark.parametrize(
    ("said", "read"),
    [
        ("ho perso il telefono", ("lost_phone", "")),
        ("ho perso la tessera", ("lost_card", "")),
        ("ho perso il telefono e la carta d'identità", ("other_card", "")),
    ],
)
def test_one_of_them_alone_keeps_its_reading(said: str, read: tuple[str, str]) -> None:
    assert question_of(said) == read


async def _charge_pending(core: Core, citizen_id: int) -> bool:
    async with core.uow() as uow:
        return bool(await uow.charges.pending_for_citizen(citizen_id))


@pytest.mark.parametrize("said", BOTH[:2])
async def test_by_sms_both_answers_each_in_its_sms(core: Core, said: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    replies = await chat.send(said)
    # Three SMS (the harness checks each is one): the phone's answer is too long for the
    # office's contact beside it, and names UFFICIO instead; the card's has it.
    assert msgids(replies) == [CANCELLED, LOST_PHONE, LOST_CARD, NO_CONTACT]
    assert [len(reply.texts) for reply in replies] == [1, 1, 2]
    assert WAITS not in msgids(replies)
    assert not await _charge_pending(core, town.citizen_ids[0])


async def test_elsewhere_one_message_with_the_offices_contact_once(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, "+393471239101", channel=Channel.TERMINAL)
    replies = await chat.send("ho perso il telefono e la tessera")
    assert len(replies) == 1
    assert msgids(replies) == [LOST_PHONE_AND_CONTACT, LOST_CARD, NO_CONTACT]
    assert town.citizen_ids  # nobody's terminal: the answers do not depend on who asks
