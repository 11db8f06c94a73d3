"""`buonispesa demo`: seed the demo town (idempotent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from buonispesa.cli import app
from buonispesa.cli.common import program, say
from buonispesa.cli.work import run_with_core
from core.domain.messages import t

if TYPE_CHECKING:
    from core.bootstrap import Core


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

    console = Console(stderr=True)

    async def work(core: Core) -> str:
        if if_empty:
            async with core.uow() as uow:
                if await uow.municipalities.all():
                    return "kept"
        return "seeded" if await seed_demo(core) else "exists"

    outcome = run_with_core(work)
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
