"""Buttons tapped by mistake on Telegram (trial of 5 Dec 2026): English instead of
Italiano, "Per i negozianti" instead of the citizen's menu, and what a till reads after a
wrong code. Each mistake leaves a way back, in the words of the person who made it."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.engine import DialogueEngine
from core.dialogue.inbound import Channel
from core.dialogue.menus import ABOUT_THE_QUESTION, CITIZEN_HELP, IN_ENGLISH, IN_ITALIAN
from core.dialogue.render import render_plain
from tests.dialogue.harness import Chat, msgids, options
from tests.factories import make_town


@pytest.mark.parametrize("one_trip", [True, False])
@pytest.mark.parametrize("said", ["non capisco", "aiuto", "aiuto per favore"])
async def test_help_asked_in_italian_after_english_tapped_says_the_way_back(
    core: Core, said: str, one_trip: bool
) -> None:
    """English tapped by mistake: the help asked in Italian words came in English alone,
    nothing in it saying how to get Italian back. It ends with the way back, in Italian
    (in one trip or by the general path alike)."""
    await make_town(core)
    chat = Chat(
        core, "5557001", channel=Channel.TELEGRAM, engine=DialogueEngine(core, one_trip=one_trip)
    )
    await chat.send("/start")
    await chat.send("LINGUA")
    await chat.send(None, option="lang:en")
    replies = await chat.send(said)
    assert msgids(replies) == [CITIZEN_HELP.msgid, IN_ITALIAN.msgid]
    assert render_plain(replies[-1], "en", sms=False).endswith("In italiano: scrivi LINGUA IT")
    # The way back works, and the help in Italian then says no way anywhere.
    await chat.send("LINGUA IT")
    assert msgids(await chat.send(said)) == [CITIZEN_HELP.msgid]
    # Help asked in English (HELP alone is a word of both languages: nothing added).
    assert msgids(await chat.send("help")) == [CITIZEN_HELP.msgid]
    assert msgids(await chat.send("help I dont understand")) == [
        CITIZEN_HELP.msgid,
        IN_ENGLISH.msgid,
    ]


async def test_help_in_italian_inside_a_request_in_english_says_the_way_back(
    core: Core,
) -> None:
    await make_town(core)
    chat = Chat(core, "5557002", channel=Channel.TELEGRAM)
    await chat.send("/start")
    await chat.send("LINGUA")
    await chat.send(None, option="lang:en")
    await chat.send("NEGOZI")
    said = msgids(await chat.send("non capisco"))
    assert said[:2] == [ABOUT_THE_QUESTION.msgid, IN_ITALIAN.msgid], said


SHOPKEEPERS = (
    "For shopkeepers: register your shop with the municipality, or join a "
    "shop with the code its owner gave you."
)
CITIZEN_MENU = ["balance", "shops", "apply", "status", "language", "shopkeeper"]
REGISTRATION = "Shop registration. Write the name of the shop, as customers know it."


async def test_for_shops_tapped_by_mistake_has_a_way_back_to_the_citizens_menu(
    core: Core,
) -> None:
    """A citizen taps "Per i negozianti" by mistake: only Register and Join were offered.
    A Menu button takes them back to their menu, the request left."""
    await make_town(core)
    chat = Chat(core, "5557003", channel=Channel.TELEGRAM)
    await chat.send("/start")
    await chat.expect(None, SHOPKEEPERS, option="shopkeeper")
    assert options(chat.last) == ["register", "join", "menu"]
    await chat.send(None, option="menu")
    assert options(chat.last) == CITIZEN_MENU
    assert (await chat.state())[:2] == (None, None)
    # A shopkeeper's choice is what it was: the registration's first question.
    await chat.expect(None, SHOPKEEPERS, option="shopkeeper")
    await chat.expect(None, REGISTRATION, option="register")


async def test_for_shops_by_sms_keeps_its_two_numbers(core: Core) -> None:
    """By SMS the word was typed: the question stays one SMS with its two numbers, and
    MENU written leaves it."""
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect("NEGOZIANTE", SHOPKEEPERS)
    assert options(chat.last) == ["register", "join"]
    await chat.send("MENU")
    assert (await chat.state())[:2] == (None, None)
    await chat.expect("NEGOZIANTE", SHOPKEEPERS)
    await chat.expect("1", REGISTRATION)
