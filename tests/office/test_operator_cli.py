"""`buonispesa admin operator add`: a one-time password that works once, to be changed."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from buonispesa.runtime import core_from_settings
from buonispesa.settings import Settings
from core.domain.errors import DomainError
from core.services import operators
from tests.cli_runner import invoke


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'o.sqlite3'}")


def test_operator_add_prints_a_one_time_password_and_lists_the_operator() -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte del Chienti")[0] == 0
    code, output = invoke("admin", "operator", "add", "BEL", "Anna.Rossi", "--role", "manager")
    assert code == 0, output
    found = re.search(r"Operator anna\.rossi added\. One-time password: (\S+) ", output)
    assert found is not None, output
    assert len(found.group(1)) == 19  # four groups of four, dashes between
    code, output = invoke("admin", "operator", "list", "BEL")
    assert code == 0 and "anna.rossi" in output and "manager" in output


def test_the_list_names_roles_in_the_office_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    invoke("admin", "municipality", "add", "BEL", "Belforte del Chienti")
    invoke("admin", "operator", "add", "BEL", "anna", "--role", "manager")
    invoke("admin", "operator", "add", "BEL", "bruno")
    code, output = invoke("admin", "operator", "list", "BEL")
    assert code == 0 and "responsabile" in output and "istruttore" in output, output
    assert "manager" not in output and "clerk" not in output


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


def column(listing: str, username: str, last: int) -> str:
    """A column of the operator's row in `admin operator list`, counted from the end."""
    row = next(line for line in listing.splitlines() if f" {username} " in line)
    return row.split("│")[-1 - last].strip()


def locked_until(listing: str, username: str) -> str:
    return column(listing, username, 2)


def sign_in(username: str, password: str) -> str:
    """What the sign-in service answers: "ok", or the refusal's code."""

    async def attempt() -> str:
        core = await core_from_settings(Settings(_env_file=None))
        try:
            async with core.uow() as uow:
                await operators.sign_in(uow, username, password, core.now())
            return "ok"
        except DomainError as error:
            return error.code
        finally:
            await core.close()

    return asyncio.run(attempt())


def test_a_locked_operator_is_listed_as_locked_and_unlocked_by_the_office() -> None:
    invoke("admin", "municipality", "add", "BEL", "Belforte del Chienti")
    output = invoke("admin", "operator", "add", "BEL", "anna")[1]
    found = re.search(r"One-time password: (\S+) ", output)
    assert found is not None, output
    for _ in range(operators.MAX_FAILED_SIGN_INS):
        assert sign_in("anna", "guess") in ("operator.sign_in_refused", "operator.locked")
    assert sign_in("anna", found.group(1)) == "operator.locked"
    code, output = invoke("admin", "operator", "list", "BEL")
    assert code == 0 and "Locked until" in output
    assert re.search(r"\d{2}:\d{2}", locked_until(output, "anna")), output
    assert invoke("admin", "operator", "unlock", "BEL", "nobody")[0] == 2

    code, output = invoke("admin", "operator", "unlock", "BEL", "Anna", "--by", "mario")

    assert code == 0 and "Operator anna can sign in again." in output
    assert sign_in("anna", found.group(1)) == "ok"
    assert locked_until(invoke("admin", "operator", "list", "BEL")[1], "anna") == ""


def test_a_disabled_operator_cannot_sign_in_until_enabled() -> None:
    invoke("admin", "municipality", "add", "BEL", "Belforte del Chienti")
    output = invoke("admin", "operator", "add", "BEL", "anna")[1]
    found = re.search(r"One-time password: (\S+) ", output)
    assert found is not None, output
    assert sign_in("anna", found.group(1)) == "ok"

    code, output = invoke("admin", "operator", "disable", "BEL", "Anna", "--by", "mario")

    assert code == 0, output
    assert "Operator anna disabled: 0 office sessions ended; no sign-in until" in output
    assert sign_in("anna", found.group(1)) == "operator.sign_in_refused"
    listing = invoke("admin", "operator", "list", "BEL")[1]
    assert "Disabled since" in listing and re.search(r"\d{2}:\d{2}", column(listing, "anna", 1))
    code, output = invoke("admin", "operator", "disable", "BEL", "anna")
    assert code == 2 and "Operator anna is already disabled." in output
    assert invoke("admin", "operator", "disable", "BEL", "nobody")[0] == 2

    code, output = invoke("admin", "operator", "enable", "BEL", "anna")

    assert code == 0 and "Operator anna can sign in again." in output
    assert sign_in("anna", found.group(1)) == "ok"
    assert column(invoke("admin", "operator", "list", "BEL")[1], "anna", 1) == ""
    code, output = invoke("admin", "operator", "enable", "BEL", "anna")
    assert code == 2 and "Operator anna is not disabled." in output
