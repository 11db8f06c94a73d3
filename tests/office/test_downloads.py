"""The pages whose table downloads as CSV and as .xlsx (the activity log, what each shop is
owed, the sums to recover) offer the two files with one macro, downloads.html."""

from __future__ import annotations

import re

import pytest

from tests.dialogue.catalog import ROOT
from tests.office.conftest import signed_in
from tests.office.harness import OfficeServer

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
    office: OfficeServer, page: str, links: list[tuple[str, str]]
) -> None:
    clerk = await signed_in(office, "bel.clerk")
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
