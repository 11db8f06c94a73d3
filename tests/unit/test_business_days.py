"""The bank's business days (TARGET2): the days a SEPA credit transfer is executed."""

from __future__ import annotations

from datetime import date, timedelta

from core.domain.business_days import (
    Closed,
    closed_because,
    is_business_day,
    next_business_day,
)


def test_the_target2_closing_days_of_2026() -> None:
    closed = {
        day: reason
        for n in range(365)
        if (reason := closed_because(day := date(2026, 1, 1) + timedelta(days=n))) is not None
        and reason not in (Closed.SATURDAY, Closed.SUNDAY)
    }
    # 25 and 26 December 2026 are a Friday and a Saturday: the Saturday counts as such.
    assert closed == {
        date(2026, 1, 1): Closed.HOLIDAY,
        date(2026, 4, 3): Closed.HOLIDAY,  # Good Friday
        date(2026, 4, 6): Closed.HOLIDAY,  # Easter Monday
        date(2026, 5, 1): Closed.HOLIDAY,
        date(2026, 12, 25): Closed.HOLIDAY,
    }
    assert closed_because(date(2026, 12, 26)) is Closed.SATURDAY
    assert closed_because(date(2025, 12, 26)) is Closed.HOLIDAY
    # Easter moves: Good Friday and Easter Monday of 2027 and 2038 (the latest Easter).
    for day in (date(2027, 3, 26), date(2027, 3, 29), date(2038, 4, 23), date(2038, 4, 26)):
        assert closed_because(day) is Closed.HOLIDAY, day
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
