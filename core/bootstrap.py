"""The composition root of the core: a database, a clock, a unit-of-work factory."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.keys import PROCESS_KEYS, ServerKeys
from core.storage.engine import make_engine, make_session_factory
from core.storage.group_commit import GroupCommit
from core.storage.secret_file import (
    ENVIRONMENT_ORIGIN,
    WrongServerSecret,
    create_secret,
    read_secret,
    secret_path,
)
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
    """A migrated Core with the server secret the database was set up with: `secret` (the
    environment's), else the file of the data folder. Raises WrongServerSecret when the
    database remembers another secret, or remembers one and the file is missing."""
    path = secret_path(database_url)
    # Read before connecting: a file that cannot be used is reported without a database.
    found = secret if secret is not None else read_secret(path)
    origin = ENVIRONMENT_ORIGIN if secret is not None else str(path)
    engine = make_engine(database_url)
    core: Core | None = None
    try:
        if run_migrations:
            # Alembic is imported only here: commands that open no database start without it.
            from core.storage.migrate import migrate

            await migrate(engine)
        core = Core(engine=engine, clock=clock)
        core.keys = await _database_secret(core, found, path, origin)
        return core
    except BaseException:
        if core is not None:
            await core.close()
        else:
            await engine.dispose()
        raise


async def _database_secret(core: Core, found: bytes | None, path: Path, origin: str) -> ServerKeys:
    """The keys of `found` once the database agrees that it is its secret.

    Without BUONISPESA_SECRET_KEY the file is found from the current folder (PostgreSQL):
    a command run elsewhere used to make a new secret, and every card grid it printed was
    refused by the tills, each refusal counted against the shop and the card. So a secret
    file is made only for a database that never had a secret, and a database that had
    one starts with that one only."""
    async with core.uow() as uow:
        stored = await uow.server_secret.fingerprint()
    if found is None:
        if stored is not None:
            raise WrongServerSecret(str(path), missing=True)
        found = create_secret(path)
    keys = ServerKeys(found)
    if stored is None:
        # The first start (or the first since the fingerprint exists): this secret is the
        # database's from now on.
        async with core.uow() as uow:
            stored = await uow.server_secret.record(keys.fingerprint(), core.now())
            await uow.commit()
    if not hmac.compare_digest(stored, keys.fingerprint()):
        raise WrongServerSecret(origin)
    return keys
