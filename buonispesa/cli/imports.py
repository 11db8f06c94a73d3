"""Sentences for the rows an import refuses: where (line, column) and what is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from buonispesa.cli.refusals import describe
from core.domain.errors import DomainError
from core.domain.messages import Moment, Text, t

if TYPE_CHECKING:
    from core.domain.application_csv import ApplicationRow


def where_text(line: int, column: str) -> Text:
    if column:
        return t("line {line}, column {column}", line=str(line), column=column)
    return t("line {line}", line=str(line))


def _moment(value: object, *, seconds: bool = False) -> Moment | str:
    try:
        return Moment(datetime.fromisoformat(str(value)), seconds=seconds)
    except ValueError:
        return str(value)


def _line(rows: Sequence[ApplicationRow], index: object) -> str:
    try:
        return str(rows[int(str(index))].line)
    except (ValueError, IndexError):
        return "?"


def import_problem(error: DomainError, rows: Sequence[ApplicationRow]) -> Text:
    """What is wrong with one imported row, for the office."""
    from core.domain.application_csv import MAX_HOUSEHOLD_SIZE

    params = error.params
    if error.code == "application.outside_window":
        return t(
            "dated {submitted}, outside the application window ({opens} – {closes}).",
            submitted=_moment(params["submitted_at"], seconds=True),
            opens=_moment(params["opens_at"], seconds=True),
            closes=_moment(params["closes_at"], seconds=True),
        )
    if error.code == "application.dated_in_future":
        return t("dated {submitted}, in the future.", submitted=_moment(params["submitted_at"]))
    if error.code == "application.repeated_codice_fiscale":
        return t(
            "the same person is already on line {line}.", line=_line(rows, params["line_index"])
        )
    if error.code == "application.repeated_phone":
        return t(
            "the same phone number is already on line {line}: one phone belongs to one household.",
            line=_line(rows, params["line_index"]),
        )
    if error.code == "identity.refused" and params.get("reason") == "phone_bound":
        return t(
            "this phone number belongs to another household of the municipality: leave the "
            "phone empty, or correct it."
        )
    if error.code == "identity.refused" and params.get("reason") == "codice_fiscale_bound":
        return t(
            "this person already has another phone on file: leave the phone empty, or change "
            "it in person with 'admin citizen phone'."
        )
    if error.code == "application.bad_household_size":
        return t(
            "{value} members is not a plausible household (1 to {most}).",
            value=str(params["value"]),
            most=MAX_HOUSEHOLD_SIZE,
        )
    if error.code in ("application.implausible_amount", "application.negative_amount"):
        return t("the amount is not plausible.")
    return describe(error)
