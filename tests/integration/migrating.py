"""Moving a test database to one Alembic revision, up or down, as `buonispesa migrate`
would (the migration tests build data at an old revision and upgrade it)."""

from __future__ import annotations

from alembic import command

from core.storage.engine import make_engine
from core.storage.migrate import alembic_config


async def migrate_to(url: str, revision: str, *, down: bool = False) -> None:
    engine = make_engine(url)
    try:

        def run(connection: object) -> None:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, revision)

        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()
