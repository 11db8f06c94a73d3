"""`buonispesa admin documents …`: the office's PDFs from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.cli_runner import invoke
from tests.factories import make_cf
from tests.office.pdf_text import pdf_text

# The command line runs on the real clock: rows dated now, inside the window just opened.
NOW = datetime.now(UTC)
CSV = (
    "codice_fiscale,phone,household_size,has_work_income,has_pension,liquidity_eur,"
    "public_support_monthly_eur,rent_monthly_eur,submitted_at\n"
    f"{make_cf(1)},+393331234567,4,false,false,1000.00,0.00,0.00,{NOW.isoformat()}\n"
    f"{make_cf(2)},,1,no,no,0,300.00,200.00,{NOW.isoformat()}\n"
    f"{make_cf(3)},,2,sì,no,0,0,0,{NOW.isoformat()}\n"
)


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}")


def _approved_tranche(tmp_path: Path) -> int:
    """Belforte with one window, closed, and its first tranche approved; the year of its
    protocols (the year in Rome the rows are dated: read from them, not from the clock
    when the module was loaded, so that New Year between the two changes nothing)."""
    (tmp_path / "in.csv").write_text(CSV, encoding="utf-8")
    for command in (
        ("admin", "municipality", "add", "BEL", "Belforte"),
        ("admin", "fund", "record", "BEL", "--amount", "50000", "--description", "Fondo"),
        ("admin", "window", "open", "BEL", "--yes"),
    ):
        code, output = invoke(*command)
        assert code == 0, output
    # The window opened a moment after NOW: the rows are dated at its very start.
    opened = datetime.now(UTC)
    (tmp_path / "in.csv").write_text(CSV.replace(NOW.isoformat(), opened.isoformat()))
    for step in (
        ("admin", "applications", "import", "BEL", str(tmp_path / "in.csv")),
        ("admin", "window", "close", "BEL", "--yes"),
        ("admin", "approve", "BEL", "--budget", "350"),
    ):
        code, output = invoke(*step)
        assert code == 0, output
    return opened.astimezone(ZoneInfo("Europe/Rome")).year


def test_determina_letters_receipt_and_statement(tmp_path: Path) -> None:
    year = _approved_tranche(tmp_path)
    target = tmp_path / "determina.pdf"
    code, output = invoke("admin", "documents", "determina", "BEL", "--out", str(target))
    assert code == 0 and "Wrote" in output, output
    text = pdf_text(target.read_bytes())
    assert f"BEL-{year}-000001" in text and "€300.00" in text and make_cf(1) not in text
    assert "Attachment to the determina" in text
    code, output = invoke(
        "admin", "documents", "determina", "BEL", "--tranche", "2", "--out", str(target), "--force"
    )
    assert code == 2 and "already exists" not in output, output
    letters = tmp_path / "letters.pdf"
    code, output = invoke(
        "admin", "documents", "letters", "BEL", "--out", str(letters), "--lang", "it"
    )
    assert code == 0, output
    # Approved, not credited: nothing was decided for the applicants yet, no letter.
    text = " ".join(pdf_text(letters.read_bytes()).split())
    assert "BEL-" not in text and "Bando 1: 3 domande su carta aspettano la decisione" in text
    code, output = invoke(
        "admin",
        "documents",
        "letters",
        "BEL",
        "--protocol",
        f"BEL-{year}-000001",
        "--out",
        str(letters),
        "--force",
    )
    assert code == 2 and "application.not_decided" in output, output
    code, output = invoke("admin", "credit", "BEL")
    assert code == 0, output
    code, output = invoke(
        "admin", "documents", "letters", "BEL", "--out", str(letters), "--lang", "it", "--force"
    )
    assert code == 0, output
    text = pdf_text(letters.read_bytes())
    assert all(f"BEL-{year}-00000{n}" in text for n in (1, 2, 3)) and "TAR" in text
    receipt = tmp_path / "receipt.pdf"
    code, output = invoke(
        "admin", "documents", "receipt", "BEL", f"BEL-{year}-000002", "--out", str(receipt)
    )
    assert code == 0 and f"BEL-{year}-000002" in pdf_text(receipt.read_bytes())
    code, output = invoke(
        "admin", "documents", "receipt", "BEL", "XYZ-1", "--out", str(tmp_path / "none.pdf")
    )
    assert code == 2 and "XYZ-1" in output and not (tmp_path / "none.pdf").exists()
    code, output = invoke(
        "admin", "documents", "statement", "BEL", "1", "--from", "yesterday", "--out", "x.pdf"
    )
    assert code == 2 and "--from" in output


def test_determina_of_a_window_named_by_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--window N` as the office's `determina.pdf?window=N`: window 1 is written, an unknown
    window is refused in the office's language and no file appears."""
    year = _approved_tranche(tmp_path)
    target = tmp_path / "determina.pdf"
    code, output = invoke(
        "admin", "documents", "determina", "BEL", "--window", "1", "--out", str(target)
    )
    assert code == 0 and "Wrote" in output, output
    assert f"BEL-{year}-000001" in pdf_text(target.read_bytes())
    missing = tmp_path / "missing.pdf"
    code, output = invoke(
        "admin", "documents", "determina", "BEL", "--window", "9", "--out", str(missing)
    )
    assert code == 2 and "There is no application window 9" in output, output
    assert not missing.exists()
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    code, output = invoke(
        "admin", "documents", "determina", "BEL", "--window", "9", "--out", str(missing)
    )
    assert code == 2 and "Non esiste il bando 9" in output, output
    assert not missing.exists() and [p.name for p in tmp_path.glob(".missing*")] == []
