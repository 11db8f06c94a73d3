"""The days a bank executes a SEPA credit transfer: TARGET2 business days.

A SEPA credit transfer (the pain.001 of a reimbursement, its ReqdExctnDt) is executed on a
day the euro's settlement system, TARGET2, is open. The ECB publishes its closing days,
the same every year since 2002 and for euro payments in Italy too: Saturdays and Sundays,
1 January, Good Friday, Easter Monday, 1 May (Labour Day), 25 and 26 December. Italy's other
holidays (6 January, 25 April, 2 June, 15 August, 1 November, 8 December) are not TARGET2
closing days: banks execute SEPA transfers on them.

No library the project already depends on knows this calendar (Babel knows weekdays, not
holidays), so it is written here: the fixed days, and Easter by the Gregorian computus
(the "anonymous" algorithm of Meeus, Astronomical Algorithms, ch. 8).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum


class Closed(StrEnum):
    """Why TARGET2 is closed on a day."""

    SATURDAY = "saturday"
    SUNDAY = "sunday"
    NEW_YEAR = "new_year"
    GOOD_FRIDAY = "good_friday"
    EASTER_MONDAY = "easter_monday"
    LABOUR_DAY = "labour_day"
    CHRISTMAS = "christmas"
    BOXING_DAY = "boxing_day"


def easter_sunday(year: int) -> date:
    """Easter Sunday of a Gregorian year (Meeus's algorithm, valid for every year from 1583)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


_FIXED = {
    (1, 1): Closed.NEW_YEAR,
    (5, 1): Closed.LABOUR_DAY,
    (12, 25): Closed.CHRISTMAS,
    (12, 26): Closed.BOXING_DAY,
}


def closed_because(day: date) -> Closed | None:
    """Why TARGET2 is closed on `day`, or None on a business day."""
    if day.weekday() == 5:
        return Closed.SATURDAY
    if day.weekday() == 6:
        return Closed.SUNDAY
    fixed = _FIXED.get((day.month, day.day))
    if fixed is not None:
        return fixed
    easter = easter_sunday(day.year)
    if day == easter - timedelta(days=2):
        return Closed.GOOD_FRIDAY
    if day == easter + timedelta(days=1):
        return Closed.EASTER_MONDAY
    return None


def is_business_day(day: date) -> bool:
    return closed_because(day) is None


def next_business_day(day: date) -> date:
    """`day` itself when the bank executes on it, else the first business day after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day
