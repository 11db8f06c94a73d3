"""The shops page lists the payments customers refused as "not me", per shop, with when,
how much and the till that asked: the till's number in full for a clerk, masked for a
viewer, and a shop with refusals marked in the list of all shops."""

from __future__ import annotations

import re
from html import unescape

from core.bootstrap import Core
from core.services import charges, security
from tests.integration.office_helpers import apply, close_approve_credit
from tests.office.conftest import BUYER, Towns, signed_in

TILL = "+393331234567"


def said(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ").split())


async def _refused(
    core: Core, shop_id: int, cents: int, *, not_me: bool, channel: str = "telegram"
) -> None:
    """A payment asked and refused; "not me" from `channel` (on Telegram it counts at once,
    by SMS it waits for its challenge, which this one never gets)."""
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
            uow,
            charge_id=charge.id,
            citizen_id=charge.citizen_id,
            now=core.now(),
            not_me=not_me,
            channel=channel,
            challenge=security.not_me_challenge(core.keys, channel),
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
    assert ": 2 confermati" in text
    assert "Telegram: confermato dalla persona" in text
    assert "12,50" in text and "7,00" in text and "3,00" not in text
    assert TILL in text
    viewer = await signed_in(towns.server, "bel.viewer")
    text = said((await viewer.get("/office/shops")).text)
    assert ": 2 confermati" in text and "***567" in text and TILL not in text
    # Another town's office sees none of it.
    other = await signed_in(towns.server, "cal.clerk")
    assert 'Nessun pagamento è stato rifiutato con "non sono io".' in said(
        (await other.get("/office/shops")).text
    )


async def test_an_sms_not_me_never_confirmed_is_shown_apart(towns: Towns, core: Core) -> None:
    """A "not me" by SMS whose challenge never came back may be a forged sender's: shown as
    not confirmed, and the shop's line in the list counts no refusal for it."""
    await apply(towns.bel, BUYER)
    await close_approve_credit(towns.bel, 1_000_00)
    shop = towns.bel.shop_ids[0]
    await _refused(core, shop, 9_00, not_me=True, channel="sms")
    clerk = await signed_in(towns.server, "bel.clerk")
    text = said((await clerk.get("/office/shops")).text)
    assert ": 0 confermati, 1 non confermato" in text
    assert "SMS: non confermato" in text and "9,00" in text
    assert 'rifiuti "non sono io"' not in text and 'rifiuto "non sono io"' not in text
    assert '1 "non sono io" non confermato' in text
