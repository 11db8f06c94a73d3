"""The database remembers its server secret: a start with another one, or with its file
missing, is refused (no new secret is made), on SQLite and PostgreSQL, by `open_core` and
by every command as a sentence with exit code 2."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from core.bootstrap import Core, open_core
from core.domain.keys import ServerKeys
from core.storage.engine import make_engine
from core.storage.secret_file import (
    ENVIRONMENT_ORIGIN,
    SECRET_FILE,
    WrongServerSecret,
    secret_path,
)
from tests.cli_runner import invoke


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("BUONISPESA_SECRET_KEY", raising=False)


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder the commands run from (PostgreSQL's secret file is ./data/secret.key)."""
    folder = tmp_path / "office"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


async def _secret_of(url: str, secret: bytes | None = None) -> bytes:
    core = await open_core(url, secret=secret)
    try:
        return core.keys.secret
    finally:
        await core.close()


async def _fingerprint(url: str) -> str | None:
    """What the database remembers, read without starting (no check, nothing recorded)."""
    plain = Core(engine=make_engine(url))
    try:
        async with plain.uow() as uow:
            return await uow.server_secret.fingerprint()
    finally:
        await plain.close()


async def test_the_first_start_records_a_fingerprint_and_the_next_ones_keep_the_secret(
    database_url: str, office: Path
) -> None:
    assert await _fingerprint(database_url) is None  # a database never started
    first = await _secret_of(database_url)
    stored = await _fingerprint(database_url)
    assert stored == ServerKeys(first).fingerprint()
    # Never the secret itself, in any writing of it.
    assert stored is not None and first.hex() not in stored and len(stored) == 64
    assert await _secret_of(database_url) == first
    # The same secret given by the environment is the same secret.
    assert await _secret_of(database_url, secret=first) == first


async def test_another_secret_or_a_missing_file_is_refused_and_no_secret_is_made(
    database_url: str, office: Path, tmp_path: Path
) -> None:
    first = await _secret_of(database_url)
    path = secret_path(database_url)
    with pytest.raises(WrongServerSecret) as given:
        await _secret_of(database_url, secret=b"x" * 32)
    assert given.value.origin == ENVIRONMENT_ORIGIN and not given.value.missing

    path.rename(tmp_path / "kept.key")
    with pytest.raises(WrongServerSecret) as missing:
        await _secret_of(database_url)
    assert missing.value.missing and missing.value.origin == str(path)
    assert not path.exists()  # refused, not replaced

    path.write_text(ServerKeys(b"y" * 32).secret.hex() + "\n", encoding="ascii")
    with pytest.raises(WrongServerSecret) as other:
        await _secret_of(database_url)
    assert other.value.origin == str(path) and not other.value.missing

    shutil.copyfile(tmp_path / "kept.key", path)
    assert await _secret_of(database_url) == first  # the original file: starts again


async def test_a_database_set_up_before_the_fingerprint_adopts_its_existing_secret(
    database_url: str, office: Path
) -> None:
    """The first start after the upgrade records the secret the database already used."""
    path = secret_path(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("ab" * 32 + "\n", encoding="ascii")
    assert await _secret_of(database_url) == bytes.fromhex("ab" * 32)
    assert await _fingerprint(database_url) == ServerKeys(bytes.fromhex("ab" * 32)).fingerprint()


def test_a_command_run_from_another_folder_is_refused_with_a_sentence(
    database_url: str, office: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", database_url)
    code, output = invoke("admin", "municipality", "list")
    assert code == 0, output
    path = secret_path(database_url)
    original = path.read_text(encoding="ascii").strip()

    # The newcomer's mistake: PostgreSQL from another folder; SQLite with the file gone.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    if database_url.startswith("sqlite"):
        path.rename(tmp_path / "kept.key")
    looked_for = secret_path(database_url)
    assert not looked_for.exists()
    code, output = invoke("admin", "municipality", "list")
    assert code == 2, output
    flat = " ".join(output.split())
    assert "Traceback" not in output
    assert str(looked_for) in flat and "does not exist" in flat
    assert "BUONISPESA_SECRET_KEY" in flat
    if database_url.startswith("sqlite"):
        # Beside the SQLite file, wherever the command runs: no folder to run it from, no
        # data/secret.key that is not where the file is looked for.
        assert f"Copy the original file to {looked_for}," in flat, flat
        assert "data/secret.key" not in flat and "Run the command from" not in flat, flat
    else:
        assert "data/secret.key" in flat
    assert not looked_for.exists()  # no new secret was made
    assert not (elsewhere / "data" / SECRET_FILE).exists()

    # The remedy the sentence names: the original secret in the environment.
    monkeypatch.setenv("BUONISPESA_SECRET_KEY", original)
    code, output = invoke("admin", "municipality", "list")
    assert code == 0, output
    monkeypatch.setenv("BUONISPESA_SECRET_KEY", "cd" * 32)
    code, output = invoke("admin", "municipality", "list")
    flat = " ".join(output.split())
    assert code == 2 and "BUONISPESA_SECRET_KEY is not the server secret" in flat
    assert f"unset it to use the original secret file, {looked_for}." in flat, flat


def test_another_secret_file_beside_a_sqlite_database_is_named_where_it_is(
    tmp_path: Path, sqlite_template: Path, office: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SQLite database in its own folder, not ./data: its secret file is beside it, and the
    refusal of another file there names that path, not a data/secret.key to run from."""
    folder = tmp_path / "comune" / "archivio"
    folder.mkdir(parents=True)
    shutil.copyfile(sqlite_template, folder / "buoni.sqlite3")
    url = f"sqlite+aiosqlite:///{folder / 'buoni.sqlite3'}"
    asyncio.run(_secret_of(url))
    path = folder / SECRET_FILE
    assert secret_path(url) == path.resolve()
    path.write_text("cd" * 32 + "\n", encoding="ascii")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)
    code, output = invoke("admin", "municipality", "list")
    assert code == 2, output
    flat = " ".join(output.split())
    assert f"Put the original secret file at {path.resolve()} " in flat, flat
    assert "data/secret.key" not in flat and "Run the command from" not in flat, flat


def test_serve_refuses_another_secret_with_a_sentence(
    sqlite_url: str, office: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(_secret_of(sqlite_url))
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("BUONISPESA_SECRET_KEY", "cd" * 32)
    for variable in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    code, output = invoke("serve", "--port", "1")
    assert code == 2, output
    assert "BUONISPESA_SECRET_KEY is not the server secret" in " ".join(output.split())
