"""`buonispesa demo`: seed the demo town (idempotent)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from buonispesa.cli import app
from buonispesa.cli.common import settings_or_exit
from buonispesa.demo import DEMO_CITIZENS, DEMO_CODE, DEMO_NAME, DEMO_SHOPS, seed_demo
from buonispesa.runtime import core_from_settings


@app.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Seed only when the database has no municipality")
    ] = False,
) -> None:
    """Seed a demo municipality with shops, citizens, balances and an open window."""
    settings = settings_or_exit()
    console = Console(stderr=True)

    async def _run() -> str:
        core = await core_from_settings(settings)
        try:
            if if_empty:
                async with core.uow() as uow:
                    if await uow.municipalities.all():
                        return "kept"
            return "seeded" if await seed_demo(core) else "exists"
        finally:
            await core.close()

    outcome = asyncio.run(_run())
    if outcome == "seeded":
        console.print(
            f"[green]Demo town {DEMO_NAME} ({DEMO_CODE}) seeded[/green]: "
            f"{len(DEMO_SHOPS)} shops, {len(DEMO_CITIZENS)} citizens with balances, window open."
        )
        console.print(
            f"Try: buonispesa chat --phone {DEMO_CITIZENS[0].phone}   (a citizen)\n"
            f"     buonispesa chat --as shop --phone {DEMO_SHOPS[0][6]}   (a shop)"
        )
    elif outcome == "exists":
        console.print(f"Demo town {DEMO_CODE} already exists; nothing changed.")
    else:
        console.print("The database already has municipalities; demo not seeded.")
