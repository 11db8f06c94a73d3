"""A user trial's findings on the command line: `admin citizen phone` and `admin citizen
delegate` refuse a number that cannot receive the payment codes by SMS, and `admin window
open` refuses while the closed window has applications no tranche decided."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.cli_runner import invoke
from tests.factories import make_cf
from tests.integration.test_admin_cli import applications_csv
from tests.integration.test_tranches_cli import rows_now

TOWN_MOBILE = "+393401234567"


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite file, and the office's sentences in English (the assertions read them)."""
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)
    return url


def town_with_applications(tmp_path: Path) -> None:
    """BEL with its SMS number and a fund, window 1 open with three paper applications."""
    assert (
        invoke("admin", "municipality", "add", "BEL", "Belforte", "--sms-number", TOWN_MOBILE)[0]
        == 0
    )
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "50000", "--description", "Fondo")[0]
        == 0
    )
    assert invoke("admin", "window", "open", "BEL", "--yes")[0] == 0
    time.sleep(1)  # whole seconds in the CSV: one after the opening, none in the future
    source = applications_csv(tmp_path / "in.csv", rows_now())
    assert invoke("admin", "applications", "import", "BEL", str(source))[0] == 0


def test_the_citizens_phone_and_delegate_must_receive_sms(tmp_path: Path) -> None:
    town_with_applications(tmp_path)
    for command in ("phone", "delegate"):
        for typed, said, code in (
            ("0733 905000", "This is a landline: the codes arrive by SMS", "phone.landline"),
            ("800123456", "This number cannot receive SMS", "phone.not_mobile"),
            (TOWN_MOBILE, "This is the municipality's own SMS number", "phone.town_number"),
        ):
            status, output = invoke("admin", "citizen", command, "BEL", make_cf(2), typed)
            assert status == 2, (command, typed, output)
            assert said in output and f"({code})" in output, (command, typed, output)
            assert "Traceback" not in output
    status, output = invoke("admin", "citizen", "phone", "BEL", make_cf(2), "+44 7911 123456")
    assert status == 0 and "***456" in output, output
    # A paper import refuses the whole file for one landline.
    source = applications_csv(
        tmp_path / "more.csv",
        [rows_now()[0].replace(make_cf(1), make_cf(5)).replace("+393331234567", "0733905000")],
    )
    status, output = invoke("admin", "applications", "import", "BEL", str(source))
    assert status == 2 and "This is a landline" in output, output


def test_no_window_opens_while_the_closed_one_was_never_allocated(tmp_path: Path) -> None:
    town_with_applications(tmp_path)
    assert invoke("admin", "window", "close", "BEL", "--yes")[0] == 0
    code, output = invoke("admin", "window", "open", "BEL", "--yes")
    assert code == 2, output
    assert "Window 1 has 3 applications never allocated" in output, output
    assert "(window.never_allocated)" in output
    # Approval and credit still work on window 1: nothing was opened.
    code, output = invoke("admin", "approve", "BEL", "--budget", "350")
    assert code == 0, output
    assert invoke("admin", "credit", "BEL")[0] == 0
    code, output = invoke("admin", "window", "open", "BEL", "--yes")
    assert code == 0 and "application window 2 open" in output, output
