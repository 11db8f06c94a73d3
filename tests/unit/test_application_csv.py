"""Applications and allocation CSV (README formats): parsing, every error with its line, writing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from stdnum.it import codicefiscale

from core.domain.allocation import AllocationLine, Assignment, ExclusionReason
from core.domain.application_csv import (
    APPLICATION_COLUMNS,
    ApplicationRow,
    CsvError,
    italian_day,
    parse_applications_csv,
    to_facts,
    write_allocation_csv,
    write_applications_csv,
)
from core.i18n import render_text

ROME = ZoneInfo("Europe/Rome")
HEADER = ",".join(APPLICATION_COLUMNS)
CF_MARIO = "RSSMRA85T10A562S"
CF_GIUSEPPE = "VRDGPP80A01H501U"
CF_LAURA = "BNCLRA92M45F205O"
# Mario again, with omocodia: 8 -> U, 5 -> R, 0 -> L (a valid, different-looking code).
CF_MARIO_OMOCODE = "RSSMRAURT1LA562" + codicefiscale.calc_check_digit("RSSMRAURT1LA562")

ROW_MARIO = f"{CF_MARIO},+39 333 123 4567,3,false,false,1500.00,0,0,2020-04-01T09:30:00"
ROW_GIUSEPPE = f"{CF_GIUSEPPE},,1,no,NO,0.5,780.00,380,2020-04-02 10:00"


def parse(*lines: str, header: str = HEADER) -> tuple[list[ApplicationRow], list[CsvError]]:
    result = parse_applications_csv("\n".join((header, *lines)) + "\n")
    assert result.ok == (not result.errors)
    return result.rows, result.errors


def only_error(*lines: str, header: str = HEADER) -> CsvError:
    errors = parse(*lines, header=header)[1]
    assert len(errors) == 1, errors
    return errors[0]


# --- valid files


def test_parse_valid_rows() -> None:
    rows, errors = parse(ROW_MARIO, ROW_GIUSEPPE)
    assert errors == []
    mario, giuseppe = rows
    assert mario == ApplicationRow(
        codice_fiscale=CF_MARIO,
        phone="+393331234567",
        household_size=3,
        has_work_income=False,
        has_pension=False,
        liquidity_cents=150000,
        public_support_monthly_cents=0,
        rent_monthly_cents=0,
        submitted_at=datetime(2020, 4, 1, 9, 30, tzinfo=ROME),
    )
    assert (mario.line, giuseppe.line) == (2, 3)
    assert giuseppe.phone == ""
    assert giuseppe.liquidity_cents == 50
    assert giuseppe.public_support_monthly_cents == 78000
    assert giuseppe.rent_monthly_cents == 38000
    assert giuseppe.submitted_at == datetime(2020, 4, 2, 10, 0, tzinfo=ROME)


def test_bom_crlf_header_case_and_column_order_are_accepted() -> None:
    header = ",".join(name.upper() for name in reversed(APPLICATION_COLUMNS))
    row = ",".join(reversed(ROW_MARIO.split(",")))
    result = parse_applications_csv(f"\ufeff{header}\r\n{row}\r\n")
    assert result.errors == []
    assert result.rows[0].codice_fiscale == CF_MARIO
    assert result.rows[0].household_size == 3


def test_semicolon_separated_files_from_italian_spreadsheets() -> None:
    text = HEADER.replace(",", ";") + "\n" + ROW_MARIO.replace(",", ";") + "\n"
    result = parse_applications_csv(text)
    assert result.errors == []
    assert result.rows[0].liquidity_cents == 150000


def test_blank_lines_are_skipped_but_counted() -> None:
    rows, errors = parse("", ROW_MARIO, "  ", "", ROW_GIUSEPPE)
    assert errors == []
    assert [row.line for row in rows] == [3, 6]


def test_a_header_alone_is_an_empty_import() -> None:
    result = parse_applications_csv(HEADER + "\n")
    assert (result.rows, result.errors) == ([], [])


def test_codice_fiscale_is_upper_cased_and_omocodia_accepted() -> None:
    rows, errors = parse(
        ROW_MARIO.replace(CF_MARIO, f" {CF_MARIO.lower()} "),
        ROW_GIUSEPPE.replace(CF_GIUSEPPE, CF_MARIO_OMOCODE),
    )
    # The omocode is Mario again: a duplicate, reported on the later line.
    assert [row.codice_fiscale for row in rows] == [CF_MARIO]
    assert [(e.line, e.column, e.message) for e in errors] == [
        (3, "codice_fiscale", f"duplicate codice fiscale {CF_MARIO_OMOCODE}, already on line 2")
    ]


def test_an_omocode_alone_is_valid() -> None:
    rows, errors = parse(ROW_MARIO.replace(CF_MARIO, CF_MARIO_OMOCODE))
    assert errors == []
    assert rows[0].codice_fiscale == CF_MARIO_OMOCODE


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("", ""),
        ("3331234567", "+393331234567"),
        ("0039 333 1234567", "+393331234567"),
        ("06 1234 5678", "+390612345678"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(phone: str, expected: str) -> None:
    rows, errors = parse(ROW_MARIO.replace("+39 333 123 4567", phone))
    assert errors == []
    assert rows[0].phone == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("Si", True),
        ("sì", True),
        ("SÌ", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("no", False),
        ("NO", False),
    ],
)
def test_boolean_spellings(text: str, value: bool) -> None:
    row = f"{CF_MARIO},,1,{text},{text},0,0,0,2020-04-01T09:30"
    rows, errors = parse(row)
    assert errors == []
    assert (rows[0].has_work_income, rows[0].has_pension) == (value, value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-04-01T09:30:00", datetime(2020, 4, 1, 9, 30, tzinfo=ROME)),
        ("2020-04-01T07:30:00Z", datetime(2020, 4, 1, 9, 30, tzinfo=ROME)),
        ("2020-04-01T09:30:00+02:00", datetime(2020, 4, 1, 9, 30, tzinfo=ROME)),
        ("2020-04-01", datetime(2020, 4, 1, 0, 0, tzinfo=ROME)),
        ("2020-01-15T12:00:00.250", datetime(2020, 1, 15, 12, 0, 0, 250000, tzinfo=ROME)),
    ],
)
def test_submitted_at_is_aware_naive_means_rome(text: str, expected: datetime) -> None:
    rows, errors = parse(ROW_MARIO.replace("2020-04-01T09:30:00", text))
    assert errors == []
    assert rows[0].submitted_at == expected
    assert rows[0].submitted_at.tzinfo == ROME


# --- errors


def test_an_empty_file_is_an_error() -> None:
    for text in ("", "\ufeff", " \n\n"):
        result = parse_applications_csv(text)
        assert result.rows == []
        assert [(e.line, e.column) for e in result.errors] == [(1, "")]
        assert "empty" in result.errors[0].message


def test_a_missing_column_is_named() -> None:
    header = HEADER.replace(",has_pension", "")
    error = only_error(header=header)
    assert (error.line, error.column) == (1, "has_pension")
    assert error.message == "missing column 'has_pension'"


def test_an_extra_column_is_named() -> None:
    error = only_error(header=HEADER + ",notes")
    assert (error.line, error.column) == (1, "notes")
    assert error.message == "unknown column 'notes'"


def test_a_misspelt_column_is_one_error_with_a_guess() -> None:
    error = only_error(ROW_MARIO, header=HEADER.replace("household_size", "househld_size"))
    assert (error.line, error.column) == (1, "househld_size")
    assert error.message == "unknown column 'househld_size': did you mean 'household_size'?"


def test_a_repeated_column_is_named() -> None:
    errors = parse(header=HEADER + ",phone")[1]
    assert [(e.line, e.column) for e in errors] == [(1, "phone")]
    assert "more than once" in errors[0].message


def test_header_errors_stop_before_the_rows() -> None:
    rows, errors = parse(ROW_MARIO, "garbage", header=HEADER.replace("phone", "telefono"))
    assert rows == []
    # No close match for "telefono": it is unknown, and phone is missing.
    assert [(e.line, e.column) for e in errors] == [(1, "telefono"), (1, "phone")]


@pytest.mark.parametrize(
    ("old", "new", "column", "message"),
    [
        (CF_MARIO, "RSSMRA85T10A562X", "codice_fiscale", "check character"),
        (CF_MARIO, "RSSMRA8XT10A562S", "codice_fiscale", "letters and digits are not where"),
        (CF_MARIO, "RSSMRA85T10A562", "codice_fiscale", "16-character"),
        (CF_MARIO, "12345678901", "codice_fiscale", "16-character"),
        (CF_MARIO, "", "codice_fiscale", "missing"),
        ("+39 333 123 4567", "123", "phone", "not a valid phone number: '123'"),
        ("+39 333 123 4567", "call me", "phone", "not a valid phone number"),
        (",3,", ",0,", "household_size", "at least 1, got '0'"),
        (",3,", ",2.5,", "household_size", "got '2.5'"),
        (",3,", ",,", "household_size", "got ''"),
        (",false,false,", ",maybe,false,", "has_work_income", "yes or no"),
        (",false,false,", ",false,,", "has_pension", "got ''"),
        ("1500.00", '"1.500,00"', "liquidity_eur", "with a dot before the cents"),
        ("1500.00", "-3", "liquidity_eur", "must not be negative, got '-3'"),
        ("1500.00", "12.345", "liquidity_eur", "more than two decimals"),
        ("1500.00", "", "liquidity_eur", "missing"),
        (",0,0,", ",€ 5,0,", "public_support_monthly_eur", "got '€ 5'"),
        (",0,0,", ",0,abc,", "rent_monthly_eur", "got 'abc'"),
        ("2020-04-01T09:30:00", "01/04/2020 09:30", "submitted_at", "year-month-day"),
        ("2020-04-01T09:30:00", "", "submitted_at", "year-month-day"),
    ],
)
def test_field_errors_name_line_and_column(old: str, new: str, column: str, message: str) -> None:
    assert old in ROW_MARIO
    error = only_error(ROW_GIUSEPPE, ROW_MARIO.replace(old, new, 1))
    assert (error.line, error.column) == (3, column)
    assert message in error.message


def test_every_problem_of_every_row_is_reported() -> None:
    bad = "RSSMRA85T10A562X,12,0,maybe,false,x,0,0,yesterday"
    rows, errors = parse(bad, ROW_MARIO, "too,few")
    assert [row.codice_fiscale for row in rows] == [CF_MARIO]  # valid rows still parsed...
    assert [(e.line, e.column) for e in errors] == [  # ...but the caller imports none
        (2, "codice_fiscale"),
        (2, "phone"),
        (2, "household_size"),
        (2, "has_work_income"),
        (2, "liquidity_eur"),
        (2, "submitted_at"),
        (4, ""),
    ]
    assert errors[-1].message == "expected 9 fields, got 2"
    assert str(errors[0]).startswith("line 2, column codice_fiscale: ")
    assert str(errors[-1]) == "line 4: expected 9 fields, got 2"


def test_duplicates_are_found_even_when_the_first_row_has_other_errors() -> None:
    first = ROW_MARIO.replace(",3,", ",0,")
    errors = parse(first, ROW_MARIO)[1]
    assert [(e.line, e.column) for e in errors] == [(2, "household_size"), (3, "codice_fiscale")]


def test_line_numbers_are_physical_after_a_quoted_line_break() -> None:
    multi = ROW_GIUSEPPE.replace(",,1,", ',"06\n1234",1,')  # lines 2-3
    errors = parse(multi, ROW_MARIO.replace(",3,", ",x,"))[1]
    assert [(e.line, e.column) for e in errors] == [(2, "phone"), (4, "household_size")]


def test_broken_quoting_is_reported_with_its_line() -> None:
    result = parse_applications_csv(f'{HEADER}\n{ROW_MARIO}\n"{CF_GIUSEPPE},,1\n')
    assert result.errors
    assert result.errors[-1].column == ""
    assert "not readable as CSV" in result.errors[-1].message


# --- facts and writing


def test_to_facts_numbers_the_rows() -> None:
    rows, _ = parse(ROW_MARIO, ROW_GIUSEPPE)
    facts = to_facts(rows)
    assert [(f.ref, f.row) for f in facts] == [("1", 0), ("2", 1)]
    giuseppe = facts[1]
    assert giuseppe.household_size == 1
    assert (giuseppe.has_work_income, giuseppe.has_pension) == (False, False)
    assert giuseppe.liquidity_cents == 50
    assert giuseppe.public_support_monthly_cents == 78000
    assert giuseppe.rent_monthly_cents == 38000
    assert giuseppe.submitted_at == rows[1].submitted_at


def test_write_applications_csv() -> None:
    rows, _ = parse(ROW_MARIO, ROW_GIUSEPPE)
    assert write_applications_csv(rows) == (
        HEADER + "\n"
        f"{CF_MARIO},+393331234567,3,false,false,1500.00,0.00,0.00,2020-04-01T09:30:00+02:00\n"
        f"{CF_GIUSEPPE},,1,false,false,0.50,780.00,380.00,2020-04-02T10:00:00+02:00\n"
    )


def test_written_applications_read_back_the_same() -> None:
    rows, _ = parse(
        ROW_MARIO,
        ROW_GIUSEPPE,
        f"{CF_LAURA},3331234567,7,1,sì,10000.01,1.5,0,2020-01-15T12:00:00.250",
    )
    again = parse_applications_csv(write_applications_csv(rows))
    assert again.errors == []
    assert again.rows == rows
    assert write_applications_csv([]) == HEADER + "\n"


def test_a_utc_time_is_written_in_rome_time() -> None:
    row = ApplicationRow(
        CF_MARIO, "", 1, True, False, 0, 0, 0, datetime(2020, 4, 1, 7, 30, tzinfo=UTC)
    )
    written = write_applications_csv([row])
    assert written.endswith(",1,true,false,0.00,0.00,0.00,2020-04-01T07:30:00+00:00\n")
    assert parse_applications_csv(written).rows == [row]  # the same instant


def test_write_allocation_csv() -> None:
    lines = [
        (AllocationLine("1", Assignment.LIST_1, None, None, 15000, 2500), CF_MARIO),
        (
            AllocationLine("2", Assignment.LIST_2, Fraction(12345, 2), None, 20000, 20000),
            CF_GIUSEPPE,
        ),
        (
            AllocationLine("3", Assignment.EXCLUDED, None, ExclusionReason.LIQUIDITY, 0, 0),
            CF_LAURA,
        ),
    ]
    assert write_allocation_csv(lines) == (
        "protocol,codice_fiscale,list,score,exclusion_reason,amount_eur\n"
        f"1,{CF_MARIO},1,,,25.00\n"
        f"2,{CF_GIUSEPPE},2,61.73,,200.00\n"
        f"3,{CF_LAURA},excluded,,liquidity,0.00\n"
    )
    assert write_allocation_csv([]) == (
        "protocol,codice_fiscale,list,score,exclusion_reason,amount_eur\n"
    )


@pytest.mark.parametrize(
    ("code", "italian"),
    [
        ("RSSMRA85T10A562X", "l'ultima lettera (il carattere di controllo) non corrisponde"),
        ("RSSMRA8XT10A562S", "lettere e cifre non sono dove le ha un codice fiscale"),
        (
            "RSSMRA85T72A562" + codicefiscale.calc_check_digit("RSSMRA85T72A562"),
            "la data di nascita che contiene è impossibile",
        ),
    ],
)
def test_a_refused_codice_fiscale_is_explained_in_the_offices_language(
    code: str, italian: str
) -> None:
    """stdnum's reasons are English ("The number's checksum or check digit is invalid."):
    the office reads one of ours, translated."""
    error = only_error(ROW_MARIO.replace(CF_MARIO, code, 1))
    said = render_text(error.text, "it")
    assert error.column == "codice_fiscale" and italian in said, said
    assert "number" not in said and "invalid" not in said


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("12/07/2026", date(2026, 7, 12)),  # day first, as at the desk: 12 July
        ("1/2/2026", date(2026, 2, 1)),
        (" 31/12/2026 ", date(2026, 12, 31)),
        ("2026-07-12", date(2026, 7, 12)),  # what a date field sent before
        ("07/13/2026", None),  # no 13th month: never read month first
        ("31/02/2026", None),
        ("12/07/2026 10:00", None),  # a day, not a moment
        ("12-07-2026", None),
        ("20260712", None),
        ("", None),
        # Only the two shapes above, in the digits 0-9: what else date.fromisoformat or \d
        # would take is refused, never read as a day the clerk did not mean.
        ("2026-W49-1", None),  # an ISO week day, 10 characters like 2026-12-01
        ("2026W491", None),
        ("2026-336", None),  # an ordinal day
        ("١٢/٠٧/٢٠٢٦", None),  # Arabic-Indic digits
        ("۱۲/۰۷/۲۰۲۶", None),  # Persian digits
        ("٢٠٢٦-٠٧-١٢", None),
        ("１２/０７/２０２６", None),  # full-width digits
        ("12/07/2026 ١٠:٠٠", None),
    ],
)
def test_a_day_is_read_as_the_desk_reads_a_date(typed: str, day: date | None) -> None:
    assert italian_day(typed) == day
