"""Complementary suppression of published sums of money (pure).

Some sums are withheld before they are published (a sum over fewer than 3 households). A
withheld sum is protected only if no published figure gives it away: not one equal to it,
and not one from which it can be computed by addition or subtraction with the others. The
report knows how its sums hang together, as equations between figures, e.g. "spent at shops
= refunded + reimbursed + still owed to shops". Some members of an equation are never
published (a slack, here "still owed to shops"): a reader knows only that they exist. When
a slack is 0 the reader who assumes it is 0 is right, so a slack of 0 counts as known.

`complementary` names the published figures to withhold as well, until:

- no published figure other than 0 equals a withheld one;
- no equation has exactly one member the reader does not know (a withheld figure, or a
  slack other than 0) when that member is withheld: a second one is withheld, the largest
  published member of the equation (the one that tells the most).

Repeated until nothing changes, since each figure withheld may expose another equation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set

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
