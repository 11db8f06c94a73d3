"""A shop's registration approved or refused twice (a double click on "Approve" or
"Refuse", the form sent again from an old tab) is decided once: the owner gets one message
and the activity log one entry (user trial, 7 Dec 2026: a double click on "Refuse" sent the
owner two SMS and logged the refusal twice)."""

from __future__ import annotations

from sqlalchemy import func, select

from buonispesa.demo import shop_iban
from core.bootstrap import Core
from core.domain.shops import ShopCategory
from core.services import shops
from core.services.shops import ShopInput
from core.storage import models as m
from tests.factories import make_partita_iva
from tests.office.conftest import Towns, signed_in


async def waiting_shop(towns: Towns, core: Core, number: int) -> tuple[int, str]:
    """A shop of BEL waiting for the office's decision, and its owner's phone."""
    owner = f"+3933390000{number:02d}"
    async with core.uow() as uow:
        shop = await shops.register_shop(
            uow,
            towns.bel.municipality_id,
            ShopInput(
                f"Forno {number}",
                make_partita_iva(number),
                ShopCategory.BAKERY,
                "Via Roma 9",
                "Belforte del Chienti",
                "62020",
                None,
                None,
                shop_iban(number),
            ),
            owner_channel="sms",
            owner_address=owner,
            now=core.now(),
        )
        await uow.commit()
        return shop.id, owner


async def told_and_logged(core: Core, owner: str, action: str, shop_id: int) -> tuple[int, int]:
    async with core.uow() as uow:
        told = await uow.session.scalar(
            select(func.count())
            .select_from(m.OutboxMessage)
            .where(m.OutboxMessage.address == owner)
        )
        logged = await uow.session.scalar(
            select(func.count())
            .select_from(m.ActivityEntry)
            .where(
                m.ActivityEntry.action == action, m.ActivityEntry.subject.startswith(f"{shop_id} ")
            )
        )
    return int(told or 0), int(logged or 0)


async def test_a_refusal_sent_twice_tells_the_owner_once(towns: Towns, core: Core) -> None:
    shop_id, owner = await waiting_shop(towns, core, 41)
    clerk = await signed_in(towns.server, "bel.clerk")
    before, _ = await told_and_logged(core, owner, "shop.refuse", shop_id)
    for _ in range(2):
        page = await clerk.post(f"/office/shops/{shop_id}/refuse", {"reason": "IBAN errato"})
        assert page.status == 200 and page.url == "/office/shops", (page.status, page.url)
    told, logged = await told_and_logged(core, owner, "shop.refuse", shop_id)
    assert (told - before, logged) == (1, 1)


async def test_an_approval_sent_twice_tells_the_owner_once(towns: Towns, core: Core) -> None:
    shop_id, owner = await waiting_shop(towns, core, 42)
    clerk = await signed_in(towns.server, "bel.clerk")
    before, _ = await told_and_logged(core, owner, "shop.approve", shop_id)
    for _ in range(2):
        page = await clerk.post(f"/office/shops/{shop_id}/approve")
        assert page.status == 200 and page.url == "/office/shops", (page.status, page.url)
    told, logged = await told_and_logged(core, owner, "shop.approve", shop_id)
    assert (told - before, logged) == (1, 1)
