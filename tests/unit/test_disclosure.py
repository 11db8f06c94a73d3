"""Complementary suppression of sums: no withheld figure equals or follows from a published one."""

from __future__ import annotations

import pytest

from core.domain.disclosure import Equation, complementary

SHOPS: list[Equation] = [(("spent",), ("refunded", "reimbursed", "~owed"))]
SLACK = frozenset({"~owed"})


def test_nothing_withheld_nothing_more() -> None:
    values = {"spent": 19_50, "refunded": 0, "reimbursed": 19_50, "~owed": 0}
    assert complementary(values, set(), SHOPS, SLACK) == frozenset()


def test_a_published_figure_equal_to_a_withheld_one_is_withheld() -> None:
    values = {"spent": 19_50, "refunded": 0, "reimbursed": 19_50, "~owed": 0}
    assert complementary(values, {"spent"}, SHOPS, SLACK) == {"reimbursed"}
    # Equal by chance, with no equation between them: withheld all the same.
    assert complementary({"a": 5_00, "b": 5_00}, {"a"}, []) == {"b"}


def test_a_difference_that_gives_the_figure_away_is_withheld() -> None:
    # spent = 3,00 + 16,50 with nothing still owed: the larger published member goes.
    values = {"spent": 19_50, "refunded": 3_00, "reimbursed": 16_50, "~owed": 0}
    assert complementary(values, {"spent"}, SHOPS, SLACK) == {"reimbursed"}


def test_a_slack_other_than_zero_already_protects() -> None:
    # Something is still owed to shops: spent is not the sum of the published members.
    values = {"spent": 19_50, "refunded": 3_00, "reimbursed": 10_00, "~owed": 6_50}
    assert complementary(values, {"spent"}, SHOPS, SLACK) == frozenset()


def test_two_withheld_members_need_nothing_more() -> None:
    values = {"spent": 19_50, "refunded": 3_00, "reimbursed": 16_50, "~owed": 0}
    assert complementary(values, {"spent", "refunded"}, SHOPS, SLACK) == frozenset()


def test_a_budget_spent_to_the_cent_is_withheld_with_its_tranche() -> None:
    equations: list[Equation] = [
        (("budget_2",), ("approved_2", "~left_2")),
        (("credited",), ("approved_1", "approved_2", "~other")),
    ]
    values = {
        "budget_2": 49_50,
        "approved_2": 49_50,
        "~left_2": 0,
        "credited": 1_250_00,
        "approved_1": 1_200_50,
        "~other": 0,
    }
    extra = complementary(values, {"approved_2"}, equations, {"~left_2", "~other"})
    # The budget equals it; credited minus tranche 1 computes it (credited is the larger).
    assert extra == {"budget_2", "credited"}


def test_withholding_spreads_along_the_equations() -> None:
    # b is withheld; a = b + c pins b, so a goes (the larger); then d = a + e pins a, so d.
    equations: list[Equation] = [(("a",), ("b", "c")), (("d",), ("a", "e"))]
    values = {"a": 10_00, "b": 4_00, "c": 6_00, "d": 11_00, "e": 1_00}
    assert complementary(values, {"b"}, equations) == {"a", "d"}


def test_an_equation_with_nothing_published_is_left_alone() -> None:
    values = {"a": 10_00, "b": 4_00, "~c": 0}
    assert complementary(values, {"a", "b"}, [(("a",), ("b", "~c"))], {"~c"}) == frozenset()


def test_an_equation_naming_an_unknown_figure_is_refused() -> None:
    with pytest.raises(ValueError):
        complementary({"a": 1}, set(), [(("a",), ("b",))])
