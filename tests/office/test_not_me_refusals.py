"""The shops page lists the payments customers refused as "not me", per shop, with when,
how much and the till that asked: the till's number in full for a clerk, masked for a
viewer, and a shop with refusals marked in the list of all shops."""

from __future__ import annotations

import re
from html import unescape

from core.bootstrap import Core
from core.services import charges
from tests.integration.office_helpers import apply, close_approve_credit
from tests.office.conftest import BUYER, Towns, signed_in

TILL = "+393331234567"


def said(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ").split())


async def _refused(core: Core, shop_id: int, cents: int, *, not_me: bool) -> None:
    async with core.uow() as uow:
        asked = await charges.request_charge(
            uow,
            shop_id=shop_id,
            citizen_reference=BUYER.codice_fiscale,
            amount_cents=cents,
            requested_by=f"sms:{TILL}",
            now=core.now(),
        )
        charge = await uow.charges.by_id(asked.charge_id)
        assert charge is not None
        assert await charges.refuse_charge(
            uow, charge_id=charge.id, citizen_id=charge.citizen_id, now=core.now(), not_me=not_me
        )
        await uow.commit()


async def test_the_shops_page_shows_not_me_refusals_per_shop(towns: Towns, core: Core) -> None:
    await apply(towns.bel, BUYER)
    await close_approve_credit(towns.bel, 1_000_00)
    shop = towns.bel.shop_ids[0]
    clerk = await signed_in(towns.server, "bel.clerk")
    assert 'Nessun pagamento è stato rifiutato con "non sono io".' in said(
        (await clerk.get("/office/shops")).text
    )
    await _refused(core, shop, 12_50, not_me=True)
    await _refused(core, shop, 7_00, not_me=True)
    await _refused(core, shop, 3_00, not_me=False)  # changed her mind: not listed
    text = said((await clerk.get("/office/shops")).text)
    assert '2 rifiuti "non sono io"' in text
    assert ": 2 rifiuti" in text
    assert "12,50" in text and "7,00" in text and "3,00" not in text
    assert TILL in text
    viewer = await signed_in(towns.server, "bel.viewer")
    text = said((await viewer.get("/office/shops")).text)
    assert ": 2 rifiuti" in text and "***567" in text and TILL not in text
    # Another town's office sees none of it.
    other = await signed_in(towns.server, "cal.clerk")
    assert 'Nessun pagamento è stato rifiutato con "non sono io".' in said(
        (await other.get("/office/shops")).text
    )
