"""Telegram trial of 5 Dec 2026: a cashier at a busy till types the total the register
shows before the customer says who they are ("PAGA 4,30"). The amount was kept as who
pays, the amount asked again, and the customer's phone typed next was refused as an
amount above the ceiling. The amount written alone is kept, and who pays is asked for it."""

from __future__ import annotations

from core.bootstrap import Core
from core.domain.messages import Money
from tests.dialogue.harness import Chat, msgids, open_till, param
from tests.dialogue.test_shop import (
    AMOUNT,
    ASK_CODE,
    CONFIRMED,
    NOBODY,
    PAYER_MISSING,
    WHO,
    balance,
    citizen_code,
)
from tests.dialogue.test_till_slips import LEFT_OPEN, NOT_AN_AMOUNT
from tests.factories import make_town

WHO_FOR = "Who pays {amount}? Write the codice fiscale, the phone number or the card code."


async def test_the_amount_written_before_who_pays_is_kept(core: Core) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    till = await open_till(Chat(core, town.shop_phone))
    # Open at "Who pays?" already (the till's code): the amount alone is kept there too.
    replies = await till.expect("4,30", WHO_FOR)
    assert param(replies, "amount") == Money(4_30)
    for line in ("PAGA 4,30", "paga 4,30 €", "PAGA € 4,30", "PAGA 4.30 euro"):
        replies = await till.expect(line, WHO_FOR)
        assert param(replies, "amount") == Money(4_30), line
        assert AMOUNT not in [reply.texts[0].msgid for reply in replies]
    replies = await till.expect(phone, ASK_CODE)
    assert param(replies, "amount") == Money(4_30)
    await till.expect(await citizen_code(core, phone), CONFIRMED)
    assert await balance(core, town) == 150_00 - 4_30


async def test_who_pays_after_the_amount_may_bring_another_amount_or_be_written_again(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect("PAGA 12", WHO_FOR)
    # Nobody found: the till waits for who pays again, the amount still kept.
    await till.expect("ABCD EFGH JK", NOBODY)
    replies = await till.expect(town.citizen_cfs[0], ASK_CODE)
    assert param(replies, "amount") == Money(12_00)
    # While that payment waits for its code, an amount alone names nobody: refused, and
    # the payment keeps waiting (its code still pays), as for any slip of the till's
    # (tests/dialogue/test_till_who_pays.py).
    await till.expect("PAGA 2,5", PAYER_MISSING, LEFT_OPEN)
    await till.expect(await citizen_code(core, phone), CONFIRMED)
    # Another amount with who pays wins over the one written first; a corrected amount
    # written alone replaces it.
    await till.expect("PAGA 2,5", WHO_FOR)
    await till.expect("3", WHO_FOR)
    replies = await till.expect(f"{phone} 5", ASK_CODE)
    assert param(replies, "amount") == Money(5_00)
    await till.expect(await citizen_code(core, phone), CONFIRMED)
    assert await balance(core, town) == 150_00 - 12_00 - 5_00


async def test_a_wrong_amount_alone_is_said_as_the_amount_and_nobody_is_looked_up(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect("PAGA 0,001", "An amount has at most two decimals (cents), e.g. 12,50.")
    await till.expect("PAGA -5", "The amount cannot be negative. Write it again, e.g. 12,50.")
    # A phone number, a card number and a code are still who pays (or asked about).
    await till.expect(f"PAGA {town.citizen_phones[0]}", AMOUNT)
    await till.expect("PAGA", WHO)
    assert await balance(core, town) == 150_00


async def test_every_amount_alone_is_read_alike_with_nothing_waiting(core: Core) -> None:
    """One reading of "an amount, nobody named" (charge_request.names_nobody) whether a payment
    waits or not: while one waits each is refused as who pays missing
    (tests/dialogue/test_till_who_pays.py); with nothing waiting each is kept as the
    amount, or said as the amount's own error. An amount in words, or with an O for a
    zero, was refused as who pays missing instead, where "4,30" was kept."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    till = await open_till(Chat(core, town.shop_phone))
    for line, cents in (("PAGA 3 euro e 50", 3_50), ("PAGA 3 euro e 50 centesimi", 3_50)):
        replies = await till.expect(line, WHO_FOR)
        assert param(replies, "amount") == Money(cents), line
    await till.expect("PAGA 5OO", NOT_AN_AMOUNT)
    await till.expect("PAGA 12,5O", NOT_AN_AMOUNT)
    assert PAYER_MISSING not in msgids(await till.send("PAGA 5 5"))
    assert (await till.state())[:2] == ("charge", "who")
    replies = await till.expect("500", WHO_FOR)
    assert param(replies, "amount") == Money(500_00)
    replies = await till.expect("4,30", WHO_FOR)
    replies = await till.expect(phone, ASK_CODE)
    assert param(replies, "amount") == Money(4_30)
    await till.expect(await citizen_code(core, phone), CONFIRMED)
    assert await balance(core, town) == 150_00 - 4_30
