"""The office's money figures agree with each other: the dashboard's approved budget is the
round page's total of the tranches (a withdrawn tranche gave its budget back, and both say
that it is left out), and the shops page's "To reimburse" total is what the service adds up,
the reimbursement page's total."""

from __future__ import annotations

import re
from html import unescape

from core.bootstrap import Core
from core.services import allocation, ledger, municipalities, shops
from tests.dialogue.catalog import ROOT
from tests.integration.office_helpers import (
    apply,
    close_approve_credit,
    close_window,
    pay,
    person,
)
from tests.office.conftest import BUYER, Towns, shop_owed, signed_in
from tests.office.test_shops_and_reimbursement import register


def said(html: str) -> str:
    """The page's text as read: tags gone, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ").split())


def part(html: str, pattern: str) -> str:
    found = re.search(pattern, html, re.S)
    assert found is not None, pattern
    return said(found.group(0))


def budget_card(html: str) -> str:
    return part(html, r'<section class="card" aria-labelledby="h-money">.*?</section>')


def tranches_total(html: str) -> str:
    return part(html, r'<tr id="tranches-total">.*?</tr>')


async def test_a_withdrawn_tranche_is_no_approved_budget_on_either_page(
    towns: Towns, core: Core
) -> None:
    """Two tranches approved, the second withdrawn: the dashboard's approved budget, what
    it allocated and what is left are those of the first alone, the round page's total, and
    the dashboard says the withdrawn one is left out."""
    await apply(towns.bel, person(1, 4), person(2, 3), person(3, 1))
    await close_approve_credit(towns.bel, 300_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    before = budget_card((await clerk.get("/office/")).text)
    assert "Budget approvato 300,00 €" in before
    assert "ritirata" not in before

    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.approve(uow, town, 200_00, core.now())
        await allocation.withdraw(uow, town, core.now(), by="test")
        await uow.commit()

    assert tranches_total((await clerk.get("/office/round")).text) == (
        "Totale 300,00 € 1 tranche ritirata esclusa: il suo budget è tornato disponibile"
    )
    card = budget_card((await clerk.get("/office/")).text)
    # What the first tranche alone approved, allocated and left: the figures of before.
    left_out = "1 tranche ritirata esclusa: il suo budget è tornato disponibile"
    assert card == f"{before} {left_out}", card
    await clerk.post("/office/language", {"lang": "en", "next": "/office/"})
    card = budget_card((await clerk.get("/office/")).text)
    assert "Approved budget €300.00" in card
    assert card.endswith("1 withdrawn tranche left out: its budget was given back"), card


def by_state(html: str) -> str:
    return part(html, r'<section class="card" aria-labelledby="h-apps">.*?</section>')


async def test_a_withdrawn_tranche_assigns_no_application_on_the_dashboard(
    towns: Towns, core: Core
) -> None:
    """The only tranche withdrawn: its applications are not allocated yet on the dashboard
    (as opening a new window and the applications list count them), and its budget is no
    approved budget."""
    await apply(towns.bel, person(1, 4), person(2, 3), person(3, 1))
    await close_window(towns.bel)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.approve(uow, town, 200_00, core.now())
        await allocation.withdraw(uow, town, core.now(), by="test")
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    page = (await clerk.get("/office/")).text
    assert "Lista 1 0 Lista 2 0 Esclusi 0 Non ancora assegnate 3" in by_state(page)
    assert "Budget approvato 0,00 € Assegnato 0,00 €" in budget_card(page)


async def test_the_shops_total_is_the_services_and_the_page_reads_as_before(
    towns: Towns, core: Core
) -> None:
    """Two shops owed (and another town's shop owed too): the shops page's total is
    ledger.owed_to_shops, that of the reimbursement page, and its row reads as before."""
    first = await shop_owed(towns)
    second = await register(core, "BEL", "Forno Nuovo", 31)
    await register(core, "BEL", "Bar Centrale", 32)  # pending: owed nothing
    async with core.uow() as uow:
        await shops.approve_shop(uow, towns.bel.municipality_id, second, core.now())
        await uow.commit()
    await pay(towns.bel, second, BUYER, 10_00)
    cal_buyer = person(7, 1)
    await apply(towns.cal, cal_buyer)
    await close_approve_credit(towns.cal, 500_00)
    await pay(towns.cal, towns.cal.shop_ids[0], cal_buyer, 5_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        assert await ledger.owed_to_shops(uow, town.id) == 52_50
        owed = {shop.id: cents for shop, cents in await uow.ledger.shops_owed(town.id)}
        assert owed == {first: 42_50, second: 10_00}
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/shops")
    assert (
        '<tfoot><tr><th scope="row" colspan="4">Totale</th><td data-label="Da rimborsare" '
        'class="num">52,50\xa0€</td><td></td></tr></tfoot>'
    ) in page.text
    shown = await clerk.get("/office/reimbursement")
    assert '<th scope="row" colspan="2">Totale</th><td class="num">52,50\xa0€</td>' in shown.text


def test_no_office_page_adds_up_money_itself() -> None:
    """Totals come from the services (in cents, added up by the database): a template only
    shows them."""
    templates = ROOT / "office" / "templates"
    assert [p.name for p in sorted(templates.glob("*.html")) if "|sum" in p.read_text()] == []
