"""Wrong codes for one person's payment codes at several shops (docs/payments-and-codes.md,
"Wrong codes for one person"), on SQLite and PostgreSQL: a card's limit, given to the codes
sent to a phone or a chat. 8 wrong codes for her at all shops together in 24 hours, each
shop counting at most 3, stop her codes: the payment is cancelled, her other payments
waiting for a code too, she is told through the outbox in the same transaction, and every
till asking her a payment hears why, until time or the office lifts it."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.bootstrap import Core
from core.dialogue.errors import error_text
from core.domain.errors import NotAllowed, Refusal
from core.domain.messages import Moment
from core.domain.person_codes import WRONG_CODE_WINDOW
from core.i18n import render_text
from core.services.charges import ConfirmOutcome, person_locks
from core.services.outbox import reply_of
from tests.conftest import FakeClock
from tests.factories import Town, confirm, last_code_for, make_town, outbox_to, pay, request
from tests.integration.test_payments import another_shop

STOPPED_NOTICE = (
    "Warning: too many wrong codes for you at several shops, the last at {shop}. "
    "No payment code until {until}."
)


async def shops(core: Core, town: Town, count: int) -> list[int]:
    return [town.shop_id] + [await another_shop(core, town, index) for index in range(1, count)]


async def wrong_codes(core: Core, town: Town, shop_id: int, count: int) -> list[ConfirmOutcome]:
    """The shop asks the town's first citizen 5 € and types `count` wrong codes (a new
    payment after each third, which cancels its payment)."""
    outcomes: list[ConfirmOutcome] = []
    while len(outcomes) < count:
        requested = await request(core, shop_id, town.citizen_cfs[0], 5_00)
        code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(min(3, count - len(outcomes))):
            result = await confirm(core, shop_id, requested.charge_id, wrong)
            outcomes.append(result.outcome)
            if result.outcome is not ConfirmOutcome.WRONG_CODE:
                break
    return outcomes


async def stopped_until(core: Core, town: Town) -> datetime | None:
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        return await person_locks.codes_stopped_until(uow, citizen, core.now())


async def test_eight_wrong_codes_at_three_shops_stop_her_codes(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    a, b, c, d = await shops(core, town, 4)
    first = clock()
    await wrong_codes(core, town, a, 3)
    clock.advance(minutes=1)
    await wrong_codes(core, town, b, 3)
    clock.advance(minutes=1)
    # A payment of hers waiting at another shop meanwhile.
    waiting = await request(core, d, town.citizen_cfs[0], 7_00)
    assert await stopped_until(core, town) is None

    outcomes = await wrong_codes(core, town, c, 2)

    # The 8th: stopped until the first of A's three leaves the 24 hours (7 then count).
    until = first + WRONG_CODE_WINDOW
    assert outcomes == [ConfirmOutcome.WRONG_CODE, ConfirmOutcome.CODES_STOPPED]
    assert await stopped_until(core, town) == until
    async with core.uow() as uow:
        theirs = await uow.charges.pending_for_citizen(town.citizen_ids[0])
        charge = await uow.charges.by_id(waiting.charge_id)
    assert theirs == []
    assert charge is not None
    assert (charge.status, charge.closed_reason) == ("cancelled", "codes_stopped")
    notice = reply_of(core.keys, (await outbox_to(core, town.citizen_phones[0]))[-1]).texts[0]
    assert notice.msgid == STOPPED_NOTICE
    assert notice.params["until"] == Moment(until)

    # Every till asking her a payment now hears why, and nothing is sent to her.
    sent = len(await outbox_to(core, town.citizen_phones[0]))
    with pytest.raises(NotAllowed) as refused:
        await request(core, d, town.citizen_cfs[0], 2_00)
    assert refused.value.code == Refusal.PAYMENT_CODES_STOPPED
    assert render_text(error_text(refused.value), "en").startswith(
        "Too many wrong codes for this person at several shops: no code until "
    )
    assert len(await outbox_to(core, town.citizen_phones[0])) == sent

    # Time lifts it: once A's first wrong code is 24 hours old, 7 count.
    clock.current = until
    requested = await request(core, d, town.citizen_cfs[0], 2_00)
    assert requested.charge_id


async def test_one_shop_alone_cannot_stop_her_codes(core: Core, clock: FakeClock) -> None:
    """A shop adds at most 3 to her count: its own further guesses lock the shop."""
    town = await make_town(core, citizens=1)
    a, b, c = await shops(core, town, 3)
    await wrong_codes(core, town, a, 5)  # the fifth locks the shop for 30 minutes
    for _ in range(3):  # and each one after it, again
        clock.advance(minutes=31)
        await wrong_codes(core, town, a, 1)

    assert await stopped_until(core, town) is None
    assert await wrong_codes(core, town, b, 3) == [
        ConfirmOutcome.WRONG_CODE,
        ConfirmOutcome.WRONG_CODE,
        ConfirmOutcome.CANCELLED_TOO_MANY_ATTEMPTS,
    ]
    # A's eight count 3, B's 3: C's second is the eighth that counts.
    assert await wrong_codes(core, town, c, 2) == [
        ConfirmOutcome.WRONG_CODE,
        ConfirmOutcome.CODES_STOPPED,
    ]


async def test_her_own_payment_starts_the_count_again(core: Core, clock: FakeClock) -> None:
    town = await make_town(core, citizens=1)
    a, b, c = await shops(core, town, 3)
    await wrong_codes(core, town, a, 3)
    await wrong_codes(core, town, b, 3)
    clock.advance(minutes=1)
    await pay(core, town, 1_00)  # her right code, at the town's shop
    clock.advance(minutes=1)

    # Without her payment these would be the 7th and 8th.
    assert await wrong_codes(core, town, c, 2) == [ConfirmOutcome.WRONG_CODE] * 2
    assert await stopped_until(core, town) is None
    d, e = [await another_shop(core, town, index) for index in (3, 4)]
    await wrong_codes(core, town, d, 3)
    assert (await wrong_codes(core, town, e, 3))[-1] is ConfirmOutcome.CODES_STOPPED


async def test_the_office_lifts_the_stop(core: Core, clock: FakeClock) -> None:
    town = await make_town(core, citizens=1)
    a, b, c = await shops(core, town, 3)
    async with core.uow() as uow:
        with pytest.raises(NotAllowed) as not_stopped:
            await person_locks.resume_codes(
                uow, town.municipality_id, town.citizen_cfs[0], by="anna", now=core.now()
            )
    assert not_stopped.value.code == Refusal.PAYMENT_CODES_NOT_STOPPED
    await wrong_codes(core, town, a, 3)
    await wrong_codes(core, town, b, 3)
    assert (await wrong_codes(core, town, c, 2))[-1] is ConfirmOutcome.CODES_STOPPED
    clock.advance(minutes=5)

    async with core.uow() as uow:
        until = await person_locks.resume_codes(
            uow, town.municipality_id, town.citizen_cfs[0], by="anna", now=core.now()
        )
        await uow.commit()

    assert until is not None
    assert await stopped_until(core, town) is None
    requested = await request(core, c, town.citizen_cfs[0], 2_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    assert (await confirm(core, c, requested.charge_id, code)).outcome is ConfirmOutcome.CONFIRMED
