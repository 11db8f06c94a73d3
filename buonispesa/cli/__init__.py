"""`buonispesa`: the one command (table in the README). Each group lives in its own module."""

from __future__ import annotations

import inspect
from typing import Any

import typer
from typer.core import TyperGroup

# The shell's exit code for a command stopped by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


class _Buonispesa(TyperGroup):
    """The command line's group: every command runs inside its invoke, so Ctrl-C is
    answered here, once for all of them (typer alone would exit 130 in silence)."""

    def invoke(self, ctx: Any) -> Any:  # typer's Context (of the click typer carries)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            from buonispesa.cli.common import interrupted

            interrupted()


app = typer.Typer(
    name="buonispesa",
    help="Emergency grocery vouchers for municipalities, by chat and SMS.",
    no_args_is_help=True,
    add_completion=False,
    cls=_Buonispesa,
)


def _register() -> None:
    # Imported here so that each module can register its commands on `app`.
    from buonispesa.cli import (  # noqa: F401
        admin,
        card,
        chat,
        citizen,
        community,
        demo,
        documents,
        fund,
        migrate_cmd,
        office,
        operators,
        outbox_cmd,
        serve,
        shop_checks,
    )

    _summaries_on_one_line(app)


def _summaries_on_one_line(group: typer.Typer) -> None:
    """A group's list of commands shows each command's first paragraph. Typer keeps the
    paragraph's line breaks there (in its "rich" mode only), so a docstring wrapped at 100
    columns came out as broken lines ("Approves nothing; the" / "file (codici ..."): the
    summary is given as one line, as Typer already does on the command's own page."""
    for command in group.registered_commands:
        if command.short_help is None and command.callback is not None:
            first = (command.help or inspect.getdoc(command.callback) or "").split("\n\n")[0]
            command.short_help = " ".join(first.split())
    for subgroup in group.registered_groups:
        if subgroup.typer_instance is not None:
            _summaries_on_one_line(subgroup.typer_instance)


def main() -> None:
    _register()
    app()
