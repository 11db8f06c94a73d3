"""What a member of a shop may read of its money, the service's rule
(core.services.shop_money): a period's statement is the shop's for the owner and the
cashier's own till only for a cashier (counted in the database, refunds of their payments
included, other tills and other periods not); the shop's reimbursements are the owner's,
a cashier refused with nothing read; the last payment is the shop's for the owner and the
cashier's own till's for a cashier. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.bootstrap import Core
from core.domain.errors import NotAllowed, Refusal
from core.domain.ledger import PostingKind
from core.services import charges, ledger, shop_money
from core.services import shops as shop_service
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import add_member
from tests.factories import make_town, owner_chat
from tests.integration.test_payments import another_shop
from tests.integration.test_takings_by_till import CASHIER, _member, _pay


async def test_a_cashier_reads_their_own_till_and_the_owner_the_shop(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=4)
    cfs, phones = town.citizen_cfs, town.citizen_phones
    await add_member(core, town.shop_id, CASHIER[1], "cashier", channel=CASHIER[0])
    async with core.uow() as uow:
        owner = await owner_chat(uow, town.shop_id)
    # Last month, at the cashier's till: not this month's.
    await _pay(core, town.shop_id, CASHIER, cfs[0], phones[0], 1_00)
    clock.advance(days=30)
    await _pay(core, town.shop_id, owner, cfs[0], phones[0], 30_00)
    refunded = await _pay(core, town.shop_id, CASHIER, cfs[1], phones[1], 7_00)
    await _pay(core, town.shop_id, CASHIER, cfs[2], phones[2], 3_00)
    async with core.uow() as uow:
        await charges.refund_charge(
            uow, charge_id=refunded, shop_id=town.shop_id, by=owner, now=core.now()
        )
        await uow.commit()
    since, until = core.now() - timedelta(days=5), core.now() + timedelta(hours=1)
    owner_member = await _member(core, town.shop_id, owner)
    cashier_member = await _member(core, town.shop_id, CASHIER)
    async with core.uow() as uow:
        shop = await shop_service.shop_by_id(uow, town.shop_id)
        assert shop is not None
        mine = await shop_money.statement_for(uow, cashier_member, shop, since, until)
        shops = await shop_money.statement_for(uow, owner_member, shop, since, until)
        whole = await shop_service.statement(uow, shop, since, until)
    assert mine == shop_service.TillTakings("Telegram ***002", True, 2, 10_00, 1, 7_00)
    # The owner's is the shop's statement as the office reads it (owed: every month).
    assert shops == whole == shop_service.Statement(3, 40_00, 1, 7_00, 34_00)
    # A period with nothing at their till: zeros, not another till's.
    async with core.uow() as uow:
        empty = await shop_money.statement_for(
            uow, cashier_member, shop, until, until + timedelta(days=1)
        )
    assert empty == shop_service.TillTakings("Telegram ***002", True, 0, 0, 0, 0)


async def test_the_reimbursements_are_the_owners(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, CASHIER[1], "cashier", channel=CASHIER[0])
    async with core.uow() as uow:
        owner = await owner_chat(uow, town.shop_id)
    await _pay(core, town.shop_id, CASHIER, town.citizen_cfs[0], town.citizen_phones[0], 8_00)
    async with core.uow() as uow:
        await ledger.post(
            uow,
            municipality_id=town.municipality_id,
            kind=PostingKind.REIMBURSEMENT,
            from_owner=town.shop_id,
            to_owner=0,
            amount_cents=5_00,
            now=core.now(),
        )
        await uow.commit()
    owner_member = await _member(core, town.shop_id, owner)
    cashier_member = await _member(core, town.shop_id, CASHIER)
    other_id = await another_shop(core, town, 1)
    async with core.uow() as uow:
        shop = await shop_service.shop_by_id(uow, town.shop_id)
        other = await shop_service.shop_by_id(uow, other_id)
        assert shop is not None and other is not None
        owed = await shop_money.reimbursements_for(uow, owner_member, shop)
        with pytest.raises(NotAllowed) as refused:
            await shop_money.reimbursements_for(uow, cashier_member, shop)
        assert refused.value.code == Refusal.SHOP_REIMBURSEMENTS_OWNER_ONLY
        # Another shop's, asked with this shop's owner: not hers.
        with pytest.raises(NotAllowed) as elsewhere:
            await shop_money.reimbursements_for(uow, owner_member, other)
        assert elsewhere.value.code == Refusal.SHOP_NOT_MEMBER
    assert owed.owed_cents == 3_00
    assert (owed.transfers.total_cents, owed.transfers.last_cents) == (5_00, 5_00)


async def test_the_last_payment_is_the_shops_for_the_owner_and_a_cashiers_own_till(
    core: Core, clock: FakeClock
) -> None:
    """ "ultimo pagamento": the owner reads the shop's last payment from any till; a cashier
    the last one their own till took (refunded since or not), never another till's, and
    none while their till has taken nothing (however much the shop took)."""
    town = await make_town(core, citizens=4)
    cfs, phones = town.citizen_cfs, town.citizen_phones
    other_till = ("sms", "+393339990051")
    await add_member(core, town.shop_id, CASHIER[1], "cashier", channel=CASHIER[0])
    await add_member(core, town.shop_id, other_till[1], "cashier", channel=other_till[0])
    async with core.uow() as uow:
        owner = await owner_chat(uow, town.shop_id)
    owner_member = await _member(core, town.shop_id, owner)
    cashier_member = await _member(core, town.shop_id, CASHIER)

    async def last(member: m.ShopMember, shop_id: int = town.shop_id) -> shop_money.LastPayment:
        async with core.uow() as uow:
            shop = await shop_service.shop_by_id(uow, shop_id)
            assert shop is not None
            return await shop_money.last_payment_for(uow, member, shop)

    owners = await _pay(core, town.shop_id, owner, cfs[0], phones[0], 30_00)
    assert (await last(cashier_member)) == shop_money.LastPayment(None, own_till=True)
    found = await last(owner_member)
    assert found.charge is not None and found.charge.id == owners and not found.own_till
    clock.advance(minutes=5)
    mine = await _pay(core, town.shop_id, CASHIER, cfs[1], phones[1], 7_00)
    clock.advance(minutes=5)
    latest = await _pay(core, town.shop_id, other_till, cfs[2], phones[2], 2_00)
    clock.advance(minutes=5)
    async with core.uow() as uow:
        # Still waiting for its code at the cashier's till: no payment made.
        await charges.request_charge(
            uow,
            shop_id=town.shop_id,
            citizen_reference=cfs[3],
            amount_cents=4_00,
            requested_by=f"{CASHIER[0]}:{CASHIER[1]}",
            now=core.now(),
        )
        await charges.refund_charge(
            uow, charge_id=mine, shop_id=town.shop_id, by=owner, now=core.now()
        )
        await uow.commit()
    found = await last(owner_member)
    assert found.charge is not None and found.charge.id == latest
    found = await last(cashier_member)
    assert found.own_till and found.charge is not None
    assert (found.charge.id, found.charge.amount_cents, found.charge.status) == (
        mine,
        7_00,
        "refunded",
    )
    # Another shop's, asked with this shop's member: refused, nothing read.
    other_id = await another_shop(core, town, 1)
    with pytest.raises(NotAllowed) as elsewhere:
        await last(cashier_member, other_id)
    assert elsewhere.value.code == Refusal.SHOP_NOT_MEMBER
