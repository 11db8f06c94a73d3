"""`buonispesa`: the one command (table in the README). Each group lives in its own module."""

from __future__ import annotations

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


def main() -> None:
    _register()
    app()
