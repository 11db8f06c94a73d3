"""What the chat trial of 2026-12-03 found a citizen (or an English speaker) left without:
each reply here is read as the person reads it, rendered in their language."""

from __future__ import annotations

from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.render import render_plain
from core.domain.messages import Reply
from core.services.applications import ApplicationInput, submit_application
from core.storage import models as m
from tests.dialogue.harness import Chat, msgids, open_till, town_with_open_window
from tests.factories import make_cf, make_town

DONE_ENGLISH = "Done: I will write to you in English. Per tornare all'italiano scrivi LINGUA."
SHOP_QUERY = (
    "Write a town, a postcode (CAP) or a type of shop: alimentari, panetteria, macelleria, "
    "frutta, farmacia."
)


def said(replies: list[Reply], language: str) -> str:
    return "\n".join(render_plain(reply, language, sms=True) for reply in replies)


async def test_the_help_says_that_codes_and_receipts_still_arrive_after_stop(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    await chat.send("AIUTO")  # by SMS the first help; every word comes next
    italian = said(await chat.send("AIUTO"), "it")
    assert "STOP" in italian and "codici e ricevute" in italian
    assert "tutti i messaggi" not in italian
    await chat.send("LANGUAGE en")
    await chat.send("HELP")
    english = said(await chat.send("HELP"), "en")
    assert "After STOP only codes and receipts arrive." in english


async def test_english_chosen_during_a_request_is_confirmed_then_the_question_again(
    core: Core,
) -> None:
    await make_town(core)
    # A number we do not know is asked where (a citizen's NEGOZI lists their town's shops).
    chat = Chat(core, "+393479990002")
    await chat.send("MENU")
    await chat.expect("NEGOZI", SHOP_QUERY)
    await chat.expect("language", "Choose your language.")
    replies = await chat.expect("2", DONE_ENGLISH, SHOP_QUERY)
    assert "Done: I will write to you in English. Per tornare all'italiano scrivi LINGUA." in said(
        replies, "en"
    )
    assert (await chat.state())[:2] == ("shops", "query")
    # And back to Italian, the same way.
    await chat.expect("LINGUA", "Choose your language.")
    replies = await chat.expect("1", DONE_ENGLISH, SHOP_QUERY)
    assert "Fatto: ti scriverò in italiano. To go back to English, write LANGUAGE." in said(
        replies, "it"
    )


async def test_the_language_question_of_the_application_is_answered_not_confirmed(
    core: Core,
) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471239901")
    await chat.send("MENU")
    await chat.send("3")  # the menu's Apply: a button names no language
    assert (await chat.state())[:2] == ("apply", "language")
    assert DONE_ENGLISH not in msgids(await chat.send("2"))


async def test_english_amount_prompts_show_an_english_amount(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send("LANGUAGE en")
    await till.send(f"PAY {town.citizen_cfs[0]}")
    english = said(till.last, "en")
    assert "e.g. 12.50" in english and "12,50" not in english
    english = said(await till.send("1,500"), "en")
    assert "e.g. 12.50" in english


async def test_the_household_question_is_gender_neutral(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471239902")
    for text in ("MENU", "3", "1", "1"):
        await chat.send(text)
    from tests.dialogue.test_apply import APPLICANT

    italian = said(await chat.send(APPLICANT), "it")
    assert "contando anche te" in italian and "compreso" not in italian


BALANCE = "Your balance: {balance}."
APPLY_PRIVACY_OR_LANGUAGE = ("Choose your language.", "Privacy (GDPR): ")
WELCOME_BACK = "You're welcome! Write SALDO, NEGOZI or AIUTO when you need."


async def test_how_much_is_on_the_card_is_the_balance_not_the_card_code(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    for text in (
        "quanto c'ho sulla tessera",
        "Quanto c'è sulla carta?",
        "mi dici quanti soldi mi restano",
        "quanti buoni mi rimangono?",
        "how much is left on my card?",
    ):
        said_ids = msgids(await chat.send(text))
        assert said_ids[0] == BALANCE, (text, said_ids)
    # The card code is still what CARTA and a sentence about the card (not "how much") ask.
    assert msgids(await chat.send("la mia tessera"))[0].startswith("Your card code is")


async def test_questions_in_plain_words_ask_for_the_application_the_shops_or_say_thanks(
    core: Core,
) -> None:
    town = await town_with_open_window(core)
    for text in ("vorrei i buoni spesa", "come faccio a chiedere i buoni?", "Voglio fare domanda"):
        chat = Chat(core, f"+39347123{abs(hash(text)) % 10000:04d}")
        await chat.send("MENU")
        await chat.send(text)
        assert (await chat.state())[0] == "apply", text
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.send("MENU")
    # A citizen of the town: its shops at once (a number we do not know is asked where).
    await citizen.expect("dove posso fare la spesa?", "{count} shop found:")
    assert (await citizen.state())[:2] == (None, None)
    for text in ("grazie", "Grazie mille!", "ok grazie"):
        replies = await citizen.expect(text, WELCOME_BACK)
        assert "Prego! Scrivi SALDO, NEGOZI o AIUTO" in said(replies, "it")
    # An emoji alone is the help as before.
    from core.dialogue.menus import FIRST_HELP, NOT_UNDERSTOOD

    await citizen.expect("😀", NOT_UNDERSTOOD.msgid, FIRST_HELP.msgid)
    # Another keyword in the sentence: not an application ("lo stato della domanda").
    assert (await citizen.state())[0] is None
    await citizen.send("vorrei sapere lo stato della mia domanda")
    assert (await citizen.state())[0] != "apply"


async def test_a_question_about_the_application_is_its_status_not_a_new_one(
    core: Core,
) -> None:
    """Trial finding: "a che punto è la mia domanda?" from a citizen who had applied started
    a new application (the privacy question), and the next words were "not understood"."""
    town = await town_with_open_window(core)
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.send("MENU")
    for text in (
        "a che punto è la mia domanda?",
        "com'è andata la mia domanda?",
        "la mia domanda è stata accettata?",
        "vorrei sapere lo stato della domanda",
        "what happened to my application?",
    ):
        replies = await citizen.send(text)
        assert (await citizen.state())[0] is None, text
        assert "Application" in said(replies, "en") or "Domanda" in said(replies, "it"), text
    # Wanting to apply is still the application.
    await citizen.send("vorrei fare la domanda")
    assert (await citizen.state())[0] == "apply"


async def test_plain_words_never_lead_to_a_payment_nor_answer_a_question_asked(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]}")
    assert (await till.state())[:2] == ("charge", "amount")
    # At a step, a question in plain words is the step's answer, never a new request.
    for text in ("mi dici quanti soldi mi restano", "vorrei i buoni spesa", "grazie"):
        await till.send(text)
        assert (await till.state())[:2] == ("charge", "amount"), text


async def test_shops_by_what_they_sell_and_near_me(core: Core) -> None:
    from core.domain.shops import ShopCategory

    await make_town(core)  # one shop, a grocery
    chat = Chat(core, "+393479990001")
    await chat.send("MENU")
    for text in ("negozi latte", "negozi alimentari", "NEGOZI supermercati"):
        await chat.expect(text, "{count} shop found:")
    for text in ("negozi pane", "negozi carne", "negozi macellaio", "negozi farmacie"):
        replies = await chat.send(text)
        assert msgids(replies)[0].startswith("No shop of that type takes"), text
    from core.dialogue.flows.shop_finder import parse_query

    assert parse_query("pane")[2] is ShopCategory.BAKERY
    assert parse_query("Macellaio")[2] is ShopCategory.BUTCHER
    assert parse_query("farmacie")[2] is ShopCategory.PHARMACY
    assert parse_query("frutta")[2] is ShopCategory.GREENGROCER
    near_sms = "To see the shops near you, write NEGOZI and your CAP or town, e.g. NEGOZI 62020."
    for text in ("negozi vicino a me", "NEGOZI vicino", "ci sono negozi qui vicino?"):
        await chat.expect(text, near_sms)
    await chat.expect("NEGOZI", SHOP_QUERY)
    await chat.expect("vicino a me", near_sms)
    from core.dialogue.inbound import Channel

    telegram = Chat(core, "7770001", channel=Channel.TELEGRAM)
    await telegram.send("/start")
    [reply] = await telegram.expect(
        "negozi vicino a me",
        "To see the shops near you, share your position with the button below.",
    )
    assert reply.request == "location"


async def test_next_steps_when_nothing_is_credited_or_applications_are_closed(
    core: Core,
) -> None:
    await make_town(core)  # its window closed
    stranger = Chat(core, "+393479990002")
    text = said(await stranger.send("SALDO"), "it")
    assert "DOMANDA" not in text and "ufficio del Comune" in text
    text = said(await stranger.send("DOMANDA"), "it")
    assert "Le domande si sono chiuse" in text and "scrivi STATO" in text


async def test_a_balance_of_nothing_points_to_the_status(core: Core) -> None:
    town = await town_with_open_window(core)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await submit_application(
            uow,
            municipality,
            ApplicationInput(make_cf(60), "+393479990003", 1, False, True, 0, 0, 0),
            source="paper",
            now=core.now(),
        )
        await uow.commit()
    waiting = Chat(core, "+393479990003")
    replies = await waiting.expect(
        "SALDO", BALANCE, "To see how your application stands, write STATO."
    )
    assert "scrivi STATO" in said(replies, "it")
    # Open window: nobody's number is invited to apply.
    await Chat(core, "+393479990004").expect(
        "SALDO", "We have no vouchers for this number. To apply, write DOMANDA."
    )
    # A citizen with money: the balance alone.
    said_ids = msgids(await Chat(core, town.citizen_phones[0]).send("SALDO"))
    assert (
        said_ids[0] == BALANCE
        and "To see how your application stands, write STATO." not in said_ids
    )


PRIVACY = (
    "Privacy (GDPR): {town} uses your data only for the grocery vouchers; notice at the town "
    "hall. Agree?"
)
OTHER_LANGUAGE = "Another language: write LINGUA."


async def test_a_new_number_asking_in_italian_goes_on_in_italian(core: Core) -> None:
    await town_with_open_window(core)
    for text in ("vorrei fare la domanda", "DOMANDA"):
        chat = Chat(core, f"+39347124{len(text):04d}")
        replies = await chat.expect(text, PRIVACY, OTHER_LANGUAGE)
        assert "Choose your language." not in msgids(replies)
        assert "English? Scrivi LINGUA." in said(replies, "it")
        assert (await chat.state())[:2] == ("apply", "privacy")
        await chat.expect(
            "1", "Write your codice fiscale (16 characters, it is on your health card)."
        )


async def test_a_new_number_writing_english_is_answered_in_english(core: Core) -> None:
    town = await town_with_open_window(core)
    for text, expected in (
        ("HELP", "SALDO: what you have left."),
        ("hello", "Welcome to the grocery vouchers of {town}."),
        ("balance", "We have no vouchers for this number. To apply, write DOMANDA."),
        ("APPLY", PRIVACY),
    ):
        chat = Chat(core, f"+39347125{len(text):04d}")
        replies = await chat.send(text)
        assert any(msgid.startswith(expected) for msgid in msgids(replies)), (text, replies)
        english = said(replies, "en")
        assert "Scrivi" not in english and "Benvenut" not in english
        assert await conversation_language(core, chat.address) == "en", text
    # A citizen known to us keeps their own language whatever they write first.
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.send("hello")
    assert await conversation_language(core, citizen.address) == "it"


async def conversation_language(core: Core, address: str) -> str | None:
    async with core.uow() as uow:
        return await uow.session.scalar(
            select(m.Conversation.language).where(m.Conversation.address == address)
        )


async def test_the_language_question_does_not_loop(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471259999")
    await chat.send("MENU")
    await chat.expect("3", "Choose your language.")  # the menu's Apply: no language in "3"
    await chat.expect("domnada", "Reply 1 for Italiano or 2 for English.")
    assert (await chat.state())[:2] == ("apply", "language")
    replies = await chat.expect("boh", PRIVACY, OTHER_LANGUAGE)
    assert "English? Scrivi LINGUA." in said(replies, "it")
    assert (await chat.state())[:2] == ("apply", "privacy")
    # A yes in Italian answers the language question at once.
    other = Chat(core, "+393471259998")
    await other.send("MENU")
    await other.send("3")
    await other.expect("si", PRIVACY)


def test_which_language_a_message_is_written_in() -> None:
    from core.dialogue.keywords import KEYWORDS
    from core.dialogue.languages import (
        ENGLISH_KEYWORDS,
        ITALIAN_KEYWORDS,
        NEUTRAL_KEYWORDS,
        written_in,
    )

    # Every keyword has its language (or none), once.
    for word in KEYWORDS:
        sets = [ITALIAN_KEYWORDS, ENGLISH_KEYWORDS, NEUTRAL_KEYWORDS]
        assert sum(word in found for found in sets) == 1, word
    for text in ("DOMANDA", "vorrei fare la domanda", "quanto mi resta?", "Grazie", "sì"):
        assert written_in(text) == "it", text
    for text in ("HELP", "hello", "balance", "How much do I have left?", "/apply"):
        assert written_in(text) == "en", text
    for text in ("MENU", "1", "ok", "😀", "STOP", "", "PAGA RSSMRA85T10A562S 12,50", "help aiuto"):
        assert written_in(text) is None, text


def test_the_language_telegram_tells_wins_over_a_tapped_command_only() -> None:
    from core.dialogue.languages import written_language

    # Telegram sends the app's language: /saldo tapped in an English app stays English.
    assert written_language("/saldo", "en-GB") is None
    # Words typed plainly in one language are that language, whatever the app's.
    assert written_language("vorrei i buoni spesa", "en") == "it"
    assert written_language("hello I need food vouchers", "it") == "en"
    # SMS and the terminal tell nothing: the words decide.
    assert written_language("vorrei i buoni spesa", None) == "it"
    assert written_language("HELP", None) == "en"
    # A language the service does not speak says nothing either: the words decide.
    assert written_language("HELP", "de") == "en"


def test_the_application_skips_the_language_question_only_when_words_and_app_agree() -> None:
    from core.dialogue.languages import agreed_language

    assert agreed_language("/apply", "en") == "en"
    assert agreed_language("/domanda", "en") is None  # an Italian command in an English app: ask
    assert agreed_language("vorrei fare la domanda", "en") == "it"  # typed: her words decide
    assert agreed_language("DOMANDA", None) == "it"
    assert agreed_language("1", None) is None
