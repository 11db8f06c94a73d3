"""What the command line changes is in the office's activity log, as the browser's changes
are: the town's data, windows, imports, tranches, credits, reimbursements and revocations,
each with who ran it (`cli:<name>`), in the transaction of the change. A command that
changes nothing writes nothing."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from buonispesa.cli import _register, app
from core.bootstrap import open_core
from core.domain.business_days import next_business_day
from core.services import activity, municipalities
from tests.factories import make_cf, make_town, pay

_register()
runner = CliRunner()
ROME = ZoneInfo("Europe/Rome")
HEADER = (
    "codice_fiscale,phone,household_size,has_work_income,has_pension,liquidity_eur,"
    "public_support_monthly_eur,rent_monthly_eur,submitted_at\n"
)


@pytest.fixture
def town(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """TST, its first window paid, a shop owed a 12,50 € payment; the real clock (the
    commands use it)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_OPERATOR", "anna.rossi")

    async def build() -> None:
        core = await open_core(url)
        made = await make_town(core, citizens=2)
        await pay(core, made, 12_50)
        await core.close()

    asyncio.run(build())
    return "TST"


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    output = " ".join(result.output.split())
    assert result.exit_code == 0 and result.exception is None, output
    return output


def entries() -> list[tuple[str, str, str, dict[str, Any] | None, dict[str, Any] | None]]:
    async def read() -> list[Any]:
        core = await open_core(os.environ["BUONISPESA_DATABASE_URL"])
        try:
            async with core.uow() as uow:
                town = await municipalities.require(uow, "TST")
                return list(reversed(await activity.entries(uow, town.id)))
        finally:
            await core.close()

    return [(e.actor, e.action, e.subject, e.before, e.after) for e in asyncio.run(read())]


def test_every_change_is_logged_with_who_ran_it(town: str, tmp_path: Path) -> None:
    applications = tmp_path / "paper.csv"
    # A month from today, moved to the bank's next business day (a Saturday, a Sunday or
    # a TARGET2 holiday is refused as the execution date).
    execution = next_business_day(date.today() + timedelta(days=30)).isoformat()

    run("admin", "municipality", "set", town, "--iban", "IT40S0542811101000000123456")
    run("admin", "window", "open", town, "--days", "2", "--yes")
    now = datetime.now(UTC).isoformat()  # received after the window opened
    # The imported row's protocol takes the year (in Rome) it is dated.
    protocol = f"TST-{datetime.fromisoformat(now).astimezone(ROME).year}-000003"
    applications.write_text(HEADER + f"{make_cf(40)},,1,false,false,0,0,0,{now}\n", "utf-8")
    run("admin", "applications", "import", town, str(applications), "--by", "marco.bianchi")
    run("admin", "window", "close", town, "--yes")
    run("admin", "approve", town, "--budget", "150")
    run("admin", "credit", town)
    run(
        "admin",
        "reimburse",
        town,
        "--out",
        str(tmp_path / "sepa.xml"),
        "--execution-date",
        execution,
    )
    run("admin", "audit", "revoke", town, protocol, "--reason", "reddito non dichiarato")

    logged = [e for e in entries() if e[0].startswith("cli:")]
    assert [(actor, action) for actor, action, *_ in logged] == [
        ("cli:anna.rossi", "municipality.set"),
        ("cli:anna.rossi", "window.open"),
        ("cli:marco.bianchi", "applications.import"),
        ("cli:anna.rossi", "window.close"),
        ("cli:anna.rossi", "determina.approve"),
        ("cli:anna.rossi", "credit.approve"),
        ("cli:anna.rossi", "reimbursement.approve"),
        ("cli:anna.rossi", "revocation.approve"),
    ]
    by_action = {action: (subject, before, after) for _, action, subject, before, after in logged}
    assert by_action["municipality.set"][1:] == (
        {"iban": "IT60X0542811101000000123456"},
        {"iban": "IT40S0542811101000000123456"},
    )
    assert by_action["applications.import"][0] == "paper.csv"
    assert by_action["applications.import"][2] == {"count": 1}
    approved = by_action["determina.approve"][2]
    assert approved is not None and approved["budget_cents"] == 150_00
    credited = by_action["credit.approve"][2]
    assert credited is not None and credited["total_cents"] == 150_00
    reimbursed = by_action["reimbursement.approve"][2]
    assert reimbursed is not None and reimbursed["total_cents"] == 12_50
    assert by_action["revocation.approve"][0] == protocol


def test_a_command_that_changes_nothing_logs_nothing(town: str) -> None:
    before = entries()
    output = run("admin", "shops", "approve", town, "1")
    assert "already approved: nothing changed" in output
    run("admin", "municipality", "set", town, "--name", "Testville")  # the same name
    run("admin", "outbox", "retry", town)  # nothing failed
    assert entries() == before
