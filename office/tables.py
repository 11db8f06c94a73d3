"""Tables the office downloads, as CSV and as .xlsx (openpyxl), from the same rows.

Cells are text, integers or moments; money columns are euro with a dot and two decimals in
CSV (as every other CSV of the project) and numbers with a euro format in the spreadsheet; a
moment is ISO 8601 with its offset in CSV and a date and time cell (31/12/2026 10:00) in the
spreadsheet, at the clock time it was given in. Text is typed by people, so it never becomes
a formula (core.domain.spreadsheet).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aiohttp import web
from openpyxl import Workbook
from openpyxl.styles import Font

from core.domain.money import format_plain
from core.domain.spreadsheet import csv_text, may_run

Cell = str | int | datetime | None


@dataclass(frozen=True)
class Column:
    header: str
    money: bool = False  # integer cents


@dataclass(frozen=True)
class Table:
    name: str  # file name without extension
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]

    def csv(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([column.header for column in self.columns])
        for row in self.rows:
            writer.writerow(
                [_csv_cell(column, cell) for column, cell in zip(self.columns, row, strict=True)]
            )
        # With a BOM: spreadsheet programs then read the accents right.
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    def xlsx(self) -> bytes:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = self.name[:31]
        sheet.append([column.header for column in self.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for number, row in enumerate(self.rows, start=2):
            sheet.append(
                [_sheet_cell(column, cell) for column, cell in zip(self.columns, row, strict=True)]
            )
            for cell in sheet[number]:
                if isinstance(cell.value, datetime):
                    cell.number_format = "dd/mm/yyyy hh:mm"
                elif isinstance(cell.value, str):
                    # openpyxl makes "=..." a formula and "#N/A" an error: text stays text,
                    # and Excel keeps it text when someone edits the cell.
                    cell.data_type = "s"
                    if may_run(cell.value):
                        cell.quotePrefix = True
        for index, column in enumerate(self.columns, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            if column.money:
                for cell in sheet[letter][1:]:
                    cell.number_format = "#,##0.00 €"
            width = max([len(column.header)] + [len(_text(r[index - 1])) for r in self.rows])
            sheet.column_dimensions[letter].width = min(60, width + 2)
        sheet.freeze_panes = "A2"
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    def response(self, fmt: str) -> web.Response:
        if fmt == "xlsx":
            body = self.xlsx()
            kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            body, kind = self.csv(), "text/csv"
            fmt = "csv"
        return web.Response(
            body=body,
            headers={
                "Content-Type": kind + ("; charset=utf-8" if fmt == "csv" else ""),
                "Content-Disposition": f'attachment; filename="{self.name}.{fmt}"',
            },
        )


def _sheet_cell(column: Column, cell: Cell) -> Decimal | str | int | datetime | None:
    if column.money and isinstance(cell, int):
        return Decimal(cell) / 100
    if isinstance(cell, datetime):
        # A spreadsheet has no time zones: the clock time the office reads on its pages.
        return cell.replace(tzinfo=None)
    return cell


def _csv_cell(column: Column, cell: Cell) -> str:
    if column.money and isinstance(cell, int):
        return format_plain(cell)
    return csv_text(cell) if isinstance(cell, str) else _text(cell)


def _text(cell: Cell) -> str:
    if isinstance(cell, datetime):
        return cell.isoformat()
    return "" if cell is None else str(cell)
