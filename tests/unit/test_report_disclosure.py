"""Disclosure control of the transparency report: no count below 3 can be read or worked out."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.disclosure import Figure, Relation, Withheld, protect
from core.services.reports import size_bands

REASONS = ("work", "pension", "liquidity")
LISTS = ("list_1", "list_2", "excluded", "not_allocated")
BANDS = ("b1", "b2", "b3")
# As the report states them: hidden counts ("~") are never published.
RELATIONS: list[Relation] = [
    ("received", ("~admitted", "excluded", "not_allocated")),
    ("~admitted", ("list_1", "list_2")),
    ("excluded", REASONS),
    ("received", BANDS),
    ("~admitted", ("paid", "~unpaid")),
    ("received", ("revoked", "~kept")),
]
HIDDEN = frozenset({"~admitted", "~unpaid", "~kept"})


def counts(
    work: int,
    pension: int,
    liquidity: int,
    l1: int,
    l2: int,
    na: int,
    b1: int,
    b2: int,
    unpaid: int = 0,
    revoked: int = 0,
) -> dict[str, int]:
    excluded = work + pension + liquidity
    received = l1 + l2 + excluded + na
    admitted = l1 + l2
    unpaid = min(unpaid, admitted)
    revoked = min(revoked, received)
    return {
        "work": work, "pension": pension, "liquidity": liquidity, "excluded": excluded,
        "list_1": l1, "list_2": l2, "not_allocated": na, "received": received,
        "b1": b1, "b2": b2, "b3": received - b1 - b2,
        "~admitted": admitted, "paid": admitted - unpaid, "~unpaid": unpaid,
        "revoked": revoked, "~kept": received - revoked,
    }  # fmt: skip


def possible_values(published: dict[str, Figure], bound: int) -> dict[str, set[int]]:
    """Brute force, independent of the implementation: every value each count can take
    given only what is published ("<3" is 0, 1 or 2; "*" is 3 up to `bound`) and the
    relations a reader knows. Enumerated relation by relation and joined on the shared
    counts, to stay fast."""

    def domain(name: str) -> range | tuple[int, ...]:
        figure = published[name]
        if figure.value is not None:
            return (figure.value,)
        if figure.withheld is Withheld.SMALL:
            return (0, 1, 2)
        return range(3, bound + 1)

    reasons: dict[int, list[tuple[int, ...]]] = {}
    for combo in itertools.product(*(domain(n) for n in REASONS)):
        if sum(combo) in domain("excluded"):
            reasons.setdefault(sum(combo), []).append(combo)
    lists: dict[int, list[tuple[int, ...]]] = {}
    for combo in itertools.product(
        domain("list_1"), domain("list_2"), reasons, domain("not_allocated")
    ):
        # A tranche pays at most the admitted households.
        if sum(combo) in domain("received") and any(
            paid <= combo[0] + combo[1] for paid in domain("paid")
        ):
            lists.setdefault(sum(combo), []).append(combo)
    bands: dict[int, list[tuple[int, ...]]] = {}
    for combo in itertools.product(*(domain(n) for n in BANDS)):
        if sum(combo) in domain("received"):
            bands.setdefault(sum(combo), []).append(combo)

    seen: dict[str, set[int]] = {name: set() for name in published}
    for received in set(lists) & set(bands):
        revoked = [r for r in domain("revoked") if r <= received]
        if not revoked:
            continue
        seen["received"].add(received)
        seen["revoked"].update(revoked)
        for combo in lists[received]:
            for name, value in zip(LISTS, combo, strict=True):
                seen[name].add(value)
            seen["paid"].update(p for p in domain("paid") if p <= combo[0] + combo[1])
            for reason_combo in reasons[combo[2]]:
                for name, value in zip(REASONS, reason_combo, strict=True):
                    seen[name].add(value)
        for combo in bands[received]:
            for name, value in zip(BANDS, combo, strict=True):
                seen[name].add(value)
    return seen


def publish(true: dict[str, int]) -> dict[str, Figure]:
    return protect(true, RELATIONS, HIDDEN)


def test_counts_of_3_or_more_and_zero_are_published() -> None:
    published = publish(counts(3, 0, 5, 10, 4, 0, 7, 7))
    assert all(f.withheld is None for f in published.values())
    assert published["pension"] == Figure(0)
    assert published["received"] == Figure(22)


def test_a_small_count_is_shown_as_below_3_and_a_neighbour_is_withheld() -> None:
    published = publish(counts(10, 2, 5, 20, 6, 0, 15, 14))
    assert published["pension"] == Figure(None, Withheld.SMALL)
    assert published["pension"].marker == "<3"
    # Without this, excluded (17) - work (10) - liquidity (5) would give pension = 2.
    assert published["liquidity"] == Figure(None, Withheld.COMPLEMENTARY)
    assert published["liquidity"].marker == "*"
    assert published["work"] == Figure(10)
    assert published["excluded"] == Figure(17)
    assert published["received"] == Figure(43)


def test_two_small_counts_tied_by_a_small_total_are_protected_by_a_neighbour() -> None:
    # excluded 3 = work 1 + pension 2 + liquidity 0 ... with received and lists 1/2 published,
    # excluded would be known exactly; a list is withheld instead.
    true = counts(1, 2, 0, 20, 6, 0, 15, 14)
    published = publish(true)
    assert published["work"].withheld is Withheld.SMALL
    assert published["pension"].withheld is Withheld.SMALL
    values = possible_values(published, true["received"])
    assert values["work"] == {1, 2} and values["pension"] == {1, 2}
    assert published["received"] == Figure(true["received"])


def test_two_ones_and_a_zero_under_a_small_total_are_protected_too() -> None:
    # excluded 2 = work 1 + pension 1 + liquidity 0: with the 0 published, "<3" + "<3" = "<3"
    # would still allow work 2 and pension 0 only if "<3" may be 0 -- it may, and when the
    # totals pin it, the zero is withheld as "<3" as well.
    true = counts(1, 1, 0, 20, 6, 0, 15, 10)
    published = publish(true)
    values = possible_values(published, true["received"] + 6)
    assert len(values["work"]) >= 2 and len(values["pension"]) >= 2


def test_received_minus_beneficiaries_does_not_give_the_excluded_away() -> None:
    # 8 applications, 7 paid in the tranche, 1 excluded for a pension: 8 - 7 = 1 unless
    # something more is withheld.
    true = counts(0, 1, 0, 7, 0, 0, 8, 0)
    published = publish(true)
    assert published["pension"].withheld is Withheld.SMALL
    values = possible_values(published, true["received"] + 6)
    assert len(values["excluded"]) >= 2 and len(values["pension"]) >= 2


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(*[st.integers(min_value=0, max_value=5)] * 6),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=0, max_value=3),
)
def test_no_count_below_3_can_be_worked_out(
    parts: tuple[int, int, int, int, int, int],
    b1_seed: int,
    b2_seed: int,
    unpaid: int,
    revoked: int,
) -> None:
    work, pension, liquidity, l1, l2, na = parts
    received = sum(parts)
    b1 = b1_seed % (received + 1)
    b2 = b2_seed % (received - b1 + 1)
    true = counts(work, pension, liquidity, l1, l2, na, b1, b2, unpaid, revoked)
    published = publish(true)

    assert not HIDDEN & set(published)
    for name, figure in published.items():
        if 0 < true[name] < 3:
            assert figure.withheld is Withheld.SMALL, name
        if figure.value is not None:
            assert figure.value == true[name]
        if figure.withheld is Withheld.COMPLEMENTARY:
            assert true[name] >= 3, name  # "*" never stands for a small count
        if figure.withheld is Withheld.SMALL:
            assert true[name] < 3, name
    # A reader does not know the true total: let withheld counts range a little beyond it.
    values = possible_values(published, received + 6)
    for name in published:
        assert true[name] in values[name]
        if 0 < true[name] < 3 and len(values[name]) < 2:
            # Pinned down: left only where withholding every count would pin it too (e.g.
            # bands 2 + 2 + 2 under two lists of "*", each 3 or more).
            best = possible_values(maximal(published, true), received + 6)
            assert len(best[name]) == 1, (name, true, published)


def maximal(published: dict[str, Figure], true: dict[str, int]) -> dict[str, Figure]:
    """The same report with every count withheld."""
    return {
        name: figure
        if figure.withheld
        else Figure(None, Withheld.SMALL if true[name] < 3 else Withheld.COMPLEMENTARY)
        for name, figure in published.items()
    }


def test_size_bands_follow_the_policy_table() -> None:
    assert size_bands(7) == ["1", "2", "3", "4", "5", "6", "7+"]
    assert size_bands(1) == ["1+"]
