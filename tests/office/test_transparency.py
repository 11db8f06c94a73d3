"""Transparency and open data: aggregates and shop addresses, public; no personal data."""

from __future__ import annotations

import csv
import io
import json

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
