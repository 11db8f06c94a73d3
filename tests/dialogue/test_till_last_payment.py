"""The last payment ("ultimo pagamento", "l'ultimo incasso", "last payment", the cashier's
menu item): the owner reads the shop's last, from any till; a cashier the last one their
own till took, or a plain sentence that it took none, never another till's amount or time
(core.services.shop_money.last_payment_for). A cashier's menu offers it where the owner's
has the reimbursements, which are not theirs: every other item keeps its number. On
SQLite and PostgreSQL."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.messages import Money, Reply
from tests.dialogue.harness import (
    Chat,
    add_member,
    assert_one_segment,
    msgids,
    open_till,
    options,
    param,
)
from tests.dialogue.test_refund_refusals import pay
from tests.dialogue.test_shop import own_code
from tests.dialogue.test_till_takings import busy_saturday, rendered
from tests.factories import make_town

SHOPS_LAST = "Last payment: no. {receipt}, {amount}, on {day} at {time}."
TILLS_LAST = "Last payment at your till: no. {receipt}, {amount}, on {day} at {time}."
TILLS_LAST_REFUNDED = (
    "Last payment at your till: no. {receipt}, {amount}, on {day} at {time}; refunded."
)
TILL_NONE = "Your till has taken no payment yet."
MENU = "{shop}: what do you want to do?"
LEAVE_SURE = (
    "Stop working for {shop}? This chat will no longer charge its vouchers; the owner is told."
)
CASHIER_SMS = "+393339990050"
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


async def test_a_cashiers_menu_has_their_last_payment_where_the_reimbursements_were(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, CASHIER_SMS, "cashier")
    owner = Chat(core, town.shop_phone)
    replies = await owner.expect("MENU", MENU)
    assert options(replies) == [
        "charge", "refund", "statement", "reimbursement", "cashier", "cashiers", "language"
    ]  # fmt: skip
    await pay(await open_till(owner), town, 0, "6")
    cashier = Chat(core, CASHIER_SMS)
    replies = await cashier.expect("MENU", MENU)
    assert options(replies) == [
        "charge", "refund", "statement", "last_payment", "leave", "language"
    ]  # fmt: skip
    said = rendered(replies, "it", sms=True)
    assert "4 Ultimo pagamento" in said and "Rimborsi" not in said
    replies = await cashier.expect("4", TILL_NONE)
    assert "6,00" not in rendered(replies, "it", sms=True)
    # The items after it keep the numbers they had: 5 leaves (after a Yes), 6 the language.
    await cashier.send("MENU")
    await cashier.expect("5", LEAVE_SURE)
    await cashier.expect("2", "Nothing was changed.")
    await cashier.send("MENU")
    await cashier.expect("6", "Choose your language.")
    # On Telegram the menu's button.
    await add_member(core, town.shop_id, "7002", "cashier", channel="telegram")
    by_telegram = Chat(core, "7002", channel=Channel.TELEGRAM)
    replies = await by_telegram.expect("MENU", MENU)
    assert "last_payment" in options(replies) and "reimbursement" not in options(replies)
    await by_telegram.expect(None, TILL_NONE, option="last_payment")
    await by_telegram.send("MENU")
    await by_telegram.expect("4", TILL_NONE)
