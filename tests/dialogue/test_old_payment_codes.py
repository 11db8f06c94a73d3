"""Payment codes that no longer wait, sent while a question waits, and ANNULLA with two
payments waiting (a trial of 5 Dec 2026: an expired code became the household's savings
and a code already used cost the application its three tries; ANNULLA named one payment
of two and then refused both)."""

from __future__ import annotations

from core.bootstrap import Core
from core.domain.messages import Money
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, msgids, open_till, param, town_with_open_window
from tests.dialogue.test_apply import CODE, LIQUIDITY, PRIVACY, _last_code
from tests.dialogue.test_payment_code_at_a_question import (
    at_liquidity,
    payment_asked,
    savings_in_summary,
)
from tests.dialogue.test_payment_code_sent_here import REFUSED
from tests.dialogue.test_shop import CONFIRMED, citizen_code
from tests.integration.test_payments import another_shop

EXPIRED = (
    "This code was for a payment at {shop} that expired: nothing was paid. Your request stays open."
)
PAID = "This code was for the payment of {amount} at {shop}, already made. Your request stays open."
PAID_NO_QUESTION = (
    "This code was for the payment of {amount} at {shop}, already made: it is no longer needed."
)
WRONG = "Wrong code: {count} attempt left."
CANCELLED_TWO = (
    "Cancelled. {count} payment still waits for your code: write ANNULLA again to refuse it."
)


async def test_an_expired_payment_code_at_a_question_is_explained_not_taken(
    core: Core, clock: FakeClock
) -> None:
    town, citizen = await at_liquidity(core)
    _till, code = await payment_asked(core, town)
    clock.advance(minutes=30)  # the payment's code expired unused
    # At the savings question: explained, the question again; never 25.586,00 €.
    replies = await citizen.expect(code, EXPIRED, LIQUIDITY)
    assert param(replies, "shop") == "Alimentari Test"
    assert (await citizen.state())[:2] == ("apply", "liquidity")
    assert await savings_in_summary(citizen, "1500") == Money(1_500_00)


async def test_a_used_payment_code_at_the_confirmation_step_costs_no_try(core: Core) -> None:
    town, citizen = await at_liquidity(core)
    till, code = await payment_asked(core, town)
    await till.expect(code, CONFIRMED)
    for text in ("1500", "0", "0"):
        await citizen.send(text)
    await citizen.expect("1", CODE)
    confirmation = await _last_code(citizen)
    for _ in range(3):
        replies = await citizen.expect(code, PAID)
        assert param(replies, "amount") == Money(4_00)
    # A wrong code is then the first wrong try: none was counted before.
    wrong = f"{(int(confirmation) + 1) % 1_000_000:06d}"
    if wrong == code:
        wrong = f"{(int(confirmation) + 2) % 1_000_000:06d}"
    replies = await citizen.expect(wrong, WRONG)
    assert param(replies, "count") == 2
    assert (await citizen.state())[:2] == ("apply", "verify")


async def test_a_used_payment_code_with_no_question_is_explained(core: Core) -> None:
    town, citizen = await at_liquidity(core)
    await citizen.send("ANNULLA")
    till, code = await payment_asked(core, town)
    await till.expect(code, CONFIRMED)
    await citizen.expect(code, PAID_NO_QUESTION)


async def test_annulla_with_two_payments_waiting_says_both(core: Core) -> None:
    town = await town_with_open_window(core, citizens=1)
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.expect("DOMANDA", PRIVACY)  # another request, at its question
    _till, _code = await payment_asked(core, town, amount=5)
    other = await another_shop(core, town, 1)
    second = await open_till(Chat(core, "+393345000001"))
    await second.send(f"PAGA {town.citizen_cfs[0]} 7")
    assert other and await citizen_code(core, town.citizen_phones[0])
    replies = await citizen.expect("ANNULLA", CANCELLED_TWO)
    assert param(replies, "count") == 2
    replies = await citizen.expect("ANNULLA", REFUSED, REFUSED)
    assert sorted(str(p) for p in (t.params["amount"] for r in replies for t in r.texts)) == [
        str(Money(5_00)),
        str(Money(7_00)),
    ]
    assert "Cancelled." not in msgids(replies)
