"""What a confused elderly citizen and a busy shopkeeper type (trial of 6 December 2026):
each message gets its own answer in one SMS, and nothing that is no code counts as one."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.context import NOT_UNDERSTOOD as SORRY
from core.dialogue.render import render_plain
from core.domain.messages import Money
from tests.dialogue.harness import Chat, msgids, open_till, param, town_with_open_window
from tests.dialogue.test_apply import LIQUIDITY, PENSION, WORK
from tests.dialogue.test_her_words_at_the_questions import answers, at_work
from tests.dialogue.test_shop import AMOUNT, ASK_CODE, CONFIRMED, WAITS, balance
from tests.dialogue.test_till_slips import wrong_codes
from tests.dialogue.test_till_trial import statuses, waiting_payment
from tests.factories import make_town

TODAY = "Today: {count} payment, {amount}."
TO_BE_REIMBURSED = "To be reimbursed by the municipality: {amount}."


# 5. "Quanto ho incassato oggi" while a payment waits for its code ------------------------


async def test_takings_asked_while_a_code_waits_get_the_statement(core: Core) -> None:
    town, till, _phone, code = await waiting_payment(core, "5")
    replies = await till.expect("quanto ho incassato oggi?", WAITS, TODAY, TO_BE_REIMBURSED)
    assert len(replies) == 1  # one SMS: the payment still waiting, then today's takings
    assert replies[0].texts[0].params["amount"] == Money(5_00)
    assert await wrong_codes(core) == 0
    # The payment still waits: its code, typed next, pays it.
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 145_00


async def test_takings_asked_in_english_at_the_code_step(core: Core) -> None:
    _town, till, _phone, _code = await waiting_payment(core, "5")
    await till.expect("LANGUAGE EN")
    await till.expect("how much are my takings today", WAITS, TODAY)
    assert await wrong_codes(core) == 0


@pytest.mark.parametrize("said", ["quando mi paga il comune?", "quanto mi deve il comune"])
async def test_reimbursement_asked_while_a_code_waits(core: Core, said: str) -> None:
    _town, till, _phone, _code = await waiting_payment(core, "5")
    await till.expect(said, TO_BE_REIMBURSED, WAITS)
    assert await wrong_codes(core) == 0


# 4. The application window asked from a shop's phone ------------------------------------

SHOP_OPEN_UNTIL = (
    "Applications are open until {when}. Customers apply from their own phone by writing "
    "DOMANDA: a shop's number cannot apply."
)
SHOP_CLOSED = "Applications closed on {when}. Customers with questions: the municipality's office."


@pytest.mark.parametrize("said", ["quando si può fare domanda?", "until when can I apply?"])
async def test_a_shop_hears_the_window_for_its_customers(core: Core, said: str) -> None:
    town = await town_with_open_window(core)
    replies = await Chat(core, town.shop_phone).send(said)
    assert msgids(replies) == [SHOP_OPEN_UNTIL]
    body = render_plain(replies[0], "it", sms=True)
    assert "dal proprio telefono" in body and "STATO" not in body


async def test_a_shop_hears_the_closed_window_without_stato(core: Core) -> None:
    town = await make_town(core, citizens=1)
    replies = await Chat(core, town.shop_phone).send("quando scade la domanda?")
    assert msgids(replies) == [SHOP_CLOSED]
    # A citizen still hears hers, with STATO.
    replies = await Chat(core, town.citizen_phones[0]).send("quando scade la domanda?")
    assert "STATO" in render_plain(replies[0], "it", sms=True)


# 1. "Nessuno lavora, ho la pensione" at the work question --------------------------------

PENSION_IS_NEXT = "The pension is the next question: this one is only about income from work."


@pytest.mark.parametrize(
    ("said", "members", "work", "pension"),
    [
        ("nessuno lavora, ho la pensione", "2", False, True),
        ("nessuno lavora ma io ho la pensione", "3", False, True),
        ("No, prendo la pensione", "2", False, True),
        ("nn lavora nessuno, mio marito prende la pensione", "2", False, True),
        ("non lavoro, ho la pensione", "1", False, True),
        ("non lavoriamo e non abbiamo pensioni", "2", False, False),
        ("mio figlio lavora e io sono in pensione", "2", True, True),
        ("nobody works, I have a pension", "2", False, True),
    ],
)
async def test_work_and_pension_in_one_message(
    core: Core, said: str, members: str, work: bool, pension: bool
) -> None:
    chat = await at_work(core, members)
    replies = await chat.expect(said, LIQUIDITY)
    assert SORRY.msgid not in msgids(replies)
    state = await answers(chat)
    assert (state["work"], state["pension"]) == (work, pension)


async def test_the_pension_alone_at_the_work_question_is_told_it_comes_next(core: Core) -> None:
    chat = await at_work(core, "2")
    for said in ("ho la pensione", "sì, ho la pensione", "mio marito prende la pensione"):
        replies = await chat.expect(said, PENSION_IS_NEXT, WORK)
        assert SORRY.msgid not in msgids(replies)
        assert len(replies) == 1  # the hint and the question again, one SMS
        assert "work" not in await answers(chat)
    await chat.expect("no", PENSION)
    await chat.expect("si", LIQUIDITY)


async def test_both_answers_at_the_pension_question_keep_the_work_answered(core: Core) -> None:
    chat = await at_work(core, "2")
    await chat.expect("no", PENSION)
    await chat.expect("nessuno lavora, ho la pensione", LIQUIDITY)
    assert (await answers(chat))["pension"] is True


# 3. Who may have the vouchers, how much they are, a code forgotten ------------------------

WHO_CAN_APPLY = (
    "Vouchers: for households where nobody has work income or a pension, with savings up to "
    "{amount} for 1 person (more if more people)."
)
TO_APPLY = "To apply, write DOMANDA."
HOW_MUCH_GIVEN = (
    "The vouchers are a one-off sum by household size: {smallest} for 1 person, up to "
    "{largest} for {size} or more; less if the fund is short."
)
SALDO_FOR_HERS = "To see what you have left, write SALDO."
FORGOT_CODE = (
    "No code to remember: at each purchase a new code comes to you by SMS, and you tell it "
    "to the cashier. Card PIN forgotten? Write UFFICIO."
)


@pytest.mark.parametrize(
    "said", ["chi ha diritto ai buoni?", "chi può chiedere i buoni", "who can apply?"]
)
async def test_who_may_have_the_vouchers_by_the_towns_rules(core: Core, said: str) -> None:
    await town_with_open_window(core)
    replies = await Chat(core, "+393471239001").send(said)
    assert msgids(replies) == [WHO_CAN_APPLY, TO_APPLY]
    assert len(replies) == 1
    assert replies[0].texts[0].params["amount"] == Money(3000_00)
    body = render_plain(replies[0], "it", sms=True)
    assert "pensione" in body and "DOMANDA" in body


async def test_who_may_have_them_asked_by_a_shop_names_no_domanda(core: Core) -> None:
    town = await town_with_open_window(core)
    replies = await Chat(core, town.shop_phone).send("chi ha diritto ai buoni?")
    assert msgids(replies) == [WHO_CAN_APPLY]


@pytest.mark.parametrize(
    "said", ["quanto danno?", "quanto danno di buoni", "how much do they give?"]
)
async def test_how_much_the_vouchers_are(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    # Applications closed: the rules alone to a stranger; a citizen hears SALDO's word too
    # (in its own SMS, where asked in English the way to English fits after it).
    english = ["English: write LANGUAGE EN"] if said.startswith("how") else []
    for phone, after in (
        ("+393471239002", []),
        (town.citizen_phones[0], [SALDO_FOR_HERS, *english]),
    ):
        replies = await Chat(core, phone).send(said)
        assert msgids(replies) == [HOW_MUCH_GIVEN, *after], phone
        params = replies[0].texts[0].params
        assert (params["smallest"], params["largest"], params["size"]) == (
            Money(150_00),
            Money(500_00),
            7,
        )


@pytest.mark.parametrize(
    "said",
    [
        "me so scordato er codice",
        "ho dimenticato il codice",
        "non ricordo il pin",
        "I forgot the code",
    ],
)
async def test_a_code_forgotten_is_told_none_is_to_remember(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    replies = await Chat(core, town.citizen_phones[0]).send(said)
    assert msgids(replies) == [FORGOT_CODE]
    # "Ho dimenticato il codice fiscale" is not the payment's code.
    replies = await Chat(core, town.citizen_phones[0]).send("ho dimenticato il codice fiscale")
    assert FORGOT_CODE not in msgids(replies)


# 2. PAGA with the amount in words ----------------------------------------------------------

IN_FIGURES = "Write the amount in figures, with the cents after a comma: e.g. 120,00 or 20,50."


@pytest.mark.parametrize(
    ("said", "cents"),
    [
        ("dieci euro", 10_00),
        ("venti e cinquanta", 20_50),
        ("venti euro e cinquanta", 20_50),
        ("nove e novanta", 9_90),
        ("dodici e mezzo", 12_50),
        ("tre euro e cinque centesimi", 3_05),
        ("cinquanta centesimi", 50),
        ("ten euros", 10_00),
    ],
)
async def test_paga_with_the_amount_in_words(core: Core, said: str, cents: int) -> None:
    town = await make_town(core, citizens=2)
    till = await open_till(Chat(core, town.shop_phone))
    replies = await till.expect(f"PAGA {town.citizen_cfs[0]} {said}", ASK_CODE)
    assert param(replies, "amount") == Money(cents)
    await till.expect("ANNULLA")
    # After a phone number too, and at the amount question.
    replies = await till.expect(f"PAGA {town.citizen_phones[1][3:]} {said}", ASK_CODE)
    assert param(replies, "amount") == Money(cents)
    await till.expect("ANNULLA")
    await till.expect(f"PAGA {town.citizen_cfs[0]}", AMOUNT)
    replies = await till.expect(said, ASK_CODE)
    assert param(replies, "amount") == Money(cents)


@pytest.mark.parametrize("said", ["cento e venti", "venti e cinque", "venti euro e cinque"])
async def test_an_amount_in_words_read_two_ways_is_asked_in_figures(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    replies = await till.expect(f"PAGA {town.citizen_cfs[0]} {said}", IN_FIGURES, AMOUNT)
    assert len(replies) == 1
    assert await statuses(core) == []  # nothing asked of the customer
    replies = await till.expect("120", ASK_CODE)
    assert param(replies, "amount") == Money(120_00)


# 6. "5 3331000002": a menu's number and a phone number in one message ----------------------

HOW_TO_CHARGE_IT = (
    "To charge {payer_phone}: PAGA {payer_phone} and the amount, e.g. PAGA {payer_phone} 12,50. "
    "A menu number goes alone."
)
MENU_NUMBER_ALONE = (
    "Write the menu number alone, e.g. {digit}. A phone number is changed only by the office: "
    "write UFFICIO."
)
PHONE_NOT_CODE = (
    "That is a phone number, not a code. The payment of {amount} ({where}) still waits for "
    "its code: write it here, or ANNULLA to charge someone else."
)


async def test_a_menu_digit_and_a_phone_at_the_shop_menu(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = Chat(core, town.shop_phone)
    await till.expect("MENU")
    replies = await till.expect("5 3331000002", HOW_TO_CHARGE_IT)
    assert param(replies, "payer_phone") == "3331000002"
    assert "PAGA 3331000002 12,50" in render_plain(replies[0], "it", sms=True)
    assert (await till.state())[:2] == (None, None)
    assert await statuses(core) == []


async def test_a_menu_digit_and_a_phone_at_the_code_step_is_no_wrong_code(core: Core) -> None:
    town, till, _phone, code = await waiting_payment(core, "5")
    for said in ("5 3331000002", "3331000002"):
        replies = await till.expect(said, PHONE_NOT_CODE)
        assert param(replies, "amount") == Money(5_00)
        assert (await till.state())[:2] == ("charge", "code")
    assert await wrong_codes(core) == 0
    assert await statuses(core) == [(5_00, "pending", None)]
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 145_00


async def test_a_menu_digit_and_a_phone_from_a_citizen(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    replies = await chat.expect("5 3331000002", MENU_NUMBER_ALONE)
    assert param(replies, "digit") == "5"


# More of their words: a new number, thanks to a "signora" ---------------------------------

NEW_NUMBER = (
    "A new phone number is recorded only by the municipality's social services, so that "
    "nobody else gets your codes. Write UFFICIO to reach them."
)


@pytest.mark.parametrize(
    "said", ["ho cambiato numero", "ho un telefono nuovo", "I changed my number"]
)
async def test_a_new_number_is_the_offices_to_record(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    replies = await Chat(core, town.citizen_phones[0]).send(said)
    assert msgids(replies)[0] == NEW_NUMBER


async def test_thanks_to_the_signora_are_thanks(core: Core) -> None:
    town = await make_town(core, citizens=1)
    replies = await Chat(core, town.citizen_phones[0]).send("grazie mille signora")
    assert msgids(replies) == ["You're welcome! Write SALDO, NEGOZI or AIUTO when you need."]
