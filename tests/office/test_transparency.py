"""Transparency and open data: aggregates and shop addresses, public; no personal data."""

from __future__ import annotations

import csv
import io
import json
from html import unescape

from core.bootstrap import Core
from core.services import municipalities
from tests.factories import make_cf
from tests.integration.office_helpers import apply, close_approve_credit, person
from tests.office.conftest import Towns, signed_in


async def test_the_report_and_the_shops_are_open_data_without_personal_data(
    towns: Towns,
) -> None:
    protocols = await apply(towns.bel, *(person(n, 2) for n in range(1, 6)))
    await close_approve_credit(towns.bel, 1_000_00)
    anonymous = await towns.browser()
    page = await anonymous.get("/office/open-data/BEL/report.json")
    assert page.status == 200 and page.headers["Access-Control-Allow-Origin"] == "*"
    document = json.loads(page.body)
    assert document["schema"] == "buonispesa/transparency-report/1"
    rows = {(row["section"], row["metric"]): row["value"] for row in document["rows"]}
    assert rows[("applications", "applications_received")] == "5"
    page = await anonymous.get("/office/open-data/BEL/report.csv")
    header = page.body.decode().splitlines()[0]
    assert header == "section,metric,value,note"
    assert len(list(csv.DictReader(io.StringIO(page.body.decode())))) > 10
    shops = json.loads((await anonymous.get("/office/open-data/BEL/shops.json")).body)
    assert [shop["name"] for shop in shops["shops"]] == ["Alimentari Nò0"]
    for path in ("report.json", "report.csv", "report.md", "shops.csv", "shops.json"):
        body = (await anonymous.get(f"/office/open-data/BEL/{path}")).body.decode()
        assert all(p not in body for p in protocols), path
        assert all(make_cf(n) not in body for n in range(1, 6)), path
    assert (await anonymous.get("/office/open-data/XYZ/report.json")).status == 404
    # The office's own page is for operators only.
    assert (await anonymous.get("/office/transparency", follow=False)).status == 303
    viewer = await signed_in(towns.server, "bel.viewer")
    page = await viewer.get("/office/transparency")
    assert page.status == 200 and "Alimentari Nò0" in page.text and "OCDPC n. 658" in page.text


async def test_a_windows_report_stays_published_after_a_new_window_opens(
    towns: Towns, core: Core
) -> None:
    """The open-data report of window 1 at ?window=1, for the town's website to link for
    good: without it the address gives the latest window, which after a new window opens
    showed that window's zeros in place of the allocation published (and ?window=1 was
    ignored, answering window 2's report)."""
    await apply(towns.bel, *(person(n, 2) for n in range(1, 6)))
    await close_approve_credit(towns.bel, 1_000_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.open_window(uow, town, towns.bel.clock(), days=4)
        await uow.commit()
    anonymous = await towns.browser()

    async def published(query: str) -> dict[tuple[str, str], str]:
        page = await anonymous.get(f"/office/open-data/BEL/report.csv{query}")
        assert page.status == 200
        rows = csv.DictReader(io.StringIO(page.body.decode()))
        return {(row["section"], row["metric"]): row["value"] for row in rows}

    latest = await published("")
    assert latest[("report", "round")] == "2"
    assert latest[("applications", "applications_received")] == "0"
    first = await published("?window=1")
    assert first[("report", "round")] == "1"
    assert first[("applications", "applications_received")] == "5"
    document = json.loads((await anonymous.get("/office/open-data/BEL/report.json?window=1")).body)
    assert {"section": "report", "metric": "round", "value": "1", "note": ""} in document["rows"]
    markdown = (await anonymous.get("/office/open-data/BEL/report.md?window=1&lang=it")).text
    assert "Bando numero 1." in markdown
    assert (await anonymous.get("/office/open-data/BEL/report.csv?window=7")).status == 404
    assert (await anonymous.get("/office/open-data/BEL/report.csv?window=uno")).status >= 400

    # The office's page links the file of the window it shows, and the latest one apart.
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/transparency?window=1")
    assert "/office/open-data/BEL/report.csv?window=1" in page.text
    said = "Relazione per la trasparenza del bando 1 (questo indirizzo dà sempre questo bando)"
    assert said in unescape(page.text)
    assert 'href="/office/open-data/BEL/report.csv"' in page.text
