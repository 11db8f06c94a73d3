"""Who gets how much: eligibility, lists and budget (docs/allocation.md). Pure, no I/O.

Everything is exact integer arithmetic on cents. Scores are compared exactly
(integer keys over a common denominator), never as rounded or float values.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from typing import NoReturn

from core.domain.money import format_plain
from core.domain.policy import Policy

# Above this size the common-denominator sort key would be a huge integer; exact Fraction keys
# are slower but stay correct for absurd household sizes.
_MAX_LCM_BITS = 256


class Assignment(StrEnum):
    LIST_1 = "1"
    LIST_2 = "2"
    EXCLUDED = "excluded"


class ExclusionReason(StrEnum):
    WORK_INCOME = "work_income"
    PENSION = "pension"
    LIQUIDITY = "liquidity"


@dataclass(frozen=True, slots=True)
class ApplicationFacts:
    """What the allocation needs to know about one application (money in cents).

    One of four shapes of an application, each at its own layer: this one is the pure
    input of `allocate` (no database, no identity: a `ref` and a `row` order), so that the
    rules can be run and tested on plain values, from the database (services.allocation
    builds it from `models.Application`) or from a CSV simulation (`ApplicationRow`).
    The household answers keep the same field names in all four.
    """

    ref: str  # protocol number, or row number for an imported CSV
    household_size: int
    has_work_income: bool
    has_pension: bool
    liquidity_cents: int
    public_support_monthly_cents: int
    rent_monthly_cents: int
    submitted_at: datetime
    row: int  # input order; the final tie-break, so it must be unique
    # What earlier tranches of the same round already gave this household: a further
    # tranche serves at most the full amount minus this (the voucher is one-off).
    received_cents: int = 0


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """The outcome for one application.

    `score` (list 2 only) is in euro cents per member; `full_amount_cents` is the
    entitlement before any budget cut (0 when excluded).
    """

    ref: str
    assignment: Assignment
    score: Fraction | None
    exclusion_reason: ExclusionReason | None
    full_amount_cents: int
    amount_cents: int

    @property
    def score_text(self) -> str:
        """The score in euro per member with two decimals (ROUND_HALF_UP), "" when none."""
        if self.score is None:
            return ""
        num, den = self.score.numerator, self.score.denominator
        # Scores are never negative, so floor((2n + d) / 2d) is round-half-up to whole cents.
        return format_plain((2 * num + den) // (2 * den))


def list2_score(facts: ApplicationFacts) -> Fraction:
    """(monthly public support - monthly rent, not below 0) / members, in cents per member."""
    need = facts.public_support_monthly_cents - facts.rent_monthly_cents
    return Fraction(max(0, need), facts.household_size)


def allocate(
    applications: Sequence[ApplicationFacts], policy: Policy, budget_cents: int
) -> list[AllocationLine]:
    """Apply the policy to every application; the lines come back in the input order.

    A further tranche passes what each household already received: the budget rules then
    apply to what is still due (full amount minus received), in the same list and score
    order, so no household ever ends above its full amount.

    Raises ValueError for impossible facts (size < 1, negative amounts, duplicate rows,
    naive and aware submission times mixed) or a negative budget.
    """
    if budget_cents < 0:
        raise ValueError(f"budget must not be negative, got {budget_cents}")
    reasons, full, list1, list2 = _classify(applications, policy)
    count = len(applications)
    granted = [0] * count
    unit = policy.rounding_unit_cents
    due = _still_due(applications, full, unit)

    def tie_key(index: int) -> tuple[datetime, int]:
        app = applications[index]
        return (app.submitted_at, app.row)

    list1_total = sum(due[i] for i in list1)
    if list1_total > budget_cents:
        # Art. 3: list 1 alone exceeds the budget -> everyone on it is cut alike, list 2 gets 0.
        _proportional(list1, due, budget_cents, unit, tie_key, granted)
    else:
        for index in list1:
            granted[index] = due[index]
        remaining = budget_cents - list1_total
        ordered = _by_score(list2, applications)
        if policy.list2_mode == "fill":
            _fill(ordered, due, remaining, unit, granted)
        else:
            _proportional(ordered, due, remaining, unit, tie_key, granted)

    lines: list[AllocationLine] = []
    append = lines.append
    excluded, on_list1, on_list2 = Assignment.EXCLUDED, Assignment.LIST_1, Assignment.LIST_2
    for app, reason, entitled, amount in zip(applications, reasons, full, granted, strict=True):
        if reason is not None:
            append(AllocationLine(app.ref, excluded, None, reason, 0, 0))
        elif app.public_support_monthly_cents:
            append(AllocationLine(app.ref, on_list2, list2_score(app), None, entitled, amount))
        else:
            append(AllocationLine(app.ref, on_list1, None, None, entitled, amount))
    return lines


def _classify(
    applications: Sequence[ApplicationFacts], policy: Policy
) -> tuple[list[ExclusionReason | None], list[int], list[int], list[int]]:
    """Validate the facts and sort them out.

    Returns, by input position, the exclusion reason (None = admitted) and the full amount
    (0 when excluded), then the positions on list 1 and on list 2. The first applicable
    reason wins, in the order work income, pension, liquidity.
    """
    amounts = policy.amounts_by_size_cents
    last_amount_size = len(amounts)
    thresholds = policy.liquidity_thresholds_cents
    last_size = len(thresholds)
    exclude_work = policy.exclude_work_income
    exclude_pension = policy.exclude_pension
    work, pension, liquidity = (
        ExclusionReason.WORK_INCOME,
        ExclusionReason.PENSION,
        ExclusionReason.LIQUIDITY,
    )
    reasons: list[ExclusionReason | None] = []
    full: list[int] = []
    list1: list[int] = []
    list2: list[int] = []
    append = reasons.append
    rows: set[int] = set()
    naive: bool | None = None
    # One pass doing validation and classification: this loop runs a million times.
    for index, app in enumerate(applications):
        size = app.household_size
        cash = app.liquidity_cents
        if (
            size < 1
            or cash < 0
            or app.public_support_monthly_cents < 0
            or app.rent_monthly_cents < 0
        ):
            _reject(app)
        is_naive = app.submitted_at.tzinfo is None
        if naive is None:
            naive = is_naive
        elif is_naive is not naive:
            # Sorting would fail half-way with a TypeError; say what is wrong instead.
            raise ValueError(
                f"application {app.ref!r}: submitted_at mixes naive and timezone-aware times"
            )
        rows.add(app.row)
        if exclude_work and app.has_work_income:
            append(work)
        elif exclude_pension and app.has_pension:
            append(pension)
        elif cash > thresholds[(size if size < last_size else last_size) - 1]:
            append(liquidity)
        else:
            append(None)
            full.append(amounts[(size if size < last_amount_size else last_amount_size) - 1])
            (list2 if app.public_support_monthly_cents else list1).append(index)
            continue
        full.append(0)
    if len(rows) != len(applications):
        # Equal rows would make the outcome depend on the input order.
        counts = Counter(app.row for app in applications)
        repeated = min(row for row, times in counts.items() if times > 1)
        raise ValueError(
            f"application rows must be unique (they are the final tie-break): {repeated} repeats"
        )
    return reasons, full, list1, list2


def _still_due(applications: Sequence[ApplicationFacts], full: list[int], unit: int) -> list[int]:
    """Full amount minus what earlier tranches gave, never below 0, floored to the unit."""
    if not any(app.received_cents for app in applications):
        return full  # a first tranche: everything is still due
    due = []
    for app, entitled in zip(applications, full, strict=True):
        if app.received_cents < 0:
            raise ValueError(
                f"application {app.ref!r}: received_cents must not be negative, "
                f"got {app.received_cents}"
            )
        left = max(0, entitled - app.received_cents)
        due.append(left - left % unit)
    return due


def _reject(app: ApplicationFacts) -> NoReturn:
    if app.household_size < 1:
        raise ValueError(
            f"application {app.ref!r}: household_size must be at least 1, got {app.household_size}"
        )
    for field in ("liquidity_cents", "public_support_monthly_cents", "rent_monthly_cents"):
        value = getattr(app, field)
        if value < 0:
            raise ValueError(f"application {app.ref!r}: {field} must not be negative, got {value}")
    raise AssertionError("called for valid facts")


def _by_score(indices: list[int], applications: Sequence[ApplicationFacts]) -> list[int]:
    """List-2 indices, lowest score (most need) first; ties: earlier submission, then row."""
    if not indices:
        return []
    sizes = {applications[i].household_size for i in indices}
    common = math.lcm(*sizes)
    if common.bit_length() > _MAX_LCM_BITS:
        return sorted(
            indices,
            key=lambda i: (
                list2_score(applications[i]),
                applications[i].submitted_at,
                applications[i].row,
            ),
        )
    # need / size == need * (common / size) / common: an exact integer key, fast to sort.
    factors = {size: common // size for size in sizes}
    keyed: list[tuple[int, datetime, int, int]] = []
    for index in indices:
        app = applications[index]
        need = app.public_support_monthly_cents - app.rent_monthly_cents
        key = need * factors[app.household_size] if need > 0 else 0
        keyed.append((key, app.submitted_at, app.row, index))
    keyed.sort()
    return [item[3] for item in keyed]


def _fill(
    ordered: list[int], full: list[int], remaining: int, unit: int, granted: list[int]
) -> None:
    """Full amounts in order while they fit; the first that does not fit takes what is left."""
    for index in ordered:
        amount = full[index]
        if amount <= remaining:
            granted[index] = amount
            remaining -= amount
        else:
            granted[index] = remaining - remaining % unit
            return  # everyone after the first that did not fit gets nothing


def _proportional(
    indices: list[int],
    full: list[int],
    budget: int,
    unit: int,
    tie_key: Callable[[int], tuple[datetime, int]],
    granted: list[int],
) -> None:
    """Cut every amount in the same proportion so that they add up to floor(budget / unit) units.

    Each exact share full * budget / total is floored to the unit; the units left over go one
    each by largest remainder (ties: earlier submission, then row). Full amounts are multiples
    of the unit (the policy checks it), so no amount ends above its full amount.
    """
    total = sum(full[i] for i in indices)
    if total <= budget:
        for index in indices:
            granted[index] = full[index]
        return
    scale = total * unit
    # Share and remainder depend only on the full amount, and a policy has a handful of them:
    # compute each once and bucket the applications by remainder.
    split = {amount: divmod(amount * budget, scale) for amount in {full[i] for i in indices}}
    by_remainder: dict[int, list[int]] = {}
    handed = 0
    for index in indices:
        units, remainder = split[full[index]]
        granted[index] = units * unit
        handed += units
        by_remainder.setdefault(remainder, []).append(index)
    leftover = budget // unit - handed
    for remainder in sorted(by_remainder, reverse=True):
        if leftover <= 0 or remainder == 0:
            break
        bucket = by_remainder[remainder]
        if leftover < len(bucket):
            if leftover * 8 < len(bucket):
                bucket = heapq.nsmallest(leftover, bucket, key=tie_key)
            else:
                bucket = sorted(bucket, key=tie_key)[:leftover]
        for index in bucket:
            granted[index] += unit
        leftover -= len(bucket)
