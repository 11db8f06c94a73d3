"""What a STORNO lists, the refund service's rule (charges.refundable_charges, given the
member asking): the owner every till's payments of the period, unchanged; a cashier only
those their own till took (ChargeRepository.of_shop by till, in the database), and of the
payments the town already reimbursed only their own till's are counted. On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from core.bootstrap import Core
from core.domain.ledger import PostingKind
from core.services import charges, ledger
from core.storage import models as m
from tests.dialogue.harness import add_member
from tests.factories import make_town, owner_chat
from tests.integration.test_takings_by_till import CASHIER, _member, _pay

OTHER = ("sms", "+393339990051")  # another cashier's till


async def test_a_cashier_lists_their_own_tills_payments_and_the_owner_every_tills(
    core: Core,
) -> None:
    town = await make_town(core, citizens=4)
    cfs, phones = town.citizen_cfs, town.citizen_phones
    await add_member(core, town.shop_id, CASHIER[1], "cashier", channel=CASHIER[0])
    await add_member(core, town.shop_id, OTHER[1], "cashier", channel=OTHER[0])
    async with core.uow() as uow:
        owner = await owner_chat(uow, town.shop_id)
    owners = await _pay(core, town.shop_id, owner, cfs[0], phones[0], 30_00)
    mine = await _pay(core, town.shop_id, CASHIER, cfs[1], phones[1], 7_00)
    others = await _pay(core, town.shop_id, OTHER, cfs[2], phones[2], 2_00)
    mine_later = await _pay(core, town.shop_id, CASHIER, cfs[3], phones[3], 3_00)
    since, until = core.now() - timedelta(hours=1), core.now() + timedelta(hours=1)
    owner_member = await _member(core, town.shop_id, owner)
    cashier_member = await _member(core, town.shop_id, CASHIER)
    other_member = await _member(core, town.shop_id, OTHER)

    async def listed(member: m.ShopMember) -> tuple[list[int], int]:
        async with core.uow() as uow:
            found = await charges.refundable_charges(uow, member, since, until)
        return [c.id for c in found.charges], found.settled

    assert await listed(owner_member) == ([mine_later, others, mine, owners], 0)
    assert await listed(cashier_member) == ([mine_later, mine], 0)
    assert await listed(other_member) == ([others], 0)
    # The town reimburses the shop: every payment before the run is settled; the cashier's
    # count of those left out is their own till's.
    async with core.uow() as uow:
        await ledger.post(
            uow,
            municipality_id=town.municipality_id,
            kind=PostingKind.REIMBURSEMENT,
            from_owner=town.shop_id,
            to_owner=0,
            amount_cents=42_00,
            now=core.now(),
        )
        await uow.commit()
    assert await listed(owner_member) == ([], 4)
    assert await listed(cashier_member) == ([], 2)
    assert await listed(other_member) == ([], 1)
