"""The first words of a chat, and the language they are answered in: a tap on Telegram
(which has no words to read), the town question of a deployment with several towns, and
someone writing in English, in Italian, or in a language the service does not speak."""

from __future__ import annotations

from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.render import render_plain
from core.domain.messages import Reply
from core.services import municipalities
from core.storage import models as m
from tests.dialogue.harness import Chat, msgids, param, town_with_open_window
from tests.factories import make_cf

LANGUAGE = "Choose your language."
PRIVACY = (
    "Privacy (GDPR): {town} uses your data only for the grocery vouchers; notice at the town "
    "hall. Agree?"
)
OTHER_LANGUAGE = "Another language: write LINGUA."
TOWN = "Which municipality do you live in (or work in)?"
WELCOME = "Welcome to the grocery vouchers of {town}."


def said(replies: list[Reply], language: str, *, sms: bool = False) -> str:
    return "\n".join(render_plain(reply, language, sms=sms) for reply in replies)


async def language_of(core: Core, channel: Channel, address: str) -> str | None:
    async with core.uow() as uow:
        return await uow.session.scalar(
            select(m.Conversation.language)
            .where(m.Conversation.channel == channel.value, m.Conversation.address == address)
            .order_by(m.Conversation.updated_at.desc())
            .limit(1)
        )


async def test_a_tap_on_apply_is_not_asked_the_language_it_was_shown_in(core: Core) -> None:
    """Telegram: "Domanda" tapped under the menu goes straight to the consent, in the
    language of the button's label, which says how to change it."""
    await town_with_open_window(core)
    for address, hint, language in (
        ("7701", "it", "it"),
        ("7702", "en", "en"),
        ("7703", None, "it"),  # no language_code: the menu was Italian, so was the label
        ("7704", "de", "it"),  # a language we do not speak: the label she tapped was Italian
    ):
        chat = Chat(core, address, channel=Channel.TELEGRAM, language_hint=hint)
        await chat.send("/start")
        replies = await chat.expect(None, PRIVACY, OTHER_LANGUAGE, option="apply")
        assert LANGUAGE not in msgids(replies)
        assert (await chat.state())[:2] == ("apply", "privacy")
        assert await language_of(core, chat.channel, address) == language
        way = "English? Scrivi LINGUA." if language == "it" else "Italiano? Write LANGUAGE."
        assert way in said(replies, language)
        # The choice stays reachable: LINGUA asks it, at the consent as anywhere.
        await chat.expect("LINGUA", LANGUAGE)


async def test_a_tap_that_begins_a_chat_goes_by_the_apps_language(core: Core) -> None:
    """A button of a chat forgotten since (nothing drawn by this chat): Telegram's
    language_code where we speak it, else the question."""
    await town_with_open_window(core)
    english = Chat(core, "7711", channel=Channel.TELEGRAM, language_hint="en-GB")
    await english.expect(None, PRIVACY, OTHER_LANGUAGE, option="apply")
    assert await language_of(core, english.channel, "7711") == "en"
    for address, hint in (("7712", None), ("7713", "de")):
        unknown = Chat(core, address, channel=Channel.TELEGRAM, language_hint=hint)
        await unknown.expect(None, LANGUAGE, option="apply")
        assert (await unknown.state())[:2] == ("apply", "language")


async def test_a_menu_number_by_sms_still_asks_the_language(core: Core) -> None:
    """A number names no language (the SMS menu's "3"): as before."""
    await town_with_open_window(core)
    chat = Chat(core, "+393471770001")
    await chat.send("MENU")
    await chat.expect("3", LANGUAGE)


async def several_towns(core: Core) -> None:
    await town_with_open_window(core)
    async with core.uow() as uow:
        await municipalities.add_municipality(uow, code="OTH", name="Otherville", now=core.now())
        await uow.commit()


async def test_the_town_question_speaks_the_language_of_the_first_words(core: Core) -> None:
    await several_towns(core)
    for address, hint, first, language in (
        ("7721", "it", "hello", "en"),  # typed words decide, whatever the app's language
        ("7722", None, "hi, I need help with food", "en"),
        ("7723", "en", "buongiorno, mi servono i buoni spesa", "it"),
        ("7724", "en", "/start", "en"),  # no words: the app's language, as before
        ("7725", None, "/start", "it"),
    ):
        chat = Chat(core, address, channel=Channel.TELEGRAM, language_hint=hint)
        replies = await chat.expect(first, TOWN)
        assert await language_of(core, chat.channel, address) == language, first
        question = said(replies, language)
        assert question.startswith(
            "Which municipality" if language == "en" else "In quale comune"
        ), question
        # The town typed in any case is that town; the menu goes on in the same language.
        replies = await chat.expect("OTHERVILLE", WELCOME)
        assert param(replies, "town") == "Otherville"
        assert await language_of(core, chat.channel, address) == language, first
        welcome = said(replies, language)
        assert welcome.startswith("Welcome" if language == "en" else "Ti diamo il benvenuto")


async def test_a_language_chosen_at_the_town_question_is_kept(core: Core) -> None:
    await several_towns(core)
    chat = Chat(core, "7731", channel=Channel.TELEGRAM, language_hint="it")
    await chat.expect("LANGUAGE EN", TOWN)
    await chat.expect("ciao", TOWN)  # Italian words later do not undo the choice
    assert await language_of(core, chat.channel, "7731") == "en"


IN_TWO = "I only write in English or Italian: choose. Scrivo solo in inglese o in italiano: scegli."


def test_which_messages_are_in_a_language_we_do_not_speak() -> None:
    from core.dialogue.languages import in_another_language

    for text in (
        "Bonjour, j'ai besoin d'aide pour manger",
        "hola necesito ayuda con la comida",  # "la" is Italian too: three words to one
        "Guten Tag, ich brauche Hilfe",
        "مرحبا، أحتاج مساعدة",
        "Привіт, мені потрібна допомога з їжею",
        "Здравствуйте",
    ):
        assert in_another_language(text), text
    ours: tuple[str | None, ...] = (
        "Buongiorno sono la signora Maria, mio nipote mi ha detto di scrivere qui per la spesa",
        "hi, I need help with food",
        "domnada",  # a slip, not a language
        "boh",
        "RSSMRA85T10A562S",
        "💶",
        "",
        None,
        "ciao Привіт",  # a word of ours: not said to be foreign
        "ｓａｌｄｏ",  # full-width Latin letters are ours
    )
    for words in ours:
        assert not in_another_language(words), words


async def test_first_contact_in_another_language_is_answered_in_both_of_ours(
    core: Core,
) -> None:
    """French, Arabic, Ukrainian: not "Non ho capito" and the Italian help, but which of
    our two languages, said in both, with the two to pick; the pick is the menu's."""
    await town_with_open_window(core)
    for address, channel, text in (
        ("+393471780001", Channel.SMS, "Bonjour, j'ai besoin d'aide pour manger"),
        ("+393471780002", Channel.SMS, "مرحبا، أحتاج مساعدة"),
        ("7781", Channel.TELEGRAM, "Привіт, мені потрібна допомога з їжею"),
    ):
        chat = Chat(core, address, channel=channel)
        sms = channel is Channel.SMS
        for _ in range(2):  # the first message and the next: the same clear answer
            replies = await chat.expect(text, IN_TWO)
            words = said(replies, "it", sms=sms)
            assert "Scrivo solo in italiano o in inglese" in words
            assert "I only write in Italian or English" in words
            assert "Non ho capito" not in words
            assert [o.key for o in replies[-1].options] == ["lang:it", "lang:en"]
        replies = await chat.expect(
            "2", "Done: I will write to you in English. Per tornare all'italiano scrivi LINGUA."
        )
        assert await language_of(core, channel, address) == "en"
        assert "apply" in [o.key for reply in replies for o in reply.options]


async def test_first_contact_in_english_and_in_italian(core: Core) -> None:
    """A foreigner writing English and a grandmother writing Italian, by SMS and on
    Telegram whatever the app's language: each is answered in her own, and never asked
    the language when she then applies."""
    await town_with_open_window(core)
    for address, channel, hint in (
        ("+393471790001", Channel.SMS, None),
        ("7791", Channel.TELEGRAM, "it"),
    ):
        chat = Chat(core, address, channel=channel, language_hint=hint)
        # Vouchers asked for in English: the application, in English, no language asked.
        replies = await chat.expect("hello, I need food vouchers", PRIVACY)
        assert LANGUAGE not in msgids(replies)
        assert await language_of(core, channel, address) == "en"
        assert "Scrivi" not in said(replies, "en", sms=channel is Channel.SMS)
    grandmother = (
        "Buongiorno sono la signora Maria, mio nipote mi ha detto di scrivere qui per la spesa"
    )
    for address, channel, hint in (
        ("+393471790002", Channel.SMS, None),
        ("7792", Channel.TELEGRAM, "en"),
    ):
        chat = Chat(core, address, channel=channel, language_hint=hint)
        await chat.expect(grandmother, WELCOME)
        assert await language_of(core, channel, address) == "it"
        if channel is Channel.TELEGRAM:
            await chat.expect(None, PRIVACY, OTHER_LANGUAGE, option="apply")
        else:
            await chat.expect("vorrei fare la domanda", PRIVACY, OTHER_LANGUAGE)


async def test_another_language_at_the_town_question(core: Core) -> None:
    """Several towns: our two languages first, then the town question in the one picked."""
    await several_towns(core)
    chat = Chat(core, "7741", channel=Channel.TELEGRAM)
    await chat.expect("Bonjour, j'ai besoin d'aide", IN_TWO)
    replies = await chat.expect(None, TOWN, option="lang:en")
    assert said(replies, "en").startswith("Which municipality")
    await chat.expect("otherville", WELCOME)
    assert await language_of(core, chat.channel, "7741") == "en"


def test_a_town_typed_as_people_type_it() -> None:
    from core.dialogue.menus import town_typed

    towns = [(1, "Testville"), (2, "Otherville"), (3, "San Severino Marche"), (4, "Roma")]
    for text, town in (
        ("OTHERVILLE", 2),
        ("otherville.", 2),
        ("OTHERVILE", 2),  # one letter missing
        ("Otehrville", 2),  # two swapped
        ("abito a Otherville", 2),
        ("Comune di Testville", 1),
        ("san severino marcche", 3),
        ("roma", 4),
        ("rome", None),  # a short name takes no slip
        ("hello", None),
        ("ville", None),
        ("", None),
    ):
        assert town_typed(towns, text) == town, text
    # Two towns one slip away: neither is guessed.
    assert town_typed([(1, "Castel Ritaldi"), (2, "Castel Rinaldi")], "castel riraldi") is None


async def test_the_town_typed_with_a_slip_at_the_town_question(core: Core) -> None:
    await several_towns(core)
    chat = Chat(core, "7751", channel=Channel.TELEGRAM, language_hint="it")
    await chat.send("/start")
    replies = await chat.expect("OTHERVILE", WELCOME)
    assert param(replies, "town") == "Otherville"


async def test_help_asked_by_a_first_message_on_telegram_has_the_menu(core: Core) -> None:
    """Help in a sentence ("hi, I need help with food") as a Telegram chat's first
    message: the welcome, the words, in English, and the menu's buttons (the words alone
    left nothing to tap)."""
    await town_with_open_window(core)
    chat = Chat(core, "7761", channel=Channel.TELEGRAM, language_hint="it")
    replies = await chat.expect("hi, I need help with food", WELCOME)
    assert await language_of(core, chat.channel, "7761") == "en"
    assert said(replies, "en").startswith("Welcome")
    assert "Write: BALANCE" in said(replies, "en")
    assert "apply" in [o.key for reply in replies for o in reply.options]
    # Asked again later, the help is the words, as before. HELP alone at first, from a
    # chat the town does not know, has the welcome before the words too.
    replies = await chat.send("help")
    assert WELCOME not in msgids(replies)
    alone = Chat(core, "7762", channel=Channel.TELEGRAM, language_hint="en")
    replies = await alone.send("HELP")
    assert msgids(replies)[0] == WELCOME and "Write: BALANCE" in said(replies, "en")


def test_spanish_or_french_with_a_word_italian_shares_is_another_language() -> None:
    """Words Italian shares with Spanish and French ("la", "me", "non") are no evidence of
    Italian, neither against those languages' words ("que", "tarjeta") nor for a new
    chat's language; words only Italian has still are."""
    from core.dialogue.languages import in_another_language, written_language

    for text in (
        "la tarjeta",
        "me puede ayudar",
        "que es esto",
        "de nada",
        "non merci",
        "bonjour je voudrais la carte",
        "salut",
    ):
        assert in_another_language(text), text
        assert written_language(text, "en") is None, text
    for text in ("ciao", "saldo", "aiuto", "buongiorno", "la mia domanda", "la carta", "sì"):
        assert not in_another_language(text), text
        assert written_language(text, "en") == "it", text
    assert written_language("non lo so", None) == "it"  # shared words, nothing foreign
    assert not in_another_language("De Luca Maria")  # a name


async def test_a_first_message_in_spanish_or_french_is_offered_our_two(core: Core) -> None:
    """A first "la tarjeta" or "que es esto" had the Italian welcome ("la" is Italian),
    and Spanish from an app in English was made Italian: now which of our two, in both.
    Short Italian and English first messages are answered as before."""
    await town_with_open_window(core)
    for address, channel, hint, text in (
        ("+393471800001", Channel.SMS, None, "la tarjeta"),
        ("+393471800002", Channel.SMS, None, "que es esto"),
        ("7801", Channel.TELEGRAM, "en", "me puede ayudar"),
        ("7802", Channel.TELEGRAM, "it", "bonjour je voudrais la carte"),
    ):
        chat = Chat(core, address, channel=channel, language_hint=hint)
        replies = await chat.expect(text, IN_TWO)
        assert [o.key for o in replies[-1].options] == ["lang:it", "lang:en"]
    for address, text, language, first in (
        ("+393471800011", "ciao", "it", WELCOME),
        ("+393471800012", "buongiorno", "it", WELCOME),
        ("+393471800013", "hello", "en", WELCOME),
        ("+393471800014", "la mia domanda", "it", PRIVACY),
    ):
        chat = Chat(core, address)
        replies = await chat.expect(text, first)
        assert IN_TWO not in msgids(replies)
        assert await language_of(core, chat.channel, address) == language, text


MEMBERS = "How many people live in your household, you included? Write a number."
WORK = "Does anyone in the household have income from work?"
YES_OR_NO = "Reply 1 for yes or 2 for no."
SORRY = "Sorry, I did not understand."
IN_ENGLISH = "English: write LANGUAGE EN"
IN_ITALIAN = "In Italian: write LINGUA IT"


async def at_members(core: Core, address: str, first: str) -> Chat:
    """A new applicant by SMS, her chat in the language of `first`, at the household's size."""
    chat = Chat(core, address)
    await chat.expect(first, PRIVACY)
    await chat.expect("1", "Write your codice fiscale (16 characters, it is on your health card).")
    await chat.expect(make_cf(int(address[-3:])), MEMBERS)
    return chat


async def test_the_household_size_said_in_the_other_language_is_taken(core: Core) -> None:
    """ "Four of us" to an Italian chat, "siamo in quattro" to an English one: the answer,
    and the chat keeps its language (LINGUA changes it)."""
    await town_with_open_window(core)
    for address, first, said_in, language in (
        ("+393471810701", "DOMANDA", "four of us", "it"),
        ("+393471810702", "APPLY", "siamo in quattro", "en"),
    ):
        chat = await at_members(core, address, first)
        await chat.expect(said_in, WORK)
        assert (await chat.state())[2]["state"]["members"] == 4
        assert await language_of(core, chat.channel, address) == language


async def test_words_in_the_other_language_at_a_question_are_not_sorry(core: Core) -> None:
    """A sentence in English at an Italian chat's question ("sorry I don't speak Italian")
    had "Scusa, non ho capito" and nothing she could read: the question's hint, the way
    to English, and the question again, in the chat's language; Italian to an English
    chat the same. Nothing of the request changes; Italian words not an answer are still
    not understood."""
    await town_with_open_window(core)
    for address, first, said_in, way in (
        ("+393471810711", "DOMANDA", "sorry I don't speak Italian", IN_ENGLISH),
        ("+393471810712", "APPLY", "scusi non parlo inglese", IN_ITALIAN),
    ):
        chat = await at_members(core, address, first)
        await chat.expect("3", WORK)
        replies = await chat.expect(said_in, YES_OR_NO, way, WORK)
        assert SORRY not in msgids(replies)
        flow, step, _ = await chat.state()
        assert (flow, step) == ("apply", "work")
        assert await language_of(core, chat.channel, address) == (
            "it" if first == "DOMANDA" else "en"
        )
        replies = await chat.expect("1", "Does anyone in the household receive a pension?")
    chat = await at_members(core, "+393471810713", "DOMANDA")
    await chat.expect("3", WORK)
    replies = await chat.expect("patate", SORRY, YES_OR_NO, WORK)
    assert IN_ENGLISH not in msgids(replies)


async def test_first_greetings_as_typed_on_a_phone(core: Core) -> None:
    """Letters drawn out or doubled ("hellooo", "hii", "ciaoo"), "Hey", and English about
    the Comune ("hi I'm from the Comune": the service's Italian name in an English
    sentence) were answered in Italian; each is now answered in its own language."""
    await town_with_open_window(core)
    for address, text, language in (
        ("+393471820001", "hellooo", "en"),
        ("+393471820002", "hii", "en"),
        ("+393471820003", "Hey", "en"),
        ("+393471820004", "hi I'm from the Comune", "en"),
        ("+393471820005", "ciaoo", "it"),
        ("+393471820006", "buonasera signora", "it"),
    ):
        chat = Chat(core, address)
        replies = await chat.expect(text, WELCOME)
        assert await language_of(core, chat.channel, address) == language, text
        assert said(replies, language, sms=True).startswith(
            "Welcome" if language == "en" else "Ti diamo il benvenuto"
        ), text
    chat = Chat(core, "+393471820007")
    replies = await chat.send("helo")  # HELP with a slip, in English
    assert await language_of(core, chat.channel, chat.address) == "en"
    assert "BALANCE" in said(replies, "en", sms=True)
