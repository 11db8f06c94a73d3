"""Two shops of a town never share a name (core/services/shops.refuse_taken_name), also when
two transactions name them at the same instant: two registrations of one name, or the
office renaming a shop to the name a registration is taking. There is no unique index
behind the rule (it depends on a shop's status, docs/office.md), so the service holds the
town's shop names (MunicipalityRepository.hold_shop_names) before it looks: the second
waits for the first and is refused as a registration a moment later is.

On PostgreSQL the first transaction is left open (written, not committed) and the second
is started beside it: it must wait for the first (blocked on its backend), then decide on
what the first committed. SQLite has one writer at a time (BEGIN IMMEDIATE): there the
second runs after the first, the only order its writer lock allows, and the same outcome
is checked."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.errors import Conflict, Refusal
from core.domain.shops import ShopCategory
from core.services import shops
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from tests.factories import make_partita_iva, make_town
from tests.integration.test_identity_races import first_then_second

NAME = "Forno del Corso"


def _input(name: str, index: int) -> shops.ShopInput:
    return shops.ShopInput(
        name,
        make_partita_iva(index),
        ShopCategory.BAKERY,
        f"Via Roma {index}",
        "Testville",
        "62020",
        None,
        None,
        "IT40S0542811101000000123456",
    )


async def _register(
    uow: UnitOfWork, municipality_id: int, name: str, index: int, now: datetime
) -> m.Shop:
    return await shops.register_shop(
        uow,
        municipality_id,
        _input(name, index),
        owner_channel="sms",
        owner_address=f"+39334000{index:04d}",
        now=now,
    )


async def _named(core: Core, municipality_id: int, name: str) -> int:
    async with core.uow() as uow:
        return int(
            await uow.session.scalar(
                select(func.count())
                .select_from(m.Shop)
                .where(
                    m.Shop.municipality_id == municipality_id,
                    func.lower(m.Shop.name) == name.lower(),
                )
            )
            or 0
        )


async def _register_alone(core: Core, municipality_id: int, name: str, index: int) -> m.Shop:
    async with core.uow() as uow:
        shop = await _register(uow, municipality_id, name, index, core.now())
        await uow.commit()
        return shop


async def test_two_registrations_of_one_name_at_once_one_is_refused(
    core: Core, database_url: str
) -> None:
    town = await make_town(core, citizens=0)

    async def first(uow: UnitOfWork) -> m.Shop:
        return await _register(uow, town.municipality_id, NAME, 11, core.now())

    _, late = await first_then_second(
        core,
        database_url,
        first,
        lambda: _register_alone(core, town.municipality_id, NAME.upper(), 12),
    )
    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(late, timeout=10)
    assert refused.value.code == Refusal.SHOP_NAME_TAKEN
    assert await _named(core, town.municipality_id, NAME) == 1


async def test_a_rename_to_the_name_a_registration_is_taking_is_refused(
    core: Core, database_url: str
) -> None:
    town = await make_town(core, citizens=0)

    async def first(uow: UnitOfWork) -> m.Shop:
        return await _register(uow, town.municipality_id, NAME, 11, core.now())

    async def rename() -> None:
        async with core.uow() as uow:
            await shops.rename_shop(
                uow, town.municipality_id, town.shop_id, NAME, core.now(), actor="cli:rossi"
            )
            await uow.commit()

    _, late = await first_then_second(core, database_url, first, rename)
    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(late, timeout=10)
    assert refused.value.code == Refusal.SHOP_NAME_TAKEN
    assert await _named(core, town.municipality_id, NAME) == 1


async def test_two_approvals_of_shops_sharing_a_name_at_once_one_is_refused(
    core: Core, database_url: str
) -> None:
    # Two shops waiting under one name, as registered before names were checked.
    town = await make_town(core, citizens=0)
    async with core.uow() as uow:
        waiting = []
        for index in (21, 22):
            shop = await _register(uow, town.municipality_id, f"{NAME} {index}", index, core.now())
            shop.name = NAME
            waiting.append(shop.id)
        await uow.commit()

    async def first(uow: UnitOfWork) -> m.Shop:
        return await shops.approve_shop(uow, town.municipality_id, waiting[0], core.now())

    async def second() -> None:
        async with core.uow() as uow:
            await shops.approve_shop(uow, town.municipality_id, waiting[1], core.now())
            await uow.commit()

    _, late = await first_then_second(core, database_url, first, second)
    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(late, timeout=10)
    assert refused.value.code == Refusal.SHOP_NAME_TAKEN
    async with core.uow() as uow:
        statuses = [(await uow.shops.current(x)) for x in waiting]
    assert [x.status if x else None for x in statuses] == ["approved", "pending"]
