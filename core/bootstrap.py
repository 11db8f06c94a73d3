"""The composition root of the core: a database, a clock, a unit-of-work factory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.keys import PROCESS_KEYS, ServerKeys
from core.storage.engine import make_engine, make_session_factory
from core.storage.group_commit import GroupCommit
from core.storage.secret_file import load_or_create_secret
from core.storage.uow import UnitOfWork

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Core:
    """What every entry point (CLI, server, tests) needs to run use cases."""

    engine: AsyncEngine
    clock: Clock = field(default=utc_now)
    # Entry points pass the server secret (open_core); a Core built without one (tests,
    # benchmarks) uses a random secret shared by the whole process.
    keys: ServerKeys = field(default=PROCESS_KEYS)
    # SQLite: the one writer that commits several one-trip transactions per fsync
    # (core/storage/group_commit.py). None on PostgreSQL.
    group_commit: GroupCommit | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._sessions = make_session_factory(self.engine)
        # Every SQLite transaction writes-locks the file (BEGIN IMMEDIATE): serialise them
        # in-process. Other processes still wait on SQLite's own busy timeout.
        self._sqlite_writer = asyncio.Lock() if self.engine.dialect.name == "sqlite" else None
        if self._sqlite_writer is not None:
            self.group_commit = GroupCommit(self.engine, self._sqlite_writer)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self.engine, self._sqlite_writer, keys=self.keys)

    def now(self) -> datetime:
        return self.clock()

    async def close(self) -> None:
        if self.group_commit is not None:
            await self.group_commit.close()
        await self.engine.dispose()


async def open_core(
    database_url: str,
    clock: Clock = utc_now,
    run_migrations: bool = True,
    secret: bytes | None = None,
) -> Core:
    """A migrated Core. Without `secret`, the one in the data folder (made on first start)."""
    keys = ServerKeys(secret if secret is not None else load_or_create_secret(database_url))
    engine = make_engine(database_url)
    if run_migrations:
        # Alembic is imported only here: commands that open no database start without it.
        from core.storage.migrate import migrate

        await migrate(engine)
    return Core(engine=engine, clock=clock, keys=keys)
