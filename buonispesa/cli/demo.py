"""`buonispesa demo`: seed the demo town (idempotent)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from buonispesa.cli import app
from buonispesa.cli.common import (
    database_unavailable,
    program,
    say,
    settings_or_exit,
    wrong_secret,
)
from core.domain.messages import t


@app.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Seed only when the database has no municipality")
    ] = False,
) -> None:
    """Seed a demo municipality with shops, citizens, balances and an open window."""
    # The demo's data and the database only when the command runs: `--help` stays light.
    from buonispesa.demo import (
        DEMO_CITIZENS,
        DEMO_CODE,
        DEMO_NAME,
        DEMO_OPERATOR_PASSWORD,
        DEMO_OPERATORS,
        DEMO_SHOPS,
        seed_demo,
    )
    from buonispesa.runtime import DatabaseUnavailable, core_from_settings
    from core.storage.secret_file import WrongServerSecret

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

    try:
        outcome = asyncio.run(_run())
    except WrongServerSecret as error:
        wrong_secret(settings.database_url, error)
    except DatabaseUnavailable as error:
        database_unavailable(error.url, error.problem)
    if outcome == "seeded":
        console.print(
            say(
                t(
                    "Demo town {name} ({code}) seeded: {shops} shops, {citizens} households "
                    "whose first round was allocated and credited, a second application window "
                    "open.",
                    name=DEMO_NAME,
                    code=DEMO_CODE,
                    shops=len(DEMO_SHOPS),
                    citizens=len(DEMO_CITIZENS),
                )
            ),
            style="green",
            markup=False,
        )
        console.print(say(t("Try:")), markup=False)
        # The commands themselves are not translated; what they stand for is.
        for command, who in (
            (f"{program()} chat --phone {DEMO_CITIZENS[0].phone}", t("(a citizen)")),
            (f"{program()} chat --as shop --phone {DEMO_SHOPS[0][6]}", t("(a shop)")),
        ):
            console.print(f"  {command}   {say(who)}", markup=False)
        console.print(
            say(
                t(
                    "The office in the browser: /office/ on the server, as {users}, "
                    "password {password}.",
                    users=", ".join(name for name, _ in DEMO_OPERATORS),
                    password=DEMO_OPERATOR_PASSWORD,
                )
            ),
            markup=False,
        )
    elif outcome == "exists":
        console.print(
            say(t("Demo town {code} already exists; nothing changed.", code=DEMO_CODE)),
            markup=False,
        )
    else:
        console.print(
            say(t("The database already has municipalities; demo not seeded.")), markup=False
        )
