"""A number refused on an application's page (another applicant's phone, not a phone at
all, the applicant's own number as delegate) and a shop's name refused on the shops page
(another shop's) are said beside the field, with what was typed kept, and nothing
changes (user trial, 7 Dec 2026: the generic "Not done" page lost the number typed)."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

from buonispesa.demo import shop_iban
from core.bootstrap import Core
from core.domain.shops import ShopCategory
from core.services import shops
from core.services.shops import ShopInput
from core.storage import models as m
from tests.factories import make_partita_iva
from tests.integration.office_helpers import person
from tests.office.applicants import NEIGHBOUR, at_the_desk, citizen_of
from tests.office.conftest import Towns, signed_in


def beside(text: str, field: str) -> tuple[str, str]:
    """The value of input `field` and the problem said beside it (empty when none)."""
    tag = re.search(rf'<input id="{field}"[^>]*>', text)
    assert tag is not None, field
    value = re.search(r'value="([^"]*)"', tag.group(0))
    said = re.search(
        rf'<span class="field-error" role="alert" id="{field}-problem">(.*?)</span>', text
    )
    return (
        unescape(value.group(1)) if value else "",
        unescape(said.group(1)) if said else "",
    )


async def test_a_refused_phone_or_delegate_is_said_beside_its_field(
    towns: Towns, core: Core
) -> None:
    without_phone = replace(person(1, 1), phone=None)
    clerk, url = await at_the_desk(towns, without_phone, NEIGHBOUR)
    page = await clerk.post(f"{url}/phone", {"phone": "333 111 2223"})
    assert page.status == 409 and "Not done" not in page.text
    value, said = beside(page.text, "phone")
    assert value == "333 111 2223" and "belongs to another citizen" in said
    assert beside(page.text, "delegate") == ("", "")
    page = await clerk.post(f"{url}/phone", {"phone": "not a phone"})
    assert page.status == 400 and "Not done" not in page.text
    value, said = beside(page.text, "phone")
    assert value == "not a phone" and said
    citizen = await citizen_of(core, towns, without_phone)
    assert citizen is not None and citizen.phone is None
    page = await clerk.post(f"{url}/phone", {"phone": "333 444 5556"})
    assert page.status == 200 and "+393334445556" in page.text
    # The applicant's own number as delegate: beside the delegate's field, nothing asked.
    page = await clerk.post(f"{url}/delegate", {"phone": "+39 333 444 5556"})
    assert page.status == 409 and "Not done" not in page.text
    value, said = beside(page.text, "delegate")
    assert value == "+39 333 444 5556" and "the citizen's own number" in said
    assert beside(page.text, "phone") == ("", "")
    async with core.uow() as uow:
        assert await uow.delegates.of_citizen(citizen.id) is None
        assert list(await uow.session.scalars(m.PhoneChange.__table__.select())) == []


async def test_a_shop_renamed_as_another_is_said_beside_the_name(towns: Towns, core: Core) -> None:
    async with core.uow() as uow:
        shop = await shops.register_shop(
            uow,
            towns.bel.municipality_id,
            ShopInput(
                "Forno Chienti",
                make_partita_iva(30),
                ShopCategory.BAKERY,
                "Via Roma 9",
                "Belforte del Chienti",
                "62020",
                None,
                None,
                shop_iban(30),
            ),
            owner_channel="sms",
            owner_address="+393339000030",
            now=core.now(),
        )
        await shops.approve_shop(uow, towns.bel.municipality_id, shop.id, core.now())
        await uow.commit()
        second = shop.id
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.post(
        "/office/shops/rename", {"shop": str(second), "name": "ALIMENTARI  nò0"}
    )
    assert page.status == 409 and "Non eseguito" not in page.text
    value, said = beside(page.text, "rename_name")
    assert value == "ALIMENTARI  nò0"
    assert said == (
        "Esiste già un negozio Alimentari Nò0: aggiungi la via o la zona, ad es. "
        '"Alimentari Nò0 via Roma".'
    )
    assert f'<option value="{second}" selected>' in page.text
    async with core.uow() as uow:
        kept = await uow.session.get(m.Shop, second)
        assert kept is not None and kept.name == "Forno Chienti"
    page = await clerk.post(
        "/office/shops/rename", {"shop": str(second), "name": "Alimentari Nò0 Est"}
    )
    assert page.status == 200 and "Alimentari Nò0 Est" in page.text
