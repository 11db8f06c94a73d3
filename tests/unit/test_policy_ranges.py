"""Every key of the shipped policy has a sane range: an absurd value fails the check naming it."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import date
from importlib import resources

import pytest

from core.domain.errors import PolicyError
from core.domain.policy import default_policy, parse_policy

SHIPPED = resources.files("core.policies").joinpath("belforte.toml").read_text("utf-8")


def leaves(table: dict[str, object], prefix: str = "") -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for key, value in table.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            found += leaves(value, dotted)
        else:
            found.append((dotted, value))
    return found


def absurd(value: object) -> list[object]:
    """Values of the same kind no municipality means."""
    if isinstance(value, bool):
        return []  # true or false: nothing absurd to write
    if isinstance(value, int):
        return [2**63, 10**9, 10**6]
    if isinstance(value, date):
        return [date(9999, 12, 31), date(1, 1, 1)]
    if isinstance(value, str):
        if value.replace(".", "").isdigit():  # an amount written as a string
            return [str(10**20), "1" + "0" * 400]
        return ["x" * 10_000]
    raise AssertionError(f"a kind of value this test does not know: {value!r}")


def replaced(dotted: str, value: object) -> str:
    """The shipped TOML with one value replaced (TOML written by hand: keys stay in place)."""
    section, key = dotted.rsplit(".", 1)
    lines = SHIPPED.splitlines()
    inside = False
    for index, line in enumerate(lines):
        if line.startswith("["):
            inside = line.strip() == f"[{section}]"
        elif inside and line.split("=")[0].strip() == key:
            text = f'"{value}"' if isinstance(value, str) else str(value)
            if isinstance(value, date):
                text = value.isoformat()
            lines[index] = f"{key} = {text}"
            return "\n".join(lines)
    raise AssertionError(dotted)


CASES = [
    (dotted, bad)
    for dotted, value in leaves(tomllib.loads(SHIPPED))
    for bad in absurd(value)
    if dotted not in ("list2.mode",)  # a closed set of words, checked as such
]


def test_the_shipped_policy_is_inside_every_range() -> None:
    assert parse_policy(SHIPPED) == default_policy()


@pytest.mark.parametrize(("dotted", "bad"), CASES, ids=[f"{k}={str(v)[:12]}" for k, v in CASES])
def test_an_absurd_value_fails_naming_its_key(dotted: str, bad: object) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(replaced(dotted, bad))
    assert caught.value.key == dotted, caught.value


def test_every_key_of_the_shipped_policy_is_covered() -> None:
    covered = {dotted for dotted, _ in CASES}
    booleans = {k for k, v in leaves(tomllib.loads(SHIPPED)) if isinstance(v, bool)}
    assert covered | booleans | {"list2.mode"} == {k for k, _ in leaves(tomllib.loads(SHIPPED))}


def test_policies_built_in_code_are_checked_too() -> None:
    with pytest.raises(PolicyError) as caught:
        dataclasses.replace(default_policy(), charge_ttl_minutes=2**63)
    assert caught.value.key == "payments.charge_ttl_minutes"
    with pytest.raises(PolicyError) as caught:
        dataclasses.replace(default_policy(), amounts_by_size_cents=(10**22,))
    assert caught.value.key == "amounts.1"


def test_policy_check_names_the_key_and_exits_2(tmp_path: object) -> None:
    from pathlib import Path

    from typer.testing import CliRunner

    from buonispesa.cli import _register, app

    _register()
    assert isinstance(tmp_path, Path)
    path = tmp_path / "policy.toml"
    path.write_text(replaced("policy.application_window_days", 10**9), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["admin", "policy", "check", str(path)], env={"BUONISPESA_LANGUAGE": "en"}
    )
    assert result.exit_code == 2 and not isinstance(result.exception, OverflowError)
    assert "policy.application_window_days" in result.output
