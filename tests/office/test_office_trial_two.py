"""The second office trial (docs/office.md): files saved by Italian Excel, import problems
in the office's words, every bad budget of the simulator named, the score on the
application page, an appeal correction shown before → after."""

from __future__ import annotations

from html import unescape

import aiohttp

from core.domain.application_csv import decode_csv
from tests.conftest import FakeClock
from tests.factories import make_cf
from tests.integration.office_helpers import apply, close_approve_credit, person
from tests.office.conftest import Towns, signed_in
from tests.office.harness import OfficeBrowser, Page

ITALIAN_HEADER = (
    "codice_fiscale;phone;household_size;has_work_income;has_pension;liquidity_eur;"
    "public_support_monthly_eur;rent_monthly_eur;submitted_at\n"
)


async def upload(browser: OfficeBrowser, data: bytes, name: str = "paper.csv") -> Page:
    await browser.get("/office/applications/import")
    form = aiohttp.FormData()
    assert browser.csrf is not None
    form.add_field("csrf_token", browser.csrf)
    form.add_field("file", data, filename=name, content_type="text/csv")
    async with browser.client.post("/office/applications/import", data=form) as response:
        return Page(response.status, response.url.path_qs, await response.text())


def test_the_encodings_offices_save_are_read() -> None:
    text = "sì;1.044,00\n"
    for data in (
        text.encode("utf-8"),
        text.encode("utf-8-sig"),
        text.encode("cp1252"),
        text.encode("utf-16"),  # with its BOM
    ):
        assert decode_csv(data) == text, data
    assert decode_csv(b"PK\x03\x04\x14\x00\x06\x00") is None  # an .xlsx renamed .csv


async def test_a_file_saved_by_italian_excel_is_imported(towns: Towns, clock: FakeClock) -> None:
    clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    row = f"{make_cf(31)};;2;sì;no;1.044,00;0;0;06/04/2026 10:10\n"
    page = await upload(clerk, (ITALIAN_HEADER + row).encode("cp1252"))
    assert page.status == 200 and "Importata 1 domanda." in unescape(page.text), page.text


async def test_a_file_that_is_not_text_stays_on_the_import_form(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await upload(clerk, b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "domande.csv")
    said = unescape(page.text)
    assert page.status == 400
    assert "domande.csv non è un file CSV di testo" in said
    assert '"CSV UTF-8 (delimitato da virgole)"' in said
    assert 'action="/office/applications/import"' in said  # the form, to try again


async def test_import_problems_speak_the_offices_language(towns: Towns, clock: FakeClock) -> None:
    clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    header = ITALIAN_HEADER.replace(";", ",")
    bad = header + (
        f"{make_cf(32)},,2,forse,false,99999999999,0,0,2026-04-06T10:10:00\n"
        f"{make_cf(33)},,2,false,false,12;50,0,0,2026-04-06T10:10:00\n"
    )
    said = unescape((await upload(clerk, bad.encode())).text)
    assert "colonna has_work_income (reddito da lavoro, sì o no): deve essere sì o no" in said
    assert "al massimo 10.000.000,00\xa0€" in said, said
    assert "1234.50 vale 1.234,50\xa0€" in said, said
    assert "true o false" not in said and "10000000.00 euro" not in said
    late = header + f"{make_cf(34)},,2,false,false,0,0,0,2030-04-06T10:10:00\n"
    said = unescape((await upload(clerk, late.encode())).text)
    assert "colonna submitted_at (data e ora della domanda, ora di Roma)" in said, said


async def test_every_bad_budget_is_named_by_its_field(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get(
        "/office/round?budget=1.500,00&budget=-100&budget=1e3&budget=99999999999,99"
    )
    said = unescape(page.text)
    for number, value in ((2, "-100"), (3, "1e3"), (4, "99999999999,99")):
        assert f"Budget {number} ({value}):" in said, (number, said)
    assert "Nuclei in lista 1" in said and "Assegnato alla lista 1" in said


async def test_the_application_page_shows_the_score(towns: Towns) -> None:
    first, second = person(1, 2, support_cents=300_00, rent_cents=100_00), person(2, 1)
    [ranked, listed] = await apply(towns.bel, first, second)
    await close_approve_credit(towns.bel, 10_000_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    said = unescape((await clerk.get(f"/office/applications/{listed}")).text)
    assert "nessuno: solo la lista 2 è ordinata per punteggio" in said
    said = unescape((await clerk.get(f"/office/applications/{ranked}")).text)
    assert "100,00\xa0€ per componente" in said, said  # (300 - 100) / 2
