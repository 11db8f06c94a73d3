"""A cashier's new PAGA with a typo, while a payment waits for the customer's code (tills
trial): the typo is refused and nothing else changes. The payment waiting keeps its code,
the customer gets no message, and the code they read out still pays. By SMS (the webhook)
and on Telegram, for a code sent to the customer and for a card's code."""

from __future__ import annotations

import re

import pytest

from buonispesa.demo import DEMO_CITIZENS, DEMO_SMS_NUMBER
from core.domain.messages import Money
from core.services import cards
from tests.e2e.sms_harness import SmsServer, assert_one_gsm7_segment
from tests.e2e.telegram_harness import TelegramServer
from tests.e2e.test_sms_cards_delegates import balance, cards_grouped, open_till
from tests.e2e.test_sms_conversations import SHOP_PHONE, code_in, said
from tests.e2e.test_telegram_payments import code_in as telegram_code_in
from tests.e2e.test_telegram_payments import setup_till
from tests.factories import approved_request

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

NOT_AN_AMOUNT = "This is not an amount. Write it in euro, e.g. 12,50."
CARD_LENGTH = (
    "A card number has 10 letters and digits, like ABCD EFGH JK. Check it on the card and "
    "write it again."
)
STILL_WAITING = "A payment of {amount} waits for the customer's code: write it here, or ANNULLA."
HOLDER = DEMO_CITIZENS[2]  # pays with a card


async def card_payment_waiting(server: SmsServer) -> tuple[str, str, int]:
    """HOLDER gets a card and the shop's till, opened by SMS, asks it for 7,50 euro: (the
    card's number as printed, the code of the card drawn for the payment, HOLDER's balance
    before)."""
    async with server.core.uow() as uow:
        town = await uow.municipalities.by_sms_number(DEMO_SMS_NUMBER)
        assert town is not None
        yes = await approved_request(uow, town, HOLDER.codice_fiscale, "card")
        card = await cards.issue_card(
            uow, town, HOLDER.codice_fiscale, server.core.now(), approved=yes
        )
        await uow.commit()
    before = await balance(server, HOLDER.codice_fiscale)
    await open_till(server)
    grouped = cards_grouped(card.card_code)
    asked = await server.exchange(SHOP_PHONE, f"PAGA {grouped} 7,50")
    position = re.search(r"codice n\. (\d+)", asked)
    assert position is not None, asked
    return grouped, card.codes[int(position.group(1)) - 1], before


async def test_a_typo_in_a_new_paga_by_sms_keeps_the_code_the_customer_holds(
    sms_server_any_db: SmsServer,
) -> None:
    server = sms_server_any_db
    citizen = DEMO_CITIZENS[1]
    before = await balance(server, citizen.codice_fiscale)
    await open_till(server)
    await server.exchange(SHOP_PHONE, f"PAGA {citizen.codice_fiscale} 5")
    [code_sms] = await server.replies(citizen.phone, 1)
    code = code_in(code_sms.body)

    # An amount with the letter O, then a codice fiscale whose check letter is wrong.
    typo = await server.exchange(SHOP_PHONE, f"PAGA {citizen.codice_fiscale} 12,5O")
    waiting = said(STILL_WAITING, amount=Money(5_00))
    assert typo == said(NOT_AN_AMOUNT) + "\n" + waiting
    wrong_cf = citizen.codice_fiscale[:-1] + ("A" if citizen.codice_fiscale[-1] != "A" else "B")
    *refused, still = await server.say(SHOP_PHONE, f"PAGA {wrong_cf} 12,50")
    assert refused and still == waiting  # the refusal in its own SMS, then the payment

    # The customer was told nothing, and the code they hold pays the 5 €.
    await server.quiet()
    assert len(server.twilio.to(citizen.phone)) == 1
    confirmed = await server.exchange(SHOP_PHONE, code)
    assert "5,00" in confirmed
    assert await balance(server, citizen.codice_fiscale) == before - 5_00
    assert_one_gsm7_segment(server.twilio.accepted)


async def test_a_typo_in_a_new_paga_keeps_the_cards_code_asked(
    sms_server_any_db: SmsServer,
) -> None:
    server = sms_server_any_db
    grouped, code, before = await card_payment_waiting(server)
    typo = await server.exchange(SHOP_PHONE, f"PAGA {grouped} 7,5O")
    assert typo == said(NOT_AN_AMOUNT) + "\n" + said(STILL_WAITING, amount=Money(7_50))
    # The code of the card drawn for the payment still pays it: no new code was drawn.
    confirmed = await server.exchange(SHOP_PHONE, code)
    assert "7,50" in confirmed
    assert await balance(server, HOLDER.codice_fiscale) == before - 7_50


async def test_a_card_number_of_another_length_by_sms_keeps_the_cards_code_asked(
    sms_server_any_db: SmsServer,
) -> None:
    """ "PAGA FEVY 57ED N" (a card number with a character missing, no amount) gave the
    payment waiting up and asked the amount: now it is refused in its own words, in Italian,
    and the code of the card drawn for the payment still pays it."""
    server = sms_server_any_db
    grouped, code, before = await card_payment_waiting(server)
    *refused, still = await server.say(SHOP_PHONE, f"PAGA {grouped[:-1]}")
    assert refused == [said(CARD_LENGTH)]
    assert still == said(STILL_WAITING, amount=Money(7_50))
    confirmed = await server.exchange(SHOP_PHONE, code)
    assert "7,50" in confirmed
    assert await balance(server, HOLDER.codice_fiscale) == before - 7_50
    assert_one_gsm7_segment(server.twilio.accepted)


async def test_a_typo_in_a_new_paga_on_telegram_keeps_the_code_the_customer_holds(
    telegram_server_any_db: TelegramServer,
) -> None:
    server = telegram_server_any_db
    cashier, customer, citizen = await setup_till(server)
    await server.exchange(cashier, lambda: cashier.say(f"/paga {citizen.codice_fiscale} 5"))
    code = telegram_code_in(customer.messages()[-1]["text"])
    told = len(customer.messages())

    [typo] = await server.exchange(
        cashier, lambda: cashier.say(f"/paga {citizen.codice_fiscale} 12,5O")
    )
    assert typo["text"] == (
        "This is not an amount. Write it in euro, e.g. 12.50.\n"
        "A payment of €5.00 waits for the customer's code: write it here, or CANCEL."
    )
    # A card code that is nobody's: nobody found, and still nothing changes.
    [refused] = await server.exchange(cashier, lambda: cashier.say("/paga ABCD EFGH JK 12,50"))
    assert refused["text"].startswith("No voucher holder found.")
    assert refused["text"].endswith(
        "A payment of €5.00 waits for the customer's code: write it here, or CANCEL."
    )
    # A card number with a character missing: refused in its own words, nothing changes.
    [refused] = await server.exchange(cashier, lambda: cashier.say("/paga FEVY 57ED N"))
    assert refused["text"] == (
        "A card number has 10 letters and digits, like ABCD EFGH JK. Check it on the card "
        "and write it again.\n"
        "A payment of €5.00 waits for the customer's code: write it here, or CANCEL."
    )
    assert len(customer.messages()) == told  # the customer was told nothing
    [receipt] = await server.exchange(cashier, lambda: cashier.say(code))
    assert receipt["text"].startswith("Payment confirmed: €5.00.")
