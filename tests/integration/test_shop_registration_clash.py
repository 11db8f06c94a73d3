"""A shop registered with another shop's partita IVA (user trial, 4 Dec 2026: a
stranger copied a greengrocer, name, P.IVA and address, with an IBAN of his own, and the
office approved it with no warning). Refused unless the owner's own chat asks it (a second
outlet); the copied shop's owner is told, and the office's activity log keeps it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buonispesa.demo import shop_iban
from core.bootstrap import Core
from core.domain.errors import NotAllowed, Refusal
from core.domain.shops import ShopCategory
from core.services import shops
from core.services.shops import ShopInput
from core.storage import models as m
from tests.dialogue.harness import outbox_of
from tests.factories import Town, make_partita_iva, make_town

WARNING = (
    "Someone used the partita IVA of {shop} to register a shop ({where}): refused. Not you? "
    "Tell the municipality."
)
COPIED_IBAN = "IT40S0542811101000000123456"  # the factories' shop's


def copy_of(vat_number: str, iban: str, name: str = "Alimentari Test") -> ShopInput:
    return ShopInput(
        name, vat_number, ShopCategory.GROCERY, "Via Roma 1", "Testville",
        "62020", None, None, iban,
    )  # fmt: skip


async def register(core: Core, town: Town, data: ShopInput, phone: str) -> int:
    """Register as a chat turn does: a refusal is said and the turn still commits."""
    async with core.uow() as uow:
        try:
            shop = await shops.register_shop(
                uow,
                town.municipality_id,
                data,
                owner_channel="sms",
                owner_address=phone,
                now=core.now(),
            )
        except NotAllowed as refused:
            assert refused.code == Refusal.SHOP_ALREADY_REGISTERED
            await uow.commit()
            return 0
        await uow.commit()
        return shop.id


async def shop_count(core: Core) -> int:
    async with core.uow() as uow:
        return len((await uow.session.scalars(select(m.Shop))).all())


@pytest.mark.parametrize("iban", [shop_iban(9), COPIED_IBAN], ids=["own IBAN", "its IBAN"])
async def test_a_copy_from_another_chat_is_refused_and_the_owner_told(
    core: Core, iban: str
) -> None:
    town = await make_town(core, citizens=0)
    assert await register(core, town, copy_of(make_partita_iva(1), iban), "+393331112223") == 0
    assert await shop_count(core) == 1
    notices = [reply for _row, reply in await outbox_of(core, "sms", town.shop_phone)]
    [warning] = [r.texts[0] for r in notices if r.texts[0].msgid == WARNING]
    assert warning.params == {"shop": "Alimentari Test", "where": "SMS ***223"}
    async with core.uow() as uow:
        actions = [e.action for e in await uow.session.scalars(select(m.ActivityEntry))]
    assert "shop.registration_refused" in actions


async def test_the_owner_registers_a_second_outlet(core: Core) -> None:
    town = await make_town(core, citizens=0)
    # Under its own name: two shops of a town never share one (test_shop_names).
    data = copy_of(make_partita_iva(1), shop_iban(10), "Alimentari Test via Roma")
    assert await register(core, town, data, town.shop_phone) != 0
    assert await shop_count(core) == 2


async def test_a_refused_shops_numbers_are_free_again(core: Core) -> None:
    town = await make_town(core, citizens=0)
    first = await register(
        core, town, copy_of(make_partita_iva(3), shop_iban(11), "Forno Nuovo"), "+393331112224"
    )
    async with core.uow() as uow:
        await shops.refuse_shop(uow, town.municipality_id, first, "dati errati", core.now())
        await uow.commit()
    again = copy_of(make_partita_iva(3), shop_iban(11), "Forno Nuovo")
    assert await register(core, town, again, "+393331112225") != 0
