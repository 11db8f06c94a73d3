"""A payment across two Telegram chats: the cashier asks, the citizen receives the code."""

from __future__ import annotations

import re
from functools import partial

from sqlalchemy import update

from buonispesa.demo import DEMO_CITIZENS
from core.dialogue.flows.base import NOT_READ_AT_QUESTION
from core.i18n import render_text
from core.storage import models as m
from tests.e2e.fake_telegram import FakeUser
from tests.e2e.telegram_harness import TelegramServer
from tests.factories import approved_request, telegram_owner

CASHIER_CHAT = 6001
CITIZEN_CHAT = 6002


async def setup_till(server: TelegramServer) -> tuple[FakeUser, FakeUser, m.Citizen]:
    """The owner of Forno Chienti on Telegram; a citizen whose chat is linked, in English."""
    holder = DEMO_CITIZENS[0]
    async with server.core.uow() as uow:
        [shop] = [s for s in await uow.shops.search(1) if s.name == "Forno Chienti"]
        uow.session.add(telegram_owner(shop.id, CASHIER_CHAT, server.core.now()))
        citizen = await uow.citizens.by_codice_fiscale(1, holder.codice_fiscale)
        assert citizen is not None
        await uow.session.execute(
            update(m.Citizen).where(m.Citizen.id == citizen.id).values(language="en")
        )
        await uow.commit()
    cashier = server.user(CASHIER_CHAT, language="en", name="Rita")
    customer = server.user(CITIZEN_CHAT, language="en", name="Mario")
    await server.exchange(customer, lambda: customer.say("/balance"))
    await server.exchange(customer, lambda: customer.share_contact(holder.phone))
    return cashier, customer, citizen


def code_in(text: str) -> str:
    found = re.search(r"Code: (\d{6,})", text)
    assert found is not None, text
    return found.group(1)


async def test_charge_and_confirmation_across_two_chats(
    telegram_server_any_db: TelegramServer,
) -> None:
    server = telegram_server_any_db
    cashier, customer, citizen = await setup_till(server)
    [menu] = await server.exchange(cashier, cashier.start)
    assert "Forno Chienti: what do you want to do?" in menu["text"]

    [who] = await server.exchange(cashier, lambda: cashier.tap("Charge"))
    assert "Who pays?" in who["text"]
    [amount] = await server.exchange(cashier, lambda: cashier.say(citizen.codice_fiscale))
    assert "Amount" in amount["text"]

    before = len(customer.messages())
    [waiting] = await server.exchange(cashier, lambda: cashier.say("12,50"))
    assert waiting["text"].startswith("Code sent to the customer (Telegram) for €12.50")
    assert not re.search(r"\d{6}", waiting["text"]), "the cashier must never see the code"

    [request] = customer.messages()[before:]
    assert "Forno Chienti asks €12.50" in request["text"]
    assert request.get("has_protected_content") is True  # cannot be forwarded or saved
    code = code_in(request["text"])

    before = len(customer.messages())
    [receipt] = await server.exchange(cashier, lambda: cashier.say(code))
    assert receipt["text"].startswith("Payment confirmed: €12.50. Receipt no.")
    [citizen_receipt] = customer.messages()[before:]
    assert citizen_receipt["text"].startswith("Paid €12.50 at Forno Chienti. Remaining balance: €")

    # The code left the database once delivered.
    async with server.core.uow() as uow:
        rows = await uow.outbox.for_address("telegram", str(CITIZEN_CHAT))
    assert not any(code in str(row.payload) for row in rows)


async def test_scanning_the_card_qr_starts_the_charge_for_that_card(
    telegram_server_any_db: TelegramServer,
) -> None:
    server = telegram_server_any_db
    cashier, customer, citizen = await setup_till(server)
    # The camera opens t.me/<bot>?start=<card code>: Telegram sends "/start <code>".
    [amount] = await server.exchange(cashier, lambda: cashier.start(citizen.card_code))
    assert "Amount" in amount["text"]
    before = len(customer.messages())
    await server.exchange(cashier, lambda: cashier.say("5"))
    [request] = customer.messages()[before:]
    code = code_in(request["text"])
    [receipt] = await server.exchange(cashier, lambda: cashier.say(code))
    assert receipt["text"].startswith("Payment confirmed: €5.00.")


async def test_a_photo_where_the_amount_is_asked_is_no_answer(
    telegram_server_any_db: TelegramServer,
) -> None:
    """The photo of a receipt sent where the amount is asked was judged an amount not
    written: it is said that photos are not read, then the amount is asked again."""
    server = telegram_server_any_db
    cashier, customer, citizen = await setup_till(server)
    [amount] = await server.exchange(cashier, lambda: cashier.start(citizen.card_code))
    [again] = await server.exchange(cashier, cashier.send_photo)
    assert again["text"] == f"{render_text(NOT_READ_AT_QUESTION, 'en')}\n{amount['text']}"
    before = len(customer.messages())
    await server.exchange(cashier, lambda: cashier.say("5"))
    [request] = customer.messages()[before:]
    assert "Forno Chienti asks €5.00" in request["text"]


async def test_a_wrong_code_is_counted_and_the_cashier_is_told(
    telegram_server_any_db: TelegramServer,
) -> None:
    server = telegram_server_any_db
    cashier, customer, citizen = await setup_till(server)
    await server.exchange(cashier, lambda: cashier.say(f"/paga {citizen.card_code} 3"))
    code = code_in(customer.messages()[-1]["text"])
    wrong = "000000" if code != "000000" else "111111"
    [answer] = await server.exchange(cashier, lambda: cashier.say(wrong))
    assert answer["text"].startswith("Wrong code:")
    [receipt] = await server.exchange(cashier, lambda: cashier.say(code))
    assert receipt["text"].startswith("Payment confirmed: €3.00.")


async def test_scanning_a_card_with_a_pin_asks_the_pin_and_sends_no_code(
    telegram_server_any_db: TelegramServer,
) -> None:
    server = telegram_server_any_db
    from core.services import cards

    cashier, customer, citizen = await setup_till(server)
    async with server.core.uow() as uow:
        town = await uow.municipalities.by_id(citizen.municipality_id)
        assert town is not None
        yes = await approved_request(uow, town, citizen.codice_fiscale, "card")
        card = await cards.issue_card(
            uow, town, citizen.codice_fiscale, server.core.now(), approved=yes
        )
        await uow.commit()
    [amount] = await server.exchange(cashier, lambda: cashier.start(card.card_code))
    assert "Amount" in amount["text"]
    before = len(customer.messages())
    [ask] = await server.exchange(cashier, lambda: cashier.say("4"))
    position = re.search(r"code no\. (\d+)", ask["text"])
    assert position is not None
    pin = card.codes[int(position.group(1)) - 1]
    assert not any(code in ask["text"] for code in card.codes)
    [receipt] = await server.exchange(cashier, lambda: cashier.say(pin))
    assert receipt["text"].startswith("Payment confirmed: €4.00.")
    # No code was sent to the holder's chat: only the receipt.
    [citizen_receipt] = customer.messages()[before:]
    assert citizen_receipt["text"].startswith("Paid €4.00 at Forno Chienti.")


async def test_help_names_the_payment_waiting_for_the_code(
    telegram_server_any_db: TelegramServer,
) -> None:
    """As by SMS: /help from the chat the code was sent to says which payment waits and
    how to agree or refuse, before the help; once it is paid, the help alone."""
    server = telegram_server_any_db
    cashier, customer, citizen = await setup_till(server)
    await server.exchange(cashier, lambda: cashier.say(f"/paga {citizen.card_code} 12,50"))
    code = code_in(customer.messages()[-1]["text"])
    waiting, help_ = await server.exchange(customer, lambda: customer.say("/help"))
    assert waiting["text"] == (
        "Forno Chienti asks €12.50 and waits for the code: if you agree, tell it to the "
        "cashier; if not, write CANCEL."
    )
    assert help_["text"].startswith("Write: BALANCE, SHOPS")
    # In words too ("I don't understand" asks for the help).
    waiting, _ = await server.exchange(customer, lambda: customer.say("I don't understand"))
    assert waiting["text"].startswith("Forno Chienti asks €12.50 and waits for the code")

    [receipt] = await server.exchange(cashier, lambda: cashier.say(code))
    assert receipt["text"].startswith("Payment confirmed: €12.50.")
    [help_] = await server.exchange(customer, lambda: customer.say("/help"))
    assert help_["text"].startswith("Write: BALANCE, SHOPS")


SHOP_CHAT = (
    "This chat is a shop's (owner or cashier): it cannot hold vouchers or apply. For the "
    "shop: MENU. Your own vouchers: by SMS from your phone, or at the office."
)


async def test_a_tills_chat_asking_for_vouchers_is_told_at_once_it_holds_none(
    telegram_server_any_db: TelegramServer,
) -> None:
    """User trial: the owner's till chat wrote BALANCE (and APPLY) and was asked for its
    contact, then refused with "go to the social services office with an identity
    document", as if someone's identity were at stake. A shop's chat never holds vouchers
    (its contact is always refused): it is told so at once, and nothing is asked."""
    server = telegram_server_any_db
    cashier, _customer, _citizen = await setup_till(server)
    # The first message (the general path), then the same again (the one-trip path).
    for text in ("/balance", "/balance", "/card", "/appeal", "apply"):
        [told] = await server.exchange(cashier, partial(cashier.say, text))
        assert told["text"] == SHOP_CHAT, text
        assert "keyboard" not in told.get("reply_markup", {}), text  # no contact button
    [menu] = await server.exchange(cashier, lambda: cashier.say("menu"))
    assert "Forno Chienti: what do you want to do?" in menu["text"]


async def test_refusing_in_words_on_telegram_refuses_the_payment(
    telegram_server_any_db: TelegramServer,
) -> None:
    """As by SMS: "no, I don't want to pay" from the chat the code came to refuses the
    payment as CANCEL does (the cashier is told, the code no longer pays); "not me" also
    says that someone used the holder's details."""
    server = telegram_server_any_db
    cashier, customer, citizen = await setup_till(server)
    for words, said in (
        ("No, I don't want to pay", "The shop was told."),
        ("not me", "Someone has your details: write OFFICE."),
    ):
        await server.exchange(cashier, lambda: cashier.say(f"/paga {citizen.card_code} 12,50"))
        code = code_in(customer.messages()[-1]["text"])
        before = len(cashier.messages())
        [refused] = await server.exchange(customer, partial(customer.say, words))
        assert refused["text"].startswith("Payment of €12.50 to Forno Chienti refused"), words
        assert refused["text"].endswith(said), refused["text"]
        [told] = cashier.messages()[before:]
        assert told["text"].startswith("The customer refused the payment of €12.50"), told
        [answer] = await server.exchange(cashier, partial(cashier.say, code))
        assert not answer["text"].startswith("Payment confirmed"), answer
