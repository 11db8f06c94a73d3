"""`buonispesa admin window …`: opening and closing the application window, each said
and asked before it is done."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from buonispesa.cli.admin import EXIT_DECLINED, confirmed, out, tell, window_app
from buonispesa.cli.common import ByOption, err, say
from buonispesa.cli.logged import logged
from buonispesa.cli.work import run_with_core, town_work
from core.domain.messages import Moment, Money, t, tn

# The database, the services and the CSV parser (SQLAlchemy, phonenumbers...) are imported
# by the commands that use them: `buonispesa --help` builds every command and must start
# fast (tests/unit/test_cli_startup.py checks what it imports).
if TYPE_CHECKING:
    from core.bootstrap import Core
    from core.services.back_office import WindowFigures
    from core.services.municipalities import NewWindow
    from core.storage import models as m


YesOption = Annotated[
    bool, typer.Option("--yes", help="Open it without asking (for scripts); the facts are printed")
]


@window_app.command("open")
def window_open(
    code: str,
    days: Annotated[int | None, typer.Option()] = None,
    yes: YesOption = False,
    by: ByOption = None,
) -> None:
    """Open the application window (default: the policy's number of days). Says which window
    opens, until when and what the one before holds, then asks (--yes: does not ask)."""
    from core.services import back_office, municipalities

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            # The refusals (a window still open, a tranche waiting, applications never
            # allocated, a bad number of days) come before anything is asked.
            window = await municipalities.check_open_window(uow, town, core.now(), days)
            previous = (
                await back_office.window_figures(uow, window.previous)
                if window.previous is not None
                else None
            )
            town_code = town.code
        for line in opening_means(town_code, window, previous):
            out.print(line, markup=False)
        question = t("Open window {number} now? [y/N]", number=str(window.number))
        if not yes and not confirmed(question):
            err.print(say(t("Nothing was opened.")), style="yellow", markup=False)
            raise typer.Exit(EXIT_DECLINED)
        async with town_work(core, code) as (uow, town):
            # The window the question named, or a refusal: one opened or closed meanwhile
            # (from the office's page) would make the next one another.
            round_ = await municipalities.open_window(
                uow, town, core.now(), days, expected_number=window.number
            )
            await logged(
                uow,
                town.id,
                by,
                "window.open",
                now=core.now(),
                subject=f"{town.code} {round_.number}",
                after={
                    "opens_at": round_.opens_at.isoformat(),
                    "closes_at": round_.closes_at.isoformat(),
                },
            )
            await uow.commit()
            tell(
                t(
                    "{town}: application window {number} open until {until}.",
                    town=town.code,
                    number=str(round_.number),
                    until=Moment(round_.closes_at),
                )
            )

    run_with_core(work)


def opening_means(town: str, window: NewWindow, previous: WindowFigures | None) -> list[str]:
    """What opening the window means, as the office's page says it before its button
    (office/templates/round_open.html): which window, until when, what the one before
    holds, and that it cannot be undone."""
    lines = [
        " ".join(
            (
                say(
                    t(
                        "Window {number} opens now and accepts applications until {until}.",
                        number=str(window.number),
                        until=Moment(window.closes_at),
                    )
                ),
                say(tn("It lasts {count} day.", "It lasts {count} days.", window.days)),
            )
        ),
        say(
            t(
                "From the moment you open it, citizens apply in the chat and by SMS, and paper "
                "applications are imported into it."
            )
        ),
    ]
    if window.previous is not None and previous is not None:
        applications = say(tn("{count} application", "{count} applications", previous.applications))
        lines.append(
            say(
                t(
                    "The determina, the credit and the paper applications then work on window "
                    "{number} only ('admin approve', 'admin credit', 'admin applications "
                    "import').",
                    number=str(window.number),
                )
            )
        )
        lines.append(
            say(
                t(
                    "Window {number} stays as it is: {applications}, tranches approved "
                    "{budget}, credited {credited}. Its figures stay in its transparency "
                    "report ('admin report {town} --window {number}').",
                    number=str(window.previous.number),
                    applications=applications,
                    budget=Money(previous.budget_cents),
                    credited=Money(previous.credited_cents),
                    town=town,
                )
            )
        )
    lines.append(
        say(
            t(
                "An opened window cannot be undone: it can only be closed early, and a closed "
                "window is never reopened."
            )
        )
    )
    return lines


CloseYesOption = Annotated[
    bool, typer.Option("--yes", help="Close it without asking (for scripts); the facts are printed")
]


@window_app.command("close")
def window_close(code: str, yes: CloseYesOption = False, by: ByOption = None) -> None:
    """Close the application window now. Says which window closes, its dates and how many
    applications came, then asks (--yes: does not ask)."""
    from core.services import back_office, municipalities

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            # The refusal (no window open) comes before anything is asked.
            window = await municipalities.check_close_window(uow, town, core.now())
            figures = await back_office.window_figures(uow, window)
            number = window.number
        for line in closing_means(window, figures.applications):
            out.print(line, markup=False)
        question = t("Close window {number} now? [y/N]", number=str(number))
        if not yes and not confirmed(question):
            err.print(say(t("Nothing was closed.")), style="yellow", markup=False)
            raise typer.Exit(EXIT_DECLINED)
        async with town_work(core, code) as (uow, town):
            # The window the question named, or a refusal: one closed (and another opened)
            # meanwhile, from the office's page, is not closed in its place.
            round_ = await municipalities.close_window(
                uow, town, core.now(), expected_number=number
            )
            await logged(
                uow,
                town.id,
                by,
                "window.close",
                now=core.now(),
                subject=f"{town.code} {round_.number}",
                before={"closes_at": window.closes_at.isoformat()},
                after={"closes_at": round_.closes_at.isoformat()},
            )
            await uow.commit()
            tell(
                t(
                    "{town}: application window {number} closed.",
                    town=town.code,
                    number=str(round_.number),
                )
            )

    run_with_core(work)


def closing_means(window: m.Round, applications: int) -> list[str]:
    """What closing the window now means, as the office's page says it before its button
    (office/templates/round_close.html): which window, its dates, how many applications
    came, and that a closed window is never reopened."""
    return [
        " ".join(
            (
                say(
                    t(
                        "Window {number} opened on {opened} and is open until {until}.",
                        number=str(window.number),
                        opened=Moment(window.opens_at),
                        until=Moment(window.closes_at),
                    )
                ),
                say(
                    tn(
                        "{count} application so far.",
                        "{count} applications so far.",
                        applications,
                    )
                ),
            )
        ),
        say(
            t(
                "From the moment you close it, no application is accepted any more: not in the "
                "chat, not by SMS, not from a paper import."
            )
        ),
        say(
            t(
                "A closed window cannot be reopened: whoever has not applied yet can only apply "
                "in a new window, which is a new bando."
            )
        ),
        say(t("After closing, you prepare the determina on the applications received.")),
    ]
