"""Whole exchanges in plain words, as an elderly citizen writes by SMS and Telegram (usertest):
yes and no in other words where a yes or a no is asked, the balance asked for as a question,
keywords with an emoji or punctuation around them; anything ambiguous is asked again and
changes nothing; a payment code or an amount is never read as a phrase."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.messages import Money
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, msgids, open_till, param, town_with_open_window
from tests.dialogue.test_apply import APPLICANT, CF, LIQUIDITY, MEMBERS, PENSION, PRIVACY, WORK
from tests.dialogue.test_shop import CANCELLED_NAMED, balance, citizen_code
from tests.factories import make_town

BALANCE = "Your balance: {balance}."
MENU = "What do you want to do? Reply with the number."
NOT_UNDERSTOOD = "Sorry, I did not understand."
YES_OR_NO = "Reply 1 for yes or 2 for no."
DID_YOU_MEAN = "Did you mean {keyword}?"
PLAIN_BALANCE = (
    "quanto mi resta?",
    "Quanti soldi ho",
    "saldo?",
    "Saldo per favore",
    "👍 SALDO",
    "saldo.",
    "Buongiorno, quanto mi resta? Grazie",
)
HERE = (
    "This code is for the cashier: say it to them, do not send it here. If you do not want to "
    "pay, do not say it, or write ANNULLA to refuse."
)


async def test_yes_and_no_in_other_words_answer_the_application(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471230101")
    await chat.expect("DOMANDA", PRIVACY)  # asked in Italian: no language question
    await chat.expect("boh", NOT_UNDERSTOOD, "Reply 1 if you agree, 2 if you do not.")
    assert (await chat.state())[:2] == ("apply", "privacy")
    await chat.expect("Sì, grazie!", CF)
    await chat.expect(APPLICANT, MEMBERS)
    await chat.expect("siamo in due", WORK)
    # Ambiguous: asked again, politely, and the step and the answers stay as they were.
    before = await chat.state()
    for text in ("si no", "boh", "forse"):
        replies = await chat.expect(text, NOT_UNDERSTOOD, YES_OR_NO)
        assert len(replies) == 1  # one SMS
        assert await chat.state() == before
    await chat.expect("no grazie", PENSION)
    await chat.expect("si'", LIQUIDITY)
    _, _, data = await chat.state()
    assert (data["state"]["work"], data["state"]["pension"]) == (False, True)


async def test_an_english_yes_and_no(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471230102")
    await chat.expect("APPLY", PRIVACY)  # asked in English: English
    await chat.expect("yes please", CF)
    await chat.expect(APPLICANT, MEMBERS)
    await chat.expect("3", WORK)
    await chat.expect("nope", PENSION)
    await chat.expect("Yep.", LIQUIDITY)
    _, _, data = await chat.state()
    assert (data["state"]["work"], data["state"]["pension"]) == (False, True)


async def test_the_balance_asked_for_in_plain_words(core: Core) -> None:
    town = await make_town(core)
    sms = Chat(core, town.citizen_phones[0])
    await sms.send("MENU")
    for text in PLAIN_BALANCE:
        replies = await sms.expect(text, BALANCE)
        assert param(replies, "balance") == Money(150_00), text
    await sms.expect("*MENU*", MENU)
    await sms.expect("LANGUAGE en")
    await sms.expect("how much do I have left?", BALANCE)
    telegram = Chat(core, "5550001", channel=Channel.TELEGRAM)
    await telegram.send("/start")
    # Not linked yet: the same answer SALDO gets (the contact is asked for).
    assert msgids(await telegram.send("quanto mi resta?")) == msgids(await telegram.send("SALDO"))


async def test_a_question_in_plain_words_in_the_middle_of_the_application(core: Core) -> None:
    """Like SALDO, it answers and says that the application waits for DOMANDA."""
    await town_with_open_window(core)
    chat = Chat(core, "+393471230103")
    for text in ("DOMANDA", "sì", APPLICANT):
        await chat.send(text)
    assert (await chat.state())[:2] == ("apply", "members")
    said = msgids(await chat.send("quanti soldi ho?"))
    # None yet, and how to finish the application (not "to apply, write DOMANDA" too).
    assert said == [
        "We have no vouchers for this number yet.",
        "You have an application to complete: write DOMANDA to continue it.",
    ]
    assert (await chat.state())[:2] == (None, None)


async def test_a_payment_code_or_an_amount_is_never_a_phrase(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    code = await citizen_code(core, town.citizen_phones[0])
    citizen = Chat(core, town.citizen_phones[0])
    for text in (code, f"{code}.", f"👍 {code}"):
        said = msgids(await citizen.send(text))
        assert said == [HERE], (text, said)
    # At the till an amount after PAGA is an amount, whatever is around it.
    assert await balance(core, town) == 150_00


async def test_a_yes_in_other_words_confirms_a_suggested_keyword(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471230104")
    await chat.send("MENU")
    await chat.expect("domnada", DID_YOU_MEAN)
    # A yes in Italian: the application goes on in Italian.
    await chat.expect("sì grazie", PRIVACY)
    assert (await chat.state())[:2] == ("apply", "privacy")


async def test_a_cashier_says_no_in_other_words_and_nothing_is_refunded(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 30")
    await till.send(await citizen_code(core, town.citizen_phones[0]))
    await till.expect("STORNO", "Which payment of today do you want to refund?")
    await till.expect("1", "Refund {amount} (receipt no. {receipt}) to the customer?")
    await till.expect("boh", NOT_UNDERSTOOD, "Reply 1 to refund or 2 to leave it.")
    await till.expect("No, grazie.", "Nothing was refunded.")
    assert await balance(core, town) == 120_00


async def test_cancel_said_in_a_sentence_at_the_till_and_by_the_customer(core: Core) -> None:
    """User trial: "annulla il pagamento" had been asked for the code again at the till,
    and told to write ANNULLA on the customer's phone."""
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 20")
    await till.expect("Annulla il pagamento, grazie", CANCELLED_NAMED)
    assert (await till.state())[:2] == (None, None)
    await till.send(f"PAGA {town.citizen_cfs[0]} 30")
    code = await citizen_code(core, town.citizen_phones[0])
    customer = Chat(core, town.citizen_phones[0])
    await customer.expect(
        "annulla il pagamento",
        "Payment of {amount} to {shop} refused: the code no longer works. The shop was told.",
    )
    # The till hears that the customer refused it (it was told so too when it happened).
    await till.expect(
        code,
        "The customer refused the payment of {amount}: the code no longer works. Ask how they "
        "want to pay.",
    )
    assert await balance(core, town) == 150_00


async def test_cancel_said_in_a_sentence_ends_the_application_draft(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471230105")
    await chat.send("DOMANDA")
    await chat.expect("sì", CF)
    await chat.expect("annulla la domanda", "Cancelled.")
    assert (await chat.state())[:2] == (None, None)
    await chat.expect("DOMANDA", PRIVACY)  # started afresh: no draft was kept
