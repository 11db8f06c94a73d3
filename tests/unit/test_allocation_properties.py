"""Properties of allocate() on random inputs, and agreement with a slow, literal reference."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.allocation import (
    AllocationLine,
    ApplicationFacts,
    Assignment,
    ExclusionReason,
    allocate,
)
from core.domain.policy import Policy, default_policy

OPENING = datetime(2020, 4, 1, 9, 0, tzinfo=ZoneInfo("Europe/Rome"))
BELFORTE = default_policy()


@st.composite
def applications(draw: st.DrawFn) -> list[ApplicationFacts]:
    count = draw(st.integers(min_value=0, max_value=40))
    facts = []
    for row in range(count):
        on_support = draw(st.booleans())
        facts.append(
            ApplicationFacts(
                ref=f"P{row}",
                household_size=draw(st.integers(min_value=1, max_value=14)),
                has_work_income=draw(st.booleans()),
                has_pension=draw(st.booleans()),
                liquidity_cents=draw(st.integers(min_value=0, max_value=1_200_000)),
                # Small ranges so that equal scores (and equal remainders) happen often.
                public_support_monthly_cents=(
                    draw(st.integers(min_value=1, max_value=60)) * 1000 if on_support else 0
                ),
                rent_monthly_cents=draw(st.sampled_from([0, 10_000, 20_000, 25_000])),
                submitted_at=OPENING + timedelta(minutes=draw(st.integers(0, 5))),
                row=row,
            )
        )
    return facts


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    return dataclasses.replace(
        BELFORTE,
        # Belforte amounts are multiples of 50.00 euro, so every unit here is valid.
        rounding_unit_cents=draw(st.sampled_from([1, 50, 100, 500, 2500, 5000])),
        list2_mode=draw(st.sampled_from(["fill", "proportional"])),
        exclude_work_income=draw(st.booleans()),
        exclude_pension=draw(st.booleans()),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[ApplicationFacts], Policy, int]:
    facts = draw(applications())
    policy = draw(policies())
    requested = sum(policy.full_amount_cents(app.household_size) for app in facts)
    budget = draw(st.integers(min_value=0, max_value=requested + 50_000))
    return facts, policy, budget


def by_ref(lines: Sequence[AllocationLine]) -> dict[str, int]:
    return {line.ref: line.amount_cents for line in lines}


# --- a literal reading of docs/allocation.md, slow and obviously right


def reference(facts: Sequence[ApplicationFacts], policy: Policy, budget: int) -> dict[str, int]:
    def excluded(app: ApplicationFacts) -> bool:
        return (
            (policy.exclude_work_income and app.has_work_income)
            or (policy.exclude_pension and app.has_pension)
            or app.liquidity_cents > policy.liquidity_threshold_cents(app.household_size)
        )

    def full(app: ApplicationFacts) -> int:
        return policy.full_amount_cents(app.household_size)

    def cut(group: list[ApplicationFacts], money: int) -> dict[str, int]:
        total = sum(full(app) for app in group)
        if total <= money:
            return {app.ref: full(app) for app in group}
        unit = policy.rounding_unit_cents
        shares = {app.ref: Fraction(full(app) * money, total * unit) for app in group}
        out = {ref: int(share) for ref, share in shares.items()}
        leftover = money // unit - sum(out.values())
        ranked = sorted(group, key=lambda a: (-(shares[a.ref] % 1), a.submitted_at, a.row))
        for app in ranked[:leftover]:
            out[app.ref] += 1
        return {ref: units * unit for ref, units in out.items()}

    result = {app.ref: 0 for app in facts}
    admitted = [app for app in facts if not excluded(app)]
    list1 = [app for app in admitted if app.public_support_monthly_cents == 0]
    list2 = [app for app in admitted if app.public_support_monthly_cents > 0]
    list1_total = sum(full(app) for app in list1)
    if list1_total > budget:
        result.update(cut(list1, budget))
        return result
    result.update({app.ref: full(app) for app in list1})
    left = budget - list1_total
    list2.sort(
        key=lambda a: (
            Fraction(
                max(0, a.public_support_monthly_cents - a.rent_monthly_cents), a.household_size
            ),
            a.submitted_at,
            a.row,
        )
    )
    if policy.list2_mode == "proportional":
        result.update(cut(list2, left))
        return result
    for app in list2:
        if full(app) <= left:
            result[app.ref] = full(app)
            left -= full(app)
        else:
            result[app.ref] = left - left % policy.rounding_unit_cents
            break
    return result


# --- properties


@settings(max_examples=250, deadline=None)
@given(cases())
def test_matches_the_literal_reference(case: tuple[list[ApplicationFacts], Policy, int]) -> None:
    facts, policy, budget = case
    assert by_ref(allocate(facts, policy, budget)) == reference(facts, policy, budget)


@settings(max_examples=250, deadline=None)
@given(cases())
def test_budget_and_full_amounts_are_never_exceeded(
    case: tuple[list[ApplicationFacts], Policy, int],
) -> None:
    facts, policy, budget = case
    lines = allocate(facts, policy, budget)
    assert sum(line.amount_cents for line in lines) <= budget
    for line in lines:
        assert 0 <= line.amount_cents <= line.full_amount_cents
        assert line.amount_cents % policy.rounding_unit_cents == 0
        if line.assignment is Assignment.EXCLUDED:
            assert line.full_amount_cents == 0
            assert isinstance(line.exclusion_reason, ExclusionReason)
        else:
            assert line.exclusion_reason is None
        assert (line.score is not None) == (line.assignment is Assignment.LIST_2)


@settings(max_examples=250, deadline=None)
@given(cases())
def test_proportional_cuts_spend_the_whole_budget_down_to_the_unit(
    case: tuple[list[ApplicationFacts], Policy, int],
) -> None:
    facts, policy, budget = case
    lines = allocate(facts, policy, budget)
    unit = policy.rounding_unit_cents
    list1_full = sum(ln.full_amount_cents for ln in lines if ln.assignment is Assignment.LIST_1)
    list2_full = sum(ln.full_amount_cents for ln in lines if ln.assignment is Assignment.LIST_2)
    total = sum(line.amount_cents for line in lines)
    if list1_full > budget:
        assert total == budget // unit * unit
        assert all(ln.amount_cents == 0 for ln in lines if ln.assignment is Assignment.LIST_2)
    elif policy.list2_mode == "proportional" and list1_full + list2_full > budget:
        assert total == budget // unit * unit
    elif list1_full + list2_full <= budget:
        assert all(line.amount_cents == line.full_amount_cents for line in lines)


@settings(max_examples=200, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_input_order_does_not_matter(
    case: tuple[list[ApplicationFacts], Policy, int], rng: random.Random
) -> None:
    facts, policy, budget = case
    shuffled = list(facts)  # each keeps its own submitted_at and row, the tie-breaks
    rng.shuffle(shuffled)
    lines = allocate(shuffled, policy, budget)
    assert [line.ref for line in lines] == [app.ref for app in shuffled]
    assert by_ref(lines) == by_ref(allocate(facts, policy, budget))


@settings(max_examples=200, deadline=None)
@given(cases())
def test_fill_mode_serves_list2_as_a_prefix(
    case: tuple[list[ApplicationFacts], Policy, int],
) -> None:
    facts, policy, budget = case
    policy = dataclasses.replace(policy, list2_mode="fill")
    lines = allocate(facts, policy, budget)
    served = sorted(
        (
            (line.score, app.submitted_at, app.row, line)
            for app, line in zip(facts, lines, strict=True)
            if line.assignment is Assignment.LIST_2
        ),
        key=lambda item: item[:3],
    )
    # Full amounts, then at most one partial amount, then nothing.
    stage = 0
    for *_, line in served:
        if stage == 0 and line.amount_cents == line.full_amount_cents:
            continue
        if stage == 0:
            stage = 1
            continue
        assert line.amount_cents == 0
