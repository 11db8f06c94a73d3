"""What the back-office trial of 2026-12-03 found, each checked where the office sees it:
closing a window asks first, the report is HTML, Italian pages say Italian things, the
paper letters name their town and window, the history tells what happened, and the small
ones (links, commas, periods, columns)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest

from core.bootstrap import Core
from core.domain.application_csv import APPLICATION_COLUMNS, parse_applications_csv
from core.domain.errors import Conflict
from core.services import back_office, municipalities
from core.services.applications import submit_application
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import make_cf
from tests.integration.office_helpers import (
    Office,
    apply,
    close_approve_credit,
    person,
)
from tests.office.conftest import Towns, shop_owed, signed_in
from tests.office.pdf_text import pdf_text


def said(html: str) -> str:
    """The page's text as read: tags gone, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def apply_on_paper(office: Office, *indexes: int) -> list[str]:
    protocols = []
    for index in indexes:
        async with office.core.uow() as uow:
            town = await municipalities.require(uow, office.code)
            application = await submit_application(
                uow, town, person(index, 2), source="paper", now=office.clock()
            )
            await uow.commit()
            protocols.append(application.protocol)
        office.clock.advance(minutes=1)
    return protocols


async def window_is_open(core: Core) -> bool:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        round_ = await municipalities.current_round(uow, town.id)
        assert round_ is not None
        return round_.closes_at > core.now()


# --- 5: closing the window early asks first ------------------------------------------------


async def test_closing_the_window_early_asks_for_a_confirmation_first(
    towns: Towns, core: Core
) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/round")
    assert 'action="/office/round/window/close"' in page.text and 'method="get"' in page.text
    # The round page's button (or any post without the confirmation) shows what it means.
    page = await clerk.post("/office/round/window/close")
    assert page.status == 200 and page.url == "/office/round/window/close"
    text = said(page.text)
    assert "Chiudere ora il bando?" in text and "Un bando chiuso non si riapre" in text
    assert "Sì, chiudi ora il bando 1" in text and "No, lascialo aperto" in text
    assert await window_is_open(core)
    page = await clerk.post("/office/round/window/close", {"number": "1", "confirm": "yes"})
    assert page.status == 200 and "Il bando 1 è chiuso." in page.text
    assert not await window_is_open(core)
    viewer = await signed_in(towns.server, "bel.viewer")
    assert (await viewer.get("/office/round/window/close")).status == 403


async def test_a_page_that_named_another_window_closes_nothing(towns: Towns, core: Core) -> None:
    """The page said window 1; a colleague closed it and opened window 2 meanwhile: the
    confirmation would close window 2, just opened, which nobody was shown. Refused."""
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/round/window/close")
    assert '<input type="hidden" name="number" value="1">' in page.text
    colleague = await signed_in(towns.server, "bel.manager")
    shown = {"number": "1", "confirm": "yes"}
    assert (await colleague.post("/office/round/window/close", shown)).status == 200
    opening = {"days": "3", "number": "2", "confirm": "yes"}
    assert (await colleague.post("/office/round/window/open", opening)).status == 200
    page = await clerk.post("/office/round/window/close", shown)
    assert page.status == 409
    assert (
        "Non è stato chiuso nulla: il bando 1 non è più quello aperto, perché nel frattempo un "
        "bando è stato chiuso e un altro aperto (ora quello aperto è il bando 2)."
    ) in said(page.text)
    assert await window_is_open(core)
    # A confirmation that names no window (a page from before) only shows the page again.
    page = await clerk.post("/office/round/window/close", {"confirm": "yes"})
    assert page.status == 200 and page.url == "/office/round/window/close"
    assert await window_is_open(core)


async def test_the_service_refuses_to_close_a_window_without_the_confirmation(
    towns: Towns, core: Core
) -> None:
    async with core.uow() as uow:
        clerk = await uow.operators.by_username("bel.clerk")
        assert clerk is not None
        with pytest.raises(Conflict) as refused:
            await back_office.close_window(
                uow, clerk, core.now(), confirmed=False, expected_number=1
            )
    assert refused.value.code == "window.not_confirmed"
    assert await window_is_open(core)


# --- 6: the transparency report as HTML, for a chosen window ---------------------------------


async def test_the_transparency_page_shows_the_report_as_tables_for_the_window_asked(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await apply(towns.bel, *(person(n, 2) for n in range(1, 6)))
    await close_approve_credit(towns.bel, 1_000_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.open_window(uow, town, clock(), days=3)
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/transparency")
    assert "<pre" not in page.text and "|---" not in page.text and "## " not in page.text
    assert '<table class="data figures' in page.text and '<td class="num">' in page.text
    assert "Bando numero 2." in said(page.text)
    assert 'href="/office/transparency?window=1"' in page.text
    page = await clerk.get("/office/transparency?window=1")
    text = said(page.text)
    assert page.status == 200 and "Bando numero 1." in text
    assert "Domande ricevute 5" in text and "Accreditato alle famiglie 1.000,00 €" in text
    # The amount in a right-aligned cell.
    assert re.search(r'<td class="num">1\.000,00\s€</td>', page.text)
    assert (await clerk.get("/office/transparency?window=9")).status == 404
    assert (await clerk.get("/office/transparency?window=uno")).status == 409


# --- 8: Italian on Italian pages -------------------------------------------------------------


async def test_shops_show_their_category_and_status_in_the_offices_language(
    towns: Towns,
) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/shops")
    assert '<td data-label="Categoria">Alimentari</td>' in page.text
    assert '<td data-label="Stato"><div>approvato' in page.text
    assert "grocery" not in page.text and ">approved" not in page.text


async def test_a_paper_import_with_a_wrong_check_letter_is_explained_in_italian(
    towns: Towns, clock: FakeClock
) -> None:
    from tests.office.test_applications import HEADER, upload

    clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    wrong = make_cf(21)[:15] + ("A" if make_cf(21)[15] != "A" else "B")
    page = await upload(clerk, HEADER + f"{wrong},,1,false,false,0,0,0,2026-04-06T10:10:00\n")
    text = said(page.text)
    assert page.status == 400 and "non valido: l'ultima lettera" in text, text
    assert "checksum" not in text and "The number" not in text


# --- 10: the paper letters of a chosen window --------------------------------------------------


async def test_paper_letters_name_the_town_and_the_window_chosen(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    paper = await apply_on_paper(towns.bel, 31, 32)
    await close_approve_credit(towns.bel, 1_000_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.open_window(uow, town, clock(), days=3)
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/documents")
    text = said(page.text)
    assert "Bando 2: 0 domande su carta" in text and "Bando 1: 2 domande su carta" in text
    latest = pdf_text((await clerk.get("/office/documents/paper-letters.pdf")).body)
    assert "Comune di Comune di Belforte del Chienti" in latest
    assert "Nel bando 2 nessuno ha fatto domanda su carta." in latest
    first = await clerk.get("/office/documents/paper-letters.pdf?window=1")
    text = pdf_text(first.body)
    assert first.status == 200 and all(protocol in text for protocol in paper)
    assert "Bando" in text and "Nessuna domanda" not in text
    assert (await clerk.get("/office/documents/paper-letters.pdf?window=7")).status == 404


# --- 11: a template for the paper import; a real date in the date refusal ---------------------


async def test_the_paper_import_template_has_the_header_and_an_example_row_that_imports(
    towns: Towns,
) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/applications/import")
    assert 'href="/office/applications/import/template.csv"' in page.text
    page = await clerk.get("/office/applications/import/template.csv")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(page.body.decode("utf-8"))))
    assert rows[0] == list(APPLICATION_COLUMNS) and len(rows) == 2
    parsed = parse_applications_csv(page.body.decode("utf-8"))
    assert parsed.errors == [] and len(parsed.rows) == 1


async def test_a_wrong_execution_date_is_explained_with_a_real_date(
    towns: Towns, clock: FakeClock
) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    # 30/04/2026 is read day first, as at the desk; 30/02/2026 is no date.
    page = await clerk.post(
        "/office/acts", {"kind": "reimbursement", "execution_date": "30/02/2026"}
    )
    today = clock().date()
    text = said(page.text)
    assert page.status == 409
    assert (
        "30/02/2026 non è una data: scrivila come giorno/mese/anno in cifre, per esempio "
        f"{today:%d/%m/%Y}, oppure come anno-mese-giorno, {today:%Y-%m-%d}." in text
    ), text
    assert "calendario" not in text


# --- 12: the small ones -------------------------------------------------------------------------


async def test_the_dashboard_counters_lead_to_their_pages(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/round/window/close", {"number": "1", "confirm": "yes"})
    await clerk.get("/office/round")
    await clerk.post("/office/acts", {"kind": "determina", "budget": "500"})
    page = await clerk.get("/office/")
    assert '<a href="/office/round#acts">Atti da approvare</a>' in page.text
    assert '<a href="#phone-changes">Cambi di telefono da approvare</a>' in page.text
    assert 'id="phone-changes"' in page.text
    assert '<a href="/office/shops">Negozi da esaminare</a>' in page.text


async def test_the_history_of_an_application_tells_its_credit(towns: Towns) -> None:
    [protocol] = await apply(towns.bel, person(1, 4))
    await close_approve_credit(towns.bel, 1_000_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get(f"/office/applications/{protocol}")
    history = said(page.text.split("<h2>Cronologia</h2>")[1])
    assert "Ancora nulla." not in history
    assert "Tranche 1 approvata: Lista 1, 300,00 €" in history
    assert "Accreditati 300,00 € (tranche 1)" in history
    assert "Domanda ricevuta" in history
    # Newest first: the credit, then the tranche, then the application.
    assert history.index("Accreditati") < history.index("Tranche 1") < history.index("ricevuta")


async def test_each_shop_member_is_listed_once(towns: Towns, core: Core) -> None:
    shop_id = towns.bel.shop_ids[0]
    async with core.uow() as uow:
        uow.add(
            m.ShopMember(
                shop_id=shop_id,
                channel="terminal",
                address="+393339000000",  # the owner's phone, as the demo adds it
                role="owner",
                created_at=core.now(),
            )
        )
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/shops")
    members = said(page.text.split('id="members"')[1].split("Tutti i negozi")[0])
    assert members.count("***000") == 1 and members.count(", titolare,") == 1, members
    assert "SMS · chat dal terminale ***000, titolare" in members


async def test_the_determina_writes_scores_with_a_decimal_comma(towns: Towns) -> None:
    await apply(towns.bel, person(2, 3, support_cents=30000, rent_cents=5000))
    await close_approve_credit(towns.bel, 1_000_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    text = pdf_text((await clerk.get("/office/round/tranche/1/determina.pdf")).body)
    assert "83,33" in text and "83.33" not in text  # (300 - 50) / 3 euro per member


async def test_a_viewer_searching_by_codice_fiscale_is_told_why_nothing_is_found(
    towns: Towns,
) -> None:
    await apply(towns.bel, person(1, 2))
    viewer = await signed_in(towns.server, "bel.viewer")
    page = await viewer.get(f"/office/applications?q={make_cf(1)}")
    assert "Con il ruolo di consultazione cerchi solo per protocollo" in said(page.text)
    page = await viewer.get("/office/applications?q=BEL-2026")
    assert "ruolo di consultazione" not in said(page.text)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get(f"/office/applications?q={make_cf(1)}")
    assert "ruolo di consultazione" not in said(page.text) and "1 domanda trovata" in page.text


async def test_a_shop_statement_names_its_last_day_not_the_next_midnight(
    towns: Towns, clock: FakeClock
) -> None:
    await shop_owed(towns, 12_34)
    clerk = await signed_in(towns.server, "bel.clerk")
    day = clock().date()
    page = await clerk.get(
        f"/office/shops/{towns.bel.shop_ids[0]}/statement.pdf?from={day}&to={day}"
    )
    text = " ".join(pdf_text(page.body).split())
    shown = f"{day:%d/%m/%Y}"
    assert f"dal {shown} al {shown}, entrambi i giorni compresi" in text, text
    assert f"{day + timedelta(days=1):%d/%m/%Y}" not in text


def test_audit_recover_never_cuts_the_protocol() -> None:
    """A narrow terminal: the protocol column keeps its whole width (rich no_wrap)."""
    from rich.console import Console

    from buonispesa.cli.office import recovery_rich_table
    from core.services import audit

    row = audit.ToRecover(
        protocol="BEL-2026-000123",
        revoked_at=FakeClock()(),
        credited_cents=300_00,
        returned_cents=250_00,
        to_recover_cents=50_00,
        reason=None,
    )
    narrow = Console(width=50, record=True)
    narrow.print(recovery_rich_table([row]))
    assert "BEL-2026-000123" in narrow.export_text()
