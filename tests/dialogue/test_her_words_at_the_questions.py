"""An elderly citizen writing by SMS in her own words at the application's questions
(trial of December 2026): what she meant is read, and what is not an answer changes
nothing."""

from __future__ import annotations

from typing import Any

import pytest

from core.bootstrap import Core
from core.dialogue.context import NOT_UNDERSTOOD as SORRY
from core.dialogue.render import render_plain
from tests.dialogue.harness import Chat, msgids, options, town_with_open_window
from tests.dialogue.test_apply import CF, LIQUIDITY, MEMBERS, PENSION, PRIVACY, SUPPORT, WORK
from tests.factories import make_cf

YES_OR_NO = "Reply 1 for yes or 2 for no."
OTHERS_WORK = (
    "And the others in the household ({count} besides you): does any of them have income from work?"
)
OTHERS_PENSION = (
    "And the others in the household ({count} besides you): does any of them receive a pension?"
)
ROUGHLY = (
    "An approximate figure is fine: about how much the household had in bank and post "
    "office accounts on {day}. Write it in euro, e.g. {example}, or 0 if none."
)
NOT_AN_AMOUNT = "This is not an amount. Write it in euro, in figures or in words, e.g. {example}."


async def at_work(core: Core, members: str, phone: str = "+393479990001") -> Chat:
    """A new applicant by SMS at the question whether anyone in the household works."""
    await town_with_open_window(core)
    chat = Chat(core, phone)
    await chat.expect("DOMANDA", PRIVACY)
    await chat.expect("1", CF)
    await chat.expect(make_cf(700), MEMBERS)
    await chat.expect(members, WORK)
    return chat


async def answers(chat: Chat) -> dict[str, Any]:
    _flow, _step, data = await chat.state()
    state: dict[str, Any] = data.get("state", {})
    return state


# 1. "Non lavoro": about herself. Alone, a no; with others at home, asked about them.


@pytest.mark.parametrize("said", ["non lavoro", "nn lavoro", "io non lavoro", "No, non lavoro"])
async def test_living_alone_i_do_not_work_is_a_no(core: Core, said: str) -> None:
    chat = await at_work(core, "1")
    replies = await chat.expect(said, PENSION)
    assert SORRY.msgid not in msgids(replies)
    assert (await answers(chat))["work"] is False
    # The pension alike: "non ho la pensione" from someone alone is a no.
    await chat.expect("non ho la pensione", LIQUIDITY)
    assert (await answers(chat))["pension"] is False


@pytest.mark.parametrize("said", ["non lavoro", "nn lavoro", "io non lavoro"])
async def test_with_others_at_home_i_do_not_work_asks_about_them(core: Core, said: str) -> None:
    chat = await at_work(core, "3")
    replies = await chat.send(said)
    said_ids = msgids(replies)
    assert said_ids == [OTHERS_WORK], said_ids
    assert replies[0].texts[0].params["count"] == 2
    assert options(replies) == ["yes", "no"]
    assert render_plain(replies[0], "it", sms=True).startswith(
        "E gli altri del nucleo familiare (2 oltre te): qualcuno ha un reddito da lavoro?"
    )
    # Nothing was recorded: the step waits for the household's answer.
    assert (await chat.state())[:2] == ("apply", "work")
    assert "work" not in await answers(chat)
    await chat.expect("no", PENSION)
    assert (await answers(chat))["work"] is False
    # The pension likewise, and a yes for the others is a yes.
    await chat.expect("io non prendo la pensione", OTHERS_PENSION)
    await chat.expect("si", LIQUIDITY)
    assert (await answers(chat))["pension"] is True


async def test_others_words_about_work_are_still_not_understood(core: Core) -> None:
    chat = await at_work(core, "2")
    for said in ("non lavoro ma mio marito si", "non lo so", "lavoro"):
        await chat.expect(said, SORRY.msgid, YES_OR_NO, WORK)
        assert "work" not in await answers(chat)


# 4. "Boh, non lo so" where the savings are asked: what is asked, explained.


@pytest.mark.parametrize("said", ["boh non lo so", "non so", "nn lo so", "boh", "non saprei"])
async def test_not_knowing_the_savings_is_told_a_rough_figure_is_fine(
    core: Core, said: str
) -> None:
    chat = await at_work(core, "1")
    await chat.expect("no", PENSION)
    await chat.expect("no", LIQUIDITY)
    replies = await chat.send(said)
    assert msgids(replies) == [ROUGHLY]
    assert "liquidity" not in await answers(chat)
    assert (await chat.state())[:2] == ("apply", "liquidity")
    # A figure is the answer as before.
    await chat.expect("circa 300", SUPPORT)


async def test_other_words_at_the_savings_are_still_not_an_amount(core: Core) -> None:
    chat = await at_work(core, "1")
    await chat.expect("no", PENSION)
    await chat.expect("no", LIQUIDITY)
    replies = await chat.send("tanti")
    assert ROUGHLY not in msgids(replies)
    assert msgids(replies)[0] == NOT_AN_AMOUNT
