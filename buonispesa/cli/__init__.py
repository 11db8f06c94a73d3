"""`buonispesa`: the one command (table in the README). Each group lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="buonispesa",
    help="Emergency grocery vouchers for municipalities, by chat and SMS.",
    no_args_is_help=True,
    add_completion=False,
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
