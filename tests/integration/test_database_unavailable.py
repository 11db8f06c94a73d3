"""A database that cannot be opened is one sentence naming it (password hidden) and why,
exit 2: not hundreds of lines of traceback with the password in them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from buonispesa.cli import _register, app
from tests.conftest import PG_ADMIN_URL

_register()
runner = CliRunner()


def _base() -> str:
    return PG_ADMIN_URL.rpartition("/")[0]


@pytest.mark.parametrize("command", [["admin", "municipality", "list"], ["migrate"], ["demo"]])
def test_a_database_that_does_not_exist(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_SECRET_KEY", "ab" * 32)
    url = _base().replace("postgres@", "postgres:s3cr%40t@") + "/no_such_buonispesa_db"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)
    result = runner.invoke(app, command)
    output = " ".join(result.output.split())
    if "Connect call failed" in output or "Connection refused" in output:
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: this test needs it running")
    assert result.exit_code == 2, output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), output
    assert "Cannot open the database" in output and "no_such_buonispesa_db" in output
    assert 'database "no_such_buonispesa_db" does not exist' in output
    assert "s3cr" not in output and "***" in output


def test_a_server_that_does_not_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_SECRET_KEY", "ab" * 32)
    # Port 9 (discard) on loopback: nothing listens there.
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:9/test")
    result = runner.invoke(app, ["admin", "municipality", "list"])
    output = " ".join(result.output.split())
    assert result.exit_code == 2, output
    assert "Cannot open the database postgresql+asyncpg://postgres@127.0.0.1:9/test" in output
    assert "Traceback" not in output


def test_a_misspelt_variable_is_named_before_the_command_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("BUONISPESA_PORTT=9000\n", encoding="utf-8")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("BUONISPESA_DATABSE_URL", "postgresql+asyncpg://postgres@127.0.0.1/x")
    result = runner.invoke(app, ["admin", "municipality", "list"])
    output = " ".join(result.output.split())
    assert result.exit_code == 0, output
    assert (
        "Warning: BUONISPESA_DATABSE_URL is not a variable buonispesa reads: ignored. "
        "Did you mean BUONISPESA_DATABASE_URL?"
    ) in output
    assert "BUONISPESA_PORTT is not a variable buonispesa reads" in output  # from .env


def test_serve_names_the_database_not_its_own_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_SECRET_KEY", "ab" * 32)
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:9/test")
    result = runner.invoke(app, ["serve", "--port", "0"])
    output = " ".join(result.output.split())
    assert result.exit_code == 2, output
    assert "Cannot open the database postgresql+asyncpg://postgres@127.0.0.1:9/test" in output
    assert "Cannot listen" not in output


def test_the_terminal_chat_says_a_database_it_cannot_reach(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`chat --database-url` with nothing listening: the same sentence as the office's
    commands, the password hidden, exit 2 before anything is asked."""
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_SECRET_KEY", "ab" * 32)
    url = "postgresql+asyncpg://postgres:s3cr%40t@127.0.0.1:9/test"
    result = runner.invoke(app, ["chat", "--database-url", url], input="SALDO\n")
    output = " ".join(result.output.split())
    assert result.exit_code == 2, output
    assert "Cannot open the database postgresql+asyncpg://postgres:***@127.0.0.1:9/test" in output
    assert "s3cr" not in output and "Traceback" not in output
