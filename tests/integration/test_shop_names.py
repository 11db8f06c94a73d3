"""Two shops of a town never share a name (user trial, 7 Dec 2026: a shop renamed to
another approved shop's exact name, and a citizen searching shops by chat saw two identical
names). The shops service refuses a name another shop of the municipality, approved or
waiting, already has, case and spaces aside, whoever asks: a registration by chat, the
office's correction, an approval. Refused shops and other towns do not count."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buonispesa.demo import shop_iban
from core.bootstrap import Core
from core.domain.errors import Conflict, Refusal
from core.domain.shops import MAX_SHOP_NAME, ShopCategory, ShopStatus
from core.services import shops
from core.services.shops import ShopInput
from core.storage import models as m
from tests.dialogue.harness import Chat
from tests.factories import Town, make_partita_iva, make_town

TAKEN = 'There is already a shop called {name}: add the street or the area, e.g. "{name} via Roma".'


def shop_named(name: str, index: int) -> ShopInput:
    return ShopInput(
        name, make_partita_iva(index + 20), ShopCategory.GROCERY, "Via Roma 1", "Testville",
        "62020", None, None, shop_iban(index),
    )  # fmt: skip


async def register(core: Core, town: Town, name: str, index: int) -> int:
    async with core.uow() as uow:
        shop = await shops.register_shop(
            uow,
            town.municipality_id,
            shop_named(name, index),
            owner_channel="sms",
            owner_address=f"+39333555{index:04d}",
            now=core.now(),
        )
        await uow.commit()
        return shop.id


async def names(core: Core) -> list[str]:
    async with core.uow() as uow:
        return sorted((await uow.session.scalars(select(m.Shop.name))).all())


async def test_a_registration_under_another_shops_name_is_refused(core: Core) -> None:
    town = await make_town(core, citizens=0)  # its shop: "Alimentari Test", approved
    with pytest.raises(Conflict) as refused:
        await register(core, town, "  ALIMENTARI   test ", 1)
    assert refused.value.code == Refusal.SHOP_NAME_TAKEN
    assert refused.value.params == {"name": "Alimentari Test"}
    # Waiting for the office counts too; a street tells them apart.
    await register(core, town, "Alimentari Test via Roma", 2)
    with pytest.raises(Conflict):
        await register(core, town, "alimentari test VIA roma", 3)
    assert await names(core) == ["Alimentari Test", "Alimentari Test via Roma"]


async def test_another_town_and_a_refused_shop_do_not_count(core: Core) -> None:
    town = await make_town(core, citizens=0)
    other = await make_town(core, code="XX01", citizens=0)
    # Each town has its own "Alimentari Test" (make_town's shop).
    assert await register(core, other, "Forno Nuovo", 4)
    refused = await register(core, town, "Forno Nuovo", 2)
    async with core.uow() as uow:
        await shops.refuse_shop(uow, town.municipality_id, refused, "dati errati", core.now())
        await uow.commit()
    assert await register(core, town, "forno nuovo", 3)


async def test_a_rename_to_another_shops_name_is_refused_and_changes_nothing(
    core: Core,
) -> None:
    town = await make_town(core, citizens=0)
    second = await register(core, town, "Forno Chienti", 1)
    async with core.uow() as uow:
        with pytest.raises(Conflict) as refused:
            await shops.rename_shop(
                uow, town.municipality_id, second, "alimentari TEST", core.now(), actor="t"
            )
        assert refused.value.code == Refusal.SHOP_NAME_TAKEN
    # Its own name in other letters is no other shop's.
    async with core.uow() as uow:
        await shops.rename_shop(
            uow, town.municipality_id, second, "FORNO chienti", core.now(), actor="t"
        )
        await uow.commit()
    assert await names(core) == ["Alimentari Test", "FORNO chienti"]


async def test_a_shop_waiting_under_an_approved_shops_name_is_not_approved(
    core: Core,
) -> None:
    """Registered before names were checked: the office renames it first."""
    town = await make_town(core, citizens=0)
    waiting = await register(core, town, "Forno Chienti", 1)
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, waiting)
        assert shop is not None
        shop.name = "Alimentari Test"
        await uow.commit()
    async with core.uow() as uow:
        with pytest.raises(Conflict) as refused:
            await shops.approve_shop(uow, town.municipality_id, waiting, core.now())
        assert refused.value.code == Refusal.SHOP_NAME_TAKEN
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, waiting)
        assert shop is not None and shop.status == ShopStatus.PENDING


async def test_the_chat_asks_another_name_at_once(core: Core) -> None:
    """Said when the name is typed, in one SMS even for a name of 40 characters (twice)."""
    town = await make_town(core, citizens=0)
    long_name = "Alimentari e Frutta di Belforte Chienti"
    assert len(long_name) <= MAX_SHOP_NAME
    async with core.uow() as uow:
        await shops.rename_shop(
            uow, town.municipality_id, town.shop_id, long_name, core.now(), actor="t"
        )
        await uow.commit()
    chat = Chat(core, "+393331234999")
    await chat.send("REGISTRA")
    replies = await chat.expect(long_name.upper(), TAKEN)
    [refused] = [text for reply in replies for text in reply.texts if text.msgid == TAKEN]
    assert refused.params == {"name": long_name}
    replies = await chat.send(f"{long_name} Est")
    said = [text.msgid for reply in replies for text in reply.texts]
    assert said and TAKEN not in said, said
