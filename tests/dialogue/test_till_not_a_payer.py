"""Who pays, written as something that can never pay, at a till that may have a payment
waiting for the customer's code.

- A number that cannot receive SMS ("PAGA 0612345678", an Italian landline; a toll-free
  number): it was read as a phone, gave up the payment waiting, and then found nobody.
  Now it is refused from the words alone, the same whoever exists (no lookup, no oracle of
  who is registered), saying what the customer pays with; the payment waiting keeps its
  code.
- Six digits ("PAGA 123456"), the customer's code typed by habit in place of who pays:
  "this phone number does not exist". Now the cashier hears what it most likely is: with
  a payment waiting, that the code goes alone; with nothing waiting, that who pays comes
  first. The digits are never judged as a code: nothing is confirmed or consumed, nothing
  counted, and the same is said for the right code and for any other six digits.

By SMS, on Telegram and at the terminal (one engine), in Italian and in English."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.errors import InvalidIdentifier
from core.domain.identity import (
    is_phone_number,
    is_sms_phone_number,
    phone_number_in,
    receives_sms,
    require_sms_phone,
)
from core.domain.messages import Money
from core.storage import models as m
from tests.dialogue.harness import Chat, msgids, param
from tests.dialogue.test_shop import (
    ASK_CODE,
    CONFIRMED,
    WAITS,
    balance,
    citizen_code,
    lookups,
)
from tests.dialogue.test_till_card_numbers import assert_told_in_two_languages, till_on
from tests.dialogue.test_till_slips import codes_sent, terminal_till, wrong_codes
from tests.factories import Town, make_town

NO_SMS = (
    "This number cannot receive SMS (a landline?): the customer pays with their codice "
    "fiscale, mobile number or card. Write one of them."
)
CODE_ALONE = (
    "Six digits are not who pays. If they are the customer's code, write just the 6 digits, "
    "without PAGA."
)
WHO_FIRST = (
    "Six digits are not who pays: the customer's code comes after. First write who pays and "
    "the amount, e.g. PAGA RSSMRA85T10A562S 12,50"
)
PHONE_INVALID = "This phone number does not exist. Write it again, e.g. 3331234567."

# Numbers no SMS reaches: Italian landlines (Rome, Milan, in groups, with +39, with an
# amount), a toll-free number.
NO_SMS_NUMBERS = (
    "0612345678",
    "06 1234 5678",
    "+39 02 1234 5678",
    "0612345678 10",
    "800123456",
    # With an amount of one digit, the two make eleven digits: still a landline and an
    # amount, in one piece or in groups, as a mobile and an amount are.
    "0612345678 5",
    "0612345678 5,50",
    "06 1234 5678 5",
    "06 123 456 78 5",
    "+39 06 1234 5678 5",
)


async def _waiting(core: Core, channel: Channel) -> tuple[Chat, str, str, Town]:
    town = await make_town(core, citizens=1)
    cf, phone = town.citizen_cfs[0], town.citizen_phones[0]
    till = await till_on(core, town, channel)
    await till.expect(f"PAGA {cf} 5", ASK_CODE)
    return till, phone, await citizen_code(core, phone), town


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM, Channel.TERMINAL])
async def test_a_number_no_sms_reaches_keeps_the_payment_waiting(
    core: Core, channel: Channel
) -> None:
    till, phone, code, town = await _waiting(core, channel)
    for words in NO_SMS_NUMBERS:
        replies = await till.expect(f"PAGA {words}", NO_SMS, WAITS)
        assert msgids(replies) == [NO_SMS, WAITS], words
        assert param(replies, "amount") == Money(5_00)
        assert (await till.state())[:2] == (None, None)
    # Nobody was looked up but the customer, who was told nothing: their code still pays.
    assert await lookups(core) == (1, 0)
    assert await codes_sent(core, phone) == 1
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 145_00


async def test_a_number_no_sms_reaches_is_refused_whoever_has_it(core: Core) -> None:
    """A citizen whose number on file is a landline (a Telegram contact is not checked)
    and a landline nobody has hear the same: no oracle of who is registered, no lookup."""
    town = await make_town(core, citizens=1)
    landline = "+390612345678"
    assert not receives_sms(landline)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen).where(m.Citizen.id == town.citizen_ids[0]).values(phone=landline)
        )
        await uow.commit()
    till = await terminal_till(core, town)
    said = []
    for words in ("0612345678 10", "0698765432 10"):
        replies = await till.expect(f"PAGA {words}", NO_SMS)
        said.append([(text.msgid, text.params) for reply in replies for text in reply.texts])
        assert (await till.state())[:2] == ("charge", "who")
    assert said[0] == said[1]
    await till.expect("0612345678", NO_SMS)  # at "Who pays?" too
    assert await lookups(core) == (0, 0)
    # Who pays written as the customer can pay: on as ever.
    await till.expect(f"{town.citizen_cfs[0]} 5", ASK_CODE)


async def test_a_landline_and_an_amount_read_as_a_mobile_and_an_amount_are(core: Core) -> None:
    """A landline of ten digits and an amount of one were read as eleven digits (a partita
    IVA?); a mobile and an amount of one digit, in one piece or in groups, are the mobile
    and that amount. One reading for both: the number, then the amount."""
    town = await make_town(core, citizens=2)
    till = await terminal_till(core, town)
    for words in ("0612345678 5", "06 1234 5678 5", "0612345678 5,50"):
        await till.expect(f"PAGA {words}", NO_SMS)
        assert (await till.state())[:2] == ("charge", "who")
        await till.expect(words, NO_SMS)  # at "Who pays?" too
    assert await lookups(core) == (0, 0)
    mobile = town.citizen_phones[1][3:]
    await till.expect(f"PAGA {mobile[:3]} {mobile[3:6]} {mobile[6:]} 5", ASK_CODE)
    assert param(till.last, "amount") == Money(5_00)
    code = await citizen_code(core, town.citizen_phones[1])
    await till.expect(code, CONFIRMED)
    await till.expect(f"PAGA {town.citizen_phones[0][3:]} 5", ASK_CODE)
    assert param(till.last, "amount") == Money(5_00)
    assert await lookups(core) == (2, 0)


async def test_the_amount_before_a_landline_or_a_mobile_reads_as_after_it(core: Core) -> None:
    """ "5 0612345678" at the till (the amount first, then a landline) was refused as eleven
    digits: the amount and the landline, refused as a landline, as written the other way
    round. (Plain digits before a mobile stay as they were: tests/dialogue/test_shop.py.)"""
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    for words in ("5 0612345678", "5 06 1234 5678", "12 0612345678"):
        replies = await till.expect(f"PAGA {words}", NO_SMS)
        assert msgids(replies) == [NO_SMS], words
        await till.expect(words, NO_SMS)  # at "Who pays?" too
    assert await lookups(core) == (0, 0)
    # Who pays written as the customer can pay: on as ever.
    await till.expect(f"PAGA {town.citizen_phones[0][3:]} 5", ASK_CODE)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM, Channel.TERMINAL])
async def test_six_digits_after_paga_while_a_payment_waits_say_the_code_goes_alone(
    core: Core, channel: Channel
) -> None:
    till, phone, code, town = await _waiting(core, channel)
    other = "111111" if code != "111111" else "222222"
    said = []
    # The right code, another six digits, read out in two threes: the same answer, and
    # none of them is judged as a code.
    for words in (code, other, f"{other[:3]} {other[3:]}"):
        replies = await till.expect(f"PAGA {words}", CODE_ALONE, WAITS)
        assert msgids(replies) == [CODE_ALONE, WAITS], words
        assert param(replies, "amount") == Money(5_00)
        said.append([(text.msgid, text.params) for reply in replies for text in reply.texts])
        assert (await till.state())[:2] == (None, None)
    assert said[0] == said[1] == said[2]
    assert await wrong_codes(core) == 0
    assert await lookups(core) == (1, 0)
    assert await codes_sent(core, phone) == 1
    assert await balance(core, town) == 150_00
    # Written alone, the code pays the payment that waited.
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 145_00


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM, Channel.TERMINAL])
async def test_six_digits_after_paga_with_nothing_waiting_say_who_pays_comes_first(
    core: Core, channel: Channel
) -> None:
    town = await make_town(core, citizens=1)
    till = await till_on(core, town, channel)
    for words in ("123456", "123 456", "123456 5"):
        replies = await till.expect(f"PAGA {words}", WHO_FIRST)
        assert PHONE_INVALID not in msgids(replies)
        assert (await till.state())[:2] == ("charge", "who")
    # At "Who pays?" too; then who pays, and on as ever.
    await till.expect("654321", WHO_FIRST)
    assert await lookups(core) == (0, 0)
    assert await wrong_codes(core) == 0
    await till.expect(f"{town.citizen_cfs[0]} 5", ASK_CODE)


@pytest.mark.parametrize(
    ("words", "italian", "english"),
    [
        ("0612345678", ("non riceve SMS", "cellulare", "carta"), ("mobile number", "card")),
        ("123456", ("solo le 6 cifre", "senza PAGA"), ("just the 6 digits", "without PAY")),
    ],
)
async def test_said_in_italian_and_in_english(
    core: Core, words: str, italian: tuple[str, ...], english: tuple[str, ...]
) -> None:
    # An Italian till by SMS, an English one on Telegram, each with a payment waiting.
    await assert_told_in_two_languages(
        core, words, italian, english, (NO_SMS, CODE_ALONE, WHO_FIRST)
    )


@pytest.mark.parametrize(
    ("e164", "sms"),
    [
        ("+393331234567", True),
        ("+390612345678", False),
        ("+39800123456", False),
        ("+447911123456", True),  # a foreign mobile: a resident may have a foreign SIM
    ],
)
def test_receives_sms_is_what_require_sms_phone_takes(e164: str, sms: bool) -> None:
    assert receives_sms(e164) is sms
    try:
        require_sms_phone(e164)
    except InvalidIdentifier:
        assert not sms
    else:
        assert sms


@pytest.mark.parametrize(
    ("words", "phone", "sms"),
    [
        ("3331000002", "+393331000002", True),
        ("333 100 0002", "+393331000002", True),
        ("333.100.0002", "+393331000002", True),
        ("0612345678", "+390612345678", False),
        ("06 1234 5678", "+390612345678", False),
        ("RSSMRA85T10A739J", None, False),
        ("ABCD EFGH 23", None, False),
        ("12345", None, False),
        ("00000000", None, False),
    ],
)
def test_a_phone_and_a_phone_an_sms_reaches_are_one_reading(
    words: str, phone: str | None, sms: bool
) -> None:
    """The till reads a phone number one way (identity.phone_number_in); a landline is a
    phone (who pays, refused as a landline) but not one an SMS reaches."""
    assert phone_number_in(words) == phone
    assert is_phone_number(words) is (phone is not None)
    assert is_sms_phone_number(words) is sms
