"""Buttons tapped by mistake on Telegram (trial of 5 Dec 2026): English instead of
Italiano, "Per i negozianti" instead of the citizen's menu, and what a till reads after a
wrong code. Each mistake leaves a way back, in the words of the person who made it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.engine import DialogueEngine
from core.dialogue.inbound import Channel
from core.dialogue.menus import ABOUT_THE_QUESTION, CITIZEN_HELP, IN_ENGLISH, IN_ITALIAN
from core.dialogue.render import render_plain
from core.storage import models as m
from tests.dialogue.harness import (
    Chat,
    add_member,
    assert_one_segment,
    msgids,
    open_till,
    options,
    param,
)
from tests.dialogue.test_cards_delegates import (
    ASK_OLD_PIN,
    ASK_PIN,
    cards_grouped,
    no_phone_card,
    slip,
    wrong,
)
from tests.dialogue.test_shop import ASK_CODE, CONFIRMED, citizen_code
from tests.dialogue.test_sms_lengths import SHOP_PHONE, long_town
from tests.factories import make_town, pin_only


@pytest.mark.parametrize("one_trip", [True, False])
@pytest.mark.parametrize("said", ["non capisco", "aiuto", "aiuto per favore"])
async def test_help_asked_in_italian_after_english_tapped_says_the_way_back(
    core: Core, said: str, one_trip: bool
) -> None:
    """English tapped by mistake: the help asked in Italian words came in English alone,
    nothing in it saying how to get Italian back. It ends with the way back, in Italian
    (in one trip or by the general path alike)."""
    await make_town(core)
    chat = Chat(
        core, "5557001", channel=Channel.TELEGRAM, engine=DialogueEngine(core, one_trip=one_trip)
    )
    await chat.send("/start")
    await chat.send("LINGUA")
    await chat.send(None, option="lang:en")
    replies = await chat.send(said)
    assert msgids(replies) == [CITIZEN_HELP.msgid, IN_ITALIAN.msgid]
    assert render_plain(replies[-1], "en", sms=False).endswith("In italiano: scrivi LINGUA IT")
    # The way back works, and the help in Italian then says no way anywhere.
    await chat.send("LINGUA IT")
    assert msgids(await chat.send(said)) == [CITIZEN_HELP.msgid]
    # Help asked in English (HELP alone is a word of both languages: nothing added).
    assert msgids(await chat.send("help")) == [CITIZEN_HELP.msgid]
    assert msgids(await chat.send("help I dont understand")) == [
        CITIZEN_HELP.msgid,
        IN_ENGLISH.msgid,
    ]


async def test_help_in_italian_inside_a_request_in_english_says_the_way_back(
    core: Core,
) -> None:
    await make_town(core)
    chat = Chat(core, "5557002", channel=Channel.TELEGRAM)
    await chat.send("/start")
    await chat.send("LINGUA")
    await chat.send(None, option="lang:en")
    await chat.send("NEGOZI")
    said = msgids(await chat.send("non capisco"))
    assert said[:2] == [ABOUT_THE_QUESTION.msgid, IN_ITALIAN.msgid], said


SHOPKEEPERS = (
    "For shopkeepers: register your shop with the municipality, or join a "
    "shop with the code its owner gave you."
)
CITIZEN_MENU = ["balance", "shops", "apply", "status", "language", "shopkeeper"]
REGISTRATION = "Shop registration. Write the name of the shop, as customers know it."


async def test_for_shops_tapped_by_mistake_has_a_way_back_to_the_citizens_menu(
    core: Core,
) -> None:
    """A citizen taps "Per i negozianti" by mistake: only Register and Join were offered.
    A Menu button takes them back to their menu, the request left."""
    await make_town(core)
    chat = Chat(core, "5557003", channel=Channel.TELEGRAM)
    await chat.send("/start")
    await chat.expect(None, SHOPKEEPERS, option="shopkeeper")
    assert options(chat.last) == ["register", "join", "menu"]
    await chat.send(None, option="menu")
    assert options(chat.last) == CITIZEN_MENU
    assert (await chat.state())[:2] == (None, None)
    # A shopkeeper's choice is what it was: the registration's first question.
    await chat.expect(None, SHOPKEEPERS, option="shopkeeper")
    await chat.expect(None, REGISTRATION, option="register")


async def test_for_shops_by_sms_keeps_its_two_numbers(core: Core) -> None:
    """By SMS the word was typed: the question stays one SMS with its two numbers, and
    MENU written leaves it."""
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect("NEGOZIANTE", SHOPKEEPERS)
    assert options(chat.last) == ["register", "join"]
    await chat.send("MENU")
    assert (await chat.state())[:2] == (None, None)
    await chat.expect("NEGOZIANTE", SHOPKEEPERS)
    await chat.expect("1", REGISTRATION)


WRONG = "Wrong code: {count} attempt left."
READ_AGAIN = "Ask the customer to read the code on their phone again and type it, or ANNULLA."
SAID_AFTER_A_WRONG_CODE = {
    "it": "Codice sbagliato: restano 2 tentativi.\nChiedi al cliente di rileggerti il codice "
    "dal telefono e scrivilo, oppure ANNULLA.",
    "en": "Wrong code: 2 attempts left.\nAsk the customer to read the code on their phone "
    "again and type it, or CANCEL.",
}


@pytest.mark.parametrize("language", ["it", "en"])
async def test_a_wrong_code_at_a_telegram_till_says_what_to_do_next(
    core: Core, language: str
) -> None:
    """ "Codice sbagliato: restano 2 tentativi." left the cashier wondering what to do. It
    says: the customer reads the code again from their phone, or ANNULLA; one SMS, and
    nothing about the right code."""
    town = await make_town(core)
    await add_member(core, town.shop_id, "4447001", "cashier", channel="telegram")
    cashier = Chat(core, "4447001", channel=Channel.TELEGRAM)
    await cashier.send(f"LINGUA {language}")
    await cashier.expect(f"PAGA {town.citizen_cfs[0]} 20", ASK_CODE)
    code = await citizen_code(core, town.citizen_phones[0])
    wrong = "111111" if code != "111111" else "222222"
    replies = await cashier.send(wrong)
    assert msgids(replies) == [WRONG, READ_AGAIN]
    said = render_plain(replies[0], language, sms=False)
    assert said == SAID_AFTER_A_WRONG_CODE[language]
    # Nothing of the right code: its only digit is the count.
    assert [ch for ch in said if ch.isdigit()] == ["2"]
    # Typed again, right this time: the payment goes through as ever.
    await cashier.expect(code, CONFIRMED)


async def test_a_wrong_code_at_an_sms_till_says_what_to_do_next_in_one_sms(core: Core) -> None:
    town = await make_town(core)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 20", ASK_CODE)
    code = await citizen_code(core, town.citizen_phones[0])
    # The harness checks every SMS is one GSM-7 segment.
    replies = await till.send("111111" if code != "111111" else "222222")
    assert msgids(replies) == [WRONG, READ_AGAIN]
    await till.expect(code, CONFIRMED)


READ_THE_CARD_AGAIN = (
    "Ask the holder for code no. {position} of the card again and type it, or ANNULLA."
)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_a_wrong_code_of_a_cards_grid_says_which_code_to_ask_for_again(
    core: Core, language: str
) -> None:
    """A card without a phone: the code is on the card's grid, not on a phone. The till
    hears to ask for the same code number again (the one it was told), in one SMS."""
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.expect(f"PAGA {cards_grouped(card.card_code)} 12,50", ASK_PIN)
    position = param(till.last, "position")
    code = slip(card, till)
    replies = await till.send(wrong(code))
    assert msgids(replies) == [WRONG, READ_THE_CARD_AGAIN]
    assert param(replies, "position") == position
    await till.expect(code, CONFIRMED)


WRONG_OLD_PIN = "Wrong PIN: {count} attempt left."
READ_THE_PIN_AGAIN = (
    "Ask the holder to type the card's PIN again or to tell it to you again, or ANNULLA."
)
# On Telegram the payment's own tries; by SMS the till session's (TILL_WRONG_CODES).
SAID_AFTER_A_WRONG_PIN = {
    ("it", Channel.TELEGRAM): "PIN sbagliato: restano 2 tentativi.",
    ("it", Channel.SMS): "PIN sbagliato: resta 1 tentativo.",
    ("en", Channel.TELEGRAM): "Wrong PIN: 2 attempts left.",
    ("en", Channel.SMS): "Wrong PIN: 1 attempt left.",
}
WHAT_TO_DO_AFTER_A_WRONG_PIN = {
    "it": "Chiedi al titolare di ridigitare il PIN della carta o di ridirtelo, oppure ANNULLA.",
    "en": "Ask the holder to type the card's PIN again or to tell it to you again, or CANCEL.",
}


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM])
@pytest.mark.parametrize("language", ["it", "en"])
async def test_a_wrong_pin_of_an_old_card_says_what_to_do_next(
    core: Core, language: str, channel: Channel
) -> None:
    """ "PIN sbagliato: restano 2 tentativi." said nothing of what to do next. Like a wrong
    code, it says: the holder types or tells the PIN again, or ANNULLA; in one SMS, and
    nothing about the PIN (its only digit is the count)."""
    cf = await long_town(core)
    card = await pin_only(core, await no_phone_card(core, cf, language), "246810")
    if channel is Channel.SMS:
        till = await open_till(Chat(core, SHOP_PHONE))
    else:
        async with core.uow() as uow:
            shop_id = await uow.session.scalar(
                select(m.ShopMember.shop_id).where(m.ShopMember.address == SHOP_PHONE)
            )
        assert shop_id is not None
        await add_member(core, shop_id, "4447002", "cashier", channel="telegram")
        till = Chat(core, "4447002", channel=Channel.TELEGRAM)
    await till.send(f"LINGUA {language}")
    await till.expect(f"PAGA {card.card_code} 1", ASK_OLD_PIN)
    replies = await till.send("135790")
    assert msgids(replies) == [WRONG_OLD_PIN, READ_THE_PIN_AGAIN]
    said = (
        assert_one_segment(replies[0], language)
        if channel is Channel.SMS
        else render_plain(replies[0], language, sms=False)
    )
    assert said == (
        SAID_AFTER_A_WRONG_PIN[language, channel] + "\n" + WHAT_TO_DO_AFTER_A_WRONG_PIN[language]
    )
    # Nothing of the PIN: the only digit is the count.
    assert [ch for ch in said if ch.isdigit()] == ["2" if channel is Channel.TELEGRAM else "1"]
    await till.expect("246810", CONFIRMED)
