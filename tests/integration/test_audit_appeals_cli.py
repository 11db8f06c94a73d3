"""`buonispesa admin audit check|recover|undo` and `admin appeals list|decide` on SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.bootstrap import open_core
from core.services import appeals, municipalities
from tests.factories import make_town, pay
from tests.integration.test_admin_cli import invoke


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
    code, output = invoke(
        "admin", "audit", "check", "TST", "TST-2026-000001", "--outcome", "confirmed"
    )
    assert code == 2 and "not in a sample" in output
    assert invoke("admin", "audit", "sample", "TST", "--percent", "100", "--seed", "1")[0] == 0
    code, output = invoke(
        "admin", "audit", "check", "TST", "TST-2026-000001", "--outcome", "discrepancy",
        "--note", "conto non dichiarato", "--by", "rossi",
    )  # fmt: skip
    assert code == 0, output
    code, output = invoke(
        "admin", "audit", "revoke", "TST", "TST-2026-000001", "--reason", "conto non dichiarato"
    )
    assert code == 0, output
    code, output = invoke("admin", "audit", "recover", "TST")
    assert code == 0 and "TST-2026-000001" in output and "12.50" in output, output
    target = tmp_path / "recover.csv"
    assert invoke("admin", "audit", "recover", "TST", "--out", str(target))[0] == 0
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith("TST-2026-000001,") and "150.00,137.50,12.50" in lines[1]
    code, output = invoke("admin", "audit", "undo", "TST", "TST-2026-000001", "--reason", "errore")
    assert code == 0 and "137.50" in output, output
    code, output = invoke("admin", "audit", "undo", "TST", "TST-2026-000001", "--reason", "errore")
    assert code == 2 and "already undone" in output
    assert invoke("admin", "ledger", "check", "TST")[0] == 0


def test_appeals_are_listed_and_decided_from_the_command_line(town: str) -> None:
    code, output = invoke("admin", "appeals", "list", "TST")
    assert code == 0 and "TST-2026-000002" in output and "siamo in due" in output, output
    code, output = invoke(
        "admin", "appeals", "decide", "TST", "1", "--outcome", "upheld", "--reason", "Giusto."
    )
    assert code == 0, output
    assert "TST-2026-000002" not in invoke("admin", "appeals", "list", "TST")[1]
    assert "TST-2026-000002" in invoke("admin", "appeals", "list", "TST", "--all")[1]
    code, output = invoke(
        "admin", "appeals", "decide", "TST", "1", "--outcome", "rejected", "--reason", "No."
    )
    assert code == 2 and "already been decided" in output
