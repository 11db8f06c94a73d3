"""The command line (`buonispesa …`) run inside a test: its commands registered once, one
runner for every test module, and the SQLite file a test's commands share."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from buonispesa.cli import _register, app

_register()
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    """`buonispesa ARGS…`: its exit code and what it printed."""
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new SQLite file under `tmp_path`, the database of every command the test runs
    (BUONISPESA_DATABASE_URL); its URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)
    return url
