"""What an operator's day in the office found: opening a window is a deliberate act and the
window before stays in view on the dashboard."""

from __future__ import annotations

import re
from html import unescape

import pytest

from core.bootstrap import Core
from core.domain.errors import Conflict
from core.services import back_office, municipalities
from tests.integration.office_helpers import apply, close_approve_credit, person
from tests.office.conftest import Towns, signed_in


def said(html: str) -> str:
    """The page's text as read: tags gone, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def windows(core: Core) -> int:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        return len(await uow.rounds.of_municipality(town.id))


# --- 1: opening a window asks first, and the window before stays on the dashboard ----------


async def test_opening_a_window_asks_for_a_confirmation_first(towns: Towns, core: Core) -> None:
    await apply(towns.bel, person(1, 2), person(2, 1))
    await close_approve_credit(towns.bel, 500_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/round")
    # The round page's button only asks: a plain link-like form, no CSRF, nothing opened.
    form = re.search(r'<form method="(\w+)" action="/office/round/window/open"', page.text)
    assert form is not None and form.group(1) == "get"
    page = await clerk.get("/office/round/window/open?days=3")
    text = said(page.text)
    assert page.status == 200, text
    assert "Aprire un nuovo bando?" in text
    assert "Il bando 2 si apre ora e accetta domande fino al" in text and "Dura 3 giorni." in text
    assert (
        "Il bando 1 resta com'è: 2 domande" in text
        and "tranche approvate 500,00 €, accreditato 350,00 €" in text
    )
    assert "Sì, apri ora il bando 2" in text and "No, torna indietro" in text
    assert await windows(core) == 1
    # A post without the confirmation (an old page's button) shows the same page.
    page = await clerk.post("/office/round/window/open", {"days": "3"})
    assert page.status == 200 and page.url == "/office/round/window/open?days=3"
    assert await windows(core) == 1
    page = await clerk.post("/office/round/window/open", {"days": "3", "confirm": "yes"})
    assert page.status == 200 and "Il bando 2 è aperto." in page.text
    assert await windows(core) == 2
    # Refusals are said on the asking page, before anything is confirmed.
    page = await clerk.get("/office/round/window/open")
    assert page.status == 409 and "Il bando è già aperto fino al" in said(page.text)
    viewer = await signed_in(towns.server, "bel.viewer")
    assert (await viewer.get("/office/round/window/open")).status == 403


async def test_the_service_refuses_to_open_a_window_without_the_confirmation(
    towns: Towns, core: Core
) -> None:
    await apply(towns.bel, person(1, 2))
    await close_approve_credit(towns.bel, 500_00)
    async with core.uow() as uow:
        clerk = await uow.operators.by_username("bel.clerk")
        assert clerk is not None
        with pytest.raises(Conflict) as refused:
            await back_office.open_window(uow, clerk, core.now(), 3, confirmed=False)
    assert refused.value.code == "window.not_confirmed"
    assert await windows(core) == 1


async def test_the_dashboard_keeps_the_window_before_in_view(towns: Towns, core: Core) -> None:
    await apply(towns.bel, person(1, 2), person(2, 1))
    await close_approve_credit(towns.bel, 500_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/round/window/open", {"days": "3", "confirm": "yes"})
    page = await clerk.get("/office/")
    text = said(page.text)
    assert "Bando 2, aperto fino al" in text
    # The tranche just credited is still in view, beside the new window's zeros…
    assert "Bando 1, il precedente Fondi approvati 500,00 € Accreditato 350,00 €" in text
    assert 'href="/office/?window=1"' in page.text
    # … and the window before can be chosen, with all its figures.
    assert '<option value="1">Bando 1 (chiuso)</option>' in page.text
    page = await clerk.get("/office/?window=1")
    text = said(page.text)
    assert page.status == 200
    assert "Bando 1, chiuso il" in text and "Accreditato 350,00 €" in text
    assert "Domande 2" in text
    assert "Questi sono i dati del bando 1; l'ultimo è il bando 2." in text
    assert (await clerk.get("/office/?window=9")).status == 404
    assert (await clerk.get("/office/?window=uno")).status == 404
