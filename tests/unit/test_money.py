from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.errors import InvalidAmount
from core.domain.money import format_plain, parse_euro, parse_plain


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12,50", 1250),
        ("12.50", 1250),
        ("1.234,56", 123456),
        ("€ 12", 1200),
        ("12 €", 1200),
        ("EUR 7,5", 750),
        ("0,05", 5),
        ("1,234.56", 123456),
        ("1.234", 123400),
        ("1 234,00", 123400),
        ("1 234 567", 123456700),
        ("  3000  ", 300000),
        ("+4", 400),
    ],
)
def test_parse_euro_accepts_what_people_write(text: str, cents: int) -> None:
    assert parse_euro(text) == cents


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-5", "negative"),
        ("12,345", "too_many_decimals"),
        ("1.234,567", "too_many_decimals"),
        ("abc", "not_a_number"),
        ("", "empty"),
        ("€", "empty"),
        ("1.2.3", "not_a_number"),
        ("12,5,0", "not_a_number"),
        ("1e3", "not_a_number"),
        ("NaN", "not_a_number"),
        # Euro and cents with a space: not 1250 euro (a space groups thousands only).
        ("12 50", "split"),
        ("123 4", "split"),
        ("1 2345", "split"),
        # No number's thousands follow a first group of 0: three decimals, or a split amount,
        # never 250 euro for "0.250".
        ("0.250", "too_many_decimals"),
        ("00.250", "not_a_number"),
        ("0.005", "too_many_decimals"),
        ("012.500", "not_a_number"),
        ("0 250", "split"),
        ("0.250.000", "not_a_number"),
        ("0,250.50", "not_a_number"),
        # A leading 0 before other digits: a till's 2,50 without its comma, or a code.
        ("0250", "not_a_number"),
        ("025586", "not_a_number"),
        ("00,50", "not_a_number"),
    ],
)
def test_parse_euro_refuses_with_a_typed_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidAmount) as error:
        parse_euro(text)
    assert error.value.reason == reason


@given(st.integers(min_value=0, max_value=10**12))
def test_plain_format_round_trips(cents: int) -> None:
    assert parse_plain(format_plain(cents)) == cents
    assert parse_euro(format_plain(cents)) == cents


def test_parse_plain_is_strict() -> None:
    for bad in ("1,50", "1.505", "-1.00", "€1"):
        with pytest.raises(InvalidAmount):
            parse_plain(bad)
    assert format_plain(-150) == "-1.50"
