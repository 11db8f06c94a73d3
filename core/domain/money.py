"""Money is an int of euro cents. Parsing is strict: no float ever touches an amount."""

from __future__ import annotations

import re

from core.domain.errors import InvalidAmount

Cents = int

_SPACES = re.compile(r"[\s\u00a0\u202f']+")
# A space (or apostrophe) between digits groups thousands only before exactly three digits:
# "1 234,56" is an amount, "12 50" is twelve euro fifty written with a space, never 1250 euro.
_NOT_A_GROUP = re.compile(r"\d[\s\u00a0\u202f']+(?!\d{3}(?!\d))\d")
# Nor after a group that starts with 0: "0 250" is not 250 euro (a number's first group of
# thousands never starts with 0; there is no such group to write).
_ZERO_GROUP = re.compile(r"(?<!\d)0\d{0,2}[\s\u00a0\u202f']+\d")
# Either plain digits with an optional 1-2 digit decimal part, or digits grouped by
# thousands with "." or "," and the other one as decimal separator.
_PLAIN = re.compile(r"^(?P<int>\d+)(?:[.,](?P<dec>\d+))?$")
_GROUPED_DOT = re.compile(r"^(?P<int>[1-9]\d{0,2}(?:\.\d{3})+)(?:,(?P<dec>\d+))?$")
# English grouping needs a dot decimal part or two groups: a lone "12,345" is Italian
# with too many decimals, not twelve thousand euro.
_GROUPED_COMMA = re.compile(
    r"^(?P<int>[1-9]\d{0,2}(?:,\d{3}){2,})(?:\.(?P<dec>\d+))?$"
    r"|^(?P<int1>[1-9]\d{0,2},\d{3})\.(?P<dec1>\d+)$"
)


def parse_euro(text: str) -> Cents:
    """Parse what a person or a CSV writes for an amount of euro into cents.

    Accepts "12,50", "12.50", "1.234,56", "1,234.56", "€ 12", "12 €", "EUR 12".
    Raises InvalidAmount (with a reason code) for negatives, more than two
    decimals, more than 15 digits of euro, and anything that is not an amount.
    """
    raw = text.strip()
    cleaned = raw.replace("€", "").replace("EUR", "").replace("eur", "")
    spaced = cleaned
    cleaned = _SPACES.sub("", cleaned)
    if cleaned.startswith("-"):
        raise InvalidAmount(raw, "negative")
    if _NOT_A_GROUP.search(spaced) or _ZERO_GROUP.search(spaced):
        raise InvalidAmount(raw, "split")
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    if not cleaned:
        raise InvalidAmount(raw, "empty")
    match = _GROUPED_DOT.match(cleaned)
    if match:
        return _to_cents(raw, match["int"].replace(".", ""), match["dec"])
    match = _GROUPED_COMMA.match(cleaned)
    if match:
        integer = match["int"] or match["int1"]
        return _to_cents(raw, integer.replace(",", ""), match["dec"] or match["dec1"])
    match = _PLAIN.match(cleaned)
    if not match:
        raise InvalidAmount(raw, "not_a_number")
    decimals = match["dec"]
    if len(match["int"]) > 1 and match["int"].startswith("0"):
        # "0250" is no way to write an amount: a till's 2,50 typed without its comma, or a
        # code ("025586"); read as 250 euro it had asked a customer a hundred times more.
        raise InvalidAmount(raw, "not_a_number")
    # "1.234" is ambiguous: in Italian a dot before three digits groups thousands.
    # "12,345" is not: the comma is the decimal separator, and three decimals are refused.
    # Nor is "0.250": no number's thousands follow a 0, so it is three decimals, refused
    # (read as thousands it had charged 250 euro for a quarter of one).
    grouped = len(match["int"]) <= 3 and not match["int"].startswith("0")
    if decimals is not None and len(decimals) == 3 and grouped and "." in cleaned:
        return _to_cents(raw, match["int"] + decimals, None)
    return _to_cents(raw, match["int"], decimals)


# More euro than anyone means (a thousand billion): refused before int() meets thousands of
# digits (Python refuses more than 4300) or Babel a number beyond its precision.
MAX_EURO_DIGITS = 15


def _to_cents(raw: str, integer_part: str, decimals: str | None) -> Cents:
    if decimals is not None and len(decimals) > 2:
        raise InvalidAmount(raw, "too_many_decimals")
    if len(integer_part.lstrip("0")) > MAX_EURO_DIGITS:
        raise InvalidAmount(raw, "too_large")
    cents = int(integer_part) * 100
    if decimals:
        cents += int(decimals.ljust(2, "0"))
    return cents


def format_plain(cents: Cents) -> str:
    """Euro with a dot and two decimals, as the CSV and XML formats want ("1234.50")."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def parse_plain(text: str) -> Cents:
    """Parse the machine format of format_plain (CSV, TOML): digits, optional dot decimals."""
    raw = text.strip()
    match = re.fullmatch(r"(?P<int>\d+)(?:\.(?P<dec>\d{1,2}))?", raw)
    if not match:
        if raw.startswith("-"):
            raise InvalidAmount(raw, "negative")
        if re.fullmatch(r"\d+\.\d{3,}", raw):
            raise InvalidAmount(raw, "too_many_decimals")
        raise InvalidAmount(raw, "not_a_number")
    return _to_cents(raw, match["int"], match["dec"])
