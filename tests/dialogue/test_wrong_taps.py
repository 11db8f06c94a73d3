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
