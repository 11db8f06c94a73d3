"""The bank's business days (TARGET2): the days a SEPA credit transfer is executed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.domain.business_days import (
    Closed,
    closed_because,
    easter_sunday,
    is_business_day,
    next_business_day,
)


@pytest.mark.parametrize(
    "year, easter",
    [
        (1818, date(1818, 3, 22)),  # the earliest Easter can be
        (1943, date(1943, 4, 25)),  # the latest
        (2000, date(2000, 4, 23)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
        (2285, date(2285, 3, 22)),
    ],
)
def test_easter_sunday(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_the_target2_closing_days_of_2026() -> None:
    closed = {
        day: reason
        for n in range(365)
        if (reason := closed_because(day := date(2026, 1, 1) + timedelta(days=n))) is not None
        and reason not in (Closed.SATURDAY, Closed.SUNDAY)
    }
    # 25 and 26 December 2026 are a Friday and a Saturday: the Saturday counts as such.
    assert closed == {
        date(2026, 1, 1): Closed.NEW_YEAR,
        date(2026, 4, 3): Closed.GOOD_FRIDAY,
        date(2026, 4, 6): Closed.EASTER_MONDAY,
        date(2026, 5, 1): Closed.LABOUR_DAY,
        date(2026, 12, 25): Closed.CHRISTMAS,
    }
    assert closed_because(date(2026, 12, 26)) is Closed.SATURDAY
    assert closed_because(date(2025, 12, 26)) is Closed.BOXING_DAY
    assert closed_because(date(2026, 12, 5)) is Closed.SATURDAY
    assert closed_because(date(2026, 12, 6)) is Closed.SUNDAY
    # Italy's other holidays are business days of TARGET2: banks execute SEPA transfers.
    for day in (
        date(2026, 1, 6),
        date(2026, 6, 2),
        date(2028, 8, 15),
        date(2030, 4, 25),
        date(2026, 12, 8),
    ):
        assert is_business_day(day), day


def test_the_next_business_day() -> None:
    assert next_business_day(date(2026, 12, 4)) == date(2026, 12, 4)  # a Friday: itself
    assert next_business_day(date(2026, 12, 5)) == date(2026, 12, 7)  # Saturday → Monday
    assert next_business_day(date(2026, 4, 3)) == date(2026, 4, 7)  # Good Friday → Tuesday
    assert next_business_day(date(2026, 12, 24)) == date(2026, 12, 24)
    assert next_business_day(date(2026, 12, 25)) == date(2026, 12, 28)
    assert next_business_day(date(2027, 12, 25)) == date(2027, 12, 27)  # Saturday, Sunday
