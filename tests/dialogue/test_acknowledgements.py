"""An elderly citizen answering a notice hours later with "ok", "va bene", "ricevuto" (trial
11, December 2026): nothing was asked, so it is a courtesy, answered like "Prego!" ("Va
bene." and the menu), never "Non ho capito." before the help."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.menus import FIRST_HELP, NOT_UNDERSTOOD
from core.domain.messages import Money
from tests.dialogue.harness import Chat, msgids, open_till, options
from tests.dialogue.test_own_words import CITIZEN_MENU, WAITING, sms_text
from tests.dialogue.test_shop import ASK_CODE
from tests.factories import make_town

ACKNOWLEDGEMENTS = [
    "ok",
    "OK!",
    "va bene",
    "si va bene",
    "Sì, d'accordo",
    "ricevuto",
    "ok capito",
    "ho capito",
    "perfetto",
    "okay",
    "got it",
]


@pytest.mark.parametrize("text", ACKNOWLEDGEMENTS)
async def test_an_acknowledgement_of_a_notice_is_no_misunderstanding(core: Core, text: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    replies = await chat.send(text)
    assert NOT_UNDERSTOOD.msgid not in msgids(replies)
    assert options(replies) == CITIZEN_MENU
    assert sms_text(replies).startswith("Va bene.")
    assert (await chat.state())[:2] == (None, None)  # nothing started


@pytest.mark.parametrize("text", ["non ho capito", "ok ma non ho capito"])
async def test_not_understanding_is_still_the_help(core: Core, text: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    replies = await chat.send(text)
    assert "All right." not in msgids(replies)
    assert FIRST_HELP.msgid in msgids(replies)


async def test_an_ok_while_a_payment_waits_names_the_payment(core: Core) -> None:
    town = await make_town(core)
    citizen = Chat(core, town.citizen_phones[0])
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 12,50", ASK_CODE)
    replies = await citizen.send("ok va bene")
    # The ok may be meant for the payment: it is named, agreed only by telling the code.
    assert msgids(replies) == [WAITING]
    assert replies[0].texts[0].params["amount"] == Money(12_50)


@pytest.mark.parametrize("text", ["nun ce capisco gnente", "non ci ho capito niente"])
async def test_not_understanding_as_spoken_is_the_help_without_not_understood(
    core: Core, text: str
) -> None:
    # Help asked in her own words: the help, not "I did not understand" before it.
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    assert msgids(await chat.send(text)) == [FIRST_HELP.msgid]
