"""A tired shopkeeper and a confused elderly citizen by SMS (trial of 7 December 2026): how
to undo a payment asked in words, a household size said alone, and an apology, each
answered instead of "Non ho capito."; at a question the step's own reading still wins."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.menus import NOT_UNDERSTOOD
from tests.dialogue.harness import Chat, msgids, options, param
from tests.dialogue.test_apply import WORK
from tests.dialogue.test_her_words_at_the_questions import answers, at_work
from tests.dialogue.test_needs_in_plain_words import (
    FOR_A_HOUSEHOLD,
    HOW_MANY_AT_HOME,
    LARGE_HOUSEHOLD,
)
from tests.dialogue.test_own_words import CITIZEN_MENU, sms_text
from tests.dialogue.test_till_trial import statuses
from tests.factories import make_town

UNDO_A_PAYMENT = (
    "Payment waiting for its code: write ANNULLA. Confirmed today: write STORNO and choose it, "
    "the money goes back to the customer. Then PAGA again if needed."
)
HOW_TO_PAY = (
    "At the till, give your codice fiscale or phone number: a code comes to you; tell it to "
    "the cashier and the vouchers pay. NEGOZI says where."
)
UNDOING = [
    "come si fa a annullare un pagamento",
    "ho sbagliato l'importo",
    "devo rimborsare la signora",
    "come faccio uno storno",
    "how do I refund a payment?",
]


@pytest.mark.parametrize("said", UNDOING)
async def test_a_shop_asking_how_to_undo_a_payment(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    replies = await Chat(core, town.shop_phone).send(said)
    assert msgids(replies)[0] == UNDO_A_PAYMENT
    assert NOT_UNDERSTOOD.msgid not in msgids(replies)
    assert await statuses(core) == []  # nothing charged, cancelled nor refunded
    # One SMS, in Italian.
    [text] = sms_text(replies).split("\n")[:1]
    assert text.startswith("Pagamento in attesa del codice: scrivi ANNULLA.")
    assert len(sms_text(replies)) <= 160


async def test_a_citizen_asking_to_cancel_a_payment_hears_how_paying_works(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    replies = await chat.send("come si fa a annullare un pagamento")
    assert UNDO_A_PAYMENT not in msgids(replies)
    assert msgids(replies)[0] == HOW_TO_PAY
    # The town's reimbursement is still the shop's own question, not a refund.
    shop = await Chat(core, town.shop_phone).send("quando mi rimborsa il comune?")
    assert UNDO_A_PAYMENT not in msgids(shop)


@pytest.mark.parametrize(
    ("said", "size"), [("siamo in 4", 4), ("famiglia di 3", 3), ("4 persone", 4),
                       ("siamo in due", 2)]
)  # fmt: skip
async def test_a_household_size_said_alone(core: Core, said: str, size: int) -> None:
    await make_town(core, citizens=1)
    replies = await Chat(core, "+393479999993").send(said)
    assert msgids(replies)[0] == FOR_A_HOUSEHOLD
    assert param(replies, "count") == size


async def test_a_size_alone_beyond_twenty_or_of_nobody(core: Core) -> None:
    await make_town(core, citizens=1)
    chat = Chat(core, "+393479999992")
    replies = await chat.send("siamo in 25")
    assert msgids(replies) == [LARGE_HOUSEHOLD]
    assert param(replies, "count") == 25
    assert msgids(await chat.send("famiglia di 0")) == [HOW_MANY_AT_HOME]


@pytest.mark.parametrize(
    "said", ["siamo in 3331000002", "famiglia di 5 euro", "siamo in 5 €", "famiglia di 150"]
)
async def test_a_number_that_is_no_size_alone_gets_the_help(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    replies = await chat.send(said)
    assert NOT_UNDERSTOOD.msgid in msgids(replies)
    assert not {FOR_A_HOUSEHOLD, LARGE_HOUSEHOLD} & set(msgids(replies))


async def test_at_the_household_question_the_size_is_the_answer(core: Core) -> None:
    chat = await at_work(core, "siamo in 4")
    assert chat.last[-1].texts[0].msgid == WORK
    assert (await answers(chat))["members"] == 4
    assert FOR_A_HOUSEHOLD not in msgids(chat.last)


@pytest.mark.parametrize("said", ["scusi ho sbagliato", "Scusate, ho sbagliato", "sorry"])
async def test_an_apology_alone_is_no_problem(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    replies = await chat.send(said)
    assert NOT_UNDERSTOOD.msgid not in msgids(replies)
    assert msgids(replies)[0] == "No problem."
    assert options(replies) == CITIZEN_MENU
    assert (await chat.state())[:2] == (None, None)  # nothing started
    # A shop's chat alike, with its own menu; a wrong amount is the way to undo it.
    shop = Chat(core, town.shop_phone)
    assert msgids(await shop.send(said))[0] == "No problem."
    assert msgids(await shop.send("scusi ho sbagliato l'importo"))[0] == UNDO_A_PAYMENT
