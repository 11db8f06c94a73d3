"""`buonispesa admin operator …`: the accounts of the office's back-office (/office/)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from buonispesa.cli.admin import admin, out, tell
from buonispesa.cli.common import office_language, operator_name, say
from buonispesa.cli.work import run_with_core, town_work
from core.domain.messages import Moment, t, tn
from core.i18n import format_param

# The services (SQLAlchemy, argon2) are imported by the commands that run: `--help` stays light.
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    from core.bootstrap import Core
    from core.services.unit_of_work import UnitOfWork
    from core.storage import models as m

    # operators.unlock or operators.enable: (uow, town, username, now, actor) -> the operator.
    LiftBar = Callable[[UnitOfWork, m.Municipality, str, datetime, str], Awaitable[m.Operator]]

operator_app = typer.Typer(help="Operators of the office in the browser.", no_args_is_help=True)
admin.add_typer(operator_app, name="operator")


@operator_app.command("add")
def operator_add(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    username: Annotated[str, typer.Argument(help="Sign-in name: 3-64 of a-z 0-9 . _ -")],
    role: Annotated[str, typer.Option(help="clerk, manager or viewer")] = "clerk",
) -> None:
    """Add an operator; prints a one-time password to change at the first sign-in."""
    from core.services import operators

    async def work(core: Core) -> tuple[str, str]:
        async with town_work(core, code) as (uow, town):
            operator, password = await operators.add_operator(uow, town, username, role, core.now())
            await uow.commit()
        return operator.username, password

    name, password = run_with_core(work)
    tell(
        t(
            "Operator {username} added. One-time password: {password} "
            "(to change at the first sign-in).",
            username=name,
            password=password,
        )
    )


@operator_app.command("list")
def operator_list(code: str) -> None:
    """List the operators of a municipality."""
    from core.services import operators
    from office.words import ROLE_NAMES

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            table = Table(
                say(t("Username")),
                say(t("Role")),
                say(t("Last sign-in")),
                say(t("Locked until")),
                say(t("Disabled since")),
            )
            now = core.now()
            for operator in await operators.of_municipality(uow, town.id):
                last = operator.last_sign_in_at
                # The sign-in page does not say an account is locked (that would tell
                # who has one): the office reads it here.
                until = operator.locked_until
                table.add_row(
                    operator.username,
                    say(ROLE_NAMES[operator.role]),
                    format_param(Moment(last), office_language()) if last else "",
                    format_param(Moment(until), office_language())
                    if until is not None and until > now
                    else "",
                    format_param(Moment(operator.disabled_at), office_language())
                    if operator.disabled_at is not None
                    else "",
                )
            out.print(table)

    run_with_core(work)


@operator_app.command("unlock")
def operator_unlock(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    username: Annotated[str, typer.Argument(help="The operator locked out after wrong passwords")],
    by: Annotated[str | None, typer.Option(help="Who unlocks (logged)")] = None,
) -> None:
    """Lift an operator's sign-in lock now (it also ends by itself after 15 minutes)."""
    from core.services import operators

    _let_sign_in_again(code, username, by, operators.unlock)


@operator_app.command("disable")
def operator_disable(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    username: Annotated[str, typer.Argument(help="The operator to suspend")],
    by: Annotated[str | None, typer.Option(help="Who disables (logged)")] = None,
) -> None:
    """Suspend an operator: no sign-in, and every office session of theirs ends now."""
    from core.services import operators

    async def work(core: Core) -> tuple[str, int]:
        async with town_work(core, code) as (uow, town):
            operator, ended = await operators.disable(
                uow, town, username, core.now(), f"cli:{operator_name(by)}"
            )
            await uow.commit()
        return operator.username, ended

    name, ended = run_with_core(work)
    tell(
        tn(
            "Operator {username} disabled: {count} office session ended; no sign-in "
            "until 'admin operator enable'.",
            "Operator {username} disabled: {count} office sessions ended; no sign-in "
            "until 'admin operator enable'.",
            ended,
            username=name,
        )
    )


@operator_app.command("enable")
def operator_enable(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    username: Annotated[str, typer.Argument(help="The disabled operator")],
    by: Annotated[str | None, typer.Option(help="Who enables (logged)")] = None,
) -> None:
    """Let a disabled operator sign in again, with the password they had."""
    from core.services import operators

    _let_sign_in_again(code, username, by, operators.enable)


def _let_sign_in_again(code: str, username: str, by: str | None, lift: LiftBar) -> None:
    """Unlock and enable alike: lift one bar on the operator, logged as by the CLI, and
    say they can sign in again."""

    async def work(core: Core) -> str:
        async with town_work(core, code) as (uow, town):
            operator = await lift(uow, town, username, core.now(), f"cli:{operator_name(by)}")
            await uow.commit()
        return operator.username

    name = run_with_core(work)
    tell(t("Operator {username} can sign in again.", username=name))
