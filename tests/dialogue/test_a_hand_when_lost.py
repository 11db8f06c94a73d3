"""Someone who says she is lost gets one warm sentence and the numbered menu, not the list
of every keyword; "non ho ricevuto niente" gets what she waits for (a payment's code, else
her application's state); "what is this" whose service this is."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.lost import LOST_HELP
from core.dialogue.menus import CITIZEN_HELP, FIRST_HELP, NOT_UNDERSTOOD
from core.dialogue.render import render_plain
from core.domain.channels import Channel
from tests.dialogue.harness import Chat, msgids, options
from tests.factories import make_town

LOST = [
    "sono anziana non so usare il telefono",
    "Sono vecchio non so usare il telefono",
    "non so come fare",
    "non ci capisco",
    "mi aiuti per favore",
    "I don't know how",
]
MENU = ["balance", "shops", "apply", "status", "language", "shopkeeper"]


@pytest.mark.parametrize("said", LOST)
async def test_a_known_citizen_who_is_lost_gets_a_hand_and_the_menu(core: Core, said: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    replies = await chat.send(said)
    said_ids = msgids(replies)
    assert LOST_HELP.msgid in said_ids, said_ids
    assert not {NOT_UNDERSTOOD.msgid, FIRST_HELP.msgid, CITIZEN_HELP.msgid} & set(said_ids)
    assert options(replies) == MENU
    assert "Ti aiuto io: rispondi solo con il numero" in render_plain(replies[0], "it", sms=True)


async def test_an_unknown_number_hears_whose_service_it_is_first(core: Core) -> None:
    await make_town(core)
    chat = Chat(core, "+393339990001")
    replies = await chat.send("non so come fare")
    said = msgids(replies)
    assert said[0].startswith("Welcome to the grocery vouchers")
    assert LOST_HELP.msgid in said
    assert options(replies) == MENU


async def test_on_telegram_the_hand_says_tap(core: Core) -> None:
    await make_town(core)
    chat = Chat(core, "777", channel=Channel.TELEGRAM)
    await chat.send("/start")
    replies = await chat.send("non so come fare")
    assert LOST_HELP.msgid in msgids(replies)
    assert options(replies) == MENU


async def test_nothing_came_to_a_citizen_is_her_application_s_state(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    for said in ("non ho ricevuto niente", "non mi è arrivato niente"):
        replies = await chat.send(said)
        assert msgids(replies)[0].startswith("Application {protocol}"), msgids(replies)


async def test_what_is_this_is_whose_service_it_is(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    replies = await chat.send("what is this")
    assert msgids(replies)[0].startswith("Welcome to the grocery vouchers")
