"""A receipt number the till cannot have is no payment, said as such (trial 24): digits of
another script are the receipt's digits (`STORNO ¹`, where int() failed on superscripts), and
more digits than the column holds (`STORNO 99999999999999999999999`) named nothing where it
overflowed the database's integer and the till heard only "something went wrong"; on both
databases."""

from __future__ import annotations

from core.bootstrap import Core
from core.services import charges
from tests.dialogue.harness import Chat, open_till, param
from tests.dialogue.test_refund_refusals import pay
from tests.factories import make_town

SURE = "Refund {amount} (receipt no. {receipt}) to the customer?"
NONE_SUCH = "No payment of today with receipt no. {receipt}."
HUGE = "99999999999999999999999"


async def test_a_receipt_in_other_digits_is_that_receipt(core: Core) -> None:
    town = await make_town(core)
    till = await open_till(Chat(core, town.shop_phone))
    assert await pay(till, town, 0, "20") == 1
    await till.expect("ANNULLA")
    await till.expect("STORNO ¹", SURE)
    assert param(till.last, "receipt") == "1"
    await till.expect("2", "Nothing was refunded.")
    await till.expect("STORNO ١", SURE)  # Arabic-Indic, read as it always was
    await till.expect("2", "Nothing was refunded.")


async def test_a_receipt_number_no_till_can_have_is_no_payment(core: Core) -> None:
    town = await make_town(core)
    till = await open_till(Chat(core, town.shop_phone))
    await pay(till, town, 0, "20")
    await till.expect("ANNULLA")
    await till.expect(f"STORNO {HUGE}", NONE_SUCH)
    assert param(till.last, "receipt") == HUGE
    await till.expect("STORNO", "Which payment of today do you want to refund?")
    await till.expect(HUGE, NONE_SUCH)
    await till.expect(f"n.{HUGE}", NONE_SUCH)
    await till.expect("1", SURE)  # the request stayed open, at its question
    async with core.uow() as uow:
        owner = next(x for x in await uow.shops.members_of(town.shop_id) if x.role == "owner")
        for number in (0, -1, 2**63, 10**23):
            assert await charges.confirmed_charge(uow, receipt_number=number, member=owner) is None
