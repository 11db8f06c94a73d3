"""A cashier's STORNO lists only the payments their own till took: the owner's and another
cashier's (receipt, amount, time) are never in a cashier's reply; the owner's list is every
till's, as before. On both databases."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.render import render_plain
from core.domain.messages import Reply
from tests.dialogue.harness import Chat, add_member, open_till, options
from tests.dialogue.test_refund_refusals import pay
from tests.factories import make_town

WHICH = "Which payment of today do you want to refund?"
NONE_TODAY = "There is no payment of today to refund."


def said(replies: list[Reply]) -> str:
    return " ".join(render_plain(reply, "it", sms=False) for reply in replies)


async def test_a_cashiers_storno_lists_only_their_own_tills_payments(core: Core) -> None:
    town = await make_town(core, citizens=3)
    owner = await open_till(Chat(core, town.shop_phone))
    owners = await pay(owner, town, 0, "31,70")
    await owner.expect("ANNULLA")
    await add_member(core, town.shop_id, "7002", "cashier", channel="telegram")
    await add_member(core, town.shop_id, "7003", "cashier", channel="telegram")
    cashier = Chat(core, "7002", channel=Channel.TELEGRAM, language_hint="en")
    other = Chat(core, "7003", channel=Channel.TELEGRAM, language_hint="en")
    # Nothing at the cashier's till yet: the shop's payments are not theirs to list.
    replies = await cashier.expect("STORNO", NONE_TODAY)
    assert "31,70" not in said(replies)
    mine = await pay(cashier, town, 1, "4,20")
    await cashier.expect("ANNULLA")
    others = await pay(other, town, 2, "52,90")
    await other.expect("ANNULLA")
    replies = await cashier.expect("STORNO", WHICH)
    assert options(replies) == [f"r{mine}"]
    text = said(replies)
    assert "4,20" in text
    for amount in ("31,70", "52,90"):
        assert amount not in text, text
    replies = await other.expect("STORNO", WHICH)
    assert options(replies) == [f"r{others}"]
    # The owner's list is every till's, the newest first.
    replies = await owner.expect("STORNO", WHICH)
    assert options(replies) == [f"r{others}", f"r{mine}", f"r{owners}"]
