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
    # Imported here so that each module can register its commands on `app`. Help lists
    # commands in the order they were registered: the admin_* modules (the groups of
    # admin.py) come right after admin, before the modules adding to the same groups.
    from buonispesa.cli import (  # noqa: F401
        admin,
        admin_allocation,
        admin_applications,
        admin_ledger,
        admin_municipality,
        admin_policy,
        admin_shops,
        admin_window,
        card,
        chat,
        citizen,
        citizen_codes,
        community,
        demo,
        documents,
        fund,
        fund_economia,
        migrate_cmd,
        office,
        operators,
        outbox_cmd,
        serve,
        shop_checks,
    )

    _help_as_running_text(app)


def _help_as_running_text(group: typer.Typer) -> None:
    """Each command's help, on its own page and as the summary in its group's list, is its
    docstring with every paragraph as running text. Typer keeps a paragraph's own line
    breaks (in its "rich" mode; only the first paragraph of a command's page is joined), and
    then wraps at the terminal's width as well, so a docstring wrapped at 100 columns came
    out as broken lines: "Approves nothing; the" / "file (codici ...", "(shown at the" /
    "start)". A paragraph that starts with click's "\\b" marker keeps its lines."""
    for command in group.registered_commands:
        if command.callback is None:
            continue
        doc = command.help or inspect.getdoc(command.callback) or ""
        command.help = "\n\n".join(
            paragraph if paragraph.startswith("\b") else " ".join(paragraph.split())
            for paragraph in doc.split("\n\n")
        )
        if command.short_help is None:
            command.short_help = command.help.split("\n\n")[0]
    for subgroup in group.registered_groups:
        if subgroup.typer_instance is not None:
            _help_as_running_text(subgroup.typer_instance)


def main() -> None:
    _register()
    app()
