"""Text typed by people never becomes a live formula in the files the office downloads: a
shop named `=HYPERLINK(...)` is a string cell in .xlsx and starts with ' in CSV, while
amounts, counts and phone numbers keep their format."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from core.bootstrap import Core
from core.domain.spreadsheet import CsvWriter, csv_text, may_run
from office.tables import Column, Table
from tests.conftest import FakeClock
from tests.office.conftest import Towns, shop_owed, signed_in

FORMULA = '=HYPERLINK("http://x.example","a")'


def _sheet(body: bytes) -> list[list[tuple[object, str]]]:
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    return [[(cell.value, cell.data_type) for cell in row] for row in sheet.iter_rows()]


def test_text_that_could_run_is_recognised_and_numbers_are_not() -> None:
    for text in (FORMULA, "+A1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "-", "=1"):
        assert may_run(text) and csv_text(text) == "'" + text, text
    for text in ("Alimentari", "-12.50", "+393331234567", "12,50", "", "a=b", "'=x"):
        assert not may_run(text) and csv_text(text) == text, text


def test_a_formula_in_a_table_is_text_and_a_negative_amount_stays_a_number() -> None:
    table = Table(
        name="t",
        columns=[Column("name"), Column("amount_eur", money=True), Column("count")],
        rows=[[FORMULA, -12_50, -3], ["#N/A", 5_00, 2], ["+393331234567", 0, None]],
    )
    rows = list(csv.reader(io.StringIO(table.csv().decode("utf-8-sig"))))
    assert rows[1:] == [
        ["'" + FORMULA, "-12.50", "-3"],
        ["#N/A", "5.00", "2"],
        ["+393331234567", "0.00", ""],
    ]
    cells = _sheet(table.xlsx())
    assert cells[1] == [(FORMULA, "s"), (-12.5, "n"), (-3, "n")]
    assert cells[2][0] == ("#N/A", "s")  # not an error cell either
    assert cells[3][0] == ("+393331234567", "s")


def test_every_csv_writer_of_the_project_goes_through_the_same_rule() -> None:
    out = io.StringIO()
    CsvWriter(out).writerow(["report", "municipality", "@cmd", 3, "-1.50"])
    assert out.getvalue() == "report,municipality,'@cmd,3,-1.50\n"


async def test_a_shop_named_as_a_formula_downloads_as_text(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    shop_id = await shop_owed(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    # "Correggi il nome" takes it: a name is the owner's to choose; the files keep it inert.
    page = await clerk.post("/office/shops/rename", {"shop": str(shop_id), "name": FORMULA})
    assert page.status == 200
    owed = await clerk.get("/office/reimbursement/owed.csv")
    [row] = list(csv.DictReader(io.StringIO(owed.body.decode("utf-8-sig"))))
    assert row["name"] == "'" + FORMULA and row["amount_eur"] == "42.50"
    cells = _sheet((await clerk.get("/office/reimbursement/owed.xlsx")).body)
    assert cells[1][1] == (FORMULA, "s") and cells[1][4] == (42.5, "n")
    anonymous = await towns.server.browser()
    shops = await anonymous.get("/office/open-data/BEL/shops.csv")
    [published] = list(csv.DictReader(io.StringIO(shops.body.decode("utf-8"))))
    assert published["name"] == "'" + FORMULA
