"""The office's tranche commands end to end: withdraw, windows, earlier windows, progress."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests import cli_runner
from tests.cli_runner import invoke
from tests.factories import make_cf
from tests.integration.test_admin_cli import applications_csv


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite file, and the office's sentences in English (the assertions read them)."""
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)
    return url


def rows_now() -> list[str]:
    """Three applications submitted just now (inside the window opened just before)."""
    now = cli_runner.now().replace(microsecond=0).isoformat()
    return [
        f"{make_cf(1)},+393331234567,4,false,false,0,0,0,{now}",
        f"{make_cf(2)},,1,no,no,0,300.00,200.00,{now}",
        f"{make_cf(3)},,2,sì,no,0,0,0,{now}",
    ]


def allocation_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_withdraw_window_guard_and_earlier_windows(tmp_path: Path) -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "50000", "--description", "Fondo")[0]
        == 0
    )
    assert invoke("admin", "window", "open", "BEL", "--yes")[0] == 0
    time.sleep(1)  # whole seconds in the CSV: one after the opening, none in the future
    source = applications_csv(tmp_path / "in.csv", rows_now())
    assert invoke("admin", "applications", "import", "BEL", str(source))[0] == 0
    assert invoke("admin", "window", "close", "BEL", "--yes")[0] == 0

    code, output = invoke("admin", "approve", "BEL", "--budget", "100")  # a mistake
    # Each window has its tranche 1, 2…: the sentence names both.
    assert code == 0 and "BEL: tranche 1 of window 1 approved." in output, output
    code, output = invoke("admin", "window", "open", "BEL", "--yes")
    assert code == 2, output
    assert "Tranche 1 is approved but not credited" in output
    assert "(window.tranche_waiting)" in output
    code, output = invoke("admin", "approve", "BEL", "--withdraw", "--by", "m.rossi")
    assert code == 0 and "tranche 1 of window 1 withdrawn by m.rossi" in output, output
    code, output = invoke("admin", "approve", "BEL", "--withdraw")
    assert code == 2 and "(allocation.none_to_withdraw)" in output
    code, output = invoke("admin", "credit", "BEL")
    assert code == 2 and "(allocation.none)" in output

    code, output = invoke("admin", "approve", "BEL", "--budget", "350")
    assert code == 0 and "unspent" not in output, output
    code, output = invoke("admin", "credit", "BEL")
    assert code == 0 and "Tranche 2 of window 1: credited €350.00 to 2 households." in output, (
        output
    )
    # Only the first household left a phone; the excluded third one left none.
    assert "1 notice queued." in output, output
    # Not a terminal: one progress line per tenth, not a bar.
    assert "Crediting: 100 % (2 of 2)" in output
    code, output = invoke("admin", "approve", "BEL", "--withdraw")
    assert code == 2 and "(allocation.already_credited)" in output
    code, output = invoke("admin", "ledger", "check", "BEL")
    assert code == 0 and "Every tranche posted its approved total" in output, output

    assert invoke("admin", "window", "open", "BEL", "--yes")[0] == 0  # window 2, empty
    code, output = invoke(
        "admin",
        "allocate",
        "BEL",
        "--budget",
        "1000",
        "--out",
        str(tmp_path / "w1.csv"),
        "--window",
        "1",
    )
    assert code == 0, output
    # 'admin approve' decides the latest window's tranche only: the hint says so.
    assert "approves a tranche of the latest window only (window 2)" in " ".join(output.split())
    # What a further tranche of window 1 would give: only the 100 € the second one lacks.
    assert [r["amount_eur"] for r in allocation_rows(tmp_path / "w1.csv")] == [
        "0.00",
        "100.00",
        "0.00",
    ]
    code, output = invoke(
        "admin", "allocate", "BEL", "--budget", "1000", "--out", str(tmp_path / "w2.csv")
    )
    assert code == 0 and allocation_rows(tmp_path / "w2.csv") == []
    # An allocation that pays nobody is not sent to 'admin approve', which refuses it.
    assert "this allocation pays nobody" in " ".join(output.split()), output

    assert (
        invoke("admin", "applications", "export", "BEL", str(tmp_path / "e1.csv"), "--window", "1")[
            0
        ]
        == 0
    )
    assert len(allocation_rows(tmp_path / "e1.csv")) == 3
    assert invoke("admin", "applications", "export", "BEL", str(tmp_path / "e2.csv"))[0] == 0
    assert allocation_rows(tmp_path / "e2.csv") == []

    code, output = invoke("admin", "report", "BEL", "--format", "csv", "--window", "1")
    assert code == 0 and "report,round,1" in output, output
    code, output = invoke("admin", "report", "BEL", "--format", "csv")
    assert code == 0 and "report,round,2" in output
    code, output = invoke(
        "admin", "allocate", "BEL", "--budget", "1", "--out", "x.csv", "--window", "7"
    )
    assert code == 2 and "There is no application window 7" in output, output


def test_approve_needs_a_budget_unless_it_withdraws() -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    code, output = invoke("admin", "approve", "BEL")
    assert code == 2 and "--budget" in output
    code, output = invoke("admin", "approve", "BEL", "--withdraw", "--budget", "5")
    assert code == 2 and "--withdraw takes no --budget" in output


def test_credit_counts_the_notices_it_queued(tmp_path: Path) -> None:
    """One household paid and one applicant excluded, each with a phone: two notices for
    one household, said as two (the credit notice and the decision's)."""
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "50000", "--description", "Fondo")[0]
        == 0
    )
    assert invoke("admin", "window", "open", "BEL", "--yes")[0] == 0
    time.sleep(1)  # whole seconds in the CSV: one after the opening, none in the future
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    rows = [
        f"{make_cf(1)},+393331234567,1,false,false,0,0,0,{now}",
        f"{make_cf(2)},+393331234568,1,true,false,0,0,0,{now}",  # work income: excluded
    ]
    source = applications_csv(tmp_path / "in.csv", rows)
    assert invoke("admin", "applications", "import", "BEL", str(source))[0] == 0
    assert invoke("admin", "window", "close", "BEL", "--yes")[0] == 0
    code, output = invoke("admin", "approve", "BEL", "--budget", "1000")
    # 150 € is all the rules can give: refused until the budget is typed again.
    assert code == 2 and "€850.00 would stay unspent" in output, output
    assert "--confirm-budget 1000.00" in output and "(act.budget_unspent)" in output, output
    code, output = invoke("admin", "approve", "BEL", "--budget", "1000", "--confirm-budget", "1000")
    assert code == 0 and "€850.00 would stay unspent" in output, output
    code, output = invoke("admin", "credit", "BEL")
    assert code == 0 and "credited €150.00 to 1 household." in output, output
    assert "2 notices queued." in output, output
