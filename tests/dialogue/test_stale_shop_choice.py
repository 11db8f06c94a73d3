"""A chat that works for two shops, removed from one while its "For which shop?" list was
open, then picks that shop from the list (a trial, 4 Dec 2026: the other shop's menu came
back as if it were the one picked, and the next payment was that shop's)."""

from __future__ import annotations

from core.bootstrap import Core
from core.services import shop_members
from tests.dialogue.harness import Chat, add_member, param
from tests.factories import make_town
from tests.integration.test_payments import another_shop

CASHIER = "+393339990060"
WHICH = "For which shop?"
MENU = "{shop}: what do you want to do?"
NO_LONGER = (
    "You are no longer a cashier of {shop}. If you should still work there, ask the owner for "
    "a new cashier code."
)
NOT_THAT_SHOP = "From this chat you cannot charge for that shop."


async def test_a_shop_picked_from_a_list_shown_before_a_removal_is_said_no_longer_yours(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    other = await another_shop(core, town, 1)
    await add_member(core, town.shop_id, CASHIER, "cashier")
    await add_member(core, other, CASHIER, "cashier")
    cashier = Chat(core, CASHIER)
    replies = await cashier.expect("MENU", WHICH)
    assert [o.key for reply in replies for o in reply.options][:2] == [
        f"shop:{town.shop_id}",
        f"shop:{other}",
    ]
    async with core.uow() as uow:
        [member] = [x for x in await uow.shops.members_of(town.shop_id) if x.address == CASHIER]
        await shop_members.remove_member(
            uow, town.municipality_id, town.shop_id, member.id, by="office:test", now=core.now()
        )
        await uow.commit()
    # "1" was Alimentari Test on the list: said first, then the menu of the shop it still
    # works for, by its name.
    replies = await cashier.expect("1", NO_LONGER, MENU)
    assert [text.params.get("shop") for reply in replies for text in reply.texts] == [
        "Alimentari Test",
        "Bottega 1",
    ]
    _flow, _step, data = await cashier.state()
    assert data.get("shop_id") != town.shop_id


async def test_a_shop_of_which_the_chat_was_never_a_member_is_refused(core: Core) -> None:
    town = await make_town(core, citizens=1)
    other = await another_shop(core, town, 1)
    await add_member(core, other, CASHIER, "cashier")
    cashier = Chat(core, CASHIER)
    replies = await cashier.send(option=f"shop:{town.shop_id}")
    assert [text.msgid for reply in replies for text in reply.texts] == [NOT_THAT_SHOP, MENU]
    assert param(replies, "shop") == "Bottega 1"
