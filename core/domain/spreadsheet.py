"""Text that people typed, written into a CSV or .xlsx without becoming a formula.

A spreadsheet program reads a cell starting with = + - @ (or a tab or carriage return
before one) as a formula: a shop named `=HYPERLINK(...)` would run in the office's Excel.
Every text cell of every file we write goes through this module (OWASP, "CSV Injection"):
in CSV such a cell gets a leading apostrophe, in .xlsx (office.tables) it is stored as a
string cell. Numbers, dates and amounts keep their format.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A signed number written as text (an amount "-12.50", a phone "+393331234567") is no
# formula in any spreadsheet program: left as it is, the files' formats stay the same.
_SIGNED_NUMBER = re.compile(r"[+-]\d+(?:[.,]\d+)*")


def may_run(text: str) -> bool:
    """Whether a spreadsheet program could read this text as a formula."""
    return text.startswith(FORMULA_STARTS) and _SIGNED_NUMBER.fullmatch(text) is None


def csv_text(text: str) -> str:
    """A text cell for a CSV file: with a leading apostrophe when it could run."""
    return "'" + text if may_run(text) else text


def csv_row(cells: Iterable[object]) -> list[object]:
    """A CSV row: its text cells made safe, every other cell (a number) as it is."""
    return [csv_text(cell) if isinstance(cell, str) else cell for cell in cells]


def csv_record(row: Mapping[str, object]) -> dict[str, object]:
    """A csv.DictWriter's row, its text values made safe."""
    return {key: csv_text(value) if isinstance(value, str) else value for key, value in row.items()}


class CsvWriter:
    """csv.writer (one "\\n" a line, as every CSV here) whose text never runs as a formula."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, cells: Iterable[object]) -> None:
        self._writer.writerow(csv_row(cells))

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)
