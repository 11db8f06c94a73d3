"""Which passwords an operator may choose (core.domain.passwords, NIST SP 800-63B)."""

from __future__ import annotations

import pytest

from core.domain.passwords import Weakness, weakness
from core.services.operators import new_one_time_password

TOWN = ["Comune di Belforte del Chienti", "BEL"]


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("aaaaaaaaaaaa", Weakness.EASY_TO_GUESS),  # the trial's password
        ("abcdefghijkl", Weakness.EASY_TO_GUESS),
        ("123456789012", Weakness.EASY_TO_GUESS),
        ("qwertyuiopas", Weakness.EASY_TO_GUESS),
        ("passwordpassword", Weakness.EASY_TO_GUESS),
        ("ciaociaociao", Weakness.EASY_TO_GUESS),
        ("juventus1897!", Weakness.EASY_TO_GUESS),
        ("buonispesa2026", Weakness.EASY_TO_GUESS),
        ("bel.clerk2026!", Weakness.NAMES_THE_OPERATOR),
        ("Clerk-of-the-year", Weakness.NAMES_THE_OPERATOR),
        ("Belforte2026!!", Weakness.NAMES_THE_TOWN),
        ("chiènti sul fiume", Weakness.NAMES_THE_TOWN),
        ("short", Weakness.TOO_SHORT),
        ("correct horse battery", None),
        ("gatto nero corre sul tetto", None),
        ("Tr0ub4dor&3xy", None),
    ],
)
def test_the_rule(password: str, expected: Weakness | None) -> None:
    assert weakness(password, username="bel.clerk", town_names=TOWN) == expected


def test_a_password_longer_than_the_estimate_is_judged_by_its_start() -> None:
    assert weakness("x" * 500, username="bel.clerk", town_names=TOWN) == Weakness.EASY_TO_GUESS
    long = "quiet river under stone " * 10
    assert weakness(long, username="bel.clerk", town_names=TOWN) is None


def test_the_one_time_passwords_pass_the_rule() -> None:
    for _ in range(300):
        assert weakness(new_one_time_password(), username="bel.new", town_names=TOWN) is None
