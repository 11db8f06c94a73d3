"""`buonispesa --help` and the office's commands start without the server's libraries.

Every command module is imported to build the help, so a heavy import at the top of one
of them (SQLAlchemy through a service, python-telegram-bot, aiohttp, Twilio, fpdf, Alembic)
slowed down every command, `--help` included. The check runs in a fresh interpreter: this
test process has imported them already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

# The database and the services (SQLAlchemy, argon2, the SEPA schema), the server and the
# channels, the PDF writers, the migrations: each is imported by the commands that use it.
NOT_FOR_HELP = (
    "sqlalchemy",
    "argon2",
    "xmlschema",
    "telegram",
    "aiohttp",
    "twilio",
    "fpdf",
    "segno",
    "alembic",
)

PROBE = """
import contextlib, io, json, sys
sys.argv = ["buonispesa", "--help"]
from buonispesa.cli import main
with contextlib.redirect_stdout(io.StringIO()) as shown:
    try:
        main()
    except SystemExit as done:
        assert done.code in (0, None), done.code
assert "admin" in shown.getvalue(), shown.getvalue()
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_help_imports_neither_the_database_nor_the_server() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert "typer" in loaded  # the probe did build the command line
    assert loaded.isdisjoint(NOT_FOR_HELP), sorted(loaded & set(NOT_FOR_HELP))


def test_help_still_lists_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from buonispesa.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for command in ("serve", "chat", "admin", "migrate", "demo"):
        assert command in result.stdout


def test_a_group_lists_each_command_with_its_summary_as_running_text() -> None:
    """`admin --help` lists `allocate` with its docstring's first paragraph, rewrapped to
    the panel's width: a docstring's own line break ("…; the" / "file (codici …") once
    cut a sentence in the middle of the panel."""
    result = subprocess.run(
        [sys.executable, "-c", "from buonispesa.cli import main; main()", "admin", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    lines = [line.strip("│ ").strip() for line in result.stdout.splitlines()]
    allocate = next(line for line in lines if line.startswith("allocate "))
    assert allocate.endswith(
        "Approves nothing; the file (codici fiscali) is in the office's activity log."
    ), allocate


def test_a_commands_own_page_shows_every_paragraph_as_running_text() -> None:
    """`chat --help`'s second paragraph is rewrapped to the terminal's width: Typer kept
    the docstring's line breaks there, so "(shown at the" / "start)" came out cut."""
    result = subprocess.run(
        [sys.executable, "-c", "from buonispesa.cli import main; main()", "chat", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "1000", "TERM": "dumb", "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    page = [line.strip() for line in result.stdout.splitlines()]
    second = next(line for line in page if line.startswith("Try a whole payment alone"))
    assert "(shown at the start)" in second, second
    assert second.endswith("the chat goes on where it was."), second
