"""Telegram trial of 5 Dec 2026: a 75-year-old left her application at the savings
question and came back the next day with "buongiorno". She read "You were making your
application. This is not an amount…": her greeting was answered as a wrong amount. A
greeting alone after a long pause is no wrong answer: what was in progress, then the
question, and nothing of the request changes."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.render import render_plain
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, msgids, town_with_open_window
from tests.dialogue.test_apply import APPLICANT, LIQUIDITY, NOT_AN_AMOUNT, PENSION, SUPPORT, WORK
from tests.dialogue.test_her_words_at_the_questions import OTHERS_WORK, ROUGHLY, at_work

DOING = "You were making your application."
NOT_UNDERSTOOD = "Sorry, I did not understand."


async def test_a_greeting_after_a_long_pause_is_no_wrong_answer(
    core: Core, clock: FakeClock
) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471239911")
    for text in ("DOMANDA", "1", APPLICANT, "2", "no", "no"):
        await chat.send(text)
    assert LIQUIDITY in msgids(chat.last)
    # Within the same sitting a greeting is still told it is no amount.
    assert msgids(await chat.send("buongiorno")) == [NOT_AN_AMOUNT, LIQUIDITY]
    clock.advance(hours=20)
    for greeting in ("Buongiorno", "ciao!"):
        replies = await chat.send(greeting)
        assert msgids(replies) == [DOING, LIQUIDITY], greeting
        clock.advance(hours=3)
    rendered = "\n".join(render_plain(reply, "it", sms=True) for reply in replies)
    assert rendered.startswith("Stavi facendo la domanda.\nQuanto aveva il nucleo")
    # Other words after a pause are still told what was wrong.
    replies = await chat.send("buonasera sono tornato")
    assert msgids(replies) == [DOING, NOT_AN_AMOUNT, LIQUIDITY]
    assert (await chat.state())[:2] == ("apply", "liquidity")
    await chat.expect("0", SUPPORT)


async def test_a_greeting_after_a_long_pause_at_a_question_with_buttons(
    core: Core, clock: FakeClock
) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "84001", channel=Channel.TELEGRAM)
    for text in ("DOMANDA", "1"):
        await chat.send(text)
    await chat.send(contact=("+393471239912", True))
    for text in (APPLICANT, "2"):
        await chat.send(text)
    assert WORK in msgids(chat.last)
    clock.advance(hours=5)
    replies = await chat.send("buonasera")
    assert msgids(replies) == [DOING, WORK]
    assert NOT_UNDERSTOOD not in msgids(replies)
    assert replies[-1].options  # the question's buttons, to tap
    await chat.expect("no", PENSION)


async def test_her_own_words_after_a_long_pause_come_after_what_was_in_progress(
    core: Core, clock: FakeClock
) -> None:
    """Words that answer only part of the question ("non lavoro" with others at home, "non
    so" at the savings) keep the step and ask about the rest: after a long pause they came
    without "You were making your application.", which a wrong answer gets. Now the same
    reminder comes first, in the same SMS, whatever keeps the step."""
    chat = await at_work(core, "2")
    clock.advance(hours=5)
    replies = await chat.send("non lavoro")
    assert msgids(replies) == [DOING, OTHERS_WORK]
    assert len(replies) == 1  # one SMS
    assert render_plain(replies[0], "it", sms=True).startswith("Stavi facendo la domanda.\nE gli")
    await chat.expect("no", PENSION)
    await chat.expect("no", LIQUIDITY)
    clock.advance(hours=3)
    replies = await chat.send("boh non lo so")
    assert msgids(replies) == [DOING, ROUGHLY]
    # An answer that moves on needs no reminder: she answered the question she read.
    clock.advance(hours=3)
    assert msgids(await chat.send("0")) == [SUPPORT]
    assert (await chat.state())[:2] == ("apply", "support")
