"""What a confused elderly citizen and a busy shopkeeper type (trial of 6 December 2026):
each message gets its own answer in one SMS, and nothing that is no code counts as one."""

from __future__ import annotations

from core.bootstrap import Core
from core.domain.messages import Money
from tests.dialogue.test_shop import CONFIRMED, WAITS, balance
from tests.dialogue.test_till_slips import wrong_codes
from tests.dialogue.test_till_trial import waiting_payment

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


async def test_reimbursement_asked_while_a_code_waits(core: Core) -> None:
    _town, till, _phone, _code = await waiting_payment(core, "5")
    await till.expect("quando mi paga il comune?", TO_BE_REIMBURSED, WAITS)
    assert await wrong_codes(core) == 0
