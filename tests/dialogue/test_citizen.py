"""Balance, status, shops, STOP/START, languages, routing, identification: scripted chats."""

from __future__ import annotations

import asyncio

import pytest

from core.bootstrap import Core
from core.dialogue.context import Turn
from core.dialogue.engine import DialogueEngine
from core.dialogue.flows.citizen import SHARE_CONTACT
from core.dialogue.inbound import Channel, Inbound
from core.dialogue.menus import FIRST_HELP, NOT_UNDERSTOOD
from core.domain.messages import Money
from core.services import municipalities
from core.services.charges import request_charge
from core.storage import models as m
from tests.dialogue.harness import Chat, msgids, outbox_of, param
from tests.factories import confirm, last_code_for, make_town

BALANCE = "Your balance: {balance}."
MENU = "What do you want to do? Reply with the number."
STOPPED = (
    "Done: no more notices from us. Payment codes and receipts of your own payments still "
    "arrive. Write START to receive everything again."
)
WELCOME = "Welcome to the grocery vouchers of {town}."
# make_town's window is closed: nobody's number is not invited to apply (DOMANDA).
NO_VOUCHERS = (
    "We have no vouchers for this number. Applications are not open: for help, ask the "
    "municipality's office."
)


async def test_balance_and_last_movements_by_sms(core: Core) -> None:
    town = await make_town(core, citizens=2)
    async with core.uow() as uow:
        charge = await request_charge(
            uow,
            shop_id=town.shop_id,
            citizen_reference=town.citizen_cfs[0],
            amount_cents=1250,
            requested_by="test",
            now=core.now(),
        )
        await uow.commit()
    code = await last_code_for(core, town.citizen_phones[0], charge.charge_id)
    await confirm(core, town.shop_id, charge.charge_id, code, by=("sms", town.shop_phone))
    chat = Chat(core, town.citizen_phones[0])
    for word in ("SALDO", "saldo", "Balance", " sàldo ", "/saldo"):
        replies = await chat.expect(
            word, BALANCE, "Last movements:", "{day} -{amount} {shop}", "{day} +{amount} credited"
        )
        assert param(replies, "balance") == Money(150_00 - 12_50)
        assert param(replies, "shop") == "Alimentari Test"


async def test_balance_of_an_unknown_number(core: Core) -> None:
    await make_town(core)
    await Chat(core, "+393479999999").expect("SALDO", NO_VOUCHERS)


async def test_status_by_keyword_in_both_languages(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    for word in ("STATO", "status", "Stato"):
        replies = await chat.expect(
            word,
            "Application {protocol}: admitted. {amount} credited: write SALDO to see the balance.",
        )
        assert param(replies, "amount") == Money(150_00)
    await Chat(core, "+393479999998").expect("STATO", NO_VOUCHERS)


async def test_shops_by_postcode_town_category_and_position(core: Core) -> None:
    await make_town(core)
    chat = Chat(core, "+393479999997")
    # The shop is in the municipality's own town: its line does not repeat it.
    for query in ("NEGOZI 62020", "negozi testville", "NEGOZI alimentari", "shops 62020 grocery"):
        replies = await chat.expect(query, "{count} shop found:", "{shop}, {address}")
        assert param(replies, "shop") == "Alimentari Test"
    # No bakery in the list: that none of that type takes them, and the shops that do.
    replies = await chat.expect(
        "NEGOZI panetteria",
        "No shop of that type takes the vouchers. {count} shop of the list:",
        "{shop}, {address}",
    )
    assert param(replies, "shop") == "Alimentari Test"
    # Without a query the SMS asks for one, and the next message answers it.
    await chat.expect(
        "NEGOZI",
        "Write a town, a postcode (CAP) or a type of shop: alimentari, "
        "panetteria, macelleria, frutta, farmacia.",
    )
    await chat.expect(
        "", "Write a town, a postcode (CAP) or a type of shop, e.g. 62020 or panetteria."
    )
    await chat.expect("62020", "{count} shop found:")
    telegram = Chat(core, "5550001", channel=Channel.TELEGRAM)
    await telegram.send("/start")
    replies = await telegram.expect(
        None,
        "Shops near you:",
        "{shop}, {address} ({distance})",
        "The nearest: {shop}.",
        location=(43.161, 13.241),
    )
    assert replies[-1].pin is not None and replies[-1].pin.title == "Alimentari Test"
    await telegram.expect(
        None,
        "No shop within {distance} of you. Write NEGOZI and your town to see them all.",
        location=(45.46, 9.19),
    )


async def test_shops_asked_with_an_article_or_in_a_question_of_what_to_buy(core: Core) -> None:
    """A trial, 4 Dec 2026: "il forno", "la farmacia" found nothing (the article was read as
    a town), and "dove posso comprare il pane" asked what to search."""
    await make_town(core)
    chat = Chat(core, "+393479999997")
    found = ("{count} shop found:", "{shop}, {address}")
    # A phone's typographic apostrophe too (l’alimentari).
    for query in (
        "l'alimentari",
        "l\u2019alimentari",
        "un alimentari",
        "gli alimentari",
        "la pasta",
    ):
        await chat.expect(
            "NEGOZI",
            "Write a town, a postcode (CAP) or a type of shop: "
            "alimentari, panetteria, macelleria, frutta, farmacia.",
        )
        replies = await chat.expect(query, *found)
        assert param(replies, "shop") == "Alimentari Test"
    await chat.expect("negozi il latte", *found)
    await chat.expect("dove posso comprare la pasta?", *found)
    await chat.expect("dove trovo un\u2019alimentari?", *found)
    # What is not sold here is said so, with the shops there are, not asked again.
    replies = await chat.expect(
        "dove posso comprare il pane",
        "No shop of that type takes the vouchers. {count} shop of the list:",
    )
    assert param(replies, "shop") == "Alimentari Test"
    # A town's own words still find it, with an article or without.
    await chat.expect("negozi a testville", *found)
    await chat.expect("negozi la testville", *found)


async def test_stop_is_confirmed_once_and_start_resumes(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect("Stop.", STOPPED)
    # A second STOP by SMS is not answered (no loop with an answering machine)...
    assert await chat.send("STOP") == []
    assert chat.result is not None and chat.result.outbox_ids == []
    # ...but a question still is: the person wrote to us. Only notices are off.
    await chat.expect("SALDO", BALANCE)
    async with core.uow() as uow:
        conversation = await uow.conversations.find(
            town.municipality_id, "sms", town.citizen_phones[0]
        )
    assert conversation is not None and conversation.stopped
    # One SMS, not the notice and then the welcome as if the number were new.
    [resumed] = await chat.expect(
        "START", "Notices are on again. Write MENU to see what you can do."
    )
    assert resumed.options == ()
    async with core.uow() as uow:
        conversation = await uow.conversations.find(
            town.municipality_id, "sms", town.citizen_phones[0]
        )
    assert conversation is not None and not conversation.stopped


async def test_stop_in_the_middle_of_a_flow_keeps_the_draft(core: Core) -> None:
    await make_town(core)
    async with core.uow() as uow:
        municipality = (await uow.municipalities.all())[0]
        await municipalities.open_window(uow, municipality, core.now())
        await uow.commit()
    chat = Chat(core, "+393479999996")
    for text in ("DOMANDA", "1"):
        await chat.send(text)
    await chat.expect("stop", STOPPED)
    await chat.expect("start", "Notices are on again. Write MENU to see what you can do.")
    await chat.expect("DOMANDA", "You have an unfinished request. Do you want to continue it?")


async def test_language_switch_applies_to_the_citizen_too(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect("LINGUA", "Choose your language.")
    await chat.expect(
        "2", "Done: I will write to you in English. Per tornare all'italiano scrivi LINGUA."
    )
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None and citizen.language == "en"
    await chat.expect(
        "language it",
        "Done: I will write to you in English. Per tornare all'italiano scrivi LINGUA.",
    )
    rows = await outbox_of(core, "sms", town.citizen_phones[0])
    assert rows[-1][0].language == "it"


async def test_unknown_words_get_the_help_and_odd_bodies_never_fail(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("ciao")  # first contact: the welcome and the menu
    for body in ("blah", "   ", "", "😀😀😀", "x" * 2000, "\x00\x07", "Ç" * 300, "؟", "1" * 200):
        replies = await chat.send(body)
        assert msgids(replies) == [NOT_UNDERSTOOD.msgid, FIRST_HELP.msgid], repr(body[:20])


async def test_menu_numbers_and_labels_pick_options(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect("MENU", MENU)
    await chat.expect("1", BALANCE)
    await chat.expect("menu", MENU)
    await chat.expect("Saldo", BALANCE)
    await chat.expect("MENU", MENU)
    await chat.expect(None, BALANCE, option="balance")  # a Telegram-style button works too


async def test_a_repeated_delivery_is_handled_once(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO", message_id="SM-1")
    first = chat.result
    assert first is not None and not first.duplicate and first.outbox_ids
    await chat.send("SALDO", message_id="SM-1")
    assert chat.result is not None and chat.result.duplicate and chat.result.outbox_ids == []
    assert len(await outbox_of(core, "sms", town.citizen_phones[0])) == len(first.outbox_ids) + 1


async def test_concurrent_deliveries_of_one_message_reply_once(core: Core) -> None:
    town = await make_town(core)
    engines = [DialogueEngine(core) for _ in range(4)]
    inbound = Inbound(Channel.SMS, town.citizen_phones[0], text="SALDO", provider_message_id="SM-9")
    results = await asyncio.gather(*(engine.handle(inbound) for engine in engines))
    assert sum(not result.duplicate for result in results) == 1


async def test_routing_by_number_and_unknown_numbers(core: Core) -> None:
    town = await make_town(core)
    async with core.uow() as uow:
        first = await uow.municipalities.by_id(town.municipality_id)
        assert first is not None
        first.sms_number = "+390733000001"
        await municipalities.add_municipality(
            uow, code="OTH", name="Otherville", now=core.now(), sms_number="+390733000002"
        )
        await uow.commit()
    routed = Chat(core, town.citizen_phones[0], to="+390733000001")
    await routed.expect("SALDO", BALANCE)
    elsewhere = Chat(core, town.citizen_phones[0], to="+390733000002")
    await elsewhere.expect("SALDO", NO_VOUCHERS)  # a citizen of the other town
    unknown = Chat(core, "+393479999995", to="+390733999999")
    notice = "This number is not active for grocery vouchers. Please contact your municipality."
    await unknown.expect("SALDO", notice)
    assert await unknown.send("SALDO") == []  # said once a day, never a loop
    await unknown.expect("STOP", STOPPED)


async def test_telegram_users_pick_their_town(core: Core) -> None:
    town = await make_town(core)
    async with core.uow() as uow:
        other = await municipalities.add_municipality(
            uow, code="OTH", name="Otherville", now=core.now()
        )
        await uow.commit()
    chat = Chat(core, "5550002", channel=Channel.TELEGRAM)
    await chat.expect("/start", "Which municipality do you live in (or work in)?")
    assert set(o.key for o in chat.last[-1].options) == {
        f"town:{town.municipality_id}",
        f"town:{other.id}",
    }
    await chat.expect("SALDO", "Which municipality do you live in (or work in)?")
    await chat.expect("otherville", WELCOME)
    assert param(chat.last, "town") == "Otherville"
    await chat.expect("COMUNE", "Which municipality do you live in (or work in)?")
    await chat.expect(None, WELCOME, option=f"town:{town.municipality_id}")
    assert param(chat.last, "town") == "Testville"
    _flow, _step, _data = await chat.state()
    async with core.uow() as uow:
        conversation = await uow.conversations.find(town.municipality_id, "telegram", "5550002")
        assert conversation is not None


async def test_a_sender_known_in_one_town_is_not_asked_which(core: Core) -> None:
    """Several towns and no number written to: a citizen's linked Telegram chat and a
    shop's phone at the terminal go straight to their own town (a cashier who picked
    the other town had met a citizen's menu there, and no way to charge)."""
    town = await make_town(core)
    async with core.uow() as uow:
        await municipalities.add_municipality(uow, code="OTH", name="Otherville", now=core.now())
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        citizen.telegram_chat_id = "5550009"
        await uow.commit()
    linked = Chat(core, "5550009", channel=Channel.TELEGRAM)
    replies = await linked.expect("/start", WELCOME)
    assert param(replies, "town") == "Testville"
    assert "Which municipality do you live in (or work in)?" not in msgids(replies)
    await linked.expect("SALDO", BALANCE)
    till = Chat(core, town.shop_phone, channel=Channel.TERMINAL)
    replies = await till.send("MENU")
    assert "Which municipality do you live in (or work in)?" not in msgids(replies)
    async with core.uow() as uow:
        kept = await uow.conversations.find(town.municipality_id, "terminal", town.shop_phone)
        assert kept is not None
    stranger = Chat(core, "5550010", channel=Channel.TELEGRAM)
    await stranger.expect("/start", "Which municipality do you live in (or work in)?")


async def test_telegram_identification_by_own_contact(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, "5550003", channel=Channel.TELEGRAM)
    await chat.expect("/saldo", SHARE_CONTACT.msgid)
    assert chat.last[-1].request == "contact"
    await chat.expect(
        "my number is 333", "Tap the button to share your phone number, or write MENU."
    )
    await chat.expect(
        None,
        "Please share your own contact, with the button.",
        contact=(town.citizen_phones[1], False),
    )
    replies = await chat.expect(None, BALANCE, contact=(town.citizen_phones[0], True))
    assert param(replies, "balance") == Money(150_00)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None and citizen.telegram_chat_id == "5550003"
    await chat.expect(
        "/stato",
        "Application {protocol}: admitted. {amount} credited: write SALDO to see the balance.",
    )
    stranger = Chat(core, "5550004", channel=Channel.TELEGRAM)
    await stranger.send("/start")
    await stranger.expect(None, NO_VOUCHERS, contact=("+393479999994", True))


async def test_card_deep_link_shows_the_holder_their_balance(core: Core) -> None:
    town = await make_town(core, citizens=2)
    async with core.uow() as uow:
        mine = await uow.citizens.by_id(town.citizen_ids[0])
        theirs = await uow.citizens.by_id(town.citizen_ids[1])
        assert mine is not None and theirs is not None
        my_card, their_card = mine.card_code, theirs.card_code
    chat = Chat(core, "5550005", channel=Channel.TELEGRAM)
    await chat.send(start=my_card)
    assert chat.last[-1].request == "contact"
    await chat.expect(None, BALANCE, contact=(town.citizen_phones[0], True))
    await chat.expect(None, BALANCE, start=my_card)
    await chat.expect(
        None, "This card is not in your name. Here is your own balance.", BALANCE, start=their_card
    )
    replies = await chat.expect("CARTA", "Your card code is {code}. Show it at the till to pay.")
    assert replies[-1].document is not None and replies[-1].document.ref == my_card


@pytest.mark.parametrize("word", ["ANNULLA", "cancel", "Annulla"])
async def test_cancel_without_a_request(core: Core, word: str) -> None:
    town = await make_town(core)
    await Chat(core, town.citizen_phones[0]).expect(word, "There is nothing to cancel.")


async def test_a_failing_step_is_rolled_back_and_apologised_for(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    town = await make_town(core)

    async def broken(turn: Turn) -> None:
        turn.go("apply", "cf")  # a change of state that must not survive the failure
        turn.uow.session.add(
            m.Counter(municipality_id=town.municipality_id, name="half-done", value=1)
        )
        await turn.uow.flush()
        raise RuntimeError("database on fire")

    monkeypatch.setattr("core.dialogue.flows.citizen.show_balance", broken)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect(
        "SALDO",
        "Sorry, something went wrong on our side. Please try again in a few minutes.",
        message_id="SM-broken",
    )
    async with core.uow() as uow:
        assert await uow.session.get(m.Counter, (town.municipality_id, "half-done")) is None
        conversation = await uow.conversations.find(
            town.municipality_id, "sms", town.citizen_phones[0]
        )
        assert conversation is not None and conversation.flow is None
    # The apology was the answer to that message: a retried webhook gets nothing more.
    await chat.send("SALDO", message_id="SM-broken")
    assert chat.result is not None and chat.result.duplicate
