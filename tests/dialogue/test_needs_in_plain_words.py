"""What a confused elderly citizen and a busy shopkeeper wrote that got the help or a
wrong answer (trial of 6 December 2026): each gets what the person needs, in one SMS (the
harness renders each in its language), and no payment is guessed from words."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.domain.messages import Money
from core.domain.policy import default_policy
from tests.dialogue.harness import Chat, msgids, open_till, param, town_with_open_window
from tests.dialogue.test_citizen import NO_VOUCHERS
from tests.dialogue.test_shop import ASK_CODE, CONFIRMED, WHO, balance, lookups
from tests.dialogue.test_till_slips import wrong_codes
from tests.dialogue.test_till_trial import statuses, waiting_payment
from tests.dialogue.test_what_they_type import PHONE_NOT_CODE
from tests.dialogue.test_what_to_do_with import PAYMENT_WAITS
from tests.dialogue.test_worried_questions import BALANCE
from tests.factories import Town, make_town

CODE_NOT_CAME = (
    "The code was sent ({where}): ask the customer to look at their messages. Not there? "
    "Write PAGA again for a new code, or ANNULLA."
)
HOUSEHOLD_CHANGED = (
    "A change in your household (someone who died, was born, came or left) is told to the "
    "social services: they update your application. Write UFFICIO to reach them."
)
SHOP_REFUSES = (
    "Only the shops in the NEGOZI list take the vouchers. If one of them refused them, tell "
    "the office: write UFFICIO."
)
FOR_A_HOUSEHOLD = (
    "By the municipality's rules a household of {count} person gets {amount}, once; less "
    "if its fund is short."
)


async def _the_code_still_pays(core: Core, town: Town, till: Chat, code: str) -> None:
    """The 5 € payment still waits, no wrong code counted, and the customer's code pays it."""
    assert await statuses(core) == [(5_00, "pending", None)]
    assert await wrong_codes(core) == 0
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 145_00


@pytest.mark.parametrize(
    "said",
    ["il cliente non ha ricevuto il codice", "nn gli è arrivato il codice",
     "the customer didn't get the code"],
)  # fmt: skip
async def test_the_customer_did_not_get_the_code(core: Core, said: str) -> None:
    town, till, phone, code = await waiting_payment(core, "5")
    replies = await till.send(said)
    assert msgids(replies)[0] == CODE_NOT_CAME
    assert param(replies, "where") == f"SMS ***{phone[-3:]}"
    # Nothing charged, sent again nor counted: the code the customer has still pays.
    await _the_code_still_pays(core, town, till, code)


@pytest.mark.parametrize(
    "line",
    ["incassa 5 euro da {phone}", "PAGA 5 € a {phone}", "paga 5,00 per {phone}",
     "PAGA 5 euro from {phone}"],
)  # fmt: skip
async def test_a_charge_in_one_sentence(core: Core, line: str) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    replies = await till.expect(line.format(phone=town.citizen_phones[0]), ASK_CODE)
    assert param(replies, "amount") == Money(5_00)


async def test_plain_digits_before_a_phone_stay_unguessed(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    assert ASK_CODE not in msgids(await till.send(f"incassa 5 da {town.citizen_phones[0]}"))
    assert await statuses(core) == []


async def test_a_phone_at_the_code_step_names_the_waiting_payment(core: Core) -> None:
    _town, till, phone, _code = await waiting_payment(core, "5")
    replies = await till.expect("5 3331000009", PHONE_NOT_CODE)
    assert param(replies, "where") == f"SMS ***{phone[-3:]}"
    assert param(replies, "amount") == Money(5_00)
    assert await statuses(core) == [(5_00, "pending", None)]


@pytest.mark.parametrize(
    "said",
    ["mio marito è morto", "è morta mia madre", "mia moglie è venuta a mancare",
     "my husband passed away",
     # Found by trying others: someone came or left, or was born.
     "mia figlia vive con me adesso", "è nato mio nipote", "mio figlio è andato via di casa",
     "my son moved out"],
)  # fmt: skip
async def test_someone_of_the_household_died_came_or_left(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    replies = await Chat(core, town.citizen_phones[0]).send(said)
    assert msgids(replies)[0] == HOUSEHOLD_CHANGED


@pytest.mark.parametrize("said", ["sono senza soldi", "siamo senza soldi", "I have no money"])
async def test_without_money(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    assert msgids(await Chat(core, town.citizen_phones[0]).send(said))[0] == BALANCE
    assert msgids(await Chat(core, "+393479999997").send(said)) == [NO_VOUCHERS]


@pytest.mark.parametrize(
    "said",
    ["il negozio non accetta i buoni", "il negoziante non li prende",
     "the shop does not accept the vouchers"],
)  # fmt: skip
async def test_a_shop_refuses_the_vouchers(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    # (Written in English to an Italian chat, the way to English follows.)
    assert msgids(await Chat(core, town.citizen_phones[0]).send(said))[0] == SHOP_REFUSES


@pytest.mark.parametrize(
    ("said", "size"),
    [("quanto danno a una famiglia di 4?", 4), ("quanto danno per 3 persone", 3),
     ("siamo in 2, quanto ci danno?", 2), ("how much do they give a family of four?", 4)],
)  # fmt: skip
async def test_the_amount_for_a_household_size(core: Core, said: str, size: int) -> None:
    await make_town(core, citizens=1)
    replies = await Chat(core, "+393479999996").send(said)
    assert msgids(replies)[0] == FOR_A_HOUSEHOLD
    assert param(replies, "count") == size
    # The default rules' table (make_town), not its smallest and largest amounts.
    assert param(replies, "amount") == Money({2: 200_00, 3: 250_00, 4: 300_00}[size])


# Found by trying others ---------------------------------------------------------------


async def test_a_birth_with_a_wish_for_the_vouchers_is_no_household_change(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393479999995")
    replies = await chat.send("mia figlia è nata da poco e vorrei i buoni")
    assert HOUSEHOLD_CHANGED not in msgids(replies)
    assert (await chat.state())[0] == "apply"  # DOMANDA, as the wish says


CODE_TROUBLE = (
    "A payment code works once, for a few minutes, for the payment it came with. Refused or "
    "late? Ask the cashier to write PAGA again: a new code comes to you."
)


@pytest.mark.parametrize(
    "said", ["il codice non funziona", "mi dice codice sbagliato", "the code doesn't work"]
)
async def test_the_code_did_not_work_at_the_till(core: Core, said: str) -> None:
    town, _till, phone, _code = await waiting_payment(core, "5")
    # A payment waits for her code: that one, and how to agree or refuse.
    assert msgids(await Chat(core, phone).send(said))[0] == PAYMENT_WAITS
    assert await statuses(core) == [(5_00, "pending", None)]
    # Nothing waits: how a code works, and how a new one comes.
    other = Chat(core, town.citizen_phones[0])
    await other.send("ANNULLA")
    assert msgids(await other.send(said))[0] == CODE_TROUBLE
    # Not the codice fiscale, nor the card.
    assert CODE_TROUBLE not in msgids(await other.send("il codice fiscale non funziona"))


# A second trial (words11) ---------------------------------------------------------------

CODE_REFUSED_AT_THE_TILL = (
    "A code works once, for a few minutes, for this payment. Nothing charged, no "
    "wrong try counted: write PAGA again for a new code."
)
NOT_ENOUGH_AT_THE_TILL = (
    "A payment larger than the customer's balance is refused, and the balance is never told "
    "to the shop: the customer checks it writing SALDO, or you charge less."
)
NOT_A_SCAM = (
    "This is your town's grocery voucher service: we never ask for money, PINs or bank "
    "details, and a code is told only to the cashier. In doubt, write UFFICIO."
)
JOB_LOST = (
    "Without work you may be able to have the vouchers: write DOMANDA to apply (the "
    "municipality's rules say who may)."
)
WITH_CHILDREN = (  # the singular's msgid, the plural's key
    "With {count} child you are at least {size}: {amount} by the rules, once. How many "
    "live in the house in all? Ask: how much do they give for {more} people?"
)


@pytest.mark.parametrize(
    "said",
    ["il cliente dice che il codice non funziona", "codice scaduto", "dice codice sbagliato",
     "the customer says the code doesn't work"],
)  # fmt: skip
async def test_the_customer_says_the_code_does_not_work(core: Core, said: str) -> None:
    town, till, _phone, code = await waiting_payment(core, "5")
    assert msgids(await till.send(said))[0] == CODE_REFUSED_AT_THE_TILL
    # Nothing charged, sent again nor counted: the code the customer has still pays.
    await _the_code_still_pays(core, town, till, code)


@pytest.mark.parametrize(
    "said",
    ["il cliente non ha abbastanza soldi", "nn ha credito sufficiente",
     "the customer hasn't got enough money"],
)  # fmt: skip
async def test_a_shop_hears_no_balance_when_the_customer_is_short(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    replies = await Chat(core, town.shop_phone).send(said)
    assert msgids(replies) == [NOT_ENOUGH_AT_THE_TILL]
    assert await statuses(core) == []
    # Her own words are her balance (SALDO), as "sono senza soldi" is.
    citizen = Chat(core, town.citizen_phones[0])
    assert msgids(await citizen.send("non ho abbastanza soldi"))[0] == BALANCE


@pytest.mark.parametrize(
    "said",
    ["sono rimasta senza lavoro", "ho perso il lavoro", "sono disoccupata", "I lost my job"],
)
async def test_a_lost_job_points_to_applying_or_the_application(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    assert msgids(await Chat(core, "+393479999994").send(said)) == [JOB_LOST]
    # She applied already: her application's status, as STATO says it.
    chat = Chat(core, town.citizen_phones[0])
    assert msgids(await chat.send(said)) == msgids(await chat.send("STATO"))


@pytest.mark.parametrize(
    ("said", "children"),
    [("ho 3 figli quanto mi danno", 3), ("ho 2 bambini, quanto ci danno?", 2),
     ("I have three children, how much do they give?", 3)],
)  # fmt: skip
async def test_children_make_a_household_of_one_more(core: Core, said: str, children: int) -> None:
    await make_town(core, citizens=1)
    replies = await Chat(core, "+393479999996").send(said)
    assert msgids(replies)[0] == WITH_CHILDREN
    assert param(replies, "count") == children
    assert param(replies, "size") == children + 1
    assert param(replies, "amount") == Money({3: 250_00, 4: 300_00}[children + 1])
    # The question it suggests, with everyone, is the amount for that size.
    more = param(replies, "more")
    asked = await Chat(core, "+393479999993").send(f"how much do they give for {more} people?")
    assert msgids(asked)[0] == FOR_A_HOUSEHOLD
    assert param(asked, "count") == more


@pytest.mark.parametrize(
    "said",
    ["ho ricevuto un messaggio strano", "mi è arrivato un sms sospetto",
     "I got a strange message"],
)  # fmt: skip
async def test_a_strange_message_gets_the_scam_answer(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    assert msgids(await Chat(core, town.citizen_phones[0]).send(said)) == [NOT_A_SCAM]


# A third trial (words12) ----------------------------------------------------------------

BILLS = (
    "The vouchers are for food and basic goods at the town's shops, not for bills or rent. "
    "To apply write DOMANDA; for other help, the social services: UFFICIO."
)
BILLS_APPLIED = (
    "The vouchers are for food and basic goods at the town's shops, not for bills or rent. "
    "For other help, the social services: write UFFICIO."
)
LARGE_HOUSEHOLD = (
    "For a household of {count} people the office decides: write UFFICIO. By the rules "
    "{size} or more people get {amount}, once; less if the fund is short."
)
HOW_MANY_AT_HOME = (
    "How many people live in the house, you included? Ask, e.g.: how much do they give for "
    "a household of 3?"
)
NOT_UNDERSTOOD = "I did not understand."
WHO_FOR_AMOUNT = "Who pays {amount}? Write the codice fiscale, the phone number or the card code."


@pytest.mark.parametrize(
    ("first", "asked"),
    [("PAGA", WHO), ("PAGA 5", WHO_FOR_AMOUNT)],
)
@pytest.mark.parametrize(
    "said", ["il cliente non ha abbastanza soldi", "the customer hasn't got enough money"]
)
async def test_a_short_customer_at_who_pays_is_no_payer(
    core: Core, first: str, asked: str, said: str
) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(first, asked)
    # The shop's answer outside the step, not "this is not a card number".
    assert msgids(await till.send(said)) == [NOT_ENOUGH_AT_THE_TILL]
    # Nobody looked up, and the step still waits for the customer.
    assert await lookups(core) == (0, 0)
    cf = town.citizen_cfs[0]
    await till.expect(cf if first == "PAGA 5" else f"{cf} 5", ASK_CODE)
    assert await statuses(core) == [(5_00, "pending", None)]


@pytest.mark.parametrize(
    "said",
    ["mi hanno tagliato la luce", "non riesco a pagare le bollette", "ho l'affitto da pagare",
     "mi hanno staccato il gas", "I can't pay the bills"],
)  # fmt: skip
async def test_bills_get_what_the_vouchers_are_and_where_to_turn(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    assert msgids(await Chat(core, "+393479999994").send(said)) == [BILLS]
    # She applied already: no DOMANDA, her application's status as STATO says it.
    chat = Chat(core, town.citizen_phones[0])
    assert msgids(await chat.send(said)) == [BILLS_APPLIED, *msgids(await chat.send("STATO"))]
    # A shop's chat has no vouchers to ask for: the help.
    assert NOT_UNDERSTOOD in msgids(await Chat(core, town.shop_phone).send(said))


async def test_a_household_beyond_twenty_or_of_nobody(core: Core) -> None:
    await make_town(core, citizens=1)
    chat = Chat(core, "+393479999994")
    replies = await chat.send("quanto danno a una famiglia di 25?")
    assert msgids(replies) == [LARGE_HOUSEHOLD]
    # The allocation's rules: the last size of [amounts] (7 or more) gets its amount.
    assert param(replies, "count") == 25
    assert param(replies, "size") == 7
    assert (
        param(replies, "amount") == Money(default_policy().full_amount_cents(25)) == Money(500_00)
    )
    assert msgids(await chat.send("quanto danno a una famiglia di 0")) == [HOW_MANY_AT_HOME]
    assert msgids(await chat.send("how much do they give for 0 people?")) == [HOW_MANY_AT_HOME]


@pytest.mark.parametrize(
    "said",
    ["quanto danno 3331000002", "quanto danno a 5 euro", "quanto danno a una famiglia di 5 euro",
     "quanto danno a una famiglia di 5 €", "quanto danno a una famiglia di 3331000002",
     "quanto danno per 150 persone"],
)  # fmt: skip
async def test_a_number_that_is_no_household_size_gets_the_help(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")  # a first message is welcomed, whatever it says
    replies = await chat.send(said)
    assert NOT_UNDERSTOOD in msgids(replies)
    assert not {FOR_A_HOUSEHOLD, LARGE_HOUSEHOLD} & set(msgids(replies))
