"""Allocation by hand-checked examples (docs/allocation.md, Belforte del Chienti disciplinare)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from core.domain.allocation import (
    AllocationLine,
    ApplicationFacts,
    Assignment,
    ExclusionReason,
    allocate,
    list2_score,
)
from core.domain.policy import Policy, default_policy

ROME = ZoneInfo("Europe/Rome")
OPENING = datetime(2020, 4, 1, 9, 0, tzinfo=ROME)
EUR = 100  # cents


def app(
    ref: str,
    *,
    size: int = 1,
    work: bool = False,
    pension: bool = False,
    liquidity: int = 0,
    support: int = 0,
    rent: int = 0,
    minute: int = 0,
    row: int | None = None,
) -> ApplicationFacts:
    """An application; money in cents; submitted `minute` minutes after the opening."""
    return ApplicationFacts(
        ref=ref,
        household_size=size,
        has_work_income=work,
        has_pension=pension,
        liquidity_cents=liquidity,
        public_support_monthly_cents=support,
        rent_monthly_cents=rent,
        submitted_at=OPENING + timedelta(minutes=minute),
        row=int(ref) if row is None else row,
    )


def amounts(lines: list[AllocationLine]) -> dict[str, int]:
    return {line.ref: line.amount_cents for line in lines}


@pytest.fixture
def policy() -> Policy:
    return default_policy()


# --- everything fits


def test_everything_fits_everyone_gets_the_full_amount(policy: Policy) -> None:
    apps = [
        app("1", size=1),
        app("2", size=3, support=500 * EUR, rent=200 * EUR),
        app("3", size=7),
        app("4", size=2, work=True),
    ]
    lines = allocate(apps, policy, 10_000 * EUR)
    assert [line.ref for line in lines] == ["1", "2", "3", "4"]  # input order
    assert [line.assignment for line in lines] == [
        Assignment.LIST_1,
        Assignment.LIST_2,
        Assignment.LIST_1,
        Assignment.EXCLUDED,
    ]
    assert amounts(lines) == {"1": 150 * EUR, "2": 250 * EUR, "3": 500 * EUR, "4": 0}
    assert [line.full_amount_cents for line in lines] == [150 * EUR, 250 * EUR, 500 * EUR, 0]
    assert lines[1].score == Fraction(300 * EUR, 3)  # (500 - 200) / 3 members, in cents
    assert lines[1].score_text == "100.00"
    assert lines[0].score is None and lines[0].score_text == ""
    assert lines[3].exclusion_reason is ExclusionReason.WORK_INCOME


def test_no_applications_no_lines(policy: Policy) -> None:
    assert allocate([], policy, 1000) == []


def test_a_zero_budget_gives_nothing_to_anyone(policy: Policy) -> None:
    lines = allocate([app("1"), app("2", support=100)], policy, 0)
    assert amounts(lines) == {"1": 0, "2": 0}
    assert [line.full_amount_cents for line in lines] == [150 * EUR, 150 * EUR]


# --- list 1 over budget: proportional cut, largest remainder


def test_list1_over_budget_cut_proportionally_list2_gets_nothing(policy: Policy) -> None:
    # List 1 in full: 150 + 200 + 250 = 600.00 euro = 60000 cents; budget 100.01 = 10001.
    # Exact shares (full * 10001 / 60000):
    #   "1" 15000 -> 2500.25    floor 2500, remainder .25
    #   "2" 20000 -> 3333.666…  floor 3333, remainder .666…
    #   "3" 25000 -> 4167.0833… floor 4167, remainder .083…
    # Floors add up to 10000: 1 cent left, to the largest remainder ("2").
    apps = [
        app("1", size=1),
        app("2", size=2),
        app("3", size=3),
        app("4", size=1, support=100 * EUR),  # list 2: nothing left for it
    ]
    lines = allocate(apps, policy, 10001)
    assert amounts(lines) == {"1": 2500, "2": 3334, "3": 4167, "4": 0}
    assert sum(amounts(lines).values()) == 10001
    assert lines[3].assignment is Assignment.LIST_2
    assert lines[3].full_amount_cents == 150 * EUR


def test_largest_remainder_ties_go_to_the_earlier_submission_then_row(policy: Policy) -> None:
    # Four single members (150.00 each), budget 200.02: each exact share 5000.5 cents.
    # Floors 4 x 5000 = 20000, 2 cents left, all remainders equal: the earliest
    # submissions win: "4" (minute 1), then "2" and "3" tie on minute 2 -> row 2 wins.
    apps = [
        app("1", minute=3),
        app("2", minute=2),
        app("3", minute=2),
        app("4", minute=1),
    ]
    lines = allocate(apps, policy, 20002)
    assert amounts(lines) == {"1": 5000, "2": 5001, "3": 5000, "4": 5001}


def test_proportional_cut_with_a_rounding_unit_of_one_euro(policy: Policy) -> None:
    # Unit 1.00 euro. List 1: 15000 + 20000 + 25000 = 60000 cents; budget 10001 cents,
    # so 100 whole units can be handed out. Shares in units (full * 10001 / 6000000):
    #   "1" 25.0025 -> 25   "2" 33.3367 -> 33   "3" 41.6708 -> 41     (99 units)
    # The 1 unit left goes to the largest remainder: "3" (.6708 > .3367 > .0025).
    euro_unit = dataclasses.replace(policy, rounding_unit_cents=100)
    lines = allocate([app("1", size=1), app("2", size=2), app("3", size=3)], euro_unit, 10001)
    assert amounts(lines) == {"1": 2500, "2": 3300, "3": 4200}
    assert sum(amounts(lines).values()) == 10000  # floor(10001 / 100) * 100


def test_list1_exactly_the_budget_is_paid_in_full(policy: Policy) -> None:
    lines = allocate([app("1"), app("2", size=2), app("3", support=1)], policy, 35000)
    assert amounts(lines) == {"1": 15000, "2": 20000, "3": 0}


# --- list 2: score order, residual, ties


def list2_example() -> list[ApplicationFacts]:
    # Scores (euro per member): "2" (600 - 200) / 2 = 200, "3" 1000 / 4 = 250, "4" 500 / 1 = 500.
    return [
        app("1", size=1),  # list 1: 150.00
        app("4", size=1, support=500 * EUR, minute=1),
        app("3", size=4, support=1000 * EUR, minute=2),
        app("2", size=2, support=600 * EUR, rent=200 * EUR, minute=3),
    ]


def test_list2_filled_in_score_order_first_misfit_gets_the_residual(policy: Policy) -> None:
    # Budget 150 (list 1) + 200 ("2" in full) + 250 left: "3" needs 300, gets the 250,
    # and "4" gets nothing even though its 150 would have fitted before "3".
    lines = allocate(list2_example(), policy, (150 + 200 + 250) * EUR)
    assert amounts(lines) == {"1": 150 * EUR, "2": 200 * EUR, "3": 250 * EUR, "4": 0}
    assert [line.score_text for line in lines] == ["", "500.00", "250.00", "200.00"]


def test_list2_residual_is_floored_to_the_rounding_unit(policy: Policy) -> None:
    five_euro = dataclasses.replace(policy, rounding_unit_cents=500)
    # After list 1 (150) and "2" (200), 123.45 is left: "3" gets 120.00.
    lines = allocate(list2_example(), five_euro, 150 * EUR + 200 * EUR + 12345)
    assert amounts(lines) == {"1": 150 * EUR, "2": 200 * EUR, "3": 120 * EUR, "4": 0}


def test_list2_everyone_fits(policy: Policy) -> None:
    lines = allocate(list2_example(), policy, 10_000 * EUR)
    assert amounts(lines) == {"1": 150 * EUR, "2": 200 * EUR, "3": 300 * EUR, "4": 150 * EUR}


def test_list2_proportional_mode_shares_what_list1_left(policy: Policy) -> None:
    proportional = dataclasses.replace(policy, list2_mode="proportional")
    # List 2 in full: 150 + 300 + 200 = 650.00; left after list 1: 325.00, exactly half.
    lines = allocate(list2_example(), proportional, (150 + 325) * EUR)
    assert amounts(lines) == {"1": 150 * EUR, "2": 100 * EUR, "3": 150 * EUR, "4": 75 * EUR}
    # 100.00 left for 650.00: shares "4" 23.0769…, "3" 46.1538…, "2" 30.7692… euro.
    # Floors 2307 + 4615 + 3076 = 9998 cents; 2 cents to the largest remainders:
    # "2" (.923…) and "4" (.692…), not "3" (.384…).
    lines = allocate(list2_example(), proportional, (150 + 100) * EUR)
    assert amounts(lines) == {"1": 150 * EUR, "2": 3077, "3": 4615, "4": 2308}


def test_equal_scores_earlier_submission_first(policy: Policy) -> None:
    # 300/1 and 600/2 are the same score, 300.00 euro per member.
    apps = [
        app("1", size=2, support=600 * EUR, minute=5),
        app("2", size=1, support=300 * EUR, minute=4),
    ]
    lines = allocate(apps, policy, 150 * EUR)
    assert lines[0].score == lines[1].score
    assert amounts(lines) == {"1": 0, "2": 150 * EUR}


def test_equal_scores_and_submission_smaller_row_first(policy: Policy) -> None:
    apps = [
        app("1", support=300 * EUR, row=8),
        app("2", support=300 * EUR, row=7),
    ]
    lines = allocate(apps, policy, 150 * EUR)
    assert amounts(lines) == {"1": 0, "2": 150 * EUR}


def test_scores_are_compared_exactly_not_rounded(policy: Policy) -> None:
    # 1.00 / 3 = 0.3333… and 0.33 / 1 both print as 0.33, but 0.33 is lower (more need),
    # so "2" is served first although it was submitted later.
    apps = [
        app("1", size=3, support=100, minute=1),
        app("2", size=1, support=33, minute=2),
    ]
    lines = allocate(apps, policy, 150 * EUR)
    assert [line.score_text for line in lines] == ["0.33", "0.33"]
    assert amounts(lines) == {"1": 0, "2": 150 * EUR}


def test_rent_above_support_scores_zero_and_is_served_first(policy: Policy) -> None:
    apps = [
        app("1", size=1, support=10 * EUR, rent=0, minute=0),
        app("2", size=3, support=400 * EUR, rent=650 * EUR, minute=9),
    ]
    lines = allocate(apps, policy, 250 * EUR)
    assert lines[1].score == 0
    assert lines[1].score_text == "0.00"
    assert amounts(lines) == {"1": 0, "2": 250 * EUR}


def test_rent_without_support_is_list1(policy: Policy) -> None:
    [line] = allocate([app("1", rent=500 * EUR)], policy, 1000 * EUR)
    assert line.assignment is Assignment.LIST_1
    assert line.score is None


def test_score_text_rounds_half_up() -> None:
    def line(score: Fraction) -> AllocationLine:
        return AllocationLine("1", Assignment.LIST_2, score, None, 15000, 15000)

    assert line(Fraction(12345, 2)).score_text == "61.73"  # 61.725 -> 61.73
    assert line(Fraction(12344, 3)).score_text == "41.15"  # 41.1466… -> 41.15
    assert line(Fraction(1, 2)).score_text == "0.01"
    assert line(Fraction(1, 3)).score_text == "0.00"
    assert line(Fraction(0)).score_text == "0.00"


def test_list2_score_function() -> None:
    assert list2_score(app("1", size=4, support=1000, rent=200)) == Fraction(200)
    assert list2_score(app("1", size=3, support=100, rent=200)) == 0


# --- exclusions


THRESHOLDS_EURO = {1: 3000, 2: 4000, 3: 6000, 4: 8000, 5: 10000, 6: 10000, 7: 10000, 12: 10000}


@pytest.mark.parametrize(("size", "threshold_euro"), sorted(THRESHOLDS_EURO.items()))
def test_liquidity_at_the_threshold_is_admitted(
    policy: Policy, size: int, threshold_euro: int
) -> None:
    [line] = allocate([app("1", size=size, liquidity=threshold_euro * EUR)], policy, 10**9)
    assert line.assignment is Assignment.LIST_1
    assert line.exclusion_reason is None


@pytest.mark.parametrize(("size", "threshold_euro"), sorted(THRESHOLDS_EURO.items()))
def test_liquidity_one_cent_above_the_threshold_is_excluded(
    policy: Policy, size: int, threshold_euro: int
) -> None:
    [line] = allocate([app("1", size=size, liquidity=threshold_euro * EUR + 1)], policy, 10**9)
    assert line.assignment is Assignment.EXCLUDED
    assert line.exclusion_reason is ExclusionReason.LIQUIDITY
    assert (line.amount_cents, line.full_amount_cents, line.score) == (0, 0, None)


@pytest.mark.parametrize(
    ("work", "pension", "liquidity", "reason"),
    [
        (True, False, 0, ExclusionReason.WORK_INCOME),
        (False, True, 0, ExclusionReason.PENSION),
        (True, True, 10**9, ExclusionReason.WORK_INCOME),  # the first reason wins
        (False, True, 10**9, ExclusionReason.PENSION),
        (False, False, 10**9, ExclusionReason.LIQUIDITY),
    ],
)
def test_exclusion_reason_order(
    policy: Policy, work: bool, pension: bool, liquidity: int, reason: ExclusionReason
) -> None:
    apps = [app("1", work=work, pension=pension, liquidity=liquidity, support=500 * EUR)]
    [line] = allocate(apps, policy, 10**9)
    assert line.exclusion_reason is reason
    assert line.assignment is Assignment.EXCLUDED


def test_exclusions_can_be_switched_off(policy: Policy) -> None:
    lenient = dataclasses.replace(policy, exclude_work_income=False, exclude_pension=False)
    lines = allocate([app("1", work=True), app("2", pension=True, liquidity=10**9)], lenient, 10**9)
    assert [line.exclusion_reason for line in lines] == [None, ExclusionReason.LIQUIDITY]
    assert lines[0].amount_cents == 150 * EUR


@pytest.mark.parametrize(("size", "euro"), [(6, 400), (7, 500), (8, 500), (12, 500)])
def test_large_households_get_the_seven_or_more_amount(
    policy: Policy, size: int, euro: int
) -> None:
    [line] = allocate([app("1", size=size)], policy, 10**9)
    assert line.full_amount_cents == line.amount_cents == euro * EUR


# --- the real Belforte numbers, end to end


def test_belforte_tranche(policy: Policy) -> None:
    apps = [
        app("1", size=4, liquidity=7_500 * EUR),  # list 1, 300
        app("2", size=1, liquidity=3_000 * EUR + 1),  # excluded: liquidity
        app("3", size=5, support=780 * EUR, rent=380 * EUR, minute=10),  # 80.00/member, 350
        app("4", size=2, support=500 * EUR, minute=5),  # 250.00/member, 200
        app("5", size=3, pension=True),  # excluded: pension
        app("6", size=9),  # list 1, 500
        app("7", size=1, support=280 * EUR, rent=300 * EUR, minute=20),  # 0.00/member, 150
    ]
    # List 1: 300 + 500 = 800. Budget 1,400.00 leaves 600 for list 2, in score order:
    # "7" (0.00) 150 -> 450 left; "3" (80.00) 350 -> 100 left; "4" (250.00) needs 200, gets 100.
    lines = allocate(apps, policy, 1_400 * EUR)
    assert amounts(lines) == {
        "1": 300 * EUR,
        "2": 0,
        "3": 350 * EUR,
        "4": 100 * EUR,
        "5": 0,
        "6": 500 * EUR,
        "7": 150 * EUR,
    }
    assert [line.assignment.value for line in lines] == [
        "1",
        "excluded",
        "2",
        "2",
        "excluded",
        "1",
        "2",
    ]
    assert [line.score_text for line in lines] == ["", "", "80.00", "250.00", "", "", "0.00"]
    assert [r.value if (r := line.exclusion_reason) else "" for line in lines] == [
        "",
        "liquidity",
        "",
        "",
        "pension",
        "",
        "",
    ]


# --- invalid input


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"household_size": 0}, "household_size must be at least 1"),
        ({"liquidity_cents": -1}, "liquidity_cents must not be negative"),
        ({"public_support_monthly_cents": -1}, "public_support_monthly_cents"),
        ({"rent_monthly_cents": -1}, "rent_monthly_cents"),
    ],
)
def test_impossible_facts_are_rejected(
    policy: Policy, change: dict[str, int], message: str
) -> None:
    bad = dataclasses.replace(app("2"), **change)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        allocate([app("1"), bad], policy, 1000)


def test_a_negative_budget_is_rejected(policy: Policy) -> None:
    with pytest.raises(ValueError, match="budget"):
        allocate([app("1")], policy, -1)


def test_duplicate_rows_are_rejected(policy: Policy) -> None:
    with pytest.raises(ValueError, match="rows must be unique"):
        allocate([app("1", row=1), app("2", row=1)], policy, 1000)


def test_naive_and_aware_times_cannot_be_mixed(policy: Policy) -> None:
    naive = dataclasses.replace(app("2"), submitted_at=datetime(2020, 4, 1, 9, 0))
    with pytest.raises(ValueError, match="naive"):
        allocate([app("1"), naive], policy, 1000)


def test_times_in_different_zones_compare_as_instants(policy: Policy) -> None:
    # 09:00 in Rome (CEST, UTC+2) is 07:00 UTC: "1" at 07:30 UTC was submitted later.
    apps = [
        dataclasses.replace(
            app("1", support=300 * EUR), submitted_at=datetime(2020, 4, 1, 7, 30, tzinfo=UTC)
        ),
        app("2", support=300 * EUR, minute=0),
    ]
    assert amounts(allocate(apps, policy, 150 * EUR)) == {"1": 0, "2": 150 * EUR}


def test_absurd_household_sizes_still_sort_exactly(policy: Policy) -> None:
    # Huge coprime sizes make the common denominator too big for the integer sort key:
    # the exact Fraction fallback must give the same order.
    sizes = [2**61 - 1, 2**89 - 1, 2**107 - 1, 2**127 - 1]  # Mersenne primes
    supports = [10**25, 10**33, 10**38, 10**18]
    apps = [
        app(str(i), size=size, support=support)
        for i, (size, support) in enumerate(zip(sizes, supports, strict=True))
    ]
    by_need = sorted(apps, key=list2_score)
    lines = allocate(apps, policy, 1000 * EUR)  # two 500.00 amounts
    assert {ref for ref, cents in amounts(lines).items() if cents} == {
        by_need[0].ref,
        by_need[1].ref,
    }


# Further tranches ------------------------------------------------------------------------


def received(facts: ApplicationFacts, cents: int) -> ApplicationFacts:
    return dataclasses.replace(facts, received_cents=cents)


def test_a_further_tranche_gives_at_most_what_is_still_due(policy: Policy) -> None:
    # Tranche 1 paid list 1 in full and the first of list 2; 3 got nothing.
    first = [
        received(app("1", size=7), 500 * EUR),
        received(app("2", size=2, support=100 * EUR, minute=1), 200 * EUR),
        app("3", size=2, support=300 * EUR, minute=2),
    ]
    lines = allocate(first, policy, 5_000 * EUR)
    assert amounts(lines) == {"1": 0, "2": 0, "3": 200 * EUR}
    assert [line.full_amount_cents for line in lines] == [500 * EUR, 200 * EUR, 200 * EUR]


def test_list_1_still_due_above_the_budget_is_cut_in_proportion(policy: Policy) -> None:
    # Half of each list-1 amount was paid; the rest costs 425 €, the budget is 85 €.
    facts = [
        received(app("1", size=7), 250 * EUR),
        received(app("2", size=2, minute=1), 100 * EUR),
        received(app("3", size=1, minute=2), 75 * EUR),
    ]
    assert amounts(allocate(facts, policy, 85 * EUR)) == {
        "1": 50 * EUR,
        "2": 20 * EUR,
        "3": 15 * EUR,
    }


def test_list_2_fill_continues_where_the_last_tranche_stopped(policy: Policy) -> None:
    # The second of list 2 received 50 € of its 200 € when tranche 1 ran out.
    facts = [
        received(app("1", size=2, support=100 * EUR), 200 * EUR),
        received(app("2", size=2, support=200 * EUR, minute=1), 50 * EUR),
        app("3", size=2, support=300 * EUR, minute=2),
    ]
    assert amounts(allocate(facts, policy, 200 * EUR)) == {"1": 0, "2": 150 * EUR, "3": 50 * EUR}


def test_received_above_the_full_amount_gives_nothing_and_negative_is_refused(
    policy: Policy,
) -> None:
    assert amounts(allocate([received(app("1"), 999 * EUR)], policy, 1_000 * EUR)) == {"1": 0}
    with pytest.raises(ValueError, match="received_cents"):
        allocate([received(app("1"), -1)], policy, 1_000 * EUR)
