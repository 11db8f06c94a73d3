"""A shop's request acts with the rights its chat has when the code comes back, and a
cashier cannot flood a customer with refund codes.

1. A cashier's refund (STORNO) sends the customer a code. Those codes are counted as a
   number's confirmation codes are (core.services.security: 5 an hour, 10 a day that never
   came back, on their own count), and per shop (REFUND_CODES_PER_SHOP_PER_HOUR). At the
   limit no SMS leaves, the cashier is told when to try again, and the code the customer
   already holds for that very refund still refunds it.
2. Between the start of a shop's request and its code, the chat may be removed from the
   shop, or the shop blocked or locked. The service reads the chat's place in the shop and
   the shop's state in the transaction of the change, and refuses: nothing changes.

On SQLite and PostgreSQL (the `core` fixture).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.errors import NotAllowed
from core.services import charges, security, shop_members
from core.services import refund_codes as refund_code_service
from core.services import shops as shop_service
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import (
    CASHIER_CODE,
    LEAVE_CODE,
    REFUND_CODE,
    REMOVE_CODE,
    TILL_CODE,
    Chat,
    add_member,
    confirmation_code,
    outbox_of,
)
from tests.dialogue.test_shop_codes import (
    CUSTOMER_ASKED,
    REFUNDED,
    SURE_LEAVE,
    SURE_REFUND,
    SURE_REMOVE,
    citizen_balance,
    count,
    members_of,
    receipt,
    refunded,
)
from tests.factories import Town, make_town, pay

HELD = (
    "No new code can be sent now: the customer's code of {when} ({where}) still works for "
    "this refund. Write it here, or ANNULLA."
)
CUSTOMER_LIMIT = (
    "Too many refund codes were sent to this customer: none was sent now. Try again later, "
    "or ask the owner to refund."
)
SHOP_LIMIT = (
    "Too many refund codes were sent from this shop in the last hour: none was sent now. "
    "Try again from {when}, or ask the owner to refund."
)
NOT_MEMBER = "You no longer work for this shop: nothing was changed."
NOT_OWNER = (
    "Only the owner of the shop can do this, and this chat no longer is: nothing was changed."
)
BLOCKED = (
    "Too many wrong codes: your shop cannot charge until the municipality's office unlocks it."
)
LOCKED = "Too many wrong codes: your shop can charge again from {until}."
STOPPED = "You no longer work for this shop: the request was stopped."
REFUND_ASKED = (
    "{shop} wants to refund you {amount}. Code: {code}. Tell it to the cashier only if you agree."
)


async def refund_codes(core: Core, phone: str) -> list[str]:
    """The refund codes queued for the customer's phone, the oldest first."""
    return [
        str(reply.texts[0].params["code"])
        for _row, reply in await outbox_of(core, "sms", phone)
        if reply.texts and reply.texts[0].msgid == REFUND_ASKED
    ]


async def cashier_of(core: Core, town: Town, address: str = "7002") -> Chat:
    await add_member(core, town.shop_id, address, "cashier", channel="telegram")
    return Chat(core, address, channel=Channel.TELEGRAM)


async def ask_refund(cashier: Chat, number: int, *expected: str) -> None:
    await cashier.expect(f"STORNO {number}", SURE_REFUND)
    await cashier.expect("yes", *expected)


# 1. Refund codes to a customer are limited ----------------------------------------------


async def test_at_the_customers_limit_no_code_leaves_and_the_held_code_still_refunds(
    core: Core,
) -> None:
    """At the customer's limit a refund of the very payment whose code they hold, still
    waiting at another till, goes on with that code: nothing new is sent."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    charge = await pay(core, town, 5_00)
    number = await receipt(core, charge)
    cashier = await cashier_of(core, town)
    # Under the limit every refund asked sends the customer a new code.
    for sent in range(1, security.CODES_PER_HOUR + 1):
        await ask_refund(cashier, number, CUSTOMER_ASKED)
        assert len(await refund_codes(core, phone)) == sent
        if sent < security.CODES_PER_HOUR:
            await cashier.send("ANNULLA")
    held = (await refund_codes(core, phone))[-1]  # its request still waits at the till
    # At the limit: nothing is queued; the code the customer holds is still this refund's.
    other = await cashier_of(core, town, "7003")
    await ask_refund(other, number, HELD)
    assert len(await refund_codes(core, phone)) == security.CODES_PER_HOUR
    assert await refunded(core) == []
    await other.expect(held, REFUNDED)
    assert await refunded(core) == [charge]


async def test_a_code_whose_request_was_cancelled_is_not_offered_again_at_the_limit(
    core: Core,
) -> None:
    """The customer was told that the code of a cancelled refund no longer works: at the
    limit it is not brought back for the same refund asked again."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    charge = await pay(core, town, 5_00)
    number = await receipt(core, charge)
    cashier = await cashier_of(core, town)
    for _ in range(security.CODES_PER_HOUR):
        await ask_refund(cashier, number, CUSTOMER_ASKED)
        await cashier.send("ANNULLA")
    await ask_refund(cashier, number, CUSTOMER_LIMIT)
    assert len(await refund_codes(core, phone)) == security.CODES_PER_HOUR
    assert await refunded(core) == []


async def test_at_the_customers_limit_another_refund_sends_nothing_and_says_no_time(
    core: Core, clock: FakeClock
) -> None:
    """Trial 10: the refusal said "try again from" the minute the customer's oldest refund
    code of the hour (or of the day, or their other codes' ceiling) left its window: codes
    of any shop, so a shop refused learned when another shop had asked this customer for a
    refund, or when the customer received their own codes. It says to try again later."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    first, second = await pay(core, town, 5_00), await pay(core, town, 7_00)
    before = await citizen_balance(core, town)
    cashier = await cashier_of(core, town)
    for _ in range(security.CODES_PER_HOUR):
        await ask_refund(cashier, await receipt(core, first), CUSTOMER_ASKED)
        await cashier.send("ANNULLA")
    # The customer holds a code for the 5 € refund only: the 7 € one gets none.
    await ask_refund(cashier, await receipt(core, second), CUSTOMER_LIMIT)
    assert (await cashier.state())[:2] == (None, None)
    assert len(await refund_codes(core, phone)) == security.CODES_PER_HOUR
    assert [t.params for r in cashier.last for t in r.texts if "when" in t.params] == []
    # Once the held code expired, even the same refund gets nothing new until the hour.
    clock.advance(minutes=security.CODE_VALID.total_seconds() // 60 + 1)
    await ask_refund(cashier, await receipt(core, first), CUSTOMER_LIMIT)
    assert len(await refund_codes(core, phone)) == security.CODES_PER_HOUR
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == before
    # An hour later codes go again.
    clock.advance(hours=1)
    await ask_refund(cashier, await receipt(core, second), CUSTOMER_ASKED)
    assert len(await refund_codes(core, phone)) == security.CODES_PER_HOUR + 1


async def test_refund_codes_given_back_do_not_count(core: Core) -> None:
    """An honest cashier whose customers give their codes back is never stopped."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    paid = [await pay(core, town, 1_00 + x) for x in range(security.CODES_PER_HOUR + 1)]
    cashier = await cashier_of(core, town)
    for charge in paid:
        await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
        await cashier.expect((await refund_codes(core, phone))[-1], REFUNDED)
    assert await refunded(core) == paid


async def test_the_customers_own_codes_are_not_used_up_by_refund_codes(core: Core) -> None:
    """Refund codes have their own count: a cashier cannot use up the codes the customer
    needs for their own requests, nor the other way round."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    charge = await pay(core, town, 5_00)
    async with core.uow() as uow:
        for index in range(security.CODES_PER_HOUR):
            await security.code_sent(
                uow, "sms", phone, "appeal", core.now(), salt=f"{index:032d}",
                code_hash=f"{index:064d}", municipality_id=town.municipality_id,
            )  # fmt: skip
        await uow.commit()
    cashier = await cashier_of(core, town)
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    assert len(await refund_codes(core, phone)) == 1


async def test_refund_codes_do_not_use_up_the_customers_own_codes(core: Core) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    charge = await pay(core, town, 5_00)
    cashier = await cashier_of(core, town)
    for _ in range(security.CODES_PER_HOUR):
        await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
        await cashier.send("ANNULLA")
    async with core.uow() as uow:
        # The customer's own appeal may still be sent its code; another refund may not.
        assert await security.codes_used_up(uow, "sms", phone, "appeal", core.now()) is None
        assert await security.codes_used_up(
            uow, "sms", phone, refund_code_service.REFUND_CODE, core.now()
        )


async def test_at_the_shops_limit_no_code_leaves(core: Core) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    charge = await pay(core, town, 5_00)
    async with core.uow() as uow:
        # Codes this shop sent other customers in the last hour that never came back.
        for index in range(refund_code_service.REFUND_CODES_PER_SHOP_PER_HOUR):
            await security.code_sent(
                uow, "sms", f"+39333000{index:04d}", refund_code_service.REFUND_CODE, core.now(),
                salt=f"{index:032d}", code_hash=f"{index:064d}",
                municipality_id=town.municipality_id, shop_id=town.shop_id,
            )  # fmt: skip
        await uow.commit()
    cashier = await cashier_of(core, town)
    await ask_refund(cashier, await receipt(core, charge), SHOP_LIMIT)
    assert await refund_codes(core, phone) == []
    assert await refunded(core) == []
    # Another shop's cashier is not stopped by this shop's codes.
    async with core.uow() as uow:
        other = await security.shop_codes_used_up(
            uow, town.shop_id + 1000, refund_code_service.REFUND_CODE, 10, core.now()
        )
    assert other is None


# 2. The rights are read again when the code comes back -----------------------------------


async def block(core: Core, shop_id: int) -> None:
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, shop_id)
        assert shop is not None
        shop.blocked_at = core.now()
        await uow.commit()


async def lock(core: Core, shop_id: int) -> None:
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, shop_id)
        assert shop is not None
        shop.locked_until = core.now() + timedelta(minutes=30)
        await uow.commit()


async def remove(core: Core, town: Town, address: str) -> None:
    """The office removes the member reached at `address`."""
    async with core.uow() as uow:
        [member] = [x for x in await uow.shops.members_of(town.shop_id) if x.address == address]
        await shop_members.remove_member(
            uow, town.municipality_id, town.shop_id, member.id, by="office", now=core.now()
        )
        await uow.commit()


async def _refund_waiting_for_its_code(core: Core) -> tuple[Town, int, Chat, str]:
    """A payment of 5 €, the citizen's balance after it, a cashier who asked its refund,
    and the code the customer received for it."""
    town = await make_town(core, citizens=1)
    charge = await pay(core, town, 5_00)
    before = await citizen_balance(core, town)
    cashier = await cashier_of(core, town)
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    [code] = await refund_codes(core, town.citizen_phones[0])
    return town, before, cashier, code


async def test_a_cashiers_refund_blocked_meanwhile_refunds_nothing(core: Core) -> None:
    town, before, cashier, code = await _refund_waiting_for_its_code(core)
    await block(core, town.shop_id)
    await cashier.expect(code, BLOCKED)
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == before


async def test_a_cashier_removed_meanwhile_refunds_nothing(core: Core) -> None:
    town, before, cashier, code = await _refund_waiting_for_its_code(core)
    await remove(core, town, "7002")
    await cashier.send(code)
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == before


async def test_an_owners_refund_by_sms_locked_meanwhile_refunds_nothing(core: Core) -> None:
    town = await make_town(core, citizens=1)
    charge = await pay(core, town, 5_00)
    before = await citizen_balance(core, town)
    owner = Chat(core, town.shop_phone)
    await owner.expect(f"STORNO {await receipt(core, charge)}", SURE_REFUND)
    await owner.expect("1", REFUND_CODE)
    await lock(core, town.shop_id)
    await owner.expect(await confirmation_code(owner), LOCKED)
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == before


async def test_a_cashier_code_asked_before_the_shop_was_blocked_is_not_made(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    owner = Chat(core, town.shop_phone)
    await owner.expect("CASSIERE", CASHIER_CODE)
    await block(core, town.shop_id)
    await owner.expect(await confirmation_code(owner), BLOCKED)
    assert await count(core, m.ShopInvite) == 0


async def test_a_till_confirmed_after_the_shop_was_blocked_does_not_open(core: Core) -> None:
    town = await make_town(core, citizens=1)
    cashier_phone = "+393339990061"
    await add_member(core, town.shop_id, cashier_phone, "cashier")
    till = Chat(core, cashier_phone)
    await till.expect("PAGA", TILL_CODE)
    await block(core, town.shop_id)
    await till.expect(await confirmation_code(till), BLOCKED)
    _flow, _step, data = await till.state()
    assert not data.get("till")


async def test_a_till_confirmed_after_its_cashier_was_removed_does_not_open(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    cashier_phone = "+393339990061"
    await add_member(core, town.shop_id, cashier_phone, "cashier")
    till = Chat(core, cashier_phone)
    await till.expect("PAGA", TILL_CODE)
    await remove(core, town, cashier_phone)
    await till.send(await confirmation_code(till))
    _flow, _step, data = await till.state()
    assert not data.get("till")


async def test_a_cashier_removed_while_leaving_changes_nothing_more(core: Core) -> None:
    town = await make_town(core, citizens=1)
    cashier_phone = "+393339990061"
    await add_member(core, town.shop_id, cashier_phone, "cashier")
    cashier = Chat(core, cashier_phone)
    await cashier.expect("ESCI", SURE_LEAVE)
    await cashier.expect("1", LEAVE_CODE)
    await remove(core, town, cashier_phone)
    members = await members_of(core, town.shop_id)
    await cashier.send(await confirmation_code(cashier))
    assert await members_of(core, town.shop_id) == members


async def test_an_owner_removing_a_cashier_after_losing_the_shop_removes_nobody(
    core: Core,
) -> None:
    """The owner's chat is no longer the owner when the code comes back (the office gave
    the shop to another number): the cashier stays."""
    town = await make_town(core, citizens=1)
    cashier = await add_member(core, town.shop_id, "+393339990062", "cashier")
    owner = Chat(core, town.shop_phone)
    await owner.send("CASSIERI")
    await owner.expect(None, SURE_REMOVE, option=f"m{cashier}")
    await owner.expect("1", REMOVE_CODE)
    async with core.uow() as uow:
        for member in await uow.shops.members_of(town.shop_id):
            if member.address == town.shop_phone:
                member.role = "cashier"
        await uow.commit()
    members = await members_of(core, town.shop_id)
    await owner.send(await confirmation_code(owner))
    assert await members_of(core, town.shop_id) == members


# The services refuse on their own, whatever the dialogue asked before ---------------------


async def test_the_services_read_the_actors_role_now(core: Core) -> None:
    town = await make_town(core, citizens=1)
    charge = await pay(core, town, 5_00)
    await add_member(core, town.shop_id, "+393339990063", "cashier")
    await add_member(core, town.shop_id, "+393339990064", "cashier")
    stranger = ("sms", "+393339990099")
    cashier = ("sms", "+393339990063")
    async with core.uow() as uow:
        with pytest.raises(NotAllowed) as refused:
            await charges.refund_charge(
                uow, charge_id=charge, shop_id=town.shop_id, now=core.now(), by=stranger
            )
        assert refused.value.code == "shop.not_member"
        with pytest.raises(NotAllowed) as refused:
            # A cashier refunds only with the customer's code, whatever the caller says.
            await charges.refund_charge(
                uow, charge_id=charge, shop_id=town.shop_id, now=core.now(), by=cashier
            )
        assert refused.value.code == "refund.needs_citizen_code"
        with pytest.raises(NotAllowed) as refused:
            await refund_code_service.send_refund_code(
                uow, charge_id=charge, shop_id=town.shop_id, now=core.now(), by=stranger,
                content="x",
            )  # fmt: skip
        assert refused.value.code == "shop.not_member"
        with pytest.raises(NotAllowed) as refused:
            await shop_service.create_invite(uow, town.shop_id, core.now(), by=cashier)
        assert refused.value.code == "shop.not_owner"
        other = next(
            x for x in await uow.shops.members_of(town.shop_id) if x.address.endswith("064")
        )
        with pytest.raises(NotAllowed) as refused:
            await shop_members.remove_member(
                uow, town.municipality_id, town.shop_id, other.id, by="x", now=core.now(),
                by_chat=cashier,
            )  # fmt: skip
        assert refused.value.code == "shop.not_owner"
        with pytest.raises(NotAllowed) as refused:
            await shop_members.remove_member(
                uow, town.municipality_id, town.shop_id, other.id, by="x", now=core.now(),
                by_chat=stranger,
            )  # fmt: skip
        assert refused.value.code == "shop.not_member"
        with pytest.raises(NotAllowed) as refused:
            await shop_members.open_till(uow, town.shop_id, stranger, core.now())
        assert refused.value.code == "shop.not_member"
        await uow.commit()
    assert await refunded(core) == []
    assert await count(core, m.ShopInvite) == 0
    assert len(await members_of(core, town.shop_id)) == 3
    assert await refund_codes(core, town.citizen_phones[0]) == []
    async with core.uow() as uow:
        sent = await uow.session.scalar(
            select(func.count())
            .select_from(m.SecurityEvent)
            .where(m.SecurityEvent.detail == refund_code_service.REFUND_CODE)
        )
    assert sent == 0


async def test_the_office_does_not_count_a_number_at_its_limit_for_refund_codes(
    core: Core,
) -> None:
    """Refund codes do not stop the number's own requests, so the office's count of numbers
    at their code limit (admin shops lookups) leaves them out."""
    town = await make_town(core, citizens=1)
    charge = await pay(core, town, 5_00)
    cashier = await cashier_of(core, town)
    for _ in range(security.CODES_PER_HOUR):
        await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
        await cashier.send("ANNULLA")
    async with core.uow() as uow:
        at_limit = await security.numbers_at_code_limit(uow, town.municipality_id, core.now())
    assert at_limit == 0


# The two overlap for real on PostgreSQL ---------------------------------------------------


CASHIER = ("sms", "+393339990063")


async def _paid_with_a_cashier(core: Core, database_url: str) -> tuple[Town, int, int, int]:
    """A town, a payment of 5 € at its shop, the citizen's balance after it, and the id of
    the shop's cashier CASHIER."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: the two cannot overlap")
    town = await make_town(core, citizens=1)
    charge = await pay(core, town, 5_00)
    member_id = await add_member(core, town.shop_id, CASHIER[1], "cashier")
    return town, charge, await citizen_balance(core, town), member_id


async def _cashier_refund(uow: UnitOfWork, town: Town, charge: int, now: datetime) -> int:
    """CASHIER refunds the charge with the customer's consent (their code typed)."""
    return await charges.refund_charge(
        uow, charge_id=charge, shop_id=town.shop_id, by=CASHIER, now=now, citizen_confirmed=True
    )


async def _removal_begun(core: Core, town: Town, member_id: int) -> UnitOfWork:
    """The office's removal of a member, sent to the database but not committed."""
    removal = core.uow()
    await removal.__aenter__()
    await shop_members.remove_member(
        removal, town.municipality_id, town.shop_id, member_id, by="office", now=core.now()
    )
    await removal.flush()
    return removal


async def test_a_removal_committed_while_a_refund_waits_refunds_nothing(
    core: Core, database_url: str
) -> None:
    """The removal holds the member's row until its commit; the cashier's refund, its
    customer's code typed meanwhile, waits on that row, then finds the chat gone."""
    town, charge, before, member_id = await _paid_with_a_cashier(core, database_url)
    removal = await _removal_begun(core, town, member_id)

    async def refund() -> int:
        async with core.uow() as uow:
            left = await _cashier_refund(uow, town, charge, core.now())
            await uow.commit()
        return left

    waiting = asyncio.create_task(refund())
    try:
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the refund did not wait for the removal"
        await removal.commit()
    finally:
        await removal.__aexit__(None, None, None)
    with pytest.raises(NotAllowed) as refused:
        await waiting
    assert refused.value.code == "shop.not_member"
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == before
    assert CASHIER[1] not in await members_of(core, town.shop_id)


async def test_a_refund_begun_before_a_removal_stands_and_the_removal_follows(
    core: Core, database_url: str
) -> None:
    """The other order: the refund holds the member's row first; the removal waits for its
    commit, then removes the cashier. The refund, made while the cashier still worked for
    the shop, stands."""
    town, charge, before, member_id = await _paid_with_a_cashier(core, database_url)
    refund = core.uow()
    await refund.__aenter__()
    try:
        left = await _cashier_refund(refund, town, charge, core.now())

        async def remove_it() -> None:
            async with core.uow() as uow:
                await shop_members.remove_member(
                    uow, town.municipality_id, town.shop_id, member_id, by="office",
                    now=core.now(),
                )  # fmt: skip
                await uow.commit()

        waiting = asyncio.create_task(remove_it())
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the removal did not wait for the refund"
        await refund.commit()
    finally:
        await refund.__aexit__(None, None, None)
    await waiting
    assert left == before + 5_00
    assert await refunded(core) == [charge]
    assert await citizen_balance(core, town) == before + 5_00
    assert CASHIER[1] not in await members_of(core, town.shop_id)
