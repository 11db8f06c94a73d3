"""Who pays, as a busy cashier writes it wrong at the till: refused for its own words before
anybody is looked up, like a mistyped codice fiscale or a card number of another length
(test_till_card_numbers.py), and so, while a payment waits for the customer's code, it
changes nothing: the cashier hears what is wrong and that the payment still waits, the
customer is told nothing, and the code they read out still pays.

- Nobody named at all, an amount alone ("PAGA 5OO", "PAGA 12,50"): it went on to the amount
  question and gave the payment waiting up. Now the cashier hears that who pays is
  missing, and how to write it.
- Words no card's number can be ("PAGA Mario Rossi 20", a 0, O, 1 or I, which no card has:
  identity.new_card_code): looked up as a card, and "nobody found" counted against the
  shop. Now said for their own words.
- Eleven digits (a partita IVA, a voucher's number without its V, a receipt's number):
  "this phone number does not exist", or, for those that read as a landline, the amount
  asked and the payment waiting given up. Now said for what they are not.

Each answer comes from the words alone: the same whoever exists, whatever their balance.
By SMS, on Telegram and at the terminal (one engine), in Italian and in English."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain import cards as card_domain
from core.domain.errors import InvalidIdentifier
from core.domain.identity import check_not_eleven_digits
from core.domain.messages import Money
from tests.dialogue.harness import msgids, outbox_of, param
from tests.dialogue.test_cards_delegates import cards_grouped
from tests.dialogue.test_shop import (
    AMOUNT,
    ASK_CODE,
    CITIZEN_CODE,
    CONFIRMED,
    NOBODY,
    PAYER_MISSING,
    PHONE_FORMAT,
    SPLIT,
    WAITS,
    balance,
    citizen_code,
    lookups,
)
from tests.dialogue.test_till_card_numbers import (
    CARD_LENGTH,
    assert_told_in_two_languages,
    till_on,
)
from tests.dialogue.test_till_slips import NOT_AN_AMOUNT, codes_sent, terminal_till
from tests.factories import make_town

CARD_FORMAT = (
    "This is not a card number (10 letters and digits, never 0, O, 1 or I, like ABCD EFGH JK). "
    "Write the card number, the codice fiscale or the phone, not the name."
)
ELEVEN_DIGITS = (
    "11 digits are not a codice fiscale or a mobile (a partita IVA? a receipt?). Write the "
    "codice fiscale, mobile or card number; a voucher's number starts with V."
)

# An amount with nobody named: with an O for a zero, in lower case, with spaces around,
# with a comma, a currency, in words, twice.
AMOUNT_ALONE = (
    "5OO",
    "5oo",
    "  5OO  ",
    "5 OO",
    "12,5O",
    "5",
    "12,50",
    "12 euro",
    "€ 12",
    "3 euro e 50",
    "5 5",
)
# Words no card's number can be: a name (its letters apart where no printed group ends, or
# with an O or an I), a 0, O, 1 or I in a number of the card's length and groups.
NO_CARD = (
    "Mario Rossi 20",
    "mario  rossi 20",
    "MARIOROSSI 20",
    "Mario Rossi",
    "Carla Bruna 5",
    "ABCD EFGH J1",
    "abcd efgh i1 5",
    "ABCD-EFGH-JK0",
    "ABCDEFGH0O 5",
)
# Eleven digits that no SMS reaches: a partita IVA, one that reads as a landline, in groups,
# a number of the voucher's length without its V, one that reads as a voicemail number.
ELEVEN = (
    "12345678901",
    "01234567897 5",
    "0123 4567 897",
    "0123-4567-897 7,50",
    "33312345678",
)


async def _refused_while_waiting(
    core: Core, channel: Channel, typed: tuple[str, ...], said: str
) -> None:
    town = await make_town(core, citizens=1)
    cf, phone = town.citizen_cfs[0], town.citizen_phones[0]
    till = await till_on(core, town, channel)
    await till.expect(f"PAGA {cf} 5", ASK_CODE)
    code = await citizen_code(core, phone)
    for words in typed:
        replies = await till.expect(f"PAGA {words}", said, WAITS)
        assert msgids(replies) == [said, WAITS], words
        assert param(replies, "amount") == Money(5_00)
        assert (await till.state())[:2] == (None, None)
    # Nobody was looked up but the customer, and the customer was told nothing: the code
    # they hold pays the payment that waited.
    assert await lookups(core) == (1, 0)
    assert await codes_sent(core, phone) == 1
    assert (await outbox_of(core, "sms", phone))[-1][1].texts[0].msgid == CITIZEN_CODE
    await till.expect(code, CONFIRMED)
    assert param(till.last, "amount") == Money(5_00)
    assert await balance(core, town) == 145_00


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM, Channel.TERMINAL])
async def test_an_amount_with_nobody_named_keeps_the_payment_waiting(
    core: Core, channel: Channel
) -> None:
    await _refused_while_waiting(core, channel, AMOUNT_ALONE, PAYER_MISSING)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM, Channel.TERMINAL])
async def test_words_no_card_number_can_be_keep_the_payment_waiting(
    core: Core, channel: Channel
) -> None:
    await _refused_while_waiting(core, channel, NO_CARD, CARD_FORMAT)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM, Channel.TERMINAL])
async def test_eleven_digits_keep_the_payment_waiting(core: Core, channel: Channel) -> None:
    await _refused_while_waiting(core, channel, ELEVEN, ELEVEN_DIGITS)


async def test_with_nothing_waiting_the_till_stays_at_who_pays(core: Core) -> None:
    town = await make_town(core, citizens=1)
    cf = town.citizen_cfs[0]
    till = await terminal_till(core, town)
    # An amount alone with nothing waiting is kept when it is an amount, and said as the
    # amount's error when it is not ("5OO", like "-5": tests/dialogue/test_amount_first.py).
    refused = [("5OO", NOT_AN_AMOUNT), ("5 5", SPLIT), ("Mario Rossi 20", CARD_FORMAT)]
    for words, said in refused + [(words, ELEVEN_DIGITS) for words in ELEVEN]:
        await till.expect(f"PAGA {words}", said)
        assert (await till.state())[:2] == ("charge", "who")
    # The same answers at "Who pays?", and then who pays is written: on as ever. (An
    # amount alone there, with nothing waiting, is kept and who pays asked for it:
    # tests/dialogue/test_amount_first.py.)
    await till.expect(
        "12,50", "Who pays {amount}? Write the codice fiscale, the phone number or the card code."
    )
    await till.expect("ABCD EFGH J1", CARD_FORMAT)
    await till.expect("01234567897", ELEVEN_DIGITS)
    assert (await till.state())[:2] == ("charge", "who")
    assert await lookups(core) == (0, 0)
    await till.expect(f"{cf.lower()} 5", ASK_CODE)
    assert param(till.last, "amount") == Money(5_00)
    assert await lookups(core) == (1, 0)


async def test_an_amount_mistyped_after_who_pays_is_still_the_amount_error(core: Core) -> None:
    # Unchanged beside them: who pays named, the amount wrong; a card number of another
    # length; a phone number with an O for a zero, which no card has either.
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 5OO", NOT_AN_AMOUNT, AMOUNT)
    await till.expect("MENU")
    await till.expect("PAGA FEVY 57ED N", CARD_LENGTH)
    await till.expect("PAGA 333 1OO OOO5 10", PHONE_FORMAT)
    assert await lookups(core) == (0, 0)


async def test_what_can_be_somebody_is_looked_up_as_before(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        card = citizen.card_code
    # A card number of the card's symbols, in its groups, together, in lower case, with
    # dashes; a phone number with 39 and no +, eleven digits that an SMS reaches.
    for words in ("ABCD EFGH JK 5", "abcdefghjk 5", "ABCD-EFGH-JK 5", "39333123456 5"):
        await till.expect(f"PAGA {words}", NOBODY)
    assert await lookups(core) == (4, 4)
    await till.expect(f"PAGA {cards_grouped(card).lower()} 5", ASK_CODE)
    assert await lookups(core) == (5, 4)


async def test_no_answer_tells_a_cashier_who_exists(core: Core) -> None:
    """A dishonest cashier who changes one character of a real card's number to a 0 or an
    O, or writes the holder's P.IVA-like digits, hears what anybody hears for made-up
    words: nothing is looked up, nothing is counted, no balance is named."""
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        real = citizen.card_code
    answers = []
    for number in (real[:-1] + "0", "ABCDEFGHJ0", real[:-1] + "O", "ABCDEFGHJO"):
        replies = await till.expect(f"PAGA {cards_grouped(number)} 5", CARD_FORMAT)
        answers.append([(text.msgid, text.params) for reply in replies for text in reply.texts])
    assert answers[0] == answers[1] and answers[2] == answers[3]
    assert await lookups(core) == (0, 0)


@pytest.mark.parametrize(
    ("words", "italian", "english"),
    [
        ("5OO", ("Manca chi paga", "PAGA RSSMRA85T10A562S 12,50"), ("PAY RSSMRA85T10A562S 12.50",)),
        ("Mario Rossi 20", ("Non è un numero di carta", "0, O, 1 o I"), ("0, O, 1 or I",)),
        ("01234567897", ("11 cifre", "partita IVA", "V."), ("11 digits", "partita IVA", "V.")),
    ],
)
async def test_said_in_italian_and_in_english_in_one_sms_each(
    core: Core, words: str, italian: tuple[str, ...], english: tuple[str, ...]
) -> None:
    # An Italian till by SMS, an English one on Telegram, each with a payment waiting.
    await assert_told_in_two_languages(
        core, words, italian, english, (PAYER_MISSING, CARD_FORMAT, ELEVEN_DIGITS)
    )


@pytest.mark.parametrize(
    "typed",
    ["Mario Rossi", "MARIOROSSI", "ABCD EFGH J1", "abcd-efgh-i0", "ABCDE FGHJK", "Niccolò", "O"],
)
def test_words_no_card_number_can_be_are_refused(typed: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        card_domain.check_card_number(typed)
    assert refused.value.code == "card.format"


@pytest.mark.parametrize(
    "typed", ["ABCD EFGH JK", "abcdefghjk", "ABCD-EFGH JK", "ABCD EFGHJK", "ABCDEFGH JK", "5OO"]
)
def test_a_card_number_in_its_groups_or_together_is_no_format_error(typed: str) -> None:
    card_domain.check_card_number(typed)


@pytest.mark.parametrize("typed", ["12345678901", "01234567897", "0123 4567 897", "0123.4567.897"])
def test_eleven_digits_no_sms_reaches_are_refused(typed: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        check_not_eleven_digits(typed)
    assert refused.value.code == "payer.eleven_digits"


@pytest.mark.parametrize(
    # 39 and a mobile of nine digits; ten and twelve digits; a voucher's number; a phone
    # with its +; a codice fiscale.
    "typed",
    [
        "39333123456",
        "3331234567",
        "393331234567",
        "V12345678901",
        "+3933312345",
        "RSSMRA85T10A562S",
    ],
)
def test_what_is_not_eleven_digits_no_sms_reaches(typed: str) -> None:
    check_not_eleven_digits(typed)


async def test_a_phone_and_then_an_amount_mistyped_is_the_amount_error(core: Core) -> None:
    """ "PAGA 3331000002 7e50" (7,50 typed with an e for the comma): the whole line was read
    as a card number and refused as a name ("This is not a card number… not the name").
    After a phone number, as after a codice fiscale, the last word with a digit is the
    amount, said as the amount's error; nobody is looked up."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0][3:]
    till = await terminal_till(core, town)
    # A phone with dots is the phone the till reads as who pays (identity.is_phone_number,
    # one reading of a phone for both).
    dotted = f"{phone[:3]}.{phone[3:6]}.{phone[6:]} 7e50"
    for words in (f"{phone} 7e50", f"{phone[:3]} {phone[3:]} 7e50", f"{phone} 5x", dotted):
        await till.expect(f"PAGA {words}", NOT_AN_AMOUNT)
        assert CARD_FORMAT not in msgids(till.last), words
    assert await lookups(core) == (0, 0)
    await till.expect(f"PAGA {phone} 7,50", ASK_CODE)
    assert param(till.last, "amount") == Money(7_50)


async def test_a_mobile_written_with_dots_or_dashes_is_a_phone(core: Core) -> None:
    """ "PAGA 333.100.0003 4": a mobile with dots was read as a card number ("not the
    name"), and with an amount of one digit as eleven digits. Dots and dashes between a
    phone's digits are separators, as spaces are."""
    town = await make_town(core, citizens=2)
    till = await terminal_till(core, town)
    for at, sep in enumerate((".", "-")):
        phone = town.citizen_phones[at][3:]
        await till.expect(f"PAGA {phone[:3]}{sep}{phone[3:6]}{sep}{phone[6:]} 4", ASK_CODE)
        assert param(till.last, "amount") == Money(4_00)
        await till.expect("ANNULLA")
    # A partita IVA in groups is still eleven digits.
    await till.expect("PAGA 0123.4567.897", ELEVEN_DIGITS)


async def test_a_mobile_in_groups_and_an_amount_with_a_space_is_the_amount_error(
    core: Core,
) -> None:
    """Trial: "PAGA 333 100 0001 2 50" (a mobile in its printed groups, then 2,50 typed with a
    space) was told "11 digits are not a codice fiscale or a mobile", and "PAGA 333 100 0001
    12 50" "This number cannot receive SMS (a landline?)": the "2" or "12" was read as the
    phone's last group. The cashier would doubt the customer's mobile; the same line with
    the phone written in one piece, or with a codice fiscale, is the amount's error. Now it
    is that error after a phone in groups too; nothing is looked up, and the payment waiting
    keeps its code."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0][3:]
    grouped = f"{phone[:3]} {phone[3:6]} {phone[6:]}"
    till = await terminal_till(core, town)
    for words in (f"{grouped} 2 50", f"{grouped} 12 50", f"+39 {grouped} 2 50"):
        await till.expect(f"PAGA {words}", SPLIT)
        assert ELEVEN_DIGITS not in msgids(till.last), words
    assert await lookups(core) == (0, 0)
    await till.expect(f"PAGA {grouped} 2,50", ASK_CODE)
    assert param(till.last, "amount") == Money(2_50)
    # With the payment waiting, the slip is said and the code the customer holds still pays.
    await till.expect(f"PAGA {grouped} 3 50", SPLIT, WAITS)
    await till.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)
    assert await balance(core, town) == 150_00 - 2_50
