"""An elderly citizen writing by SMS in her own words (trial findings, December 2026): a
polite no to a suggestion, STOP asked politely, greetings and thanks, the balance asked
in everyday words, a lost card, a yes or a household size inside a sentence, the shops of
her own town, LINGUA IT on an Italian chat, and English keywords on an Italian chat."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.commands import LANGUAGE_DONE, LANGUAGE_KEPT
from core.dialogue.engine import STOPPED
from core.dialogue.menus import FIRST_HELP, IN_ENGLISH, NOT_UNDERSTOOD
from core.dialogue.render import render_plain
from core.domain.messages import Money, Reply
from core.services import municipalities
from tests.dialogue.harness import Chat, msgids, open_till, options, town_with_open_window
from tests.dialogue.test_apply import (
    APPLICANT,
    CODE,
    DECLARE,
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
from tests.dialogue.test_shop import ASK_CODE
from tests.factories import make_town, pay

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


# 1. "No grazie" answers a yes-or-no question (README: "sì grazie", "no grazie" … answer it).


@pytest.mark.parametrize(("language", "no"), [("it", "no grazie"), ("en", "no thanks")])
async def test_a_polite_no_to_a_suggestion_declines_it(core: Core, language: str, no: str) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471240001")
    await chat.send(f"LINGUA {language}")
    await chat.expect("domnada", SUGGESTED)
    replies = await chat.expect(no, "All right.")
    assert NOT_UNDERSTOOD.msgid not in msgids(replies)
    assert options(replies) == CITIZEN_MENU  # the menu: what can be done instead
    assert (await chat.state())[:2] == (None, None)  # nothing started
    assert sms_text(replies, language).startswith("Va bene." if language == "it" else "All right.")
    # A yes still starts what was suggested.
    await chat.expect("domnada", SUGGESTED)
    await chat.expect("sì grazie", PRIVACY)


async def test_a_no_to_a_suggestion_while_a_payment_waits_names_the_payment(core: Core) -> None:
    town = await make_town(core)
    citizen = Chat(core, town.citizen_phones[0])
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 12,50", ASK_CODE)
    await citizen.expect("domnada", SUGGESTED)
    replies = await citizen.send("no grazie")
    # The payment is what a no may answer: named, refused only by ANNULLA.
    assert msgids(replies) == [WAITING]
    assert replies[0].texts[0].params["amount"] == Money(12_50)


# 2. Courtesy words around STOP: how to write it (STOP acts only alone, tests/unit).


@pytest.mark.parametrize(
    "text", ["stop per favore", "Stop, grazie", "per piacere stop", "please stop", "STOP pls"]
)
async def test_stop_asked_politely_says_how_to_stop(core: Core, text: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    replies = await chat.send(text)
    assert msgids(replies)[0] == STOP_HINT
    assert NOT_UNDERSTOOD.msgid not in msgids(replies)
    await chat.expect("SALDO", BALANCE)  # notices not stopped: nothing changed
    await chat.expect("STOP", STOPPED.msgid)  # alone, it stops


# 3. Greetings and thanks alone.


@pytest.mark.parametrize("text", ["ciao", "Buongiorno!", "buonasera", "pronto?", "chi siete?"])
async def test_a_greeting_gets_the_welcome_and_the_menu(core: Core, text: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    [reply] = await chat.send(text)
    assert msgids([reply]) == [WELCOME]
    assert options([reply]) == CITIZEN_MENU
    said = sms_text([reply])
    assert "buoni spesa" in said and "Testville" in said and "Non ho capito" not in said
    await chat.expect("1", BALANCE)  # the menu's first option


@pytest.mark.parametrize(
    "text",
    ["ciao sono maria", "Buongiorno, sono la signora Bianchi.", "buonasera mi chiamo giuseppe"],
)
async def test_a_greeting_with_her_name_gets_the_welcome(core: Core, text: str) -> None:
    """ "Ciao sono Maria" was not understood ("Non ho capito" and the help): a greeting with
    the writer's name is the greeting."""
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    [reply] = await chat.send(text)
    assert msgids([reply]) == [WELCOME] and options([reply]) == CITIZEN_MENU


@pytest.mark.parametrize("text", ["ciao sono senza soldi", "buonasera sono tornato"])
async def test_a_greeting_with_more_than_a_name_is_not_the_greeting(core: Core, text: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    assert WELCOME not in msgids(await chat.send(text))


async def test_a_greeting_in_english(core: Core) -> None:
    town = await make_town(core)
    english = Chat(core, town.citizen_phones[0])
    await english.send("LANGUAGE EN")
    for text in ("hello", "Good morning", "who are you?"):
        [reply] = await english.send(text)
        assert msgids([reply]) == [WELCOME] and options([reply]) == CITIZEN_MENU, text


async def test_a_greeting_while_a_payment_waits_names_the_payment(core: Core) -> None:
    town = await make_town(core)
    citizen = Chat(core, town.citizen_phones[0])
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 12,50", ASK_CODE)
    assert msgids(await citizen.send("buongiorno")) == [WAITING]


@pytest.mark.parametrize(
    "text",
    ["grazie mille, gentilissimi", "Grazie, siete gentilissimi!", "grazie, buona giornata"],
)
async def test_thanks_in_more_words(core: Core, text: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    assert msgids(await chat.send(text)) == [THANKS]


async def test_words_that_are_no_greeting_still_get_the_help(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    # ("Sono vecchio, non so usare il telefono" is no greeting either: she is lost, and
    # gets a hand and the menu, test_a_hand_when_lost.py.)
    assert msgids(await chat.send("boh")) == [NOT_UNDERSTOOD.msgid, FIRST_HELP.msgid]


# 4. The balance asked in everyday words.


@pytest.mark.parametrize(
    "text",
    [
        "mi resta qualcosa?",
        "Mi è rimasto qualcosa sulla tessera?",
        "non ho più soldi?",
        "non c'ho più credito?",
        "quanto mi resta",  # already read: kept
        "quanto ho",
        "quanti buoni ho",
    ],
)
async def test_the_balance_in_everyday_words(core: Core, text: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    replies = await chat.expect(text, BALANCE)
    assert replies[0].texts[0].params["balance"] == Money(150_00)


@pytest.mark.parametrize(
    "text", ["is there anything left?", "have I run out of money?", "no money left?"]
)
async def test_the_balance_in_everyday_english(core: Core, text: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("LANGUAGE EN")
    await chat.expect(text, BALANCE)


async def test_no_more_money_where_an_amount_is_asked_is_no_balance(core: Core) -> None:
    # Inside the application the same words answer (wrongly) its question: the balance
    # would leave it for a draft.
    await town_with_open_window(core)
    chat = Chat(core, "+393471240002")
    for text in ("DOMANDA", "1", APPLICANT, "2", "no", "no"):
        await chat.send(text)
    await chat.expect("non ho più soldi", NOT_AN_AMOUNT, LIQUIDITY)
    assert (await chat.state())[:2] == ("apply", "liquidity")


# 5. A lost card: how to replace it, not its number.


@pytest.mark.parametrize(
    "text", ["ho perso la tessera", "tessera persa", "Non trovo più la carta!", "lost my card"]
)
async def test_a_lost_card_is_sent_to_the_office(core: Core, text: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    replies = await chat.send(text)
    assert msgids(replies) == [LOST, NO_CONTACT]
    said = sms_text(replies)
    assert "Mostralo alla cassa" not in said and "Carta persa?" in said
    assert (await chat.state())[:2] == (None, None)


async def test_a_lost_card_with_the_offices_contact(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await _set_contact(core, town.code, "0733 905 111, lun-ven 9-12")
    replies = await chat.send("ho perso la tessera")
    assert msgids(replies) == [LOST, CONTACT]
    assert sms_text(replies).endswith("Servizi sociali di Testville: 0733 905 111, lun-ven 9-12")
    # A contact too long to fit beside it: the way to it (UFFICIO), one SMS all the same.
    await _set_contact(core, town.code, "0733 905 111, " + "x" * 70)
    replies = await chat.send("tessera persa")
    assert msgids(replies) == [LOST_ASK_OFFICE]
    await chat.send("LANGUAGE EN")
    assert "write OFFICE" in sms_text(await chat.send("lost my card"), "en")


async def test_the_card_alone_is_still_its_code(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    for text in ("tessera", "carta", "CARD", "la mia tessera"):
        await chat.expect(text, CARD)


async def _set_contact(core: Core, code: str, text: str) -> None:
    async with core.uow() as uow:
        await municipalities.update_municipality(uow, code, office_contact=text)
        await uow.commit()


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
        "io mio marito e i figli",  # how many children?
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


# 9. An English keyword on an Italian chat: the answer, and the way to English.


@pytest.mark.parametrize("text", ["balance please", "BALANCE", "my balance"])
async def test_an_english_keyword_on_an_italian_chat_hears_the_way_to_english(
    core: Core, text: str
) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")  # an Italian chat that exists
    [reply] = await chat.send(text)
    assert msgids([reply])[0] == BALANCE and msgids([reply])[-1] == IN_ENGLISH.msgid
    assert sms_text([reply]).endswith("English: write LANGUAGE EN")  # one SMS (the harness)
    # Italian words, or an English chat: no hint.
    assert IN_ENGLISH.msgid not in msgids(await chat.send("saldo per favore"))
    await chat.send("LANGUAGE EN")
    assert IN_ENGLISH.msgid not in msgids(await chat.send(text))


async def test_the_way_to_english_takes_the_place_of_a_movement(core: Core) -> None:
    town = await make_town(core)
    for _ in range(3):
        await pay(core, town, 12_50)
    chat = Chat(core, town.citizen_phones[0])
    [full] = await chat.expect("SALDO", BALANCE)
    [hinted] = await chat.send("balance please")
    assert msgids([hinted])[-1] == IN_ENGLISH.msgid
    assert len(hinted.texts) <= len(full.texts)  # one SMS still (the harness checks)
    assert "112,50" in sms_text([hinted])


@pytest.mark.parametrize(
    ("text", "first"), [("card please", CARD), ("thank you", THANKS), ("menu please", None)]
)
async def test_other_english_words_on_an_italian_chat(
    core: Core, text: str, first: str | None
) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    replies = await chat.send(text)
    if first is not None:
        assert msgids(replies)[0] == first
    assert msgids(replies)[-1] == IN_ENGLISH.msgid


async def test_hello_on_an_italian_chat_hears_the_welcome_and_the_way_to_english(
    core: Core,
) -> None:
    # The Italian menu says little to them, and the way to English would not fit beside it.
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    for text in ("hello", "who are you?"):
        [reply] = await chat.send(text)
        assert msgids([reply]) == [WELCOME, IN_ENGLISH.msgid], text
        assert sms_text([reply]).endswith("English: write LANGUAGE EN")


async def test_none_said_in_a_sentence_at_the_support_and_rent_questions(core: Core) -> None:
    """ "Non ce l'ho" at the support, "casa di proprietà" at the rent: 0, as "niente" is. "Non
    ho la naspi" (another support may come in) is asked again."""
    await town_with_open_window(core)
    chat = Chat(core, "+393471240007")
    for text in ("DOMANDA", "1", APPLICANT, "1", "2", "2"):
        await chat.send(text)
    await chat.expect("0", SUPPORT)
    await chat.expect("non ho la naspi", SUPPORT)
    assert (await chat.state())[:2] == ("apply", "support")
    await chat.expect("non ce l'ho", RENT)
    await chat.expect("casa di proprietà", SUMMARY)
    data = (await chat.state())[2]
    assert data["state"]["support"] == 0 and data["state"]["rent"] == 0
