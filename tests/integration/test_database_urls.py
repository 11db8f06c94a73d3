"""Database addresses as operators write them: a URL-encoded password ("p%40ss" for
"p@ss") or a folder with "%" in its name migrates like any other (Alembic's options are a
ConfigParser, which would read "%" as interpolation and stop with a traceback showing the
password)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from core.bootstrap import open_core
from core.services import municipalities


async def _town_count(url: str) -> int:
    core = await open_core(url, secret=b"k" * 32)
    try:
        async with core.uow() as uow:
            return len(await municipalities.all_towns(uow))
    finally:
        await core.close()


async def test_a_password_with_encoded_characters(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # The same "%" in the file's folder instead: SQLite has no password.
        folder = Path(url.database or "").parent / "100%buoni"
        folder.mkdir()
        target = f"sqlite+aiosqlite:///{folder / 'db.sqlite3'}"
    else:
        # Trust authentication here: the password travels and is not checked, which is
        # enough to prove the address reaches the database whole.
        target = url.set(password="p@ss!w%rd").render_as_string(hide_password=False)
        assert "p%40ss%21w%25rd" in target
    assert await _town_count(target) == 0
