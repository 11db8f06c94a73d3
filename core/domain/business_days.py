"""The days a bank executes a SEPA credit transfer: TARGET2 business days.

A SEPA credit transfer (the pain.001 of a reimbursement, its ReqdExctnDt) is executed on a
day the euro's settlement system, TARGET2, is open: not on Saturdays and Sundays, nor on
its holidays (1 January, Good Friday, Easter Monday, 1 May, 25 and 26 December, as the ECB
publishes them). Italy's other holidays (6 January, 25 April, 2 June, 15 August,
1 November, 8 December) are not TARGET2 closing days: banks execute SEPA transfers on them.

The holidays come from the `holidays` library's calendar of the European Central Bank
(`financial_holidays("XECB")`, Easter computed there), kept up to date with the ECB's.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import holidays


class Closed(StrEnum):
    """Why TARGET2 is closed on a day."""

    SATURDAY = "saturday"
    SUNDAY = "sunday"
    HOLIDAY = "holiday"


@lru_cache(maxsize=8)
def _target2_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.financial_holidays("XECB", years=year))


def closed_because(day: date) -> Closed | None:
    """Why TARGET2 is closed on `day`, or None on a business day."""
    if day.weekday() == 5:
        return Closed.SATURDAY
    if day.weekday() == 6:
        return Closed.SUNDAY
    if day in _target2_holidays(day.year):
        return Closed.HOLIDAY
    return None


def is_business_day(day: date) -> bool:
    return closed_because(day) is None


def next_business_day(day: date) -> date:
    """`day` itself when the bank executes on it, else the first business day after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day
