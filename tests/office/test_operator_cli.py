"""`buonispesa admin operator add`: a one-time password that works once, to be changed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from buonispesa.cli import _register, app

_register()
runner = CliRunner()


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'o.sqlite3'}")


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_operator_add_prints_a_one_time_password_and_lists_the_operator() -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte del Chienti")[0] == 0
    code, output = invoke("admin", "operator", "add", "BEL", "Anna.Rossi", "--role", "manager")
    assert code == 0, output
    found = re.search(r"Operator anna\.rossi added\. One-time password: (\S+) ", output)
    assert found is not None, output
    assert len(found.group(1)) == 19  # four groups of four, dashes between
    code, output = invoke("admin", "operator", "list", "BEL")
    assert code == 0 and "anna.rossi" in output and "manager" in output


def test_bad_role_duplicate_or_unknown_town_exit_2_and_change_nothing() -> None:
    invoke("admin", "municipality", "add", "BEL", "Belforte del Chienti")
    assert invoke("admin", "operator", "add", "BEL", "anna", "--role", "boss")[0] == 2
    assert invoke("admin", "operator", "add", "XYZ", "anna")[0] == 2
    assert invoke("admin", "operator", "add", "BEL", "anna")[0] == 0
    code, output = invoke("admin", "operator", "add", "BEL", "ANNA")
    assert code == 2, output
    assert invoke("admin", "operator", "list", "BEL")[1].count("anna") == 1


def test_refusals_say_what_is_wrong() -> None:
    invoke("admin", "municipality", "add", "BEL", "Belforte del Chienti")
    code, output = invoke("admin", "operator", "add", "BEL", "anna", "--role", "boss")
    assert code == 2 and "boss is not a role: use clerk, manager or viewer." in output
    code, output = invoke("admin", "operator", "add", "BEL", "a b")
    assert code == 2 and "is not a valid username" in output
