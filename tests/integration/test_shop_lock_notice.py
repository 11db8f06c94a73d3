"""A shop locked by wrong payment codes: its owner is told at once, with the till that
typed the last one (user trial, 4 Dec 2026: the owner learnt of it only at his next
payment, and not who had been guessing)."""

from __future__ import annotations

from core.bootstrap import Core
from core.domain.charges import ShopLock
from core.domain.messages import Param
from core.services.charges import count_wrong_code
from core.services.municipalities import policy_of
from tests.dialogue.harness import outbox_of
from tests.factories import make_town

LOCKED = "{shop}: too many wrong codes (the last from {where}). It cannot charge until {until}."
BLOCKED = (
    "{shop}: too many wrong codes (the last from {where}). It cannot charge until the office "
    "unlocks it."
)


async def wrong_codes(core: Core, shop_id: int, typed_by: str, count: int) -> list[ShopLock]:
    locks = []
    async with core.uow() as uow:
        shop = await uow.shops.by_id(shop_id)
        assert shop is not None
        municipality = await uow.municipalities.by_id(shop.municipality_id)
        assert municipality is not None
        policy = policy_of(municipality)
        for _ in range(count):
            locks.append(await count_wrong_code(uow, shop, policy, core.now(), typed_by))
        await uow.commit()
    return locks


async def told(core: Core, phone: str) -> list[tuple[str, dict[str, Param]]]:
    return [
        (reply.texts[0].msgid, reply.texts[0].params)
        for _row, reply in await outbox_of(core, "sms", phone)
    ]


async def test_the_owner_hears_of_the_lock_and_of_the_block_with_the_till(core: Core) -> None:
    town = await make_town(core, citizens=0)
    locks = await wrong_codes(core, town.shop_id, "sms:+393339990055", 5)
    assert locks[-1] is ShopLock.TIMED and ShopLock.TIMED not in locks[:-1]
    [(_, params)] = [x for x in await told(core, town.shop_phone) if x[0] == LOCKED]
    assert params["where"] == "SMS ***055" and params["shop"] == "Alimentari Test"
    await wrong_codes(core, town.shop_id, "sms:+393339990055", 5)
    assert BLOCKED in [msgid for msgid, _ in await told(core, town.shop_phone)]


async def test_the_owner_who_typed_them_is_not_told_twice(core: Core) -> None:
    town = await make_town(core, citizens=0)
    await wrong_codes(core, town.shop_id, f"sms:{town.shop_phone}", 5)
    assert LOCKED not in [msgid for msgid, _ in await told(core, town.shop_phone)]
