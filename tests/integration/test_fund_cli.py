"""`admin fund` end to end: record, show, correct; `admin approve` refused beyond the fund,
with the amounts, and told what is left after an approval."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.integration.test_admin_cli import applications_csv, invoke
from tests.integration.test_tranches_cli import rows_now


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite file, and the office's sentences in English (the assertions read them)."""
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_OPERATOR", "m.rossi")
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)
    return url


def flat(output: str) -> str:
    return " ".join(output.split())


def closed_window(tmp_path: Path) -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    assert invoke("admin", "window", "open", "BEL")[0] == 0
    time.sleep(1)  # whole seconds in the CSV: one after the opening, none in the future
    source = applications_csv(tmp_path / "in.csv", rows_now())
    assert invoke("admin", "applications", "import", "BEL", str(source))[0] == 0
    assert invoke("admin", "window", "close", "BEL")[0] == 0


def test_a_determina_needs_a_fund_and_stays_within_it(tmp_path: Path) -> None:
    closed_window(tmp_path)
    code, output = invoke("admin", "approve", "BEL", "--budget", "99999999999")
    assert code == 2 and "fund.none" in output
    assert "admin fund record BEL --amount EUR --description TEXT" in flat(output)
    code, output = invoke("admin", "fund", "show", "BEL")
    assert code == 0 and "BEL: no fund recorded." in flat(output)

    code, output = invoke(
        "admin", "fund", "record", "BEL", "--amount", "400", "--description",
        "Fondo di solidarietà alimentare", "--date", "2026-03-20",
    )  # fmt: skip
    assert code == 0 and "Recorded in the fund: €400.00 (entry 1)." in flat(output)
    assert "left €400.00" in flat(output)
    code, output = invoke("admin", "fund", "record", "BEL", "--amount", "0", "--description", "x")
    assert code == 2 and "fund.bad_amount" in output

    code, output = invoke("admin", "approve", "BEL", "--budget", "99999999999")
    assert code == 2 and "fund.exceeded" in output
    assert (
        "The budget €99,999,999,999.00 is more than what is left of the municipality's fund: "
        "€400.00 (fund €400.00, of which €0.00 already committed"
    ) in flat(output)
    code, output = invoke("admin", "approve", "BEL", "--budget", "350")
    assert code == 0 and "Left in the fund for new determine: €50.00." in flat(output)

    # Recorded twice by mistake: taken back with a new entry, never edited.
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "400", "--description", "Bis")[0] == 0
    )
    code, output = invoke("admin", "fund", "correct", "BEL", "2", "--description", "Doppione")
    assert code == 0 and "Entry 2 corrected: €400.00 taken back (entry 3)." in flat(output)
    code, output = invoke(
        "admin", "fund", "correct", "BEL", "1", "--amount", "100", "--description", "Errore"
    )
    assert code == 2 and "fund.below_committed" in output  # 350 € are committed
    code, output = invoke("admin", "fund", "show", "BEL")
    shown = flat(output)
    assert code == 0 and "Fondo di solidarietà alimentare" in shown and "m.rossi" in shown
    assert "-€400.00" in shown and "20/03/2026" in shown  # the day as the office writes it
    assert (
        "BEL: fund €400.00; committed by determine €350.00 (approved €350.00, waiting for "
        "approval €0.00); left €50.00."
    ) in shown


def test_fund_commands_speak_italian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    code, output = invoke(
        "admin", "fund", "record", "BEL", "--amount", "1234,50", "--description", "Stato"
    )
    assert code == 0 and "1.234,50" in output
