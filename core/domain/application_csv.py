"""The applications and allocation CSV formats (see the README). Text in, values out; no file I/O.

Import is all-or-nothing: every row is checked and every problem reported with its physical
line number, so the office can fix the whole file in one go.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import phonenumbers
from stdnum import exceptions as stdnum_exceptions
from stdnum.it import codicefiscale

from core.domain.allocation import AllocationLine, ApplicationFacts
from core.domain.errors import InvalidAmount
from core.domain.money import format_plain, parse_plain

ROME = ZoneInfo("Europe/Rome")

APPLICATION_COLUMNS: tuple[str, ...] = (
    "codice_fiscale",
    "phone",
    "household_size",
    "has_work_income",
    "has_pension",
    "liquidity_eur",
    "public_support_monthly_eur",
    "rent_monthly_eur",
    "submitted_at",
)
ALLOCATION_COLUMNS: tuple[str, ...] = (
    "protocol",
    "codice_fiscale",
    "list",
    "score",
    "exclusion_reason",
    "amount_eur",
)

_TRUE = frozenset({"true", "1", "yes", "si", "sì"})
_FALSE = frozenset({"false", "0", "no"})
# Omocodia replaces digits of a codice fiscale with these letters (0..9), at these positions.
_OMOCODIA_LETTERS = "LMNPQRSTUV"
_OMOCODIA_POSITIONS = (6, 7, 9, 10, 12, 13, 14)


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    """One valid application from the CSV. Money in cents; submitted_at is timezone-aware."""

    codice_fiscale: str  # upper case, as written (an omocode stays an omocode)
    phone: str  # E.164 ("+393331234567") or "" when not given
    household_size: int
    has_work_income: bool
    has_pension: bool
    liquidity_cents: int
    public_support_monthly_cents: int
    rent_monthly_cents: int
    submitted_at: datetime
    # Physical line in the imported file (0 when not from a file); not part of the value.
    line: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class CsvError:
    line: int  # physical line number, the header is line 1
    column: str  # "" when the problem is the whole line or file
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ParsedApplications:
    rows: list[ApplicationRow] = field(default_factory=list)
    errors: list[CsvError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- import --------------------------------------------------------------------------------------


def parse_applications_csv(text: str) -> ParsedApplications:
    """Parse an applications CSV. When `errors` is not empty, `rows` must not be imported.

    Columns may come in any order; header names are matched ignoring case and spaces.
    """
    result = ParsedApplications()
    errors = result.errors
    text = text.removeprefix("\ufeff")  # Excel writes a BOM
    if not text.strip():
        errors.append(CsvError(1, "", "the file is empty: expected a header line"))
        return result

    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    # Italian spreadsheets save "CSV" with semicolons; the header tells which one was used.
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    # newline="" lets csv handle quoted line breaks; strict turns stray quotes into errors.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    seen: dict[str, int] = {}  # person -> line of the first application
    end_of_previous = 0
    try:
        for record in reader:
            start = end_of_previous + 1  # a quoted field may span lines: report where it starts
            end_of_previous = reader.line_num
            if not any(value.strip() for value in record):
                continue  # blank lines are harmless
            if header is None:
                header = [name.strip().lower() for name in record]
                errors.extend(_check_header(header, start))
                if errors:
                    return result
                continue
            if len(record) != len(header):
                message = f"expected {len(header)} fields, got {len(record)}"
                errors.append(CsvError(start, "", message))
                continue
            values = {name: value.strip() for name, value in zip(header, record, strict=True)}
            row = _parse_row(values, start, errors, seen)
            if row is not None:
                result.rows.append(row)
    except csv.Error as exc:
        # Unbalanced quotes and the like: the rest of the file cannot be trusted.
        errors.append(CsvError(reader.line_num, "", f"not readable as CSV: {exc}"))
    if header is None and not errors:
        errors.append(CsvError(1, "", "the file is empty: expected a header line"))
    return result


def _check_header(header: list[str], line: int) -> list[CsvError]:
    """One error per problem column: missing, unknown (with a guess), or repeated."""
    errors: list[CsvError] = []
    expected = set(APPLICATION_COLUMNS)
    missing = [name for name in APPLICATION_COLUMNS if name not in header]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.append(CsvError(line, name, f"column {name!r} appears more than once"))
            continue
        seen.add(name)
        if name in expected:
            continue
        guess = difflib.get_close_matches(name, missing, n=1)
        if guess:
            # A misspelt column is one mistake: do not also report its right name as missing.
            missing.remove(guess[0])
            message = f"unknown column {name!r}: did you mean {guess[0]!r}?"
        elif name:
            message = f"unknown column {name!r}"
        else:
            message = "a column has no name"
        errors.append(CsvError(line, name, message))
    errors.extend(CsvError(line, name, f"missing column {name!r}") for name in missing)
    return errors


def _parse_row(
    values: dict[str, str], line: int, errors: list[CsvError], seen: dict[str, int]
) -> ApplicationRow | None:
    """Check every field (all problems are reported, not just the first)."""
    before = len(errors)

    def fail(column: str, message: str) -> None:
        errors.append(CsvError(line, column, message))

    codice = _codice_fiscale(values["codice_fiscale"], fail)
    if codice is not None:
        person = _person_key(codice)
        if person in seen:
            fail(
                "codice_fiscale",
                f"duplicate codice fiscale {codice}, already on line {seen[person]}",
            )
        else:
            seen[person] = line
    phone = _phone(values["phone"], fail)
    size = _household_size(values["household_size"], fail)
    work = _boolean("has_work_income", values["has_work_income"], fail)
    pension = _boolean("has_pension", values["has_pension"], fail)
    liquidity = _euro("liquidity_eur", values["liquidity_eur"], fail)
    support = _euro("public_support_monthly_eur", values["public_support_monthly_eur"], fail)
    rent = _euro("rent_monthly_eur", values["rent_monthly_eur"], fail)
    submitted = _timestamp(values["submitted_at"], fail)
    if len(errors) > before:
        return None
    # Every converter returned a value when it reported nothing.
    assert codice is not None and phone is not None and size is not None
    assert work is not None and pension is not None and submitted is not None
    assert liquidity is not None and support is not None and rent is not None
    return ApplicationRow(
        codice_fiscale=codice,
        phone=phone,
        household_size=size,
        has_work_income=work,
        has_pension=pension,
        liquidity_cents=liquidity,
        public_support_monthly_cents=support,
        rent_monthly_cents=rent,
        submitted_at=submitted,
        line=line,
    )


class _Fail(Protocol):
    def __call__(self, column: str, message: str) -> None: ...


def _codice_fiscale(raw: str, fail: _Fail) -> str | None:
    if not raw:
        fail("codice_fiscale", "missing")
        return None
    code = codicefiscale.compact(raw)
    if len(code) != 16:
        # stdnum also accepts an 11-digit company code; an application is from a person.
        fail("codice_fiscale", f"must be a person's 16-character codice fiscale, got {raw!r}")
        return None
    try:
        codicefiscale.validate(code)
    except stdnum_exceptions.ValidationError as exc:
        fail("codice_fiscale", f"invalid codice fiscale {raw!r}: {exc}")
        return None
    return code


def _person_key(code: str) -> str:
    """The same person written with and without omocodia: digits restored, check letter dropped."""
    chars = list(code[:15])
    for position in _OMOCODIA_POSITIONS:
        letter = chars[position]
        if letter in _OMOCODIA_LETTERS:
            chars[position] = str(_OMOCODIA_LETTERS.index(letter))
    return "".join(chars)


def _phone(raw: str, fail: _Fail) -> str | None:
    if not raw:
        return ""  # paper applications may have no phone
    try:
        number = phonenumbers.parse(raw, "IT")  # national numbers are Italian
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        fail("phone", f"not a valid phone number: {raw!r}")
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _household_size(raw: str, fail: _Fail) -> int | None:
    if raw.isascii() and raw.isdigit() and int(raw) >= 1:
        return int(raw)
    fail("household_size", f"must be a whole number of members, at least 1, got {raw!r}")
    return None


def _boolean(column: str, raw: str, fail: _Fail) -> bool | None:
    word = raw.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    fail(column, f"must be true or false (also 1/0, yes/no, si/no), got {raw!r}")
    return None


def _euro(column: str, raw: str, fail: _Fail) -> int | None:
    if not raw:
        fail(column, "missing: write 0 when there is none")
        return None
    try:
        return parse_plain(raw)
    except InvalidAmount as exc:
        if exc.reason == "negative":
            problem = "must not be negative"
        elif exc.reason == "too_many_decimals":
            problem = "has more than two decimals"
        else:
            problem = "must be an amount in euro with a dot for decimals (e.g. 1234.50)"
        fail(column, f"{problem}, got {raw!r}")
        return None


def _timestamp(raw: str, fail: _Fail) -> datetime | None:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        fail(
            "submitted_at", f"must be an ISO 8601 date and time like 2020-04-01T09:30, got {raw!r}"
        )
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=ROME)  # the office writes local time
    # One zone for all rows keeps comparisons cheap and exports uniform; the instant is kept.
    return moment.astimezone(ROME)


# --- conversion and export ------------------------------------------------------------------


def to_facts(rows: Sequence[ApplicationRow]) -> list[ApplicationFacts]:
    """What allocate() needs; ref is the 1-based row number, row its 0-based index."""
    return [
        ApplicationFacts(
            ref=str(index + 1),
            household_size=row.household_size,
            has_work_income=row.has_work_income,
            has_pension=row.has_pension,
            liquidity_cents=row.liquidity_cents,
            public_support_monthly_cents=row.public_support_monthly_cents,
            rent_monthly_cents=row.rent_monthly_cents,
            submitted_at=row.submitted_at,
            row=index,
        )
        for index, row in enumerate(rows)
    ]


def write_applications_csv(rows: Iterable[ApplicationRow]) -> str:
    """The import format, so an export can be edited and imported back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(APPLICATION_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.codice_fiscale,
                row.phone,
                row.household_size,
                _bool_text(row.has_work_income),
                _bool_text(row.has_pension),
                format_plain(row.liquidity_cents),
                format_plain(row.public_support_monthly_cents),
                format_plain(row.rent_monthly_cents),
                row.submitted_at.isoformat(),
            )
        )
    return out.getvalue()


def write_allocation_csv(lines_with_cf: Iterable[tuple[AllocationLine, str]]) -> str:
    """One row per application: protocol (the line's ref), codice fiscale, list, score, amount."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ALLOCATION_COLUMNS)
    for line, codice in lines_with_cf:
        writer.writerow(
            (
                line.ref,
                codice,
                line.assignment.value,
                line.score_text,
                line.exclusion_reason.value if line.exclusion_reason is not None else "",
                format_plain(line.amount_cents),
            )
        )
    return out.getvalue()


def _bool_text(value: bool) -> str:
    return "true" if value else "false"
