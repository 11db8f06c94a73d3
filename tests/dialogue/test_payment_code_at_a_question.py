"""A payment code sent here while a question waits is the cashier's, not the answer (trial
finding: an elderly applicant's "829694" became the household's savings, or three wrong
tries that cancelled the application): explained, the question and its tries untouched.
ANNULLA that cancels another request says the payment still waits."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain import otp
from core.domain.messages import Money
from tests.dialogue.harness import (
    Chat,
    msgids,
    open_till,
    options,
    outbox_of,
    param,
    town_with_open_window,
)
from tests.dialogue.test_apply import (
    CODE,
    LIQUIDITY,
    PRIVACY,
    SENT,
    SUMMARY,
    SUPPORT,
    _last_code,
)
from tests.dialogue.test_payment_code_sent_here import REFUSED
from tests.dialogue.test_shop import CITIZEN_CODE, CONFIRMED, balance, citizen_code
from tests.factories import Town

STAYS_OPEN = (
    "This code is for paying {amount} at {shop}: tell it to the cashier, not here. Your request "
    "stays open."
)
WRONG = "Wrong code: {count} attempt left."
CANCELLED = "Cancelled."
CANCELLED_WAITING = (
    "Cancelled. The payment of {amount} at {shop} still waits for your code: write ANNULLA "
    "again to refuse it."
)


async def at_liquidity(core: Core, channel: Channel = Channel.SMS) -> tuple[Town, Chat]:
    """A credited citizen applying again, at the question of the household's savings."""
    town = await town_with_open_window(core, citizens=1)
    citizen = Chat(core, town.citizen_phones[0], channel=channel)
    for text in ("DOMANDA", "1", town.citizen_cfs[0], "5", "2"):
        await citizen.send(text)
    await citizen.expect("2", LIQUIDITY)
    return town, citizen


async def payment_asked(core: Core, town: Town, amount: int = 4) -> tuple[Chat, str]:
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} {amount}")
    return till, await citizen_code(core, town.citizen_phones[0])


def other_than(code: str) -> str:
    """Six digits that are not `code` and do not start with 0: an amount as written (one
    with a leading zero is refused as an amount, core.domain.money.parse_euro)."""
    number = int(code)
    while True:
        number = (number + 1) % 1_000_000
        digits = f"{number:06d}"
        if digits[0] != "0" and digits != code:
            return digits


async def savings_in_summary(citizen: Chat, answer: str) -> Money:
    await citizen.expect(answer, SUPPORT)
    await citizen.send("0")
    replies = await citizen.expect("0", SUMMARY)
    [amount] = [
        text.params["amount"]
        for reply in replies
        for text in reply.texts
        if text.msgid == "Savings: {amount}"
    ]
    assert isinstance(amount, Money)
    return amount


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TERMINAL])
async def test_a_payment_code_at_a_question_is_explained_and_the_question_stays(
    core: Core, channel: Channel
) -> None:
    town, citizen = await at_liquidity(core, channel)
    till, code = await payment_asked(core, town)
    replies = await citizen.expect(code, STAYS_OPEN, LIQUIDITY)
    assert param(replies, "amount") == Money(4_00)
    for spelled in (f"{code[:3]} {code[3:]}", f"il codice è {code}"):
        await citizen.expect(spelled, STAYS_OPEN, LIQUIDITY)
    assert (await citizen.state())[:2] == ("apply", "liquidity")
    # The proper answer is taken afterwards, and only it reaches the summary.
    assert await savings_in_summary(citizen, "1500") == Money(1_500_00)
    # Nothing of the payment changed: the cashier's code still pays.
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 150_00 - 4_00


async def test_six_digits_that_are_no_payment_code_answer_the_question_as_before(
    core: Core,
) -> None:
    town, citizen = await at_liquidity(core)
    _till, code = await payment_asked(core, town)
    # A payment waits, but this number is not its code: the savings, as written.
    assert await savings_in_summary(citizen, other_than(code)) == Money(int(other_than(code)) * 100)


async def test_savings_of_six_digits_with_no_payment_waiting_are_taken(core: Core) -> None:
    _town, citizen = await at_liquidity(core)
    assert await savings_in_summary(citizen, "829694") == Money(829_694_00)


async def test_a_payment_code_at_the_confirmation_step_costs_no_try(core: Core) -> None:
    town, citizen = await at_liquidity(core)
    for text in ("1500", "0", "0"):
        await citizen.send(text)
    await citizen.expect("1", CODE)
    confirmation = await _last_code(citizen)
    till, code = await payment_asked(core, town)
    for _ in range(3):
        replies = await citizen.expect(code, STAYS_OPEN)
        assert WRONG not in msgids(replies)
        assert (await citizen.state())[:2] == ("apply", "verify")
    # A wrong code is still a wrong try, and the first one: none was counted before.
    replies = await citizen.expect(other_than(confirmation), WRONG)
    assert param(replies, "count") == 2
    await citizen.expect(confirmation, SENT)
    assert (await citizen.state())[:2] == (None, None)
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 150_00 - 4_00


async def test_a_payment_code_with_the_confirmation_codes_digits_confirms_the_request(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One time in a million the two codes sent to one phone are the same six digits: at
    the confirmation step they are the step's code (they had been explained as the
    payment's, again and again), and the cashier can still use them."""
    town, citizen = await at_liquidity(core)
    for text in ("1500", "0", "0"):
        await citizen.send(text)
    await citizen.expect("1", CODE)
    confirmation = await _last_code(citizen)
    monkeypatch.setattr(otp, "new_code", lambda digits=otp.CODE_DIGITS: confirmation)
    till, code = await payment_asked(core, town)
    assert code == confirmation
    await citizen.expect(confirmation, SENT)
    assert (await citizen.state())[:2] == (None, None)
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 150_00 - 4_00


async def test_annulla_of_another_request_says_the_payment_still_waits(core: Core) -> None:
    town = await town_with_open_window(core, citizens=1)
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.expect("DOMANDA", PRIVACY)  # another request, at its question
    till, code = await payment_asked(core, town)
    replies = await citizen.expect("ANNULLA", CANCELLED_WAITING)
    assert param(replies, "amount") == Money(4_00)
    assert CANCELLED not in msgids(replies)
    assert (await citizen.state())[:2] == (None, None)
    # The second ANNULLA refuses it.
    await citizen.expect("ANNULLA", REFUSED)
    await till.send(code)
    assert CONFIRMED not in msgids(till.last)
    assert await balance(core, town) == 150_00
    # With no payment waiting, cancelling a request is just "Cancelled.".
    await citizen.expect("DOMANDA", PRIVACY)
    replies = await citizen.expect("ANNULLA", CANCELLED)
    assert CANCELLED_WAITING not in msgids(replies)


async def test_on_telegram_too_whatever_the_question(core: Core) -> None:
    """The engine's rule, not the application's: the shop search's question on Telegram."""
    town = await town_with_open_window(core, citizens=1)
    async with core.uow() as uow:
        holder = await uow.citizens.by_id(town.citizen_ids[0])
        assert holder is not None
        holder.telegram_chat_id = "8001"  # payment codes go to Telegram
        await uow.commit()
    citizen = Chat(core, "8001", channel=Channel.TELEGRAM)
    await citizen.expect("NEGOZI", TELEGRAM_QUERY)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 4")
    [code] = [
        str(reply.texts[0].params["code"])
        for _row, reply in await outbox_of(core, "telegram", "8001")
        if reply.texts and reply.texts[0].msgid == CITIZEN_CODE
    ]
    await citizen.expect(code, STAYS_OPEN, TELEGRAM_QUERY)
    assert (await citizen.state())[:2] == ("shops", "query")
    # On Telegram the menu follows, as after any "Cancelled.".
    replies = await citizen.expect("ANNULLA", CANCELLED_WAITING)
    assert "balance" in options(replies)
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 150_00 - 4_00


TELEGRAM_QUERY = (
    "Share your position to see the shops near you, or write a town, a postcode (CAP) or a "
    "type of shop."
)
