"""`buonispesa migrate`: bring the database schema to the newest revision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

from buonispesa.cli import app
from buonispesa.cli.common import say, settings_or_exit
from buonispesa.cli.work import run_with_core
from core.domain.messages import t

if TYPE_CHECKING:
    from core.bootstrap import Core


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic)."""
    from buonispesa.runtime import safe_url

    settings = settings_or_exit()

    async def work(core: Core) -> None:
        """Nothing more: opening the database migrated it."""

    run_with_core(work, settings)
    Console(stderr=True).print(
        say(t("The database is up to date ({url}).", url=safe_url(settings.database_url))),
        style="green",
        markup=False,
    )
