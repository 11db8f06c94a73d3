"""The applications and allocation CSV formats (see the README). Text in, values out; no file I/O.

Import is all-or-nothing: every row is checked and every problem reported with its physical
line number, so the office can fix the whole file in one go.

Two dialects are read. The documented one: comma-separated, euro with a dot for decimals
("1044.00"), ISO 8601 times. And what a spreadsheet saves in Italian: semicolon-separated,
decimal comma ("1044,00" or "1.044,00"), "31/12/2026 10:00". The header line tells which
(a semicolon and no comma: Italian). Booleans may be written VERO/FALSO in both.
Problems are gettext Texts (the office reads them in its language); `message` is English.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import phonenumbers
from stdnum import exceptions as stdnum_exceptions
from stdnum.it import codicefiscale

from core.domain.allocation import AllocationLine, ApplicationFacts
from core.domain.errors import InvalidAmount
from core.domain.identity import codice_fiscale_person_key
from core.domain.messages import Money, Text, t
from core.domain.money import format_plain, parse_euro, parse_plain
from core.domain.spreadsheet import CsvWriter

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

_TRUE = frozenset({"true", "1", "yes", "si", "sì", "vero"})
_FALSE = frozenset({"false", "0", "no", "falso"})
# Plausibility: beyond these a value is a typo, and could not even be stored (64-bit columns).
MAX_HOUSEHOLD_SIZE = 30
MAX_AMOUNT_CENTS = 10_000_000_00  # ten million euro, in any amount column
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
_ITALIAN_MOMENT = re.compile(
    r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})(?:[ T]+(?P<H>\d{1,2})[:.](?P<M>\d{2})"
    r"(?:[:.](?P<S>\d{2}))?)?",
    re.ASCII,  # the digits 0-9 only: \d alone also takes Arabic-Indic or Persian digits
)
# A day as ISO writes it in full, and nothing else of ISO 8601: date.fromisoformat also
# reads a week day (2026-W49-1), an ordinal day (2026-336) and the compact 20261201.
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    """One valid application from the CSV. Money in cents; submitted_at is timezone-aware.

    The file format's shape: what a line of the office's CSV holds once checked, with its
    line number for error messages and nothing that needs the database. The import turns
    it into an `ApplicationInput` (services.applications) with its `submitted_at`; the
    allocation simulation turns it into `ApplicationFacts`.
    """

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
    text: Text  # the problem, rendered in the reader's language at the edge

    @property
    def message(self) -> str:
        """The problem in English (the msgid with its parameters, amounts as 1234.50 €)."""
        params = {
            name: f"{format_plain(value.cents)} €" if isinstance(value, Money) else value
            for name, value in self.text.params.items()
        }
        return self.text.msgid.format(**params)

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


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# Control characters no CSV of text holds (a spreadsheet or a zip renamed .csv does).
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_csv(data: bytes) -> str | None:
    """The text of a CSV file as offices save it: UTF-8 (with or without BOM), UTF-16 with
    BOM ("Unicode text"), else Windows-1252, what Excel in Italian saves as "CSV (delimitato
    dal separatore di elenco)". None when it is not text at all (an .xlsx, a zip, a PDF)."""
    text: str | None = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return None
            break
    else:
        for encoding in ("utf-8", "cp1252"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    if text is None or _BINARY.search(text):
        return None
    return text


def parse_applications_csv(text: str) -> ParsedApplications:
    """Parse an applications CSV. When `errors` is not empty, `rows` must not be imported.

    Columns may come in any order; header names are matched ignoring case and spaces.
    """
    result = ParsedApplications()
    errors = result.errors
    text = text.removeprefix("\ufeff")  # Excel writes a BOM
    if not text.strip():
        errors.append(CsvError(1, "", _EMPTY))
        return result

    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    # Italian spreadsheets save "CSV" with semicolons; the header tells which one was used.
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    italian = delimiter == ";"
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
                message = t(
                    "expected {expected} fields, got {count}",
                    expected=len(header),
                    count=len(record),
                )
                errors.append(CsvError(start, "", message))
                continue
            values = {name: value.strip() for name, value in zip(header, record, strict=True)}
            row = _parse_row(values, start, errors, seen, italian=italian)
            if row is not None:
                result.rows.append(row)
    except csv.Error as exc:
        # Unbalanced quotes and the like: the rest of the file cannot be trusted.
        problem = t("not readable as CSV: {problem}", problem=str(exc))
        errors.append(CsvError(reader.line_num, "", problem))
    if header is None and not errors:
        errors.append(CsvError(1, "", _EMPTY))
    return result


def parse_application_fields(values: Mapping[str, str]) -> ParsedApplications:
    """One paper application typed on the office's form, its fields named as the file's
    columns, checked by the same rules as a row of the file in a spreadsheet's Italian
    (1.234,56 or 1234.56, 31/12/2026 10:00, sì/no): a form is filled in by a person, as a
    spreadsheet is. A field left out reads as empty. Errors name their column; line 0."""
    result = ParsedApplications()
    record = {name: values.get(name, "").strip() for name in APPLICATION_COLUMNS}
    row = _parse_row(record, 0, result.errors, {}, italian=True)
    if row is not None:
        result.rows.append(row)
    return result


_EMPTY = t("the file is empty: expected a header line")


def _check_header(header: list[str], line: int) -> list[CsvError]:
    """One error per problem column: missing, unknown (with a guess), or repeated."""
    errors: list[CsvError] = []
    expected = set(APPLICATION_COLUMNS)
    missing = [name for name in APPLICATION_COLUMNS if name not in header]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.append(
                CsvError(line, name, t("column {name} appears more than once", name=repr(name)))
            )
            continue
        seen.add(name)
        if name in expected:
            continue
        guess = difflib.get_close_matches(name, missing, n=1)
        if guess:
            # A misspelt column is one mistake: do not also report its right name as missing.
            missing.remove(guess[0])
            message = t(
                "unknown column {name}: did you mean {guess}?",
                name=repr(name),
                guess=repr(guess[0]),
            )
        elif name:
            message = t("unknown column {name}", name=repr(name))
        else:
            message = t("a column has no name")
        errors.append(CsvError(line, name, message))
    errors.extend(
        CsvError(line, name, t("missing column {name}", name=repr(name))) for name in missing
    )
    return errors


def _parse_row(
    values: dict[str, str],
    line: int,
    errors: list[CsvError],
    seen: dict[str, int],
    *,
    italian: bool = False,
) -> ApplicationRow | None:
    """Check every field (all problems are reported, not just the first)."""
    before = len(errors)

    def fail(column: str, message: Text) -> None:
        errors.append(CsvError(line, column, message))

    codice = _codice_fiscale(values["codice_fiscale"], fail)
    if codice is not None:
        person = codice_fiscale_person_key(codice)
        if person in seen:
            fail(
                "codice_fiscale",
                t(
                    "duplicate codice fiscale {cf}, already on line {first}",
                    cf=codice,
                    first=seen[person],
                ),
            )
        else:
            seen[person] = line
    phone = _phone(values["phone"], fail)
    size = _household_size(values["household_size"], fail)
    work = _boolean("has_work_income", values["has_work_income"], fail)
    pension = _boolean("has_pension", values["has_pension"], fail)
    liquidity = _euro("liquidity_eur", values["liquidity_eur"], fail, italian)
    support = _euro(
        "public_support_monthly_eur", values["public_support_monthly_eur"], fail, italian
    )
    rent = _euro("rent_monthly_eur", values["rent_monthly_eur"], fail, italian)
    submitted = _timestamp(values["submitted_at"], fail, italian)
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
    def __call__(self, column: str, message: Text) -> None: ...


def _codice_fiscale(raw: str, fail: _Fail) -> str | None:
    if not raw:
        fail("codice_fiscale", t("missing"))
        return None
    code = codicefiscale.compact(raw)
    if len(code) != 16:
        # stdnum also accepts an 11-digit company code; an application is from a person.
        fail(
            "codice_fiscale",
            t("must be a person's 16-character codice fiscale, got {value}", value=repr(raw)),
        )
        return None
    try:
        codicefiscale.validate(code)
    except stdnum_exceptions.ValidationError as exc:
        # stdnum's own reason is English: the office reads one of ours, in its language.
        fail("codice_fiscale", _codice_fiscale_problem(exc, raw))
        return None
    return code


def _codice_fiscale_problem(exc: stdnum_exceptions.ValidationError, raw: str) -> Text:
    """What is wrong with a 16-character codice fiscale that stdnum refused."""
    if isinstance(exc, stdnum_exceptions.InvalidChecksum):
        return t(
            "invalid codice fiscale {value}: the last letter (the check character) does not "
            "match the others; check every character against the card",
            value=repr(raw),
        )
    if isinstance(exc, stdnum_exceptions.InvalidComponent):
        return t(
            "invalid codice fiscale {value}: the date of birth in it is impossible",
            value=repr(raw),
        )
    return t(
        "invalid codice fiscale {value}: letters and digits are not where a codice fiscale "
        "has them",
        value=repr(raw),
    )


def _phone(raw: str, fail: _Fail) -> str | None:
    if not raw:
        return ""  # paper applications may have no phone
    try:
        number = phonenumbers.parse(raw, "IT")  # national numbers are Italian
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        fail("phone", t("not a valid phone number: {value}", value=repr(raw)))
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _household_size(raw: str, fail: _Fail) -> int | None:
    if raw.isascii() and raw.isdigit() and len(raw) <= 6 and int(raw) >= 1:
        size = int(raw)
        if size <= MAX_HOUSEHOLD_SIZE:
            return size
        fail(
            "household_size",
            t(
                "{value} members is not a plausible household (at most {most})",
                value=repr(raw),
                most=MAX_HOUSEHOLD_SIZE,
            ),
        )
        return None
    fail(
        "household_size",
        t("must be a whole number of members, at least 1, got {value}", value=repr(raw)),
    )
    return None


def _boolean(column: str, raw: str, fail: _Fail) -> bool | None:
    word = raw.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    fail(
        column,
        t(
            "must be yes or no (also sì/no, vero/falso, 1/0, true/false), got {value}",
            value=repr(raw),
        ),
    )
    return None


def _euro(column: str, raw: str, fail: _Fail, italian: bool) -> int | None:
    if not raw:
        fail(column, t("missing: write 0 when there is none"))
        return None
    if len(raw) > 20:
        # Refused before any arithmetic: 400 digits are a paste error, not an amount.
        fail(column, t("is not a plausible amount ({count} characters)", count=len(raw)))
        return None
    try:
        # Italian spreadsheets write 1044,00 or 1.044,00; the documented format 1044.00.
        cents = parse_euro(raw) if italian else parse_plain(raw)
    except InvalidAmount as exc:
        if exc.reason == "negative":
            problem = t("must not be negative, got {value}", value=repr(raw))
        elif exc.reason == "too_many_decimals":
            problem = t("has more than two decimals, got {value}", value=repr(raw))
        elif italian:
            problem = t(
                "must be an amount in euro like 1234,50 or 1.234,50, got {value}",
                value=repr(raw),
            )
        else:
            problem = t(
                "must be an amount in euro with a dot before the cents, as in the template "
                "(1234.50 is {example}), got {value}",
                example=Money(123450),
                value=repr(raw),
            )
        fail(column, problem)
        return None
    if cents > MAX_AMOUNT_CENTS:
        fail(
            column,
            t(
                "{value} is not a plausible amount (at most {most})",
                value=repr(raw),
                most=Money(MAX_AMOUNT_CENTS),
            ),
        )
        return None
    return cents


def _timestamp(raw: str, fail: _Fail, italian: bool) -> datetime | None:
    moment = _italian_moment(raw) if italian else None
    if moment is None:
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            if italian:
                message = t(
                    "must be a date and time like 31/12/2026 10:00 (or 2026-12-31T10:00; read "
                    "as Rome time), got {value}",
                    value=repr(raw),
                )
            else:
                message = t(
                    "must be a date and time like 2020-04-01T09:30 (year-month-day, then the "
                    "time; read as Rome time), got {value}",
                    value=repr(raw),
                )
            fail("submitted_at", message)
            return None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        fail("submitted_at", t("{value} is not a plausible date", value=repr(raw)))
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=ROME)  # the office writes local time
    # One zone for all rows keeps comparisons cheap and exports uniform; the instant is kept.
    return moment.astimezone(ROME)


def italian_day(raw: str) -> date | None:
    """A day as the desk's form reads its date: 31/12/2026 (day first, as in Italy, by
    `_italian_moment`; 1/2/2026 too), or 2026-12-31, in the digits 0-9; None when it is
    neither (an ISO week or ordinal day, 20261231, Arabic-Indic digits), or has a time. The
    office's date fields (the fund's receipts, a reimbursement's execution date, an
    economia's day, the documents' days) and the command line's --date read it so."""
    text = raw.strip()
    match = _ITALIAN_MOMENT.fullmatch(text)
    if match is not None:
        moment = _italian_moment(text) if match["H"] is None else None
        return moment.date() if moment is not None else None
    try:
        return date.fromisoformat(text) if _ISO_DAY.fullmatch(text) else None
    except ValueError:
        return None


def _italian_moment(raw: str) -> datetime | None:
    """31/12/2026, 31/12/2026 10:00, 31/12/2026 10.00.05 (day first, as in Italy)."""
    match = _ITALIAN_MOMENT.fullmatch(raw)
    if match is None:
        return None
    try:
        return datetime(
            int(match["y"]),
            int(match["m"]),
            int(match["d"]),
            int(match["H"] or 0),
            int(match["M"] or 0),
            int(match["S"] or 0),
        )
    except ValueError:
        return None


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
    writer = CsvWriter(out)
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
    writer = CsvWriter(out)
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
