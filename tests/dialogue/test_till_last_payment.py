"""The last payment ("ultimo pagamento", "l'ultimo incasso", "last payment"): the owner
reads the shop's last, from any till; a cashier the last one their own till took, or a
plain sentence that it took none, never another till's amount or time
(core.services.shop_money.last_payment_for). On SQLite and PostgreSQL."""

from __future__ import annotations

from core.bootstrap import Core
from core.domain.messages import Money, Reply
from tests.dialogue.harness import (
    assert_one_segment,
    msgids,
    param,
)
from tests.dialogue.test_refund_refusals import pay
from tests.dialogue.test_shop import own_code
from tests.dialogue.test_till_takings import busy_saturday, rendered

SHOPS_LAST = "Last payment: no. {receipt}, {amount}, on {day} at {time}."
TILLS_LAST = "Last payment at your till: no. {receipt}, {amount}, on {day} at {time}."
TILLS_LAST_REFUNDED = (
    "Last payment at your till: no. {receipt}, {amount}, on {day} at {time}; refunded."
)
TILL_NONE = "Your till has taken no payment yet."
# The amounts busy_saturday's tills took (the owner 30 and 12,50, cashier 7002 7 and 3).
OTHER_AMOUNTS = ("30,00", "12,50", "7,00", "3,00")


def amount_of(replies: list[Reply]) -> Money:
    amount = param(replies, "amount")
    assert isinstance(amount, Money)
    return amount


async def test_a_cashier_reads_their_own_tills_last_payment(core: Core) -> None:
    town, owner, first, second = await busy_saturday(core)
    # The owner: the shop's last payment, taken at cashier 7002's till.
    replies = await owner.expect("ultimo pagamento", SHOPS_LAST)
    assert amount_of(replies) == Money(3_00)
    # Cashier 7013 took nothing (a payment of 4 still waits for its code): said plainly,
    # nothing of another till's payments, however asked.
    for typed in ("last payment", "ultimo pagamento", "l'ultimo incasso"):
        replies = await second.expect(typed, TILL_NONE)
        assert SHOPS_LAST not in msgids(replies)
        said = rendered(replies, "it", sms=False) + rendered(replies, "en", sms=False)
        assert not [amount for amount in OTHER_AMOUNTS if amount in said]
    [reply] = [r for r in replies if TILL_NONE in msgids([r])]
    assert assert_one_segment(reply, "it") == "Alla tua cassa non c'è ancora nessun pagamento."
    # Cashier 7002: their own till's last, also once the owner takes a later payment.
    receipt = await pay(owner, town, 0, "5")
    replies = await first.expect("ultimo pagamento", TILLS_LAST)
    assert amount_of(replies) == Money(3_00)
    assert "Ultimo pagamento alla tua cassa: n. " in rendered(replies, "it", sms=True)
    mine = int(param(replies, "receipt"))
    replies = await owner.expect("ultimo pagamento", SHOPS_LAST)
    assert (int(param(replies, "receipt")), amount_of(replies)) == (receipt, Money(5_00))
    # Refunded since: said so.
    await owner.send(f"STORNO {mine}")
    await owner.send("1")
    await owner.send(await own_code(owner))
    replies = await first.expect("last payment", TILLS_LAST_REFUNDED)
    assert (int(param(replies, "receipt")), amount_of(replies)) == (mine, Money(3_00))
