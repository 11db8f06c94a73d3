"""A shop locked by wrong payment codes, as the office sees it and lifts it, on SQLite and
PostgreSQL (docs/payments-and-codes.md)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.bootstrap import Core
from core.services import charges, security
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import Town, codes_other_than, confirm, last_code_for, make_town, request


async def wrong_codes(core: Core, town: Town, count: int) -> None:
    """Wrong codes typed at the shop's till, two per charge (the third would cancel it)."""
    typed = 0
    while typed < count:
        requested = await request(core, town.shop_id, town.citizen_cfs[0], 1_00)
        code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
        for wrong in codes_other_than(code, count=min(2, count - typed)):
            await confirm(core, town.shop_id, requested.charge_id, wrong)
            typed += 1


async def locks(core: Core, town: Town) -> dict[int, security.ShopLockState]:
    async with core.uow() as uow:
        shops = await uow.shops.search(town.municipality_id, approved_only=False)
        return await security.shop_locks(uow, shops, core.now())


async def test_the_office_sees_until_when_and_why_and_lifts_the_lock(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    assert await locks(core, town) == {}
    await wrong_codes(core, town, 5)
    [(shop_id, lock)] = (await locks(core, town)).items()
    assert shop_id == town.shop_id
    assert lock.until == core.now() + timedelta(minutes=30)
    assert lock.wrong_codes == 5
    # After the timed lock, 5 more make 10 (each one locks it again for 30 minutes): locked
    # until the office lifts it.
    for _ in range(5):
        clock.advance(minutes=31)
        assert await locks(core, town) == {}
        await wrong_codes(core, town, 1)
    [lock] = (await locks(core, town)).values()
    assert (lock.until, lock.wrong_codes) == (None, 10)

    async with core.uow() as uow:
        await charges.unlock_shop(
            uow, town.municipality_id, town.shop_id, by="cli:anna", now=core.now()
        )
        await uow.commit()
    assert await locks(core, town) == {}
    async with core.uow() as uow:
        [entry] = (
            await uow.session.scalars(
                select(m.ActivityEntry).where(m.ActivityEntry.action == "shop.unlock")
            )
        ).all()
    assert entry.actor == "cli:anna"
    assert entry.subject.startswith(f"{town.shop_id} ")
    assert entry.before == {"blocked_at": core.now().isoformat(), "wrong_codes": 10}
    # The count starts again from the unlock: one wrong code is one, not eleven.
    await wrong_codes(core, town, 1)
    assert await locks(core, town) == {}
