"""The pages whose table downloads as CSV and as .xlsx (the activity log, what each shop is
owed, the sums to recover) offer the two files with one macro, downloads.html."""

from __future__ import annotations

import re

import pytest

from tests.dialogue.catalog import ROOT
from tests.office.conftest import Towns, shop_owed, signed_in
from tests.office.test_audit_appeals import credited, prepare

DOWNLOADS = re.compile(r'<p class="downloads">(.*?)</p>', re.DOTALL)
LINK = re.compile(r'<a href="([^"]+)">([^<]+)</a>')


@pytest.mark.parametrize(
    ("page", "links"),
    [
        (
            "/office/activity",
            [
                ("/office/activity.csv", "Scarica CSV"),
                ("/office/activity.xlsx", "Scarica foglio di calcolo (.xlsx)"),
            ],
        ),
        (
            "/office/reimbursement",
            [
                ("/office/reimbursement/owed.csv", "Scarica CSV"),
                ("/office/reimbursement/owed.xlsx", "Scarica foglio di calcolo (.xlsx)"),
            ],
        ),
        (
            "/office/audit",
            [
                ("/office/audit/to-recover.csv", "Scarica (CSV)"),
                ("/office/audit/to-recover.xlsx", "Scarica (.xlsx)"),
            ],
        ),
    ],
)
async def test_a_table_offers_its_csv_and_xlsx(
    towns: Towns, page: str, links: list[tuple[str, str]]
) -> None:
    # An empty table offers no files (test_nothing_owed_is_said_and_offers_no_empty_files).
    if page == "/office/reimbursement":
        await shop_owed(towns)
    if page == "/office/audit":
        await revoked(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    shown = await clerk.get(page)
    assert shown.status == 200
    blocks = DOWNLOADS.findall(shown.text)
    assert [LINK.findall(block) for block in blocks] == [links]
    for href, _label in links:
        assert (await clerk.get(href)).status == 200, href


def test_no_page_keeps_its_own_copy_of_the_two_links() -> None:
    templates = ROOT / "office" / "templates"
    copies = [
        path.name
        for path in sorted(templates.glob("*.html"))
        if path.name != "downloads.html"
        and "format='xlsx'" in path.read_text()
        and '<p class="downloads">' in path.read_text()
    ]
    assert copies == []


async def revoked(towns: Towns) -> None:
    """One application credited, then revoked: a sum to recover."""
    [protocol, *_] = await credited(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    act = await prepare(clerk, kind="revocation", protocol=protocol, reason="ISEE falso")
    manager = await signed_in(towns.server, "bel.manager")
    assert (await manager.post(f"/office/acts/{act}/approve")).status == 200


async def test_nothing_owed_is_said_and_offers_no_empty_files(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    page = await clerk.get("/office/reimbursement")
    assert page.status == 200
    assert "No shop is owed anything: there is nothing to reimburse." in page.text
    assert DOWNLOADS.findall(page.text) == [] and "owed.csv" not in page.text
    assert 'name="execution_date"' not in page.text
    page = await clerk.get("/office/audit")
    assert page.status == 200
    assert '<p id="nothing-to-recover"><strong>Nothing to recover.</strong></p>' in page.text
    assert DOWNLOADS.findall(page.text) == [] and "to-recover.csv" not in page.text
