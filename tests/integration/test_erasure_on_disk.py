"""After `admin privacy erase` the codice fiscale and the phone are gone from the SQLite
files themselves (database and write-ahead log), even while a server keeps it open."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from buonispesa.cli import _register, app
from core.bootstrap import Core
from core.storage.engine import make_engine
from tests.conftest import FakeClock
from tests.integration.office_helpers import apply, close_approve_credit, open_round, pay, person

_register()


def on_disk(database: Path) -> bytes:
    """Every byte SQLite keeps for this database: the file, its log, its shared memory."""
    parts = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    return b"".join(part.read_bytes() for part in parts if part.exists())


def test_an_erased_person_leaves_no_trace_in_the_files(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Path(sqlite_url.split("///", 1)[1])
    someone, neighbour = person(1), person(2)
    assert someone.phone is not None

    async def build() -> None:
        core = Core(engine=make_engine(sqlite_url), clock=FakeClock())
        office = await open_round(core, core.clock)  # type: ignore[arg-type]
        await apply(office, someone, neighbour)
        await close_approve_credit(office, 10_000_00)
        await pay(office, office.shop_ids[0], someone, 150_00)  # spends everything
        await core.close()

    asyncio.run(build())
    cf, phone = someone.codice_fiscale.encode(), someone.phone.encode()
    assert cf in on_disk(database) and phone in on_disk(database)

    # The server keeps the database open: SQLite does not delete the log on close then.
    server = sqlite3.connect(database)
    server.execute("SELECT count(*) FROM citizens").fetchone()
    try:
        monkeypatch.setenv("BUONISPESA_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
        result = CliRunner().invoke(
            app,
            ["admin", "privacy", "erase", "BEL", someone.codice_fiscale, "--yes", "--by", "anna"],
        )
        assert result.exit_code == 0, result.output
        assert "Erased" in result.output
        files = on_disk(database)
        assert cf not in files and phone not in files
        # The office's activity log says who erased whom (the pseudonym) and when.
        logged = server.execute(
            "SELECT actor, subject FROM office_activity WHERE action = 'privacy.erase'"
        ).fetchall()
        assert [(actor, subject[:7]) for actor, subject in logged] == [("cli:anna", "ERASED-")]
        assert neighbour.codice_fiscale.encode() in files  # the others are still there
    finally:
        server.close()


async def test_every_connection_zeroes_deleted_content(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        async with engine.connect() as connection:
            raw = await connection.exec_driver_sql("PRAGMA secure_delete")
            assert raw.scalar_one() == 1
    finally:
        await engine.dispose()
