"""Disclosure control of the transparency report's figures (pure): what is published lets
no one read or work out a count below 3, or a sum of money over fewer than 3 households.
core/services/reports.py gathers the figures and says how they hang together.

Counts (`protect`): a count of 1 or 2 is withheld as "<3"; where the relations between
counts (a total and its parts) would let a reader pin a "<3" down to one value, further
counts are withheld until it has two possible values at least.

Sums of money (`complementary`): some sums are withheld before they are published (a sum
over fewer than 3 households). A withheld sum is protected only if no published figure
gives it away: not one equal to it, and not one from which it can be computed by addition
or subtraction with the others. The report knows how its sums hang together, as equations
between figures, e.g. "spent at shops = refunded + reimbursed + still owed to shops". Some
members of an equation are never published (a slack, here "still owed to shops"): a reader
knows only that they exist. When a slack is 0 the reader who assumes it is 0 is right, so a
slack of 0 counts as known.

`complementary` names the published figures to withhold as well, until:

- no published figure other than 0 equals a withheld one;
- no equation has exactly one member the reader does not know (a withheld figure, or a
  slack other than 0) when that member is withheld: a second one is withheld, the largest
  published member of the equation (the one that tells the most).

Repeated until nothing changes, since each figure withheld may expose another equation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from enum import StrEnum

THRESHOLD = 3  # counts below this (and above 0) are never published
_UNBOUNDED = 10**15  # "no upper bound" for the interval reasoning below


class Withheld(StrEnum):
    """Why a figure is not published. The values are the CSV's `note` column."""

    SMALL = "fewer_than_3"
    COMPLEMENTARY = "would_reveal_a_count_below_3"
    FEW_HOUSEHOLDS = "sum_over_fewer_than_3_households"
    REVEALS_SUM = "would_reveal_a_withheld_sum"


@dataclass(frozen=True)
class Figure:
    """A published count or amount of cents: `value` is None when withheld."""

    value: int | None
    withheld: Withheld | None = None

    @property
    def marker(self) -> str:
        return "<3" if self.withheld is Withheld.SMALL else "*"


# --- counts ------------------------------------------------------------------------------------

# A relation says: the count named first is the sum of the counts named next.
Relation = tuple[str, tuple[str, ...]]


def _bounds(
    values: Mapping[str, int],
    withheld: Mapping[str, Withheld],
    relations: Sequence[Relation],
    hidden: Set[str] = frozenset(),
) -> dict[str, tuple[int, int]]:
    """What a reader can deduce about each count from the published figures: an interval.

    A published count is exact; "<3" is 0..2; "*" is 3 or more; a hidden count (never
    published, e.g. the admitted households a tranche could pay) is 0 or more. Each
    relation narrows the intervals of its members; repeated to a fixpoint. The relations
    of the report share at most one count pairwise and form no cycle, and for such a tree
    of sums over whole-number intervals the fixpoint is exactly what can be deduced."""
    low: dict[str, int] = {}
    high: dict[str, int] = {}
    for name, value in values.items():
        reason = withheld.get(name)
        if name in hidden:
            low[name], high[name] = 0, _UNBOUNDED
        elif reason is None:
            low[name] = high[name] = value
        elif reason is Withheld.SMALL:
            low[name], high[name] = 0, THRESHOLD - 1
        else:
            low[name], high[name] = THRESHOLD, _UNBOUNDED
    changed = True
    passes = 0
    while changed:
        passes += 1
        if passes > 10 * (len(relations) + 1) + 2 * _UNBOUNDED.bit_length():
            # Only tangled (cyclic) relations converge this slowly; bounds short of the
            # fixpoint would be too wide and could let a pinned-down count through.
            raise ValueError("report relations must not form cycles")
        changed = False
        for total, parts in relations:
            narrowed = {
                total: (max(low[total], _sum(low, parts)), min(high[total], _sum(high, parts)))
            }
            for part in parts:
                others = [p for p in parts if p != part]
                narrowed[part] = (
                    max(low[part], low[total] - _sum(high, others)),
                    min(high[part], high[total] - _sum(low, others)),
                )
            for name, (new_low, new_high) in narrowed.items():
                if (new_low, new_high) != (low[name], high[name]):
                    low[name], high[name] = new_low, new_high
                    changed = True
    return {name: (low[name], high[name]) for name in values}


def _sum(bounds: Mapping[str, int], names: Sequence[str]) -> int:
    """Sum of interval ends; "unbounded" stays unbounded (no growth past the sentinel)."""
    return min(_UNBOUNDED, sum(bounds[name] for name in names))


def protect(
    values: Mapping[str, int], relations: Sequence[Relation], hidden: Set[str] = frozenset()
) -> dict[str, Figure]:
    """Published counts: small ones as "<3", plus complementary suppression wherever the
    relations would let a reader pin a "<3" that hides a 1 or a 2 down to one value.

    `values` holds every count of the relations, the `hidden` ones too (they are never
    published; a reader knows only that they are 0 or more). A zero withheld to protect
    a neighbour is shown as "<3", a count of 3 or more as "*"."""
    withheld: dict[str, Withheld] = {
        name: Withheld.SMALL
        for name, value in values.items()
        if name not in hidden and 0 < value < THRESHOLD
    }
    unprotectable: set[str] = set()  # cannot happen with the report's relations; see below
    while True:
        bounds = _bounds(values, withheld, relations, hidden)
        exposed = sorted(
            name
            for name, reason in withheld.items()
            if reason is Withheld.SMALL
            and 0 < values[name] < THRESHOLD
            and name not in unprotectable
            and bounds[name][0] == bounds[name][1]
        )
        if not exposed:
            break
        choice = _best_complement(exposed[0], values, withheld, relations, hidden)
        if choice is None:
            # Everything related is withheld already: nothing more to give. With "<3"
            # meaning 0..2 this leaves two values or more; a test holds it to that.
            unprotectable.add(exposed[0])
            continue
        withheld[choice] = (
            Withheld.SMALL if values[choice] < THRESHOLD else (Withheld.COMPLEMENTARY)
        )
    return {
        name: Figure(None, withheld[name]) if name in withheld else Figure(value)
        for name, value in values.items()
        if name not in hidden
    }


def _best_complement(
    exposed: str,
    values: Mapping[str, int],
    withheld: Mapping[str, Withheld],
    relations: Sequence[Relation],
    hidden: Set[str],
) -> str | None:
    """The count to withhold next to protect `exposed`, or None when there is none left.

    Preferred, in order: one that makes `exposed` ambiguous; one that cannot itself be
    recomputed from other published counts (withholding it would hide nothing); the
    closest; a part rather than a total (totals like "applications received" are the
    figures people look for); the smallest."""
    best: tuple[tuple[bool, bool, int, bool, int, str], str] | None = None
    for distance, is_total, name in _candidates(exposed, withheld, relations, hidden):
        kind = Withheld.SMALL if values[name] < THRESHOLD else Withheld.COMPLEMENTARY
        trial = {**withheld, name: kind}
        bounds = _bounds(values, trial, relations, hidden)
        resolves = bounds[exposed][0] < bounds[exposed][1]
        conceals = bounds[name][0] < bounds[name][1]
        key = (not resolves, not conceals, distance, is_total, values[name], name)
        if best is None or key < best[0]:
            best = (key, name)
    return best[1] if best is not None else None


def _candidates(
    exposed: str,
    withheld: Mapping[str, Withheld],
    relations: Sequence[Relation],
    hidden: Set[str],
) -> list[tuple[int, bool, str]]:
    """Published counts that share a relation with `exposed`, or with a withheld or hidden
    count tied to it, with their distance and whether they are a relation's total."""
    reached = {exposed}
    visited: set[int] = set()
    found: dict[str, tuple[int, bool, str]] = {}
    distance = 0
    while True:
        frontier = [
            index
            for index, (total, parts) in enumerate(relations)
            if index not in visited and (total in reached or reached.intersection(parts))
        ]
        if not frontier:
            return list(found.values())
        for index in frontier:
            visited.add(index)
            total, parts = relations[index]
            for name in (*parts, total):
                if name in withheld or name in hidden:
                    reached.add(name)
                elif name not in found:
                    found[name] = (distance, name == total, name)
        distance += 1


# --- sums of money -----------------------------------------------------------------------------

# sum(left) == sum(right), by the figures' names.
Equation = tuple[tuple[str, ...], tuple[str, ...]]


def complementary(
    values: Mapping[str, int],
    withheld: Set[str],
    equations: Sequence[Equation],
    slack: Set[str] = frozenset(),
) -> frozenset[str]:
    """The published figures (of `values`, not in `withheld` nor in `slack`) to withhold
    too, so that no withheld figure equals or can be worked out from what is published.

    A figure a reader must not learn is protected only as far as the equations given say
    how the figures hang together; the caller lists every one it publishes."""
    for left, right in equations:
        for name in (*left, *right):
            if name not in values:
                raise ValueError(f"equation names an unknown figure: {name}")
    secret = set(withheld)
    added: set[str] = set()

    def published(name: str) -> bool:
        return name not in secret and name not in slack

    def withhold(name: str) -> None:
        secret.add(name)
        added.add(name)

    changed = True
    while changed:
        changed = False
        hidden_values = {values[name] for name in secret if values[name] != 0}
        for name in sorted(values):
            if published(name) and values[name] != 0 and values[name] in hidden_values:
                withhold(name)
                changed = True
        for left, right in equations:
            members = (*left, *right)
            unknown = [
                name for name in members if name in secret or (name in slack and values[name] != 0)
            ]
            if len(unknown) != 1 or unknown[0] not in secret:
                continue
            candidates = [name for name in members if published(name)]
            if not candidates:
                continue  # nothing published in it: nothing gives the figure away
            withhold(max(candidates, key=lambda name: (abs(values[name]), name)))
            changed = True
    return frozenset(added)
