"""The database holds a payment to one ledger posting and its refund to one (migration
0048): a second PAYMENT or REFUND posting of the same charge, written past the services'
guards (a script, a service that forgot), is refused, on SQLite and PostgreSQL alike
(trial 11: the dishonest cashier who would charge, or refund, twice)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.domain.ledger import PostingKind
from core.services import charges, ledger
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import assert_ledger_ok, make_town, owner_chat, pay


async def _post_again(core: Core, clock: FakeClock, charge_id: int, kind: PostingKind) -> None:
    async with core.uow() as uow:
        charge = await uow.session.get(m.Charge, charge_id)
        assert charge is not None
        citizen, shop = charge.citizen_id, charge.shop_id
        payer, payee = (citizen, shop) if kind is PostingKind.PAYMENT else (shop, citizen)
        await ledger.post(
            uow,
            municipality_id=charge.municipality_id,
            kind=kind,
            from_owner=payer,
            to_owner=payee,
            amount_cents=charge.amount_cents,
            now=clock(),
            charge_id=charge.id,
        )
        with pytest.raises(IntegrityError):
            await uow.session.flush()


async def test_a_charge_is_paid_once_in_the_ledger(core: Core, clock: FakeClock) -> None:
    town = await make_town(core)
    charge_id = await pay(core, town, 12_50)
    await _post_again(core, clock, charge_id, PostingKind.PAYMENT)
    await assert_ledger_ok(core, town.municipality_id)


async def test_a_charge_is_refunded_once_in_the_ledger(core: Core, clock: FakeClock) -> None:
    town = await make_town(core)
    charge_id = await pay(core, town, 12_50)
    await pay(core, town, 20_00, citizen=1)  # the shop has the money for a second refund
    async with core.uow() as uow:
        await charges.refund_charge(
            uow,
            charge_id=charge_id,
            shop_id=town.shop_id,
            by=await owner_chat(uow, town.shop_id),
            now=core.now(),
        )
        await uow.commit()
    await _post_again(core, clock, charge_id, PostingKind.REFUND)
    await assert_ledger_ok(core, town.municipality_id)


async def test_a_payment_and_its_refund_are_two_postings(core: Core, clock: FakeClock) -> None:
    # The index is per kind: the refund of a payment goes through, and other charges too.
    town = await make_town(core)
    first = await pay(core, town, 12_50)
    await pay(core, town, 7_00)
    async with core.uow() as uow:
        await charges.refund_charge(
            uow,
            charge_id=first,
            shop_id=town.shop_id,
            by=await owner_chat(uow, town.shop_id),
            now=core.now(),
        )
        await uow.commit()
    await assert_ledger_ok(core, town.municipality_id)
