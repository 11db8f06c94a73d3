"""`admin applications import` with what real offices send: implausible values, Italian
spreadsheets, late imports. Refusals name line and column, exit 2, and write nothing."""

from __future__ import annotations

import asyncio
import csv
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from typer.testing import CliRunner

from buonispesa.cli import _register, app
from buonispesa.cli.progress import progress
from core.bootstrap import open_core
from core.domain.ledger import PostingKind
from core.domain.messages import t
from core.services import ledger, municipalities
from core.storage import models as m
from tests.factories import make_cf

_register()
runner = CliRunner()
ROME = ZoneInfo("Europe/Rome")
COLUMNS = (
    "codice_fiscale,phone,household_size,has_work_income,has_pension,liquidity_eur,"
    "public_support_monthly_eur,rent_monthly_eur,submitted_at"
)


@pytest.fixture(autouse=True)
def town(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BEL with a window opened an hour ago; the office reads English."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'i.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    assert (
        invoke("admin", "fund", "record", "BEL", "--amount", "50000", "--description", "Fondo")[0]
        == 0
    )

    async def open_window() -> None:
        core = await open_core(url)
        async with core.uow() as uow:
            bel = await municipalities.require(uow, "BEL")
            await municipalities.open_window(uow, bel, datetime.now(UTC) - timedelta(hours=1))
            await uow.commit()
        await core.close()

    asyncio.run(open_window())


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, " ".join(result.output.split())


def now_local() -> str:
    return datetime.now(UTC).astimezone(ROME).replace(tzinfo=None).isoformat()


def write(path: Path, *rows: str, header: str = COLUMNS) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def row(index: int, **changes: str) -> str:
    values = {
        "codice_fiscale": make_cf(index),
        "phone": f"+39333{6000000 + index:07d}",
        "household_size": "2",
        "has_work_income": "false",
        "has_pension": "false",
        "liquidity_eur": "100.00",
        "public_support_monthly_eur": "0",
        "rent_monthly_eur": "0",
        "submitted_at": now_local(),
    }
    values.update(changes)
    return ",".join(values[name] for name in COLUMNS.split(","))


def exported(tmp_path: Path) -> list[dict[str, str]]:
    target = tmp_path / f"export-{len(list(tmp_path.iterdir()))}.csv"
    assert invoke("admin", "applications", "export", "BEL", str(target))[0] == 0
    return list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"submitted_at": "2019-04-01T10:00:00"}, "submitted_at"),
        ({"submitted_at": "2030-04-01T10:00:00"}, "submitted_at"),
        ({"submitted_at": "9999-12-31T23:59:59"}, "submitted_at"),
        ({"household_size": "250"}, "household_size"),
        ({"liquidity_eur": "9" * 400}, "liquidity_eur"),
        ({"rent_monthly_eur": "99999999999"}, "rent_monthly_eur"),
    ],
)
def test_implausible_rows_are_refused_with_line_and_column(
    changes: dict[str, str], column: str, tmp_path: Path
) -> None:
    source = write(tmp_path / "in.csv", row(1), row(2, **changes))
    code, output = invoke("admin", "applications", "import", "BEL", str(source))
    assert code == 2, output
    assert f"line 3, column {column}" in output and "nothing was imported" in output
    assert exported(tmp_path) == []


def test_a_phone_of_another_household_is_refused_with_line_and_column(tmp_path: Path) -> None:
    assert (
        invoke("admin", "applications", "import", "BEL", str(write(tmp_path / "a.csv", row(1))))[0]
        == 0
    )
    taken = "+393336000001"
    source = write(tmp_path / "b.csv", row(2), row(3, phone=taken))
    code, output = invoke("admin", "applications", "import", "BEL", str(source))
    assert code == 2 and "line 3, column phone" in output and "another household" in output
    assert len(exported(tmp_path)) == 1


def test_italian_spreadsheet_csv(tmp_path: Path) -> None:
    header = COLUMNS.replace(",", ";")
    # Ten minutes ago, as a spreadsheet writes it (day first, no seconds).
    when = (datetime.now(UTC).astimezone(ROME) - timedelta(minutes=10)).strftime("%d/%m/%Y %H:%M")
    rows = [
        f"{make_cf(1)};333 600 0001;4;FALSO;falso;1.044,00;0;0;{when}",
        f"{make_cf(2)};;1;VERO;FALSO;0;312,50;200,5;{when}",
    ]
    code, output = invoke(
        "admin",
        "applications",
        "import",
        "BEL",
        str(write(tmp_path / "it.csv", *rows, header=header)),
    )
    assert code == 0, output
    found = {r["codice_fiscale"]: r for r in exported(tmp_path)}
    first, second = found[make_cf(1)], found[make_cf(2)]
    assert (first["phone"], first["household_size"], first["liquidity_eur"]) == (
        "+393336000001",
        "4",
        "1044.00",
    )
    assert (second["has_work_income"], second["public_support_monthly_eur"]) == ("true", "312.50")
    assert second["rent_monthly_eur"] == "200.50"


def test_the_documented_comma_format_still_imports(tmp_path: Path) -> None:
    code, output = invoke(
        "admin", "applications", "import", "BEL", str(write(tmp_path / "in.csv", row(1), row(2)))
    )
    assert code == 0 and "Imported 2 applications" in output
    assert "Importing: 100 % (2 of 2)" in output  # not a terminal: lines, not a bar


def test_no_import_after_the_determina(tmp_path: Path) -> None:
    assert (
        invoke("admin", "applications", "import", "BEL", str(write(tmp_path / "a.csv", row(1))))[0]
        == 0
    )
    assert invoke("admin", "window", "close", "BEL", "--yes")[0] == 0
    approve = ("admin", "approve", "BEL", "--budget", "1000", "--confirm-budget", "1000")
    assert invoke(*approve)[0] == 0
    late = write(tmp_path / "late.csv", row(2))
    code, output = invoke("admin", "applications", "import", "BEL", str(late))
    assert code == 2 and "(application.import_after_approval)" in output
    assert len(exported(tmp_path)) == 1


def test_progress_in_a_log_is_one_line_per_tenth() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=200)
    with progress(t("Importing"), console) as report:
        for done in range(0, 100_001, 1000):
            report(done, 100_000)
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0].endswith("10 % (10,000 of 100,000)") and lines[-1].startswith(
        "Importing: 100 %"
    )


def test_no_first_number_for_a_person_with_money_to_spend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person the office knows without a phone, with vouchers to spend: a row giving them
    a number is refused on its line and phone column, in the office's language (Italian
    here), saying why and what to do; nothing is imported. Without the phone it goes in."""
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")

    async def known_with_vouchers() -> None:
        core = await open_core(os.environ["BUONISPESA_DATABASE_URL"])
        async with core.uow() as uow:
            bel = await municipalities.require(uow, "BEL")
            citizen = m.Citizen(
                municipality_id=bel.id,
                codice_fiscale=make_cf(3),
                language="it",
                card_code="BELCARD3",
                created_at=core.now(),
            )
            uow.add(citizen)
            await uow.flush()
            await ledger.post(
                uow,
                municipality_id=bel.id,
                kind=PostingKind.ALLOCATION,
                from_owner=0,
                to_owner=citizen.id,
                amount_cents=150_00,
                now=core.now(),
            )
            await uow.commit()
        await core.close()

    asyncio.run(known_with_vouchers())
    source = write(tmp_path / "a.csv", row(2), row(3))
    code, output = invoke("admin", "applications", "import", "BEL", str(source))
    assert code == 2, output
    assert "riga 3, colonna phone" in output, output
    assert "Il richiedente ha ancora somme da spendere" in output
    assert "Lascia vuoto il telefono" in output
    assert "application.phone_needs_approval" in output
    assert exported(tmp_path) == []
    source = write(tmp_path / "b.csv", row(2), row(3, phone=""))
    assert invoke("admin", "applications", "import", "BEL", str(source))[0] == 0
    assert [line["phone"] for line in exported(tmp_path)] == ["+393336000002", ""]
