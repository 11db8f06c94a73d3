"""`buonispesa admin audit check|recover|undo` and `admin appeals list|decide|correct` on SQLite."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from core.bootstrap import open_core
from core.services import activity, appeals, municipalities
from tests.cli_runner import invoke, protocol_year
from tests.factories import make_town, pay


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")


@pytest.fixture
def town(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """TST: three credited citizens, a 12,50 € payment by the first, an appeal by the second."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'office.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)

    async def build() -> None:
        core = await open_core(url)
        made = await make_town(core, citizens=3)
        await pay(core, made, 12_50)
        async with core.uow() as uow:
            town = await municipalities.require(uow, "TST")
            citizen = await uow.citizens.by_id(made.citizen_ids[1])
            assert citizen is not None
            await appeals.file_appeal(uow, town, citizen, "siamo in due", "sms", core.now())
            await uow.commit()
        await core.close()

    asyncio.run(build())
    return "TST"


def test_check_recover_and_undo_from_the_command_line(town: str, tmp_path: Path) -> None:
    year = protocol_year()
    code, output = invoke(
        "admin", "audit", "check", "TST", f"TST-{year}-000001", "--outcome", "confirmed"
    )
    assert code == 2 and "not in a sample" in output
    assert invoke("admin", "audit", "sample", "TST", "--percent", "100", "--seed", "1")[0] == 0
    code, output = invoke(
        "admin", "audit", "check", "TST", f"TST-{year}-000001", "--outcome", "discrepancy",
        "--note", "conto non dichiarato", "--by", "rossi",
    )  # fmt: skip
    assert code == 0, output
    code, output = invoke(
        "admin", "audit", "revoke", "TST", f"TST-{year}-000001", "--reason", "conto non dichiarato"
    )
    assert code == 0, output
    code, output = invoke("admin", "audit", "recover", "TST")
    assert code == 0 and f"TST-{year}-000001" in output and "12.50" in output, output
    target = tmp_path / "recover.csv"
    assert invoke("admin", "audit", "recover", "TST", "--out", str(target))[0] == 0
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith(f"TST-{year}-000001,") and "150.00,137.50,12.50" in lines[1]
    code, output = invoke(
        "admin", "audit", "undo", "TST", f"TST-{year}-000001", "--reason", "errore"
    )
    assert code == 0 and "137.50" in output, output
    code, output = invoke(
        "admin", "audit", "undo", "TST", f"TST-{year}-000001", "--reason", "errore"
    )
    assert code == 2 and "already undone" in output
    assert invoke("admin", "ledger", "check", "TST")[0] == 0


def test_appeals_are_listed_and_decided_from_the_command_line(town: str) -> None:
    year = protocol_year()
    code, output = invoke("admin", "appeals", "list", "TST")
    assert code == 0 and f"TST-{year}-000002" in output and "siamo in due" in output, output
    # The state and the channel in the office's words, not their stored codes ("open", "sms").
    assert "waiting for a decision" in output and "SMS" in output, output
    code, output = invoke(
        "admin", "appeals", "decide", "TST", "1", "--outcome", "upheld", "--reason", "Giusto."
    )
    assert code == 0, output
    assert f"TST-{year}-000002" not in invoke("admin", "appeals", "list", "TST")[1]
    assert f"TST-{year}-000002" in invoke("admin", "appeals", "list", "TST", "--all")[1]
    code, output = invoke(
        "admin", "appeals", "decide", "TST", "1", "--outcome", "rejected", "--reason", "No."
    )
    assert code == 2 and "already been decided" in output


def test_an_upheld_appeal_is_remedied_from_the_command_line(town: str) -> None:
    year = protocol_year()
    # The citizens of TST applied in a chat: the office could never correct them before.
    code, output = invoke(
        "admin", "appeals", "correct", "TST", f"TST-{year}-000002", "--household-size", "2",
        "--reason", "siamo in due",
    )  # fmt: skip
    assert code == 2 and "has no upheld appeal" in output and "appeal.not_upheld" in output
    assert (
        invoke(
            "admin", "appeals", "decide", "TST", "1", "--outcome", "upheld", "--reason", "Giusto."
        )[0]
        == 0
    )
    code, output = invoke(
        "admin", "appeals", "correct", "TST", f"TST-{year}-000002", "--household-size", "2",
        "--no-pension", "--rent", "350,00", "--reason", "siamo in due", "--by", "rossi",
    )  # fmt: skip
    assert code == 0 and "answers corrected on the upheld appeal" in output, output

    async def check() -> None:
        core = await open_core(os.environ["BUONISPESA_DATABASE_URL"])
        async with core.uow() as uow:
            application = await uow.applications.by_protocol(f"TST-{year}-000002")
            entries = (
                await activity.history_of(uow, application.municipality_id, f"TST-{year}-000002")
                if application
                else []
            )
        await core.close()
        assert application is not None
        assert (application.household_size, application.rent_monthly_cents) == (2, 350_00)
        assert application.decision_notified_at is None
        [entry] = [e for e in entries if e.action == "application.correct_on_appeal"]
        assert entry.actor == "cli:rossi" and entry.after and entry.after["household_size"] == 2

    asyncio.run(check())
    code, output = invoke(
        "admin", "appeals", "correct", "TST", f"TST-{year}-000002", "--household-size", "2",
        "--reason", "ancora",
    )  # fmt: skip
    assert code == 2 and "Nothing to correct" in output
