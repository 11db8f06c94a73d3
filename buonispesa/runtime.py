"""Start-up shared by the CLI and the server: settings -> a migrated Core."""

from __future__ import annotations

from buonispesa.settings import Settings
from core.bootstrap import Core, open_core


async def core_from_settings(settings: Settings, run_migrations: bool = True) -> Core:
    return await open_core(
        settings.database_url, run_migrations=run_migrations, secret=settings.secret_bytes()
    )
