"""Shared fixtures: a fresh, migrated database per test, on SQLite and on PostgreSQL.

Migrations run once per session into a template (a SQLite file, a PostgreSQL
template database); each test gets a copy, so tests are isolated and fast.
PostgreSQL is skipped only when the server is unreachable, and the skip says so.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import select

from core.bootstrap import Core
from core.storage.engine import make_engine
from core.storage.migrate import migrate

# pytest-xdist's workers (`make test`) start with COLUMNS=80 and LINES=24 in their
# environment where a plain `pytest` has neither: the office's console would then fold its
# tables at 80 columns in one run and not in the other. Tests that need a width set it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

# Property tests check what is computed, never how fast: hypothesis's default deadline
# (200 ms an example) failed a SEPA property on a machine busy with other work. Speed is
# measured in bench/.
settings.register_profile("buonispesa", deadline=None)
settings.load_profile("buonispesa")

PG_ADMIN_URL = os.environ.get(
    "BUONISPESA_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


class FakeClock:
    """A clock tests move by hand; starts on a fixed weekday morning in Rome."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 4, 6, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


async def _pg_execute(url: str, *statements: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _pg_url(database: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    name = f"bsp_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_pg_execute(PG_ADMIN_URL, f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError) as exc:
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}")
    except Exception as exc:  # asyncpg's own errors: auth, missing database
        pytest.skip(f"PostgreSQL unusable at {PG_ADMIN_URL}: {exc}")
    asyncio.run(_migrate(_pg_url(name)))
    yield name
    asyncio.run(_pg_execute(PG_ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def fresh_database(request: pytest.FixtureRequest, backend: str, file: Path) -> Iterator[str]:
    """A fresh migrated database copied from the session's template of `backend`
    ("sqlite": into `file`; "postgresql": a database of a new name, dropped afterwards),
    for a fixture to `yield from`."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, file)
        yield f"sqlite+aiosqlite:///{file}"
        return
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"bsp_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(PG_ADMIN_URL, f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    yield _pg_url(name)
    asyncio.run(_pg_execute(PG_ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh migrated database; tests using it run once per backend."""
    yield from fresh_database(request, request.param, tmp_path / "test.sqlite3")


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh migrated SQLite database, for tests that need only the embedded default."""
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def core(database_url: str, clock: FakeClock) -> AsyncIterator[Core]:
    instance = Core(engine=make_engine(database_url), clock=clock)
    yield instance
    await instance.close()


@pytest.fixture
async def rival(database_url: str, clock: FakeClock) -> AsyncIterator[Core]:
    """A second process's view of the same database (its own engine and connections), for
    races: connected before the race, not during it."""
    other = Core(engine=make_engine(database_url), clock=clock)
    async with other.uow() as uow:
        await uow.session.execute(select(1))
    yield other
    await other.close()
