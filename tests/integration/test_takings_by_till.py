"""What each till of a shop took today (services.shops.takings_by_till, the charges
repository's takings_by_till): counted per chat that asked the payments, confirmed and
refunded ones, never one still waiting for its code nor another shop's; the owner sees
every till, a cashier only their own. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from core.bootstrap import Core
from core.services import charges
from core.services import shops as shop_service
from core.storage import models as m
from tests.dialogue.harness import add_member
from tests.factories import last_code_for, make_town, owner_chat
from tests.integration.test_payments import another_shop

CASHIER = ("telegram", "7002")
GONE = ("sms", "+393339990050")  # a cashier removed after taking a payment


async def _pay(
    core: Core, shop_id: int, till: tuple[str, str], cf: str, phone: str, cents: int
) -> int:
    async with core.uow() as uow:
        requested = await charges.request_charge(
            uow,
            shop_id=shop_id,
            citizen_reference=cf,
            amount_cents=cents,
            requested_by=f"{till[0]}:{till[1]}",
            now=core.now(),
        )
        await uow.commit()
    code = await last_code_for(core, phone, requested.charge_id)
    async with core.uow() as uow:
        await charges.confirm_charge(
            uow,
            charge_id=requested.charge_id,
            shop_id=shop_id,
            typed_code=code,
            now=core.now(),
            typed_by=f"{till[0]}:{till[1]}",
        )
        await uow.commit()
    return requested.charge_id


async def _member(core: Core, shop_id: int, chat: tuple[str, str]) -> m.ShopMember:
    async with core.uow() as uow:
        members = await uow.shops.members_of(shop_id)
    return next(x for x in members if (x.channel, x.address) == chat)


async def test_the_owner_sees_every_till_and_a_cashier_their_own(core: Core) -> None:
    town = await make_town(core, citizens=4)
    cfs, phones = town.citizen_cfs, town.citizen_phones
    await add_member(core, town.shop_id, CASHIER[1], "cashier", channel=CASHIER[0])
    await add_member(core, town.shop_id, GONE[1], "cashier", channel=GONE[0])
    async with core.uow() as uow:
        owner = await owner_chat(uow, town.shop_id)
    refunded = await _pay(core, town.shop_id, owner, cfs[0], phones[0], 30_00)
    await _pay(core, town.shop_id, owner, cfs[1], phones[1], 12_50)
    await _pay(core, town.shop_id, CASHIER, cfs[2], phones[2], 7_00)
    await _pay(core, town.shop_id, CASHIER, cfs[3], phones[3], 3_00)
    await _pay(core, town.shop_id, GONE, cfs[1], phones[1], 2_00)
    async with core.uow() as uow:
        await charges.refund_charge(
            uow, charge_id=refunded, shop_id=town.shop_id, by=owner, now=core.now()
        )
        members = await uow.shops.members_of(town.shop_id)
        await uow.delete(next(x for x in members if (x.channel, x.address) == GONE))
        await uow.commit()
    # Not counted: a payment still waiting for its code, and another shop's payment.
    async with core.uow() as uow:
        await charges.request_charge(
            uow,
            shop_id=town.shop_id,
            citizen_reference=cfs[2],
            amount_cents=4_00,
            requested_by=f"{CASHIER[0]}:{CASHIER[1]}",
            now=core.now(),
        )
        await uow.commit()
    other = await another_shop(core, town, 1)
    await _pay(core, other, ("sms", f"+39334{5000001:07d}"), cfs[3], phones[3], 9_00)

    since = core.now() - timedelta(hours=1)
    until = core.now() + timedelta(hours=1)
    owner_member = await _member(core, town.shop_id, owner)
    cashier_member = await _member(core, town.shop_id, CASHIER)
    async with core.uow() as uow:
        seen = await shop_service.takings_by_till(uow, owner_member, since, until)
        own = await shop_service.takings_by_till(uow, cashier_member, since, until)
    label = shop_service.TillTakings
    assert seen == [
        label("SMS ***" + owner[1][-3:], True, 2, 42_50, 1, 30_00),
        label("SMS ***050", False, 1, 2_00, 0, 0),
        label("Telegram ***002", False, 2, 10_00, 0, 0),
    ]
    assert own == [label("Telegram ***002", True, 2, 10_00, 0, 0)]
    # Yesterday's window holds nothing.
    async with core.uow() as uow:
        assert (
            await shop_service.takings_by_till(uow, owner_member, since - timedelta(days=1), since)
            == []
        )
