"""How people ask for a language, answer in one we do not speak, and say they have no
savings, as they really write to the town's number and bot: "please write in English" or
"parla italiano?" is LANGUAGE EN / LINGUA IT wherever it is written, the question asked
again in the new language; "je ne sais pas" at a question hears its hint and the way to
our two languages; "non ho risparmi" at the savings question is 0."""

from __future__ import annotations

from typing import Any

import pytest

from core.bootstrap import Core
from core.dialogue.commands import LANGUAGE_DONE, LANGUAGE_KEPT, parse
from core.dialogue.context import NOT_UNDERSTOOD
from core.dialogue.inbound import Channel
from core.dialogue.menus import IN_OUR_LANGUAGES
from core.dialogue.menus import NOT_UNDERSTOOD as NOT_UNDERSTOOD_HERE
from core.dialogue.render import render_plain
from core.domain.messages import Reply
from tests.dialogue.harness import Chat, msgids, options, town_with_open_window
from tests.dialogue.test_apply import CF, LIQUIDITY, MEMBERS, PENSION, PRIVACY, SUPPORT, WORK
from tests.dialogue.test_first_words_and_languages import language_of
from tests.dialogue.test_shop import AMOUNT as TILL_AMOUNT
from tests.dialogue.test_shop import ASK_CODE
from tests.dialogue.test_till_slips import codes_sent, terminal_till
from tests.factories import make_cf, make_town

WELCOME = "Welcome to the grocery vouchers of {town}."
MENU_KEYS = ["balance", "shops", "apply", "status", "language", "shopkeeper"]
MEMBERS_HINT = "Write the number of people with a number from 1 to {max}, e.g. 3."
YES_OR_NO_PRIVACY = "Reply 1 if you agree, 2 if you do not."

TO_ENGLISH = [
    "please write in English",
    "can you write in english please",
    "Sorry, in English please",
    "Do you speak English?",
    "mi puoi scrivere in inglese?",
]
TO_ITALIAN = ["parla italiano?", "scrivimi in italiano per favore", "Can you write in Italian?"]


def said(replies: list[Reply], language: str, *, sms: bool = True) -> str:
    return "\n".join(render_plain(reply, language, sms=sms) for reply in replies)


async def answers(chat: Chat) -> dict[str, Any]:
    _flow, _step, data = await chat.state()
    state: dict[str, Any] = data.get("state", {})
    return state


def test_which_sentences_ask_for_a_language() -> None:
    for text in TO_ENGLISH:
        assert parse(text) == ("language", "en"), text
    for text in TO_ITALIAN:
        assert parse(text) == ("language", "it"), text
    # A name in other words, two names, or a "not": no request for that language.
    for text in (
        "sono italiano",
        "non parlo italiano",
        "I can't write in Italian",
        "italiano o inglese?",
        "ho fatto la domanda in inglese",
        "mio figlio vive in inghilterra e parla inglese ma io no",
    ):
        assert parse(text) is None, text


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM])
@pytest.mark.parametrize(
    ("first", "language"), [*((x, "en") for x in TO_ENGLISH), *((x, "it") for x in TO_ITALIAN)]
)
async def test_a_language_asked_for_in_the_first_words(
    core: Core, channel: Channel, first: str, language: str
) -> None:
    """The chat speaks it from the first reply: the welcome and the menu in it."""
    await town_with_open_window(core)
    address = "+393471990001" if channel is Channel.SMS else "7990001"
    # An app in the other language: the words decide.
    hint = "it" if language == "en" else "en"
    chat = Chat(core, address, channel=channel, language_hint=hint)
    replies = await chat.expect(first, WELCOME)
    assert options(replies) == MENU_KEYS
    assert await language_of(core, channel, address) == language
    assert said(replies, language).startswith(
        "Welcome" if language == "en" else "Ti diamo il benvenuto"
    )


@pytest.mark.parametrize("request_", ["please write in English", "can you write in english please"])
async def test_a_language_asked_for_at_a_question_asks_it_again_in_it(
    core: Core, request_: str
) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471990002")
    await chat.expect("DOMANDA", PRIVACY)
    replies = await chat.expect(request_, LANGUAGE_DONE.msgid, PRIVACY)
    assert NOT_UNDERSTOOD.msgid not in msgids(replies)
    text = said(replies, "en")
    assert text.startswith("Done: I will write to you in English.")
    assert "Testville uses your data" in text
    assert (await chat.state())[:2] == ("apply", "privacy")
    await chat.expect("1", CF)
    await chat.expect(make_cf(790), MEMBERS)
    # Back to Italian at the next question, as LINGUA IT: nothing answered.
    replies = await chat.expect("parla italiano?", LANGUAGE_DONE.msgid, MEMBERS)
    assert said(replies, "it").startswith("Fatto: ti scriverò in italiano.")
    assert "Quante persone" in said(replies, "it")
    assert (await chat.state())[:2] == ("apply", "members")
    assert "members" not in await answers(chat)
    await chat.expect("scrivimi in italiano per favore", LANGUAGE_KEPT.msgid, MEMBERS)
    await chat.expect("2", WORK)


async def test_a_language_asked_for_at_the_menu(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "7990003", channel=Channel.TELEGRAM, language_hint="it")
    await chat.send("MENU")
    replies = await chat.expect("can you write in english please", LANGUAGE_DONE.msgid)
    assert options(replies) == MENU_KEYS
    assert NOT_UNDERSTOOD.msgid not in msgids(replies)
    assert "1 Balance" in said(replies, "en", sms=False)
    replies = await chat.expect("scrivimi in italiano per favore", LANGUAGE_DONE.msgid)
    assert "1 Saldo" in said(replies, "it", sms=False)
    assert await language_of(core, chat.channel, "7990003") == "it"


FOREIGN = ["je ne sais pas", "no tengo", "oui", "sí, somos cuatro"]


@pytest.mark.parametrize("words", FOREIGN)
async def test_another_language_at_a_question_hears_the_hint_and_our_languages(
    core: Core, words: str
) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471990004")
    await chat.expect("DOMANDA", PRIVACY)
    # At a yes/no question, the consent.
    replies = await chat.send(words)
    assert msgids(replies)[:2] == [YES_OR_NO_PRIVACY, IN_OUR_LANGUAGES.msgid]
    assert msgids(replies)[-1] == PRIVACY
    assert options(replies) == ["yes", "no"]
    text = said(replies, "it")
    assert "Non ho capito" not in text
    assert "Italiano: scrivi LINGUA IT. English: write LANGUAGE EN." in text
    assert (await chat.state())[:2] == ("apply", "privacy")
    # At a question answered in words, the household's size: nothing recorded.
    await chat.expect("1", CF)
    await chat.expect(make_cf(791), MEMBERS)
    replies = await chat.send(words)
    assert msgids(replies) == [MEMBERS_HINT, IN_OUR_LANGUAGES.msgid, MEMBERS]
    assert "Non ho capito" not in said(replies, "it")
    assert "members" not in await answers(chat)
    # The way works: LANGUAGE EN, and the question comes in English.
    replies = await chat.expect("LANGUAGE EN", LANGUAGE_DONE.msgid, MEMBERS)
    assert "How many people" in said(replies, "en")


async def at_savings(core: Core, phone: str) -> Chat:
    await town_with_open_window(core)
    chat = Chat(core, phone)
    await chat.expect("DOMANDA", PRIVACY)
    await chat.expect("1", CF)
    await chat.expect(make_cf(792), MEMBERS)
    await chat.expect("1", WORK)
    await chat.expect("no", PENSION)
    await chat.expect("no", LIQUIDITY)
    return chat


@pytest.mark.parametrize(
    "words",
    ["non ho risparmi", "nessun risparmio", "zero risparmi", "niente", "no savings", "I have none",
     "non ho soldi in banca"],
)  # fmt: skip
async def test_no_savings_in_words_is_zero(core: Core, words: str) -> None:
    chat = await at_savings(core, "+393471990005")
    await chat.expect(words, SUPPORT)
    assert (await answers(chat))["liquidity"] == 0


@pytest.mark.parametrize("words", ["I have none", "zero", "nessun sostegno", "non prendo niente"])
async def test_no_support_in_words_is_zero(core: Core, words: str) -> None:
    chat = await at_savings(core, "+393471990006")
    await chat.expect("0", SUPPORT)
    await chat.send(words)
    assert (await answers(chat))["support"] == 0
    assert (await chat.state())[:2] == ("apply", "rent")


@pytest.mark.parametrize("words", ["non ho risparmi ma mio marito sì", "non ho risparmi 300"])
async def test_other_words_beside_no_savings_are_no_zero(core: Core, words: str) -> None:
    chat = await at_savings(core, "+393471990007")
    await chat.send(words)
    assert "liquidity" not in await answers(chat)
    assert (await chat.state())[:2] == ("apply", "liquidity")


@pytest.mark.parametrize("words", ["non ho risparmi", "niente", "nothing", "I have none"])
async def test_nothing_at_the_tills_amount_charges_nothing(core: Core, words: str) -> None:
    """The till's amount is never "nothing": no code sent, the amount asked again."""
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    await till.expect(f"PAGA {town.citizen_cfs[0]}", TILL_AMOUNT)
    replies = await till.send(words)
    assert ASK_CODE not in msgids(replies)
    assert (await till.state())[:2] == ("charge", "amount")
    assert await codes_sent(core, town.citizen_phones[0]) == 0


STORY = (
    "Buongiorno, mi chiamo Fatima, ho tre bambini e mio marito non lavora da marzo. Come "
    "posso avere i buoni spesa?"
)
STORY_WITH_AGE = (
    "Buongiorno sono Maria ho 78 anni vivo da sola con la pensione minima e mio figlio ha "
    "perso il lavoro, mi hanno detto che il comune da i buoni spesa, come posso fare per "
    "averli? grazie"
)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM])
@pytest.mark.parametrize("story", [STORY, STORY_WITH_AGE])
async def test_a_story_ending_with_how_to_apply_applies(
    core: Core, channel: Channel, story: str
) -> None:
    """Before, "Non ho capito" and the list of words: a story was read by a keyword only.
    Its last question is what she asks: the application, as "come posso avere i buoni?"."""
    await town_with_open_window(core)
    address = "+393471990008" if channel is Channel.SMS else "7990008"
    chat = Chat(core, address, channel=channel)
    await chat.send("ciao")
    replies = await chat.send(story)
    assert NOT_UNDERSTOOD_HERE.msgid not in msgids(replies)
    assert (await chat.state())[0] == "apply"


async def test_a_story_asking_nothing_is_read_as_before(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471990009")
    await chat.send("ciao")
    await chat.expect(STORY.replace("?", "."), NOT_UNDERSTOOD_HERE.msgid)
    assert (await chat.state())[:2] == (None, None)
