"""Policy loading and validation: the default file and every error naming its key."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from core.domain.errors import PolicyError
from core.domain.policy import Policy, default_policy, load_policy, parse_policy

VALID = """
[policy]
name = "Test town"
application_window_days = 5
rounding_unit_eur = "0.50"
liquidity_reference_date = 2020-03-31

[amounts]
1 = 100
2 = "150.50"

[liquidity_thresholds]
1 = "1000.00"

[exclusions]
work_income = true
pension = false

[list2]
mode = "proportional"

[payments]
charge_ttl_minutes = 5
max_code_attempts = 2
shop_lock_after_wrong_codes = 4
shop_lock_minutes = 60
shop_block_after_wrong_codes = 8
"""


def with_line(old: str, new: str, text: str = VALID) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def error_of(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    return caught.value


# --- the default policy reproduces the Belforte disciplinare


def test_default_policy_is_belforte_exactly() -> None:
    policy = default_policy()
    assert policy.name == "Belforte del Chienti"
    assert policy.amounts_by_size_cents == (15000, 20000, 25000, 30000, 35000, 40000, 50000)
    assert policy.liquidity_thresholds_cents == (300000, 400000, 600000, 800000, 1000000)
    assert policy.exclude_work_income is True
    assert policy.exclude_pension is True
    assert policy.list2_mode == "fill"
    assert policy.rounding_unit_cents == 1
    assert policy.application_window_days == 4
    assert policy.liquidity_reference_date == date(2020, 3, 31)
    assert policy.charge_ttl_minutes == 10
    assert policy.max_code_attempts == 3
    assert policy.shop_lock_after_wrong_codes == 5
    assert policy.shop_lock_minutes == 30
    assert policy.shop_block_after_wrong_codes == 10


@pytest.mark.parametrize(
    ("size", "euro"),
    [(1, 150), (2, 200), (3, 250), (4, 300), (5, 350), (6, 400), (7, 500), (8, 500), (12, 500)],
)
def test_default_amounts_by_size_last_applies_to_larger(size: int, euro: int) -> None:
    assert default_policy().full_amount_cents(size) == euro * 100


@pytest.mark.parametrize(
    ("size", "euro"),
    [(1, 3000), (2, 4000), (3, 6000), (4, 8000), (5, 10000), (6, 10000), (12, 10000)],
)
def test_default_thresholds_by_size_last_applies_to_larger(size: int, euro: int) -> None:
    assert default_policy().liquidity_threshold_cents(size) == euro * 100


def test_size_below_one_is_rejected() -> None:
    with pytest.raises(ValueError):
        default_policy().full_amount_cents(0)
    with pytest.raises(ValueError):
        default_policy().liquidity_threshold_cents(-1)


def test_load_policy_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "town.toml"
    path.write_text(VALID, encoding="utf-8")
    assert load_policy(path) == parse_policy(VALID)
    assert load_policy(str(path)).name == "Test town"


def test_the_shipped_file_loads_through_load_policy() -> None:
    import core.policies

    path = Path(core.policies.__file__).parent / "belforte.toml"
    assert load_policy(path) == default_policy()


def test_parse_a_full_policy() -> None:
    policy = parse_policy(VALID)
    assert policy.amounts_by_size_cents == (10000, 15050)
    assert policy.liquidity_thresholds_cents == (100000,)
    assert policy.rounding_unit_cents == 50
    assert policy.application_window_days == 5
    assert policy.exclude_pension is False
    assert policy.list2_mode == "proportional"
    assert (
        policy.charge_ttl_minutes,
        policy.max_code_attempts,
        policy.shop_lock_after_wrong_codes,
        policy.shop_lock_minutes,
        policy.shop_block_after_wrong_codes,
    ) == (5, 2, 4, 60, 8)
    # One threshold for size 1 covers every size.
    assert policy.liquidity_threshold_cents(9) == 100000


def test_optional_keys_take_their_defaults() -> None:
    text = VALID.split("[payments]")[0]
    text = with_line('application_window_days = 5\nrounding_unit_eur = "0.50"\n', "", text)
    text = with_line('2 = "150.50"', '2 = "150.51"', text)
    policy = parse_policy(text)
    assert policy.rounding_unit_cents == 1
    assert policy.application_window_days == 4
    assert (
        policy.charge_ttl_minutes,
        policy.max_code_attempts,
        policy.shop_lock_after_wrong_codes,
        policy.shop_lock_minutes,
        policy.shop_block_after_wrong_codes,
    ) == (10, 3, 5, 30, 10)


def test_the_office_lock_comes_after_the_short_lock() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(
            with_line("shop_block_after_wrong_codes = 8", "shop_block_after_wrong_codes = 4")
        )
    assert caught.value.key == "payments.shop_block_after_wrong_codes"


def test_a_stored_policy_with_the_old_strike_key_still_loads() -> None:
    policy = parse_policy(VALID + "shop_lock_after_failed_charges = 3\n")
    assert policy.shop_lock_after_wrong_codes == 4


def test_policy_is_frozen_and_hashable() -> None:
    policy = default_policy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.name = "x"  # type: ignore[misc]
    assert hash(policy) == hash(default_policy())


# --- errors name the dotted key and say what is wrong


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        ('2 = "150.50"', '2 = "abc"', "amounts.2", "must be a positive amount in euro, got 'abc'"),
        ('2 = "150.50"', "2 = 0", "amounts.2", "must be a positive amount in euro, got '0'"),
        ('2 = "150.50"', "2 = -5", "amounts.2", "must be a positive amount in euro, got '-5'"),
        ('2 = "150.50"', '2 = "150.555"', "amounts.2", "got '150.555'"),
        ('2 = "150.50"', "2 = 150.5", "amounts.2", "floats are not exact"),
        ('2 = "150.50"', "2 = true", "amounts.2", "must be a positive amount in euro"),
        ('2 = "150.50"', '2 = "150.25"', "amounts.2", "multiple of the rounding unit (0.50"),
        ('2 = "150.50"', "3 = 200", "amounts.2", "sizes must be 1..N without gaps"),
        ('2 = "150.50"', "02 = 200", "amounts.02", "sizes must be whole numbers"),
        ('2 = "150.50"', "two = 200", "amounts.two", "unknown key"),
        ('1 = "1000.00"', "1 = -1", "liquidity_thresholds.1", "non-negative amount in euro"),
        ('1 = "1000.00"', "1 = 1000.0", "liquidity_thresholds.1", "floats are not exact"),
        ('1 = "1000.00"', "2 = 1000", "liquidity_thresholds.1", "missing"),
        (
            'rounding_unit_eur = "0.50"',
            "rounding_unit_eur = 0.5",
            "policy.rounding_unit_eur",
            "float",
        ),
        (
            'rounding_unit_eur = "0.50"',
            'rounding_unit_eur = "0"',
            "policy.rounding_unit_eur",
            "positive",
        ),
        ('mode = "proportional"', 'mode = "random"', "list2.mode", "'fill' or 'proportional'"),
        ('mode = "proportional"', "mode = 1", "list2.mode", "non-empty string"),
        ('mode = "proportional"', "", "list2.mode", "missing"),
        ("work_income = true", 'work_income = "yes"', "exclusions.work_income", "true or false"),
        ("work_income = true", "", "exclusions.work_income", "missing"),
        ("pension = false", "pension = false\nrent = true", "exclusions.rent", "unknown key"),
        ('name = "Test town"', "", "policy.name", "missing"),
        ('name = "Test town"', 'name = "  "', "policy.name", "non-empty string"),
        ('name = "Test town"', 'name = "T"\ncolour = "red"', "policy.colour", "unknown key"),
        (
            "application_window_days = 5",
            "application_window_days = 0",
            "policy.application_window_days",
            "positive whole number",
        ),
        (
            "application_window_days = 5",
            "application_window_days = true",
            "policy.application_window_days",
            "positive whole number",
        ),
        ("liquidity_reference_date = 2020-03-31", "", "policy.liquidity_reference_date", "missing"),
        (
            "liquidity_reference_date = 2020-03-31",
            "liquidity_reference_date = 2020-03-31T10:00:00",
            "policy.liquidity_reference_date",
            "must be a date like 2020-03-31",
        ),
        (
            "liquidity_reference_date = 2020-03-31",
            'liquidity_reference_date = "31/03/2020"',
            "policy.liquidity_reference_date",
            "must be a date",
        ),
        (
            "charge_ttl_minutes = 5",
            "charge_ttl_minutes = -1",
            "payments.charge_ttl_minutes",
            "positive whole number",
        ),
        (
            "max_code_attempts = 2",
            'max_code_attempts = "3"',
            "payments.max_code_attempts",
            "positive whole number",
        ),
        (
            "shop_lock_minutes = 60",
            "shop_lock_minute = 60",
            "payments.shop_lock_minute",
            "unknown key",
        ),
        ("[list2]", "[lists2]", "lists2", "unknown key"),
        ("[exclusions]", "[exclusion]", "exclusion", "unknown key"),
    ],
)
def test_errors_name_the_key(old: str, new: str, key: str, problem: str) -> None:
    error = error_of(with_line(old, new))
    assert error.key == key
    assert problem in error.problem
    assert str(error).startswith(f"{key}: ")


def test_a_missing_section_is_named() -> None:
    text = VALID.replace('[list2]\nmode = "proportional"\n', "")
    error = error_of(text)
    assert (error.key, error.problem) == ("list2", "missing")


def test_a_section_that_is_not_a_table() -> None:
    text = 'list2 = "fill"\n' + VALID.replace('[list2]\nmode = "proportional"\n', "")
    error = error_of(text)
    assert error.key == "list2"
    assert "must be a table" in error.problem


def test_an_empty_amounts_table_is_missing_sizes() -> None:
    error = error_of(with_line('1 = 100\n2 = "150.50"\n', ""))
    assert error.key == "amounts"
    assert "missing" in error.problem


def test_syntax_errors_are_policy_errors() -> None:
    error = error_of("[policy\nname = 1")
    assert error.key == "toml"
    assert "not valid TOML" in error.problem


def test_the_reference_date_may_be_a_string() -> None:
    text = with_line(
        "liquidity_reference_date = 2020-03-31", 'liquidity_reference_date = "2020-04-30"'
    )
    assert parse_policy(text).liquidity_reference_date == date(2020, 4, 30)


def test_policies_built_in_code_are_validated_too() -> None:
    policy = default_policy()
    with pytest.raises(PolicyError) as caught:
        dataclasses.replace(policy, amounts_by_size_cents=(15000, 0))
    assert caught.value.key == "amounts.2"
    with pytest.raises(PolicyError) as caught:
        dataclasses.replace(policy, rounding_unit_cents=7)
    assert caught.value.key == "amounts.1"  # 150.00 is not a multiple of 0.07
    with pytest.raises(PolicyError) as caught:
        dataclasses.replace(policy, list2_mode="lottery")  # type: ignore[arg-type]
    assert caught.value.key == "list2.mode"
    with pytest.raises(PolicyError) as caught:
        dataclasses.replace(policy, liquidity_thresholds_cents=())
    assert caught.value.key == "liquidity_thresholds"
    with pytest.raises(PolicyError) as caught:
        dataclasses.replace(policy, shop_lock_minutes=0)
    assert caught.value.key == "payments.shop_lock_minutes"
    assert isinstance(dataclasses.replace(policy, list2_mode="proportional"), Policy)
