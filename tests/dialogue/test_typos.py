"""A one-word message one slip away from a keyword: read-only words run, words that start
something are suggested, STOP and START act only when exact, and an answer to a question
is never taken for a typo."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.commands import NEVER_ON_TYPO, RUN_ON_TYPO, SUGGESTED, typo_of
from core.dialogue.engine import STOPPED
from core.dialogue.inbound import Channel
from core.dialogue.keywords import KEYWORDS
from core.dialogue.menus import FIRST_HELP, SHOP_HELP
from core.dialogue.words import typo_distance
from core.domain.messages import Money
from tests.dialogue.harness import Chat, msgids, options, param, town_with_open_window
from tests.dialogue.test_apply import APPLICANT, MEMBERS
from tests.factories import make_town

BALANCE = "Your balance: {balance}."
DID_YOU_MEAN = "Did you mean {keyword}?"


def test_a_swap_of_neighbours_is_one_slip() -> None:
    assert typo_distance("sadlo", "saldo") == 1
    assert typo_distance("domnada", "domanda") == 1
    assert typo_distance("saldp", "saldo") == 1
    assert typo_distance("aiutoo", "aiuto") == 1
    assert typo_distance("salve", "saldo") == 2
    assert typo_distance("", "menu") == 4


def test_every_command_is_run_suggested_or_left_alone_on_a_typo() -> None:
    groups = (RUN_ON_TYPO, frozenset(SUGGESTED), NEVER_ON_TYPO)
    for name in set(KEYWORDS.values()):
        assert sum(name in group for group in groups) == 1, name


def test_only_a_near_miss_of_one_command_counts() -> None:
    assert typo_of("Sadlo!") == typo_of("SALDP") == typo_of("sàldi") == "balance"
    assert typo_of("AIUTOO") == "help" and typo_of("domnada") == "apply"
    # Exact words are the parser's; greetings, numbers and short words are no typos.
    for text in ("saldo", "salve", "grazie", "ciao", "ok", "si", "2", "saldo per favore"):
        assert typo_of(text) is None, text
    # Two commands as close ("stat": STATO and START) or a compliance word: none.
    for text in ("stat", "stopp", "stpo", "startt", "anulla"):
        assert typo_of(text) is None, text


async def test_a_mistyped_read_only_word_runs(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    for text in ("Sadlo", "saldp"):
        replies = await chat.expect(text, BALANCE)
        assert param(replies, "balance") == Money(150_00)
    await chat.expect("AIUTOO", FIRST_HELP.msgid)
    # Not a near miss of SALDO: a greeting, answered with the welcome and the menu.
    replies = await chat.expect("salve", "Welcome to the grocery vouchers of {town}.")
    assert BALANCE not in msgids(replies)


async def test_a_mistyped_word_that_starts_something_is_asked_about(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471230101")
    replies = await chat.expect("domnada", DID_YOU_MEAN)
    assert param(replies, "keyword") == "DOMANDA" and options(replies) == ["apply"]
    assert (await chat.state())[:2] == (None, None)  # nothing started yet
    await chat.send("sì")
    assert (await chat.state())[0] == "apply"


async def test_the_suggestion_names_the_word_in_the_chats_language(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "880101", channel=Channel.TELEGRAM, language_hint="en")
    replies = await chat.expect("aply", DID_YOU_MEAN)
    assert param(replies, "keyword") == "APPLY"
    await chat.send(option="apply")
    assert (await chat.state())[0] == "apply"


async def test_shop_words_are_typos_only_at_a_shop(core: Core) -> None:
    town = await make_town(core)
    await Chat(core, town.citizen_phones[0]).expect("pgaa", FIRST_HELP.msgid)
    shop = Chat(core, town.shop_phone)
    await shop.expect("AIUTO", SHOP_HELP.msgid)
    replies = await shop.expect("pgaa", DID_YOU_MEAN)
    assert param(replies, "keyword") == "PAGA"


async def test_a_near_miss_of_stop_never_stops(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect("SALDO", BALANCE)
    for text in ("stopp", "sotp", "STPO"):
        replies = await chat.send(text)
        assert STOPPED.msgid not in msgids(replies) and FIRST_HELP.msgid in msgids(replies)
    await chat.expect("SALDO", BALANCE)  # still answered: nothing was stopped


async def test_a_typo_while_a_question_waits_is_an_answer_to_it(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471230102")
    for text in ("DOMANDA", "1"):
        await chat.send(text)
    await chat.expect(APPLICANT, MEMBERS)
    await chat.expect("Sadlo", "Write the number of people with a number from 1 to {max}, e.g. 3.")
    assert (await chat.state())[:2] == ("apply", "members")
