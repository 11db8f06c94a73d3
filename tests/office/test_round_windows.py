"""The round page lists the tranches of any window (`?window=N`, chosen from the list of
windows as on the dashboard), their documents of that window; an unknown window is said so.
The rest of the page stays about the latest window, the one the determina and the credit
work on."""

from __future__ import annotations

import re
from html import unescape

from core.bootstrap import Core
from core.services import allocation, municipalities
from tests.dialogue.catalog import ROOT
from tests.integration.office_helpers import apply, close_approve_credit, person
from tests.office.conftest import Towns, signed_in


def said(html: str) -> str:
    """The page's text as read: tags gone, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ").split())


async def test_the_round_page_shows_the_tranches_of_any_window(towns: Towns, core: Core) -> None:
    await apply(towns.bel, person(1, 2), person(2, 1))
    await close_approve_credit(towns.bel, 500_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.post(
        "/office/round/window/open", {"days": "3", "number": "2", "confirm": "yes"}
    )
    assert page.status == 200 and "Il bando 2 è aperto." in page.text

    # The latest window by default: no tranche yet, and window 1 can be chosen.
    page = await clerk.get("/office/round")
    text = said(page.text)
    assert page.status == 200
    assert "Tranche del bando 2" in text and "Nessuna tranche ancora approvata." in text
    assert '<form method="get" action="/office/round#tranches" class="row" id="window-choice">' in (
        page.text
    )
    assert '<option value="2" selected>Bando 2 (aperto)</option>' in page.text
    assert '<option value="1">Bando 1 (chiuso)</option>' in page.text
    assert 'id="window-shown"' not in page.text

    # Window 1's tranche, with the documents of window 1 (not window 2's tranche 1).
    page = await clerk.get("/office/round?window=1")
    text = said(page.text)
    assert page.status == 200
    assert "Tranche del bando 1" in text and "500,00 €" in text
    assert "Nessuna tranche ancora approvata." not in text
    assert '<option value="1" selected>Bando 1 (chiuso)</option>' in page.text
    assert (
        "Queste sono le tranche del bando 1; l'ultimo è il bando 2, quello di cui parla il "
        "resto della pagina." in text
    )
    link = "/office/round/tranche/1/determina.pdf?window=1"
    assert f'href="{link}"' in page.text
    assert 'href="/office/round/tranche/1/allocation.csv?window=1"' in page.text
    document = await clerk.get(link)
    assert document.status == 200 and document.headers["Content-Type"] == "application/pdf"
    # The window section and the actions are still the latest window's.
    assert "Bando 2, aperto fino al" in text and "Chiudi ora il bando" in text

    # A tranche the window never had is said so, not "no approved tranche waits".
    missing = await clerk.get("/office/round/tranche/99/determina.pdf?window=1")
    assert missing.status == 404 and "Il bando 1 non ha una tranche 99." in said(missing.text)
    missing = await clerk.get("/office/round/tranche/99/allocation.csv")
    assert missing.status == 404 and "Il bando 2 non ha una tranche 99." in said(missing.text)

    # A window that does not exist, or no number at all, is said so.
    page = await clerk.get("/office/round?window=9")
    assert page.status == 404 and "Non esiste il bando 9." in said(page.text)
    page = await clerk.get("/office/round?window=uno")
    assert page.status == 409
    assert "Scrivi il numero di un bando: un numero intero, almeno 1." in said(page.text)


async def test_a_town_with_one_window_gets_no_choice(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/round")
    assert page.status == 200 and "Tranche del bando 1" in said(page.text)
    assert 'id="window-choice"' not in page.text
    assert (await clerk.get("/office/round?window=1")).status == 200
    assert (await clerk.get("/office/round?window=2")).status == 404


def test_every_page_chooses_its_window_with_the_one_macro() -> None:
    """The dashboard, the round page and the checks page choose a window with
    window_choice.html: no page keeps its own copy of the list."""
    templates = ROOT / "office" / "templates"
    copies = [
        path.name
        for path in sorted(templates.glob("*.html"))
        if path.name != "window_choice.html" and '<select id="window"' in path.read_text()
    ]
    assert copies == []
    users = sorted(
        path.name
        for path in templates.glob("*.html")
        if "window_choice(" in path.read_text() and path.name != "window_choice.html"
    )
    assert users == ["audit.html", "dashboard.html", "round.html"]


def tranches_total(html: str) -> str | None:
    found = re.search(r'<tr id="tranches-total">.*?</tr>', html, re.S)
    return said(found.group(0)) if found else None


async def test_the_tranches_total_their_budgets_without_the_withdrawn(
    towns: Towns, core: Core
) -> None:
    """Under the tranches, the total of their budgets in euros: a withdrawn tranche is left
    out (it gave its budget back) and the row says how many were."""
    await apply(towns.bel, person(1, 4), person(2, 3), person(3, 1))
    clerk = await signed_in(towns.server, "bel.clerk")
    # No tranche yet: no total either.
    page = await clerk.get("/office/round")
    assert "Nessuna tranche ancora approvata." in said(page.text)
    assert tranches_total(page.text) is None

    await close_approve_credit(towns.bel, 300_00)
    page = await clerk.get("/office/round")
    assert tranches_total(page.text) == "Totale 300,00 €"

    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.approve(uow, town, 200_00, core.now())
        await allocation.withdraw(uow, town, core.now(), by="test")
        await allocation.approve(uow, town, 150_00, core.now())
        await uow.commit()
    page = await clerk.get("/office/round")
    listed = said(page.text.split('<tr id="tranches-total">')[0].split("Tranche del bando 1")[-1])
    assert "300,00 €" in listed and "200,00 €" in listed and "150,00 €" in listed, listed
    assert tranches_total(page.text) == (
        "Totale 450,00 € 1 tranche ritirata esclusa: il suo budget è tornato disponibile"
    )
    await clerk.post("/office/language", {"lang": "en", "next": "/office/round"})
    page = await clerk.get("/office/round")
    assert tranches_total(page.text) == (
        "Total €450.00 1 withdrawn tranche left out: its budget was given back"
    )
