"""`buonispesa --help` and the office's commands start without the server's libraries.

Every command module is imported to build the help, so a heavy import at the top of one
of them (python-telegram-bot, aiohttp, Twilio, fpdf, Alembic) slowed down every command.
The check runs in a fresh interpreter: this test process has imported them already.
"""

from __future__ import annotations

import json
import subprocess
import sys

SERVER_ONLY = ("telegram", "aiohttp", "twilio", "fpdf", "segno", "alembic")

PROBE = """
import json, sys
from buonispesa.cli import _register
_register()
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_building_the_command_line_imports_no_server_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(result.stdout))
    assert "typer" in loaded  # the probe did build the command line
    assert loaded.isdisjoint(SERVER_ONLY), sorted(loaded & set(SERVER_ONLY))


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
