"""Helpers every CLI command shares: settings, error reporting, exit codes."""

from __future__ import annotations

from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from buonispesa.settings import Settings, describe_errors, load_settings

err = Console(stderr=True)

# Exit code for bad input (CSV, TOML, arguments): nothing was changed.
EXIT_BAD_INPUT = 2


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ValidationError as error:
        err.print("[red]Configuration error[/red]: fix these environment variables (or .env):")
        for line in describe_errors(error):
            err.print(f"  - {line}")
        raise typer.Exit(EXIT_BAD_INPUT) from error


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    err.print(f"[red]Error[/red]: {message}")
    raise typer.Exit(code)
