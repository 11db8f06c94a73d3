"""The table of applications the office downloads gives each application's date and time as
its pages show it, in the town's time: in CSV as ISO 8601 with the offset, to the second (the
import reads it back), in the .xlsx as a date and time cell, not a UTC string with
microseconds an hour away from the page."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from tests.conftest import FakeClock
from tests.integration.office_helpers import apply
from tests.office.conftest import BUYER, Towns, signed_in


async def test_the_applications_table_says_when_as_the_page_does(
    towns: Towns, clock: FakeClock
) -> None:
    clock.advance(seconds=0.674104)  # a stored moment has microseconds
    rome = clock().astimezone(ZoneInfo("Europe/Rome"))
    [protocol] = await apply(towns.bel, BUYER)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get(f"/office/applications/{protocol}")
    assert f"{rome:%d/%m/%Y %H:%M}" in page.text

    page = await clerk.get("/office/applications.csv")
    rows = {
        row["protocol"]: row for row in csv.DictReader(io.StringIO(page.body.decode("utf-8-sig")))
    }
    assert rows[protocol]["submitted_at"] == rome.replace(microsecond=0).isoformat()

    page = await clerk.get("/office/applications.xlsx")
    sheet = load_workbook(io.BytesIO(page.body)).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    [cell] = [
        row[header.index("submitted_at")]
        for row in sheet.iter_rows(min_row=2)
        if row[0].value == protocol
    ]
    assert isinstance(cell.value, datetime)
    assert cell.value == rome.replace(microsecond=0, tzinfo=None)
    assert cell.number_format == "dd/mm/yyyy hh:mm"
