"""The till after the user trial of 4 Dec 2026 (items 1, 2, 3 and 7), for an honest busy
cashier, a confused customer, a dishonest cashier guessing codes and a forger of the
shop's SMS sender: what the till is told is what the database holds."""

from __future__ import annotations

from sqlalchemy import select

from core.bootstrap import Core
from core.domain.messages import Money
from core.storage import models as m
from tests.dialogue.harness import Chat, open_till, outbox_of, param, wrong_guesses
from tests.dialogue.test_shop import (
    AMOUNT,
    ASK_CODE,
    CONFIRMED,
    NOBODY,
    NOTHING_WAITING,
    balance,
    citizen_code,
    text_of,
)
from tests.dialogue.test_till_session import ENDED, WRONG, shop_locked
from tests.dialogue.test_till_slips import CANCELLED_AT_TILL, VOID, WARNING, wrong_codes
from tests.factories import Town, make_town

SIX_DIGITS = (
    "The code has {digits} digits, you wrote {count}: ask the customer again and write it "
    "here, or ANNULLA."
)


async def statuses(core: Core) -> list[tuple[int, str, str | None]]:
    async with core.uow() as uow:
        rows = await uow.session.scalars(select(m.Charge).order_by(m.Charge.id))
        return [(c.amount_cents, c.status, c.closed_reason) for c in rows]


async def told(core: Core, phone: str) -> list[str]:
    return [reply.texts[0].msgid for _row, reply in await outbox_of(core, "sms", phone)]


async def waiting_payment(core: Core, amount: str) -> tuple[Town, Chat, str, str]:
    """A till whose PAGA of `amount` to the town's first citizen waits for the customer's
    code: the town, the till, the customer's phone and the code they received."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} {amount}", ASK_CODE)
    return town, till, phone, await citizen_code(core, phone)


# Item 1: "Annullato." while the payment still waited, and its code charged later ---------


async def test_paga_again_then_annulla_leaves_nothing_that_charges(core: Core) -> None:
    town, till, phone, code = await waiting_payment(core, "125")
    # The cashier starts again: the waiting payment is given up, named, and the customer
    # told in the same turn; then the amount is asked (one SMS).
    await till.expect(f"PAGA {town.citizen_cfs[0]}", CANCELLED_AT_TILL, AMOUNT)
    assert len(till.last) == 1
    named = text_of(till.last, CANCELLED_AT_TILL)
    assert named.params == {"amount": Money(125_00), "where": f"SMS ***{phone[-3:]}"}
    assert (await told(core, phone))[-1] == VOID
    assert await statuses(core) == [(125_00, "cancelled", "replaced")]
    # ANNULLA now says "Cancelled." truthfully: nothing of this till waits.
    await till.expect("ANNULLA", "Cancelled.")
    await till.expect(code, NOTHING_WAITING)
    assert await balance(core, town) == 150_00
    assert await wrong_codes(core) == 0


async def test_annulla_at_the_amount_step_cancels_the_payment_left_by_menu(core: Core) -> None:
    town, till, phone, code = await waiting_payment(core, "20")
    # ANNULLA at the code step names the payment instead of a bare "Cancelled.".
    await till.expect("ANNULLA", CANCELLED_AT_TILL)
    assert param(till.last, "amount") == Money(20_00)
    assert (await told(core, phone))[-1] == VOID
    await till.expect(code, NOTHING_WAITING)
    assert await statuses(core) == [(20_00, "cancelled", "by_shop")]
    assert await balance(core, town) == 150_00


# Item 2: a code with a digit missing or extra is said, never counted -----------------------


async def test_a_code_of_the_wrong_length_is_not_a_wrong_code(core: Core) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {phone[3:]} 4,20", ASK_CODE)
    for slip, count in (("12345", 5), ("1234567", 7), ("57553", 5), ("549 5577", 7)):
        await till.expect(slip, SIX_DIGITS)
        assert (param(till.last, "digits"), param(till.last, "count")) == (6, count)
        assert (await till.state())[:2] == ("charge", "code")
    # Nothing counted: no try used, the till session open, the shop free, nobody warned.
    assert await wrong_codes(core) == 0
    assert not await shop_locked(core, town)
    async with core.uow() as uow:
        [charge] = (await uow.session.scalars(select(m.Charge))).all()
        assert (charge.attempts, charge.status) == (0, "pending")
    assert WARNING not in await told(core, phone)
    await till.expect(await citizen_code(core, phone), CONFIRMED)
    assert await balance(core, town) == 150_00 - 4_20


async def test_a_wrong_code_of_the_right_length_still_counts(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 3", ASK_CODE)
    await till.expect("12345", SIX_DIGITS)
    await till.expect(wrong_guesses(await citizen_code(core, town.citizen_phones[0]), 1)[0], WRONG)
    assert param(till.last, "count") == 1  # by SMS the session's next wrong code is the last
    assert await wrong_codes(core) == 1


# Item 3: the till session ended by wrong codes leaves nothing in limbo ----------------------


async def test_the_session_end_cancels_the_waiting_payment_and_says_so(core: Core) -> None:
    # A guesser (or a forger riding the till's session) types two wrong codes: the payment
    # is cancelled and its customer warned of the wrong codes, as after the last wrong code
    # at any till (never told that the shop cancelled: the SMS till trial); the till hears
    # exactly that, and the right code typed afterwards, even after confirming the till
    # again, pays nothing.
    town, till, phone, code = await waiting_payment(core, "12")
    first, second = wrong_guesses(code, 2)
    await till.expect(first, WRONG)
    await till.expect(second, ENDED)
    assert param(till.last, "amount") == Money(12_00)
    assert await statuses(core) == [(12_00, "cancelled", "too_many_attempts")]
    assert (await told(core, phone))[-1] == WARNING
    assert VOID not in await told(core, phone)
    await till.expect(code, NOTHING_WAITING)
    # As told: PAGA confirms the till again, then the payment is asked again.
    await open_till(till)
    await till.expect("ANNULLA", "Cancelled.")
    await till.expect(code, NOTHING_WAITING)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 12", ASK_CODE)
    await till.expect(await citizen_code(core, phone), CONFIRMED)
    assert await balance(core, town) == 150_00 - 12_00
    assert await wrong_codes(core) == 2
    assert not await shop_locked(core, town)


# Item 8: an amount the till cannot read, written after PAGA -------------------------------

SPLIT = "Write the amount like 12,50: a comma before the cents, no space."


async def test_an_unreadable_amount_after_paga_is_said_with_the_question_in_one_sms(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    cf, phone = town.citizen_cfs[0], town.citizen_phones[0]
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {cf} 12 50", SPLIT, AMOUNT)
    assert len(till.last) == 1  # one SMS: what was wrong, and the question
    assert await statuses(core) == []  # nobody looked up, nothing asked of the customer
    await till.expect("12,50", ASK_CODE)
    await till.expect(await citizen_code(core, phone), CONFIRMED)
    assert await statuses(core) == [(12_50, "confirmed", None)]


async def test_nobody_found_waits_for_the_reference_written_again(core: Core) -> None:
    """Shops' trial: "No voucher holder found … write it again", but what the cashier then
    wrote was not understood (the till had left the payment)."""
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect("PAGA 3331000050 5", NOBODY)
    assert (await till.state())[:2] == ("charge", "who")
    await till.expect(f"{town.citizen_phones[0]} 5", ASK_CODE)
    await till.expect("ANNULLA", CANCELLED_AT_TILL)
    # Asked the amount first, then nobody found: who pays again, then the amount.
    await till.expect("PAGA 3331000051", AMOUNT)
    await till.expect("7", NOBODY)
    await till.expect(town.citizen_cfs[0], AMOUNT)
    await till.expect("7", ASK_CODE)
