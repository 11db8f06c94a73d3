"""Ctrl-C (SIGINT) in a command: one sentence and exit 130, the transaction under way rolled
back; `serve` stops with one line. Real processes: a signal cannot be sent to CliRunner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from tests.factories import make_cf

# This checkout's code, whichever one the virtual environment was installed from.
ROOT = Path(__file__).resolve().parents[2]
INTERRUPTED = "Interrupted: nothing more was changed (what was not yet saved was rolled back)."
ROWS = 30_000  # enough for the import to be still running when it is interrupted


def environment(tmp_path: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_"))}
    return {
        **keep,
        "PYTHONPATH": str(ROOT),
        "BUONISPESA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
        "BUONISPESA_LANGUAGE": "en",
    }


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "buonispesa.cli", *args]


def run(tmp_path: Path, *args: str) -> str:
    done = subprocess.run(
        command(*args),
        env=environment(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _ctrl_c_as_on_a_terminal() -> None:
    # A suite started in the background (`make test &`) ignores SIGINT, and an ignored signal
    # stays ignored across exec: Python would then never raise KeyboardInterrupt in the child.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command(*args),
        env=environment(tmp_path),
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_ctrl_c_as_on_a_terminal,
    )


def read_until(stream: IO[bytes], marker: bytes, process: subprocess.Popen[bytes]) -> bytes:
    """What the process wrote on `stream` up to `marker` (or its end)."""
    seen = b""
    fd = stream.fileno()
    while marker not in seen:
        chunk = os.read(fd, 4096)
        if not chunk:
            raise AssertionError(f"ended before {marker!r}: {seen!r}, {process.wait()}")
        seen += chunk
    return seen


def interrupt(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    # Within seconds, even with stdin still open (nothing typed after the Ctrl-C).
    try:
        code = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.stderr is not None
    said = process.stderr.read().decode()
    if process.stdin is not None:
        process.stdin.close()
    return code, said


def test_ctrl_c_during_an_import_says_so_and_imports_nothing(tmp_path: Path) -> None:
    run(tmp_path, "admin", "municipality", "add", "BEL", "Belforte")
    run(tmp_path, "admin", "window", "open", "BEL", "--yes")
    time.sleep(1)  # whole seconds in the CSV: one after the opening, none in the future
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    source = tmp_path / "in.csv"
    source.write_text(
        "codice_fiscale,phone,household_size,has_work_income,has_pension,liquidity_eur,"
        "public_support_monthly_eur,rent_monthly_eur,submitted_at\n"
        + "".join(f"{make_cf(i)},,2,no,no,0,0,0,{now}\n" for i in range(1, ROWS + 1)),
        encoding="utf-8",
    )
    process = start(tmp_path, "admin", "applications", "import", "BEL", str(source))
    assert process.stderr is not None
    before = read_until(process.stderr, b"Importing:", process).decode()
    code, said = interrupt(process)
    lines = [line for line in (before + said).splitlines() if line.strip()]
    assert code == 130, said
    assert lines[-1] == INTERRUPTED, lines
    assert "Traceback" not in said and "Imported" not in said
    # All rows or none: the transaction was rolled back.
    run(tmp_path, "admin", "applications", "export", "BEL", str(tmp_path / "out.csv"))
    assert len((tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()) == 1


def test_ctrl_c_in_the_chat_leaves_at_once_with_the_sentence(tmp_path: Path) -> None:
    run(tmp_path, "migrate")
    process = start(tmp_path, "chat", "--lang", "en")
    assert process.stdout is not None
    read_until(process.stdout, b"> ", process)  # waiting for a line, stdin still open
    code, said = interrupt(process)
    assert code == 130, said
    assert said.strip() == INTERRUPTED


def test_ctrl_c_stops_the_server_with_one_line(tmp_path: Path) -> None:
    run(tmp_path, "migrate")
    process = start(tmp_path, "serve", "--host", "127.0.0.1", "--port", "0")
    assert process.stderr is not None
    # The banner's last line, once the port is bound.
    read_until(process.stderr, b"Running on", process)
    code, said = interrupt(process)
    assert code == 0, said
    assert said.strip().splitlines()[-1] == "The server has stopped.", said
    assert "Traceback" not in said
