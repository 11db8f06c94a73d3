"""What an operator's day in the office found: opening a window is a deliberate act and the
window before stays in view on the dashboard; a reimbursement executes on a bank business
day; a paper application of the window's opening minute is in it."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp.web_urldispatcher import StaticResource
from sqlalchemy import select

import office
from core.bootstrap import Core
from core.domain.errors import Conflict
from core.services import back_office, municipalities, reimbursement
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import make_cf
from tests.integration.office_helpers import apply, close_approve_credit, person
from tests.office.conftest import Towns, shop_owed, signed_in
from tests.office.test_applications import HEADER, count_applications, upload


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
    page = await clerk.post(
        "/office/round/window/open", {"days": "3", "number": "2", "confirm": "yes"}
    )
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
            await back_office.open_window(
                uow, clerk, core.now(), 3, confirmed=False, expected_number=2
            )
    assert refused.value.code == "window.not_confirmed"
    assert await windows(core) == 1


async def test_a_page_that_named_another_window_opens_nothing(towns: Towns, core: Core) -> None:
    """The page said window 2; a colleague opened and closed window 2 meanwhile: confirming
    the page would open window 3, which nobody was shown. It is refused and says why."""
    await apply(towns.bel, person(1, 2))
    await close_approve_credit(towns.bel, 500_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/round/window/open?days=3")
    assert '<input type="hidden" name="number" value="2">' in page.text
    colleague = await signed_in(towns.server, "bel.manager")
    shown = {"days": "3", "number": "2", "confirm": "yes"}
    assert (await colleague.post("/office/round/window/open", shown)).status == 200
    assert (
        await colleague.post("/office/round/window/close", {"number": "2", "confirm": "yes"})
    ).status == 200
    page = await clerk.post("/office/round/window/open", shown)
    assert page.status == 409
    assert (
        "Non è stato aperto nulla: il bando 2 non è più il prossimo, perché nel frattempo un "
        "bando è stato aperto o chiuso (ora il prossimo è il bando 3)."
    ) in said(page.text)
    assert await windows(core) == 2
    # A confirmation that names no window (a page from before) only shows the page again.
    page = await clerk.post("/office/round/window/open", {"days": "3", "confirm": "yes"})
    assert page.status == 200 and page.url == "/office/round/window/open?days=3"
    assert await windows(core) == 2


async def test_the_dashboard_keeps_the_window_before_in_view(towns: Towns, core: Core) -> None:
    await apply(towns.bel, person(1, 2), person(2, 1))
    await close_approve_credit(towns.bel, 500_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/round/window/open", {"days": "3", "number": "2", "confirm": "yes"})
    page = await clerk.get("/office/")
    text = said(page.text)
    assert "Bando 2, aperto fino al" in text
    # The tranche just credited is still in view, beside the new window's zeros…
    assert "Bando 1, il precedente Budget approvato 500,00 € Accreditato 350,00 €" in text
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
    assert (await clerk.get("/office/?window=uno")).status == 409  # as on every page


# --- 2: a reimbursement executes on a bank business day ---------------------------------------


async def test_the_execution_date_is_a_bank_business_day(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await shop_owed(towns, 12_50)
    # Saturday 11 April 2026, 9:00 in Rome: the form proposes Monday.
    clock.current = datetime(2026, 4, 11, 7, 0, tzinfo=UTC)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/reimbursement")
    assert 'name="execution_date" value="13/04/2026"' in page.text
    assert 'type="date"' not in page.text
    assert "non un sabato o una domenica, né il 1° gennaio, il Venerdì santo" in said(page.text)
    # A Saturday, a Sunday or a TARGET2 holiday typed anyway is refused, naming the next day.
    for typed, sentence in (
        (
            "2026-04-11",
            "La data di esecuzione 11/04/2026 è un sabato: la banca esegue un "
            "bonifico SEPA solo in un giorno lavorativo. Scegli 13/04/2026, il primo utile.",
        ),
        ("2026-04-12", "La data di esecuzione 12/04/2026 è una domenica"),
        (
            "2026-05-01",
            "La data di esecuzione 01/05/2026 è una festività bancaria (TARGET2 è "
            "chiuso il 1° gennaio, il Venerdì santo, il Lunedì dell'Angelo, il 1° maggio, il 25 e "
            "il 26 dicembre): la banca non esegue bonifici SEPA in quel giorno. Scegli "
            "04/05/2026, il primo giorno lavorativo.",
        ),
    ):
        page = await clerk.post("/office/acts", {"kind": "reimbursement", "execution_date": typed})
        assert page.status == 409 and sentence in said(page.text), said(page.text)
    async with core.uow() as uow:
        assert list(await uow.session.scalars(select(m.OfficeAct))) == []
        town = await municipalities.require(uow, "BEL")
        # The command line's default, and the service itself, follow the same calendar.
        assert reimbursement.default_execution_date(town, clock()) == date(2026, 4, 13)
        with pytest.raises(reimbursement.ExecutionDateClosed):
            await reimbursement.settle(uow, town, clock(), date(2026, 4, 11))
    page = await clerk.post(
        "/office/acts", {"kind": "reimbursement", "execution_date": "2026-04-13"}
    )
    assert page.status == 200, said(page.text)


async def test_the_execution_date_is_typed_day_first_as_at_the_desk(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await shop_owed(towns, 12_50)
    clock.current = datetime(2026, 4, 11, 7, 0, tzinfo=UTC)  # Saturday 11 April 2026
    clerk = await signed_in(towns.server, "bel.clerk")
    # Not a date: said in Italian beside the field, the day typed kept in it; nothing waits.
    for typed in ("31/02/2026", "13-04-26", "04/13/2026"):
        page = await clerk.post("/office/acts", {"kind": "reimbursement", "execution_date": typed})
        assert page.status == 409 and page.url == "/office/reimbursement", typed
        assert (
            f"{typed} non è una data: scrivila come giorno/mese/anno in cifre, per esempio "
            "11/04/2026, oppure come anno-mese-giorno, 2026-04-11." in said(page.text)
        ), said(page.text)
        assert f'name="execution_date" value="{typed}"' in page.text
        assert 'aria-invalid="true"' in page.text
    # A closed day typed the Italian way: refused beside the field too, the day kept.
    page = await clerk.post(
        "/office/acts", {"kind": "reimbursement", "execution_date": "12/04/2026"}
    )
    assert page.status == 409 and "12/04/2026 è una domenica" in said(page.text)
    assert 'name="execution_date" value="12/04/2026"' in page.text
    async with core.uow() as uow:
        assert list(await uow.session.scalars(select(m.OfficeAct))) == []
    # 14/04/2026 is the 14th of April, not a 14th month.
    page = await clerk.post(
        "/office/acts", {"kind": "reimbursement", "execution_date": "14/04/2026"}
    )
    assert page.status == 200, said(page.text)
    async with core.uow() as uow:
        [act] = await uow.session.scalars(select(m.OfficeAct))
        assert act.params["execution_date"] == "2026-04-14"


# --- 3: a paper application of the window's opening minute ----------------------------------


async def test_a_paper_of_the_opening_minute_is_in_the_window_and_refusals_show_seconds(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    # The office pressed "open" at 10:00:37 Rome time.
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        window = await municipalities.current_round(uow, town.id)
        assert window is not None
        window.opens_at = datetime(2026, 4, 6, 8, 0, 37, tzinfo=UTC)
        await uow.commit()
    clock.current = datetime(2026, 4, 6, 8, 30, tzinfo=UTC)
    clerk = await signed_in(towns.server, "bel.clerk")
    # A time with seconds before the opening, and a minute before it: refused, and the
    # times say why (to the minute they read "10:00, window from 10:00").
    rows = (
        f"{make_cf(51)},,2,false,false,0,0,0,2026-04-06T10:00:12\n"
        f"{make_cf(52)},,2,false,false,0,0,0,2026-04-06T09:59\n"
    )
    page = await upload(clerk, HEADER + rows)
    text = said(page.text)
    assert page.status in (400, 409), text
    assert "datata 06/04/2026 alle 10:00:12, fuori dal periodo del bando (06/04/2026 alle " in text
    assert "(06/04/2026 alle 10:00:37 – 10/04/2026 alle 10:00:00)" in text, text
    assert "datata 06/04/2026 alle 09:59:00" in text
    assert await count_applications(core) == 0
    # Stamped to the minute the window opened in: nobody can say it came before.
    page = await upload(clerk, HEADER + f"{make_cf(53)},,2,false,false,0,0,0,2026-04-06T10:00\n")
    assert page.status == 200, said(page.text)
    assert await count_applications(core) == 1


# --- 5: the style sheet's address changes with its content -----------------------------------


async def test_the_style_sheet_is_linked_with_its_content_hash(
    towns: Towns, monkeypatch: pytest.MonkeyPatch
) -> None:
    style = (Path(office.__file__).parent / "static" / "office.css").read_bytes()
    # aiohttp's version: the SHA-256 of the file in URL-safe base64, its "=" written %3D.
    version = quote(base64.urlsafe_b64encode(hashlib.sha256(style).digest()).decode())
    # Computed once, when the office was built: no page reads the file to hash it again.
    hashed: list[int] = []

    def counted(content: bytes) -> str:
        hashed.append(len(content))
        return base64.urlsafe_b64encode(hashlib.sha256(content).digest()).decode()

    monkeypatch.setattr(StaticResource, "_get_file_hash", staticmethod(counted))
    browser = await towns.browser()
    clerk = await signed_in(towns.server, "bel.clerk")
    for page in (
        await browser.get("/office/sign-in"),
        await clerk.get("/office/"),
        await clerk.get("/office/round"),
        await clerk.get("/office/no-such-page"),
    ):
        assert f'href="/office/static/office.css?v={version}"' in page.text, page.text[:600]
    assert hashed == []
    fetched = await browser.get(f"/office/static/office.css?v={version}")
    assert fetched.status == 200 and fetched.body == style
    assert fetched.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # The plain address (an old page's) is served too, without the promise.
    plain = await browser.get("/office/static/office.css")
    assert plain.status == 200 and "immutable" not in plain.headers.get("Cache-Control", "")


async def test_only_a_confirmation_links_the_script_and_its_way_back_is_marked_for_escape(
    towns: Towns,
) -> None:
    script = (Path(office.__file__).parent / "static" / "office.js").read_bytes()
    version = quote(base64.urlsafe_b64encode(hashlib.sha256(script).digest()).decode())
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/round/window/close")
    assert page.status == 200, said(page.text)
    assert f'<script src="/office/static/office.js?v={version}" defer></script>' in page.text
    assert re.search(r'<a class="button secondary" data-escape href="/office/round">', page.text)
    # Every other page works without a script and links none.
    for other in ("/office/", "/office/round", "/office/shops", "/office/applications"):
        assert "<script" not in (await clerk.get(other)).text, other
    fetched = await clerk.get(f"/office/static/office.js?v={version}")
    assert fetched.status == 200 and fetched.body == script


# --- 4: an applicant without a phone ------------------------------------------------------


async def test_an_applicant_without_a_phone_is_said_so(towns: Towns, core: Core) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    row = f"{make_cf(61)},,2,false,false,0,0,0,2026-04-06T10:05\n"
    towns.bel.clock.advance(minutes=10)
    assert (await upload(clerk, HEADER + row)).status == 200
    for who in ("bel.clerk", "bel.viewer"):
        browser = await signed_in(towns.server, who)
        page = await browser.get("/office/applications")
        cell = re.search(r'<td data-label="Telefono"[^>]*>(.*?)</td>', page.text)
        assert cell is not None and "nessun telefono" in cell.group(1), (who, page.text)
        link = re.search(r'href="(/office/applications/[A-Z]+-2026-\d+)"', page.text)
        assert link is not None
        page = await browser.get(link.group(1))
        assert re.search(r"<dt>Telefono</dt><dd>\s*<span[^>]*>nessun telefono</span>", page.text)
