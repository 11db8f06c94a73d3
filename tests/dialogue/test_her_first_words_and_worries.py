"""A confused elderly citizen (trial of December 2026), by SMS and on Telegram: her first
message is answered in the language she wrote it in, whatever the app's; her worries at a
question answered by buttons are answered as anywhere else, then the question comes again;
"?" or "💶" alone is help at rest and the question's hint at a question."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from core.bootstrap import Core
from core.dialogue.commands import NOT_A_SCAM, VOUCHERS_ARE_FREE
from core.dialogue.context import NOT_UNDERSTOOD as SORRY
from core.dialogue.flows.citizen import NOT_FOR_BILLS
from core.dialogue.inbound import Channel
from core.dialogue.menus import ABOUT_THE_QUESTION, FIRST_HELP, NOT_UNDERSTOOD
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, msgids, options, outbox_of, town_with_open_window
from tests.dialogue.test_apply import (
    CF,
    LANGUAGE,
    LIQUIDITY,
    MEMBERS,
    NOT_AN_AMOUNT,
    PENSION,
    PRIVACY,
    RENT,
    SUMMARY,
    SUPPORT,
    WORK,
)
from tests.dialogue.test_coming_back import DOING
from tests.dialogue.test_identity import ASK_CONTACT
from tests.factories import make_cf

WELCOME = "Welcome to the grocery vouchers of {town}."
RESUME = "You have an unfinished request. Do you want to continue it?"
CHANGE = "What do you want to change?"
DECLARE_OR_CHANGE = "Reply 1 to declare and send, 2 to change an answer, or ANNULLA."
EVERY_WORD = (
    "Write: SALDO, NEGOZI (+town, CAP or type), DOMANDA, STATO, RICORSO, CARTA, LINGUA, "
    "MENU. ANNULLA stops a request. After STOP only codes and receipts arrive."
)


async def languages_of(chat: Chat) -> list[str]:
    rows = await outbox_of(chat.core, chat.channel.value, chat.address)
    return [row.language for row, _reply in rows]


# 1. A first message: the language she wrote it in, no language question.


@pytest.mark.parametrize(
    ("said", "hint", "language", "first"),
    [
        ("buongiorno vorrei i buoni spesa", "en", "it", PRIVACY),
        ("salve come funziona", "en", "it", None),
        ("ciao", "en-GB", "it", WELCOME),
        ("hello I need food vouchers", "it", "en", PRIVACY),
    ],
)
async def test_a_first_message_is_answered_in_its_own_language(
    core: Core, said: str, hint: str, language: str, first: str | None
) -> None:
    """Telegram tells the app's language, and an Italian grandmother's phone may be set in
    English: her plain Italian words decide, and the application asks no language (by SMS,
    which tells none, the words decided already)."""
    await town_with_open_window(core)
    chat = Chat(core, f"88{len(said):04d}", channel=Channel.TELEGRAM, language_hint=hint)
    replies = await chat.send(said)
    assert LANGUAGE not in msgids(replies), (hint, said)
    assert set(await languages_of(chat)) == {language}, (hint, said)
    if first is not None:
        assert first in msgids(replies), (hint, said, msgids(replies))


async def test_a_command_tapped_in_an_english_app_still_asks_the_language(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "880301", channel=Channel.TELEGRAM, language_hint="en")
    await chat.expect("/domanda", LANGUAGE)
    # LINGUA still offers the languages, and a language picked holds.
    other = Chat(core, "880302", channel=Channel.TELEGRAM, language_hint="en")
    await other.expect("buongiorno vorrei i buoni spesa", PRIVACY)
    await other.expect("LINGUA", LANGUAGE)
    await other.send(option="lang:en")
    assert (await languages_of(other))[-1] == "en"


# 2. Worries at a question answered by buttons (numbered choices by SMS).


Walk = Callable[[Chat], Awaitable[None]]


async def to_privacy(chat: Chat) -> None:
    await chat.expect("DOMANDA", PRIVACY)


async def to_members(chat: Chat) -> None:
    await to_privacy(chat)
    if chat.channel is Channel.TELEGRAM:
        await chat.expect("1", ASK_CONTACT)
        await chat.expect(None, CF, contact=(f"+3934712{chat.address[-5:]}", True))
    else:
        await chat.expect("1", CF)
    await chat.expect(make_cf(int(chat.address[-4:])), MEMBERS)


async def to_work(chat: Chat) -> None:
    await to_members(chat)
    await chat.expect("2", WORK)


async def to_pension(chat: Chat) -> None:
    await to_work(chat)
    await chat.expect("2", PENSION)


async def to_summary(chat: Chat) -> None:
    await to_pension(chat)
    await chat.expect("2", LIQUIDITY)
    await chat.expect("0", SUPPORT)
    await chat.expect("0", RENT)
    await chat.expect("0", SUMMARY)


async def to_change(chat: Chat) -> None:
    await to_summary(chat)
    await chat.expect("2", CHANGE)


async def to_resume(chat: Chat) -> None:
    await to_work(chat)
    await chat.send("MENU")
    await chat.expect("DOMANDA", RESUME)


# Every question of a citizen's request answered by buttons, and what asks it again: the
# question, or for the summary (sent whole only once) its hint. (The language question
# reads any Italian or English words as that language: its own reading.)
BUTTON_QUESTIONS: dict[str, tuple[Walk, str]] = {
    "privacy": (to_privacy, PRIVACY),
    "work": (to_work, WORK),
    "pension": (to_pension, PENSION),
    "summary": (to_summary, DECLARE_OR_CHANGE),
    "change": (to_change, CHANGE),
    "resume": (to_resume, RESUME),
}
# Her worries, and what the same words get outside a question.
WORRIES = {
    "chi siete?": WELCOME,
    "ma è gratis?": VOUCHERS_ARE_FREE.msgid,
    "ho paura": NOT_A_SCAM.msgid,
    "non ho soldi per la bolletta": NOT_FOR_BILLS.msgid,
    "non capisco": ABOUT_THE_QUESTION.msgid,
}
CHANNELS = [Channel.SMS, Channel.TELEGRAM]
_addresses = iter(range(2000, 9999))


def new_chat(core: Core, channel: Channel) -> Chat:
    number = next(_addresses)
    if channel is Channel.SMS:
        return Chat(core, f"+3934798{number:05d}")
    return Chat(core, f"77{number:05d}", channel=channel, language_hint="it")


@pytest.mark.parametrize("channel", CHANNELS)
async def test_worries_get_their_own_answer_outside_a_question(
    core: Core, channel: Channel
) -> None:
    """What each worry gets at rest: the answer the questions repeat below."""
    await town_with_open_window(core)
    for said, answer in WORRIES.items():
        chat = new_chat(core, channel)
        await chat.send("MENU")
        replies = await chat.send(said)
        if answer == ABOUT_THE_QUESTION.msgid:
            answer = FIRST_HELP.msgid if channel is Channel.SMS else EVERY_WORD
        assert answer in msgids(replies), (said, msgids(replies))


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("question", sorted(BUTTON_QUESTIONS))
async def test_a_worry_at_a_button_question_is_answered_then_asked_again(
    core: Core, channel: Channel, question: str
) -> None:
    await town_with_open_window(core)
    walk, asked = BUTTON_QUESTIONS[question]
    chat = new_chat(core, channel)
    await walk(chat)
    before = await chat.state()
    offered = options(chat.last)
    for said, answer in WORRIES.items():
        replies = await chat.send(said)
        said_ids = msgids(replies)
        # Her worry answered, then the question again with its buttons; no "tap a button",
        # no "not understood", and nothing of the request changed.
        # (Help asked at the summary sends the summary whole again: the question itself.)
        again = SUMMARY if question == "summary" and answer == ABOUT_THE_QUESTION.msgid else asked
        assert said_ids.index(answer) < said_ids.index(again), (question, said, said_ids)
        assert SORRY.msgid not in said_ids and NOT_UNDERSTOOD.msgid not in said_ids
        assert "Please tap one of the buttons above." not in said_ids
        if question != "summary":
            assert options(replies)[-len(offered) :] == offered, (question, said)
        assert await chat.state() == before, (question, said)


async def test_the_rent_at_the_rent_question_is_its_answer_not_a_worry(core: Core) -> None:
    """At a question the words can answer, the step's own reading comes first: "ho
    l'affitto da pagare" at the rent question asks how much, not what vouchers are for."""
    await town_with_open_window(core)
    chat = new_chat(core, Channel.SMS)
    await to_pension(chat)
    await chat.expect("2", LIQUIDITY)
    await chat.expect("0", SUPPORT)
    await chat.expect("0", RENT)
    replies = await chat.expect("ho l'affitto da pagare", NOT_AN_AMOUNT, RENT)
    assert NOT_FOR_BILLS.msgid not in msgids(replies)
    assert (await chat.state())[:2] == ("apply", "rent")
    # At a button question the same words are her worry.
    other = new_chat(core, Channel.SMS)
    await to_work(other)
    await other.expect("ho l'affitto da pagare", NOT_FOR_BILLS.msgid, WORK)
    # A greeting alone asks nothing: no welcome, the question's hint and the question.
    greeted = msgids(await other.expect("buongiorno", "Reply 1 for yes or 2 for no.", WORK))
    assert WELCOME not in greeted
    # And an answer the step reads is its answer.
    await other.expect("no", PENSION)


# 3. "?" or "💶" alone.


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("sign", ["?", "??", "💶"])
async def test_a_sign_alone_at_rest_is_the_help(core: Core, channel: Channel, sign: str) -> None:
    await town_with_open_window(core)
    chat = new_chat(core, channel)
    await chat.send("MENU")
    said = msgids(await chat.send(sign))
    assert NOT_UNDERSTOOD.msgid not in said
    assert said == [FIRST_HELP.msgid if channel is Channel.SMS else EVERY_WORD]


HINTS = {
    "privacy": "Reply 1 if you agree, 2 if you do not.",
    "work": "Reply 1 for yes or 2 for no.",
    "pension": "Reply 1 for yes or 2 for no.",
}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("question", sorted(HINTS))
@pytest.mark.parametrize("sign", ["?", "💶"])
async def test_a_sign_alone_at_a_question_is_its_hint_and_the_question(
    core: Core, channel: Channel, question: str, sign: str
) -> None:
    await town_with_open_window(core)
    walk, asked = BUTTON_QUESTIONS[question]
    chat = new_chat(core, channel)
    await walk(chat)
    before = await chat.state()
    said = msgids(await chat.send(sign))
    assert SORRY.msgid not in said
    assert said.index(HINTS[question]) < said.index(asked), said
    assert await chat.state() == before


async def test_a_worry_after_a_long_pause_says_what_was_in_progress(
    core: Core, clock: FakeClock
) -> None:
    await town_with_open_window(core)
    chat = new_chat(core, Channel.SMS)
    await to_work(chat)
    clock.advance(hours=5)
    replies = await chat.send("ma è gratis?")
    assert msgids(replies) == [VOUCHERS_ARE_FREE.msgid, DOING, WORK]
    await chat.expect("no", PENSION)
