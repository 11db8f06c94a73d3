"""A first-timer's first words and the codice fiscale question, as people write them:
INFO as a first SMS says what this number is before its words; LINGUA with the language
in words ("lingua inglese per favore") is that language, not the question which one;
"non ce l'ho", "what is that?", "dove lo trovo?" at the codice fiscale question are
answered (in English when asked in English), then the question again; "quanti soldi mi
date?" as a first message says how to apply after the amounts."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.commands import LANGUAGE_DONE, language_asked
from core.dialogue.inbound import Channel
from core.dialogue.words import (
    NO_CODICE_FISCALE,
    WHAT_CODICE_FISCALE,
    WHERE_CODICE_FISCALE,
    codice_fiscale_asked,
    plain_words,
)
from tests.dialogue.harness import Chat, msgids, options, town_with_open_window
from tests.dialogue.test_apply import CF, MEMBERS, PRIVACY
from tests.dialogue.test_asking_for_a_language import MENU_KEYS, answers, said
from tests.dialogue.test_first_words_and_languages import language_of
from tests.factories import make_cf, make_town

WELCOME = "Welcome to the grocery vouchers of {town}."
FIRST_HELP = (
    "SALDO: what you have left. NEGOZI: where to spend. DOMANDA: to get vouchers. To talk to "
    "someone: UFFICIO. More words: AIUTO."
)
CHOOSE = "Choose your language."
NO_CF = "No codice fiscale? The town's office can help you: write OFFICE for its contacts."
WHAT_CF = (
    "The codice fiscale is your Italian tax code: 16 letters and digits, like "
    "RSSMRA85T10A562S. It is on your health card (tessera sanitaria)."
)
WHERE_CF = (
    "It is on your health card (tessera sanitaria), on the back of the electronic identity "
    "card and on the residence permit."
)
NOT_A_CF = "A codice fiscale has 16 letters and digits, like RSSMRA85T10A562S. Write it again."
IN_ENGLISH = "English: write LANGUAGE EN"
TO_APPLY = "To apply, write DOMANDA."
HOW_MUCH = (
    "The vouchers are a one-off sum by household size: {smallest} for 1 person, up to "
    "{largest} for {size} or more; less if the fund is short."
)


# 1. INFO as a first message ------------------------------------------------------------------


@pytest.mark.parametrize("first", ["info", "INFO?", "Info."])
async def test_info_as_a_first_sms_says_what_this_number_is(core: Core, first: str) -> None:
    """Before, the words alone (SALDO, NEGOZI, DOMANDA): nothing said whose number this is.
    Now the welcome, then the words, each one SMS; INFO later is the words, as before."""
    await town_with_open_window(core)
    chat = Chat(core, "+393471991001")
    replies = await chat.expect(first, WELCOME, FIRST_HELP)
    assert len(replies) == 2
    text = said(replies, "it")
    assert text.startswith("Ti diamo il benvenuto nel servizio buoni spesa del Comune di Testville")
    assert "DOMANDA" in text
    replies = await chat.send("info")
    assert WELCOME not in msgids(replies)


async def test_info_as_a_first_telegram_message_has_the_menu(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "7991002", channel=Channel.TELEGRAM, language_hint="en")
    replies = await chat.expect("info", WELCOME)
    assert "apply" in options(replies)
    # HELP alone as the first message of a chat the town does not know: the welcome too
    # (test_first_words_about_the_money).
    other = Chat(core, "7991003", channel=Channel.TELEGRAM, language_hint="en")
    assert msgids(await other.send("HELP"))[0] == WELCOME


# 2. LINGUA with the language in words -------------------------------------------------------


def test_the_language_after_lingua_in_words() -> None:
    for words, language in (
        ("EN", "en"),
        ("inglese per favore", "en"),
        ("english please", "en"),
        ("in inglese", "en"),
        ("English", "en"),
        ("italiana", "it"),
        ("italiano grazie", "it"),
        ("IT per favore", "it"),
    ):
        assert language_asked(words) == language, words
    for words in ("", "francese", "italiano o inglese", "boh"):
        assert language_asked(words) is None, words


@pytest.mark.parametrize(
    "request_", ["lingua inglese per favore", "LINGUA inglese", "language english please"]
)
async def test_lingua_with_the_language_in_words_switches(core: Core, request_: str) -> None:
    """Before, "Choose your language." though she had said which: now as LANGUAGE EN, at a
    question (asked again in English) and as a first message (the welcome in English)."""
    await town_with_open_window(core)
    chat = Chat(core, "+393471991011")
    await chat.expect("DOMANDA", PRIVACY)
    replies = await chat.expect(request_, LANGUAGE_DONE.msgid, PRIVACY)
    assert CHOOSE not in msgids(replies)
    assert "Testville uses your data" in said(replies, "en")
    assert (await chat.state())[:2] == ("apply", "privacy")
    replies = await chat.expect("lingua italiana", LANGUAGE_DONE.msgid, PRIVACY)
    assert said(replies, "it").startswith("Fatto: ti scriverò in italiano.")
    first = Chat(core, "+393471991012")
    replies = await first.expect(request_, WELCOME)
    assert options(replies) == MENU_KEYS
    assert await language_of(core, first.channel, first.address) == "en"
    # A language we do not speak still asks which of ours.
    await Chat(core, "+393471991013").expect("lingua francese", CHOOSE)


# 3. The codice fiscale question -------------------------------------------------------------


def test_what_is_asked_instead_of_a_codice_fiscale() -> None:
    for text, asked in (
        ("I don't have one", NO_CODICE_FISCALE),
        ("I'm a foreigner, I have a passport", NO_CODICE_FISCALE),
        ("non ce l'ho", NO_CODICE_FISCALE),
        ("sono straniera ho il passaporto", NO_CODICE_FISCALE),
        ("what is that?", WHAT_CODICE_FISCALE),
        ("cos'è?", WHAT_CODICE_FISCALE),
        ("che cosa è", WHAT_CODICE_FISCALE),
        ("dove lo trovo", WHERE_CODICE_FISCALE),
        ("where do I find it", WHERE_CODICE_FISCALE),
        ("non lo so", WHERE_CODICE_FISCALE),
    ):
        assert codice_fiscale_asked(plain_words(text)) == asked, text
    for text in (
        "RSSMRA85T10A562",
        "Mario Rossi",
        "sorry I dont speak Italian",
        "ok",
        "",
        "non ho capito cosa devo scrivere",  # lost: the question's help (test_sms_family)
    ):
        assert codice_fiscale_asked(plain_words(text)) is None, text


async def at_the_cf(core: Core, address: str, first: str = "DOMANDA") -> Chat:
    chat = Chat(core, address)
    await chat.expect(first, PRIVACY)
    await chat.expect("1", CF)
    return chat


@pytest.mark.parametrize(
    ("words", "answer"),
    [
        ("I don't have one", NO_CF),
        ("what is that?", WHAT_CF),
        ("I'm a foreigner, I have a passport", NO_CF),
        ("where can I find it?", WHERE_CF),
    ],
)
async def test_english_at_the_codice_fiscale_question_is_answered_in_english(
    core: Core, words: str, answer: str
) -> None:
    """Before, the Italian error ("Il codice fiscale ha 16 lettere...") and the way to
    English: now what she asked, in English, the way back to Italian, the question again;
    nothing recorded, and her codice fiscale then goes on."""
    await town_with_open_window(core)
    chat = await at_the_cf(core, "+393471991021")
    replies = await chat.expect(words, answer, LANGUAGE_DONE.msgid, CF)
    assert NOT_A_CF not in msgids(replies) and IN_ENGLISH not in msgids(replies)
    text = said(replies, "en")
    assert "Per tornare all'italiano scrivi LINGUA" in text
    assert await language_of(core, chat.channel, chat.address) == "en"
    assert (await chat.state())[:2] == ("apply", "cf")
    assert "cf" not in await answers(chat)
    await chat.expect(make_cf(1021), MEMBERS)


@pytest.mark.parametrize(
    ("words", "answer"),
    [("non ce l'ho", NO_CF), ("cos'è?", WHAT_CF), ("dove lo trovo?", WHERE_CF)],
)
async def test_italian_at_the_codice_fiscale_question_is_answered(
    core: Core, words: str, answer: str
) -> None:
    await town_with_open_window(core)
    chat = await at_the_cf(core, "+393471991031")
    replies = await chat.expect(words, answer, CF)
    assert LANGUAGE_DONE.msgid not in msgids(replies)
    assert await language_of(core, chat.channel, chat.address) == "it"
    if answer == NO_CF:
        assert "scrivi UFFICIO" in said(replies, "it")
    # Italian to an English chat: answered in Italian, the way back to English said.
    english = await at_the_cf(core, "+393471991032", first="APPLY")
    replies = await english.expect("non ce l'ho", NO_CF, LANGUAGE_DONE.msgid, CF)
    assert "To go back to English, write LANGUAGE." in said(replies, "it")
    assert await language_of(core, english.channel, english.address) == "it"


async def test_other_english_at_the_codice_fiscale_question_is_as_before(core: Core) -> None:
    await town_with_open_window(core)
    chat = await at_the_cf(core, "+393471991041")
    await chat.expect("sorry I don't speak Italian", NOT_A_CF, IN_ENGLISH, CF)
    assert await language_of(core, chat.channel, chat.address) == "it"


# 4. How much, as a first message -----------------------------------------------------------


async def test_how_much_as_a_first_message_says_how_to_apply(core: Core) -> None:
    """ "Quanti soldi mi date?" had the amounts alone, and no next step: now how to apply
    after them (a second SMS where one does not hold both). A citizen with vouchers, a
    shop, or the same words later in a chat, as before."""
    await town_with_open_window(core)
    replies = await Chat(core, "+393471991051").expect("quanti soldi mi date?", HOW_MUCH, TO_APPLY)
    assert "Per fare domanda scrivi DOMANDA." in said(replies, "it")
    replies = await Chat(core, "7991052", channel=Channel.TELEGRAM).expect(
        "how much do they give?", HOW_MUCH, TO_APPLY
    )
    assert len(replies) == 1
    later = Chat(core, "+393471991053")
    await later.send("ciao")
    assert TO_APPLY not in msgids(await later.send("quanti soldi mi date?"))


async def test_how_much_asked_by_a_citizen_names_no_domanda(core: Core) -> None:
    town = await make_town(core, citizens=1)
    replies = await Chat(core, town.citizen_phones[0]).send("quanti soldi mi date?")
    # Her own balance's word after it (test_first_words_about_the_money), never DOMANDA.
    assert msgids(replies) == [HOW_MUCH, "To see what you have left, write SALDO."]
