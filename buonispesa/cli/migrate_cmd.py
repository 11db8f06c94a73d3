"""`buonispesa migrate`: bring the database schema to the newest revision."""

from __future__ import annotations

import asyncio

from rich.console import Console

from buonispesa.cli import app
from buonispesa.cli.common import database_unavailable, say, settings_or_exit, wrong_secret
from core.domain.messages import t


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic)."""
    from buonispesa.runtime import DatabaseUnavailable, core_from_settings, safe_url
    from core.storage.secret_file import WrongServerSecret

    settings = settings_or_exit()

    async def _run() -> None:
        core = await core_from_settings(settings)
        await core.close()

    try:
        asyncio.run(_run())
    except WrongServerSecret as error:
        wrong_secret(settings.database_url, error)
    except DatabaseUnavailable as error:
        database_unavailable(error.url, error.problem)
    Console(stderr=True).print(
        say(t("The database is up to date ({url}).", url=safe_url(settings.database_url))),
        style="green",
        markup=False,
    )
