"""The office's command line, end to end on a SQLite file."""

from __future__ import annotations

import csv
import io
import re
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from buonispesa.cli.common import office_language
from tests.cli_runner import invoke, sqlite_file
from tests.factories import make_cf

ROME = ZoneInfo("Europe/Rome")

HEADER = (
    "codice_fiscale,phone,household_size,has_work_income,has_pension,liquidity_eur,"
    "public_support_monthly_eur,rent_monthly_eur,submitted_at\n"
)


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """The office's command line in English, whatever the machine's locale: the assertions
    below read English sentences."""
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return sqlite_file(tmp_path, monkeypatch)


def applications_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def good_rows(at: datetime | None = None) -> list[str]:
    """Three applications dated `at` (default: now, inside a window just opened), in order."""
    first = at or datetime.now(UTC)
    local = [(first + timedelta(microseconds=n)).astimezone(ROME) for n in range(3)]
    return [
        f"{make_cf(1)},+393331234567,4,false,false,1000.00,0.00,0.00,"
        f"{local[0].replace(tzinfo=None).isoformat()}",
        f"{make_cf(2)},,1,no,no,0,300.00,200.00,"
        f"{local[1].astimezone(timezone(timedelta(hours=2))).isoformat()}",
        f"{make_cf(3)},,2,sì,no,0,0,0,{local[2].replace(tzinfo=None).isoformat()}",
    ]


def test_simulate_needs_no_database_and_writes_the_allocation_csv(tmp_path: Path) -> None:
    source = applications_csv(tmp_path / "in.csv", good_rows())
    code, output = invoke(
        "admin",
        "simulate",
        "--applications",
        str(source),
        "--budget",
        "350",
        "--out",
        str(tmp_path / "out.csv"),
    )
    assert code == 0, output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text())))
    assert [r["protocol"] for r in rows] == ["1", "2", "3"]
    assert [(r["list"], r["amount_eur"]) for r in rows] == [
        ("1", "300.00"),
        ("2", "50.00"),
        ("excluded", "0.00"),
    ]
    assert rows[1]["score"] == "100.00"
    assert rows[2]["exclusion_reason"] == "work_income"


def test_bad_csv_exits_2_naming_line_and_column(tmp_path: Path, database: str) -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    assert invoke("admin", "window", "open", "BEL", "--yes")[0] == 0
    rows = good_rows()
    rows[1] = rows[1].replace(",1,no,", ",zero,no,")
    source = applications_csv(tmp_path / "bad.csv", rows)
    code, output = invoke("admin", "applications", "import", "BEL", str(source))
    assert code == 2
    assert "line 3" in output and "household_size" in output
    code, _ = invoke("admin", "applications", "export", "BEL", str(tmp_path / "export.csv"))
    assert code == 0
    assert (tmp_path / "export.csv").read_text().splitlines() == [HEADER.strip()]


def test_import_allocate_approve_credit(tmp_path: Path, database: str) -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "50000", "--description", "Fondo")[0]
        == 0
    )
    assert invoke("admin", "window", "open", "BEL", "--yes", "--days", "4")[0] == 0
    # The protocols take the year (in Rome) the rows were submitted, not the year the
    # test reads the allocation in: New Year may fall in between.
    submitted = datetime.now(UTC)
    code, output = invoke(
        "admin",
        "applications",
        "import",
        "BEL",
        str(applications_csv(tmp_path / "in.csv", good_rows(submitted))),
    )
    assert code == 0, output
    assert "Imported 3" in output
    code, output = invoke("admin", "approve", "BEL", "--budget", "350")
    assert code == 2 and "window.still_open" in output
    assert invoke("admin", "window", "close", "BEL", "--yes")[0] == 0
    code, output = invoke(
        "admin", "allocate", "BEL", "--budget", "350,00", "--out", str(tmp_path / "alloc.csv")
    )
    assert code == 0, output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "alloc.csv").read_text())))
    year = submitted.astimezone(ROME).year
    assert [r["protocol"] for r in rows] == [
        f"BEL-{year}-000001",
        f"BEL-{year}-000002",
        f"BEL-{year}-000003",
    ]
    assert invoke("admin", "approve", "BEL", "--budget", "350")[0] == 0
    code, output = invoke("admin", "credit", "BEL")
    assert code == 0 and "credited €350.00" in output
    code, output = invoke("admin", "ledger", "check", "BEL")
    assert code == 0 and "balanced" in output


def test_policy_check(tmp_path: Path) -> None:
    code, output = invoke("admin", "policy", "check", "core/policies/belforte.toml")
    assert code == 0 and "valid" in output
    broken = tmp_path / "broken.toml"
    broken.write_text(
        Path("core/policies/belforte.toml").read_text().replace('mode = "fill"', 'mode = "fil"')
    )
    code, output = invoke("admin", "policy", "check", str(broken))
    assert code == 2 and "list2.mode" in output


def test_bad_budget_and_unknown_municipality(database: str, tmp_path: Path) -> None:
    code, output = invoke("admin", "approve", "XXX", "--budget", "12,345")
    assert code == 2 and "--budget" in output
    code, output = invoke("admin", "approve", "XXX", "--budget", "100")
    assert code == 2 and "municipality.not_found" in output


def test_demo_is_idempotent(database: str) -> None:
    code, output = invoke("demo")
    # Two of the six were excluded by the first round: "with balances" was not true of all.
    assert code == 0 and "6 households whose first round was allocated and credited" in flat(output)
    code, output = invoke("demo")
    assert code == 0 and "already exists" in output
    code, output = invoke("admin", "ledger", "check", "BEL")
    assert code == 0, output


@pytest.mark.parametrize(
    ("argv0", "command"),
    [(".venv/bin/buonispesa", ".venv/bin/buonispesa chat"), ("buonispesa", "buonispesa chat")],
)
def test_the_demo_suggests_the_chat_as_its_own_command_was_typed(
    database: str, monkeypatch: pytest.MonkeyPatch, argv0: str, command: str
) -> None:
    """`make run` runs `.venv/bin/buonispesa`, which is on no PATH: the chat the demo
    suggests is spelled the same way, so that pasting it works."""
    monkeypatch.setattr(sys, "argv", [argv0, "demo"])
    code, output = invoke("demo")
    assert code == 0, output
    assert f"  {command} --phone +393331000001   (a citizen)" in output
    assert f"  {command} --as shop --phone +393331000101   (a shop)" in output


def flat(output: str) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(output.split())


def test_the_office_reads_italian(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    code, output = invoke("admin", "municipality", "add", "BEL", "Belforte")
    assert code == 0 and "Comune BEL (Belforte) aggiunto." in flat(output)
    code, output = invoke("admin", "window", "open", "BEL", "--yes", "--days", "3000000")
    assert code == 2 and "da 1 a 366 giorni" in flat(output) and "Traceback" not in output
    code, output = invoke("admin", "window", "open", "BEL", "--yes", "--days", "4")
    assert code == 0, output
    # Four days from now, Rome time, written the Italian way.
    assert re.search(r"BEL: bando 1 aperto fino al \d\d/\d\d/\d{4} alle \d\d:\d\d\.", flat(output))


def test_a_refusal_is_a_translated_sentence_with_its_code(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    assert invoke("admin", "window", "open", "BEL", "--yes")[0] == 0
    code, output = invoke("admin", "approve", "BEL", "--budget", "350")
    assert code == 2
    assert (
        "Errore: Il bando è ancora aperto: chiudilo prima con 'admin window close'. "
        "(window.still_open)"
    ) in flat(output)
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    code, output = invoke("admin", "approve", "BEL", "--budget", "350")
    assert code == 2 and "Error: The application window is still open" in flat(output)


@pytest.mark.parametrize(
    ("environment", "language"),
    [
        ({"BUONISPESA_LANGUAGE": "en", "LANG": "it_IT.UTF-8"}, "en"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LC_ALL": "it_IT.UTF-8", "LANG": "en_US.UTF-8"}, "it"),
        ({"LANG": "de_DE.UTF-8"}, "it"),
        ({"LANG": "C.UTF-8"}, "it"),
        ({}, "it"),
    ],
)
def test_the_office_language_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], language: str
) -> None:
    for name in ("BUONISPESA_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert office_language() == language


def test_the_privacy_notice_of_a_municipality(database: str) -> None:
    assert invoke("admin", "municipality", "add", "BEL", "Belforte del Chienti")[0] == 0
    code, output = invoke(
        "admin", "municipality", "privacy-url", "BEL", "https://comune.belforte.mc.it/privacy"
    )
    assert code == 0, output
    assert "https://comune.belforte.mc.it/privacy" in output
    for bad in ("comune.belforte.mc.it/privacy", "ftp://x/y", "https://" + "x" * 300):
        code, output = invoke("admin", "municipality", "privacy-url", "BEL", bad)
        assert code == 2 and "Traceback" not in output, output
        assert "web address" in output
    code, output = invoke("admin", "municipality", "privacy-url", "XXX", "https://a.it/p")
    assert code == 2 and "XXX" in output
    code, output = invoke("admin", "municipality", "privacy-url", "BEL", "")
    assert code == 0 and "removed" in output
