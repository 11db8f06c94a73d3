"""The office's community commands on a SQLite file: the town's switch, the view, grants."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import invoke, sqlite_file


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return sqlite_file(tmp_path, monkeypatch)


def test_the_office_turns_the_feature_on_and_off(database: str) -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte del Chienti")[0] == 0
    code, output = invoke("admin", "municipality", "community", "BEL", "--on")
    assert code == 0 and "are on" in output, output
    code, output = invoke("admin", "municipality", "community", "BEL", "--off")
    assert code == 0 and "are off" in output, output
    code, output = invoke("admin", "municipality", "community", "XXX", "--on")
    assert code == 2 and "XXX" in output and "Traceback" not in output


def test_the_view_and_a_grant_without_donations(database: str) -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte del Chienti")[0] == 0
    code, output = invoke("admin", "community", "show", "BEL")
    assert code == 0 and "€0.00 available" in output, output
    code, output = invoke("admin", "community", "grant", "BEL")
    assert code == 2 and "Donations available to grant: €0.00" in output, output
    code, output = invoke("admin", "community", "grant", "BEL", "--amount", "dieci")
    assert code == 2 and "not an amount" in output, output


@pytest.mark.parametrize("command", [("show",), ("grant",), ("grant", "--amount", "10")])
def test_an_unknown_town_is_said_as_by_every_other_command(
    database: str, command: tuple[str, ...]
) -> None:
    # The same sentence and code as `admin cards XXX` or `admin credit XXX`: the view and
    # the grant had their own lookup, which left the code out.
    code, output = invoke("admin", "community", command[0], "XXX", *command[1:])
    assert code == 2, output
    assert (
        "There is no municipality with code XXX: see 'admin municipality list'. "
        "(municipality.not_found)" in output
    ), output
