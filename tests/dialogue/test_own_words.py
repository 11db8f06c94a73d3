"""An elderly citizen writing by SMS in her own words (trial findings, December 2026): a
polite no to a suggestion, STOP asked politely, greetings and thanks, the balance asked
in everyday words, a lost card, a yes or a household size inside a sentence, the shops of
her own town, LINGUA IT on an Italian chat, and English keywords on an Italian chat."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.commands import LANGUAGE_DONE, LANGUAGE_KEPT
from core.dialogue.render import render_plain
from core.domain.messages import Reply
from tests.dialogue.harness import Chat, msgids, town_with_open_window
from tests.dialogue.test_apply import (
    APPLICANT,
    CODE,
    DECLARE,
    LIQUIDITY,
    MEMBERS,
    PENSION,
    PRIVACY,
    SUMMARY,
    WORK,
)
from tests.factories import make_town

BALANCE = "Your balance: {balance}."
SUGGESTED = "Did you mean {keyword}?"
STOP_HINT = (
    "To receive no more messages, write STOP on its own. Payment codes and receipts still arrive."
)
WELCOME = "Welcome to the grocery vouchers of {town}."
THANKS = "You're welcome! Write SALDO, NEGOZI or AIUTO when you need."
CARD = "Your card code is {code}. Show it at the till to pay."
LOST = "Lost card? Tell the office: they give you a new card and block the lost one."
LOST_ASK_OFFICE = (
    "Lost card? Tell the office: they give you a new card and block the lost one. To reach "
    "them, write UFFICIO."
)
CONTACT = "Social services of {town}: {contact}"
NO_CONTACT = (
    "Social services of {town}: ask at the town hall, they will tell you how to reach them."
)
ASK_TOWN = (
    "Write a town, a postcode (CAP) or a type of shop: alimentari, panetteria, macelleria, "
    "frutta, farmacia."
)
SHOPS_FOUND = "{count} shop found:"
WAITING = (
    "{shop} asks {amount} and waits for the code: if you agree, tell it to the cashier; if "
    "not, write ANNULLA."
)
CITIZEN_MENU = ["balance", "shops", "apply", "status", "language", "shopkeeper"]


def sms_text(replies: list[Reply], language: str = "it") -> str:
    return "\n".join(render_plain(reply, language, sms=True) for reply in replies)


# 6. A yes, or the household's size, inside a sentence: only where it acts on nothing.


async def test_a_yes_that_says_who_answers_the_household_questions(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471240003")
    for text in ("DOMANDA", "1"):
        await chat.send(text)
    await chat.expect(APPLICANT, MEMBERS)
    await chat.expect("io e mio marito siamo 2", WORK)
    await chat.expect("si, mio marito lavora", PENSION)
    # A yes with a "but", a doubt or the past is no plain yes: asked again.
    for text in ("si ma non più", "sì forse", "si, aveva la pensione", "si no"):
        await chat.expect(text, "Reply 1 for yes or 2 for no.", PENSION)
        assert (await chat.state())[:2] == ("apply", "pension"), text
    await chat.expect("si la pensione di mio marito", LIQUIDITY)
    data = (await chat.state())[2]
    assert data["state"]["members"] == 2
    assert data["state"]["work"] is True and data["state"]["pension"] is True


async def test_a_no_that_repeats_it_answers_the_household_questions(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471240004")
    for text in ("DOMANDA", "1", APPLICANT):
        await chat.send(text)
    await chat.expect("siamo in tre persone", WORK)
    await chat.expect("no, nessuno", PENSION)
    # "No, solo mio marito": a no that may mean a yes, asked again.
    await chat.expect("no, solo mio marito", "Reply 1 for yes or 2 for no.", PENSION)
    data = (await chat.state())[2]
    assert data["state"]["members"] == 3 and data["state"]["work"] is False


@pytest.mark.parametrize(
    "text",
    [
        "io mio marito e 2 figli",  # 2 children, not the household
        "siamo 2 più i bambini",
        "siamo 2 adulti e 3 bambini",
        "io e mio marito non siamo 2",
        "mio marito ha 80 anni",
    ],
)
async def test_a_number_that_may_not_be_the_household_is_asked_again(core: Core, text: str) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471240005")
    for sent in ("DOMANDA", "1", APPLICANT):
        await chat.send(sent)
    await chat.expect(text, "Write the number of people with a number from 1 to {max}, e.g. 3.")
    assert (await chat.state())[:2] == ("apply", "members")


async def test_a_yes_with_words_is_no_consent_and_no_declaration(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471240006")
    await chat.expect("DOMANDA", PRIVACY)
    await chat.expect("si mio marito", "Reply 1 if you agree, 2 if you do not.")
    assert (await chat.state())[:2] == ("apply", "privacy")
    for text in ("1", APPLICANT, "2", "2", "2", "100", "0"):
        await chat.send(text)
    await chat.expect("0", SUMMARY, DECLARE)
    replies = await chat.send("si la pensione di mio marito")
    assert CODE not in msgids(replies)
    assert (await chat.state())[:2] == ("apply", "summary")


# 7. The shops of a citizen's own town.


@pytest.mark.parametrize("text", ["negozi", "NEGOZI per favore", "dove posso spendere i buoni?"])
async def test_a_known_citizen_gets_the_shops_of_their_town(core: Core, text: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    replies = await chat.expect(text, SHOPS_FOUND)
    assert "Alimentari Test, Via Roma 1" in sms_text(replies)
    assert (await chat.state())[:2] == (None, None)
    # Another town or a type is still searched as written.
    await chat.expect("negozi 62020", SHOPS_FOUND)


async def test_a_number_we_do_not_know_is_asked_where(core: Core) -> None:
    await make_town(core)
    chat = Chat(core, "+393471240007")
    await chat.send("MENU")
    await chat.expect("negozi", ASK_TOWN)
    await chat.expect("Testville", SHOPS_FOUND)


# 8. LINGUA IT on a chat that was always Italian: no way back to English to tell.


@pytest.mark.parametrize("how", [("LINGUA IT",), ("lingua", "1")])
async def test_italian_asked_on_an_italian_chat_says_no_english(
    core: Core, how: tuple[str, ...]
) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    for text in how:
        replies = await chat.send(text)
    assert msgids(replies)[0] == LANGUAGE_KEPT.msgid
    said = sms_text(replies)
    assert said.startswith("Fatto: ti scriverò in italiano.")
    assert "English" not in said and "LANGUAGE" not in said
    # Leaving English still says the way back to it, in English.
    await chat.send("LANGUAGE EN")
    replies = await chat.expect("LINGUA IT", LANGUAGE_DONE.msgid)
    assert "To go back to English, write LANGUAGE." in sms_text(replies)
