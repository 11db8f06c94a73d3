"""Helpers every CLI command shares: settings, the office's language, error reporting, exit codes.

Every sentence the office reads is a gettext msgid (t()/tn()) rendered by `say()`.
`--help` texts (docstrings, typer `help=`) stay in English: typer evaluates them at
import, before any language is chosen.
"""

from __future__ import annotations

import getpass
import os
import shlex
import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console, ConsoleDimensions

from core.domain.messages import Moment, Text, t, tn
from core.i18n import DEFAULT_LANGUAGE, render_text, supported

if TYPE_CHECKING:
    from buonispesa.settings import Settings
    from core.services.security import ShopLockState
    from core.storage.secret_file import WrongServerSecret


# How wide a line may be when the output is not a terminal: a table is as wide as its
# content up to this, never cut or folded at rich's default of 80 columns.
PIPED_WIDTH = 1000


class OfficeConsole(Console):
    """The console every command prints through. On a terminal, as wide as the terminal;
    piped or redirected (`admin shops list | less`, a file, a log), as wide as the lines
    need (PIPED_WIDTH at most), so that no table is cut. An explicit width (COLUMNS, or
    width=) is obeyed."""

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        if self.is_terminal or self._width is not None or "COLUMNS" in self._environ:
            return size
        return ConsoleDimensions(PIPED_WIDTH, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


err = OfficeConsole(stderr=True)

# Exit code for bad input (CSV, TOML, arguments): nothing was changed.
EXIT_BAD_INPUT = 2

# Read from the environment directly, not from Settings: a configuration error must be
# reported in the office's language too.
LANGUAGE_VARIABLE = "BUONISPESA_LANGUAGE"


def office_language() -> str:
    """BUONISPESA_LANGUAGE, else the locale (LC_ALL, LC_MESSAGES, LANG: it_IT.UTF-8 -> it,
    en_GB.UTF-8 -> en), else Italian. An unsupported language means Italian."""
    for name in (LANGUAGE_VARIABLE, "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").strip()
        if value:
            return supported(value)
    return DEFAULT_LANGUAGE


def program() -> str:
    """This command as it was typed, to suggest another one that pastes and runs: `make
    run` calls `.venv/bin/buonispesa`, which is on no PATH. A bare name (the command
    found on PATH, `python -m`, a test runner) is `buonispesa`."""
    typed = sys.argv[0] if sys.argv else ""
    if os.sep in typed and os.path.basename(typed) == "buonispesa":
        return shlex.quote(typed)
    return "buonispesa"


def say(text: Text) -> str:
    """A Text in the office's language."""
    return render_text(text, office_language())


def named(names: dict[str, Text], code: str) -> str:
    """A stored code (a status, a channel) in the office's words, as the office's pages
    name it (Words.name); one without a name yet as it is."""
    from office.words import Words  # aiohttp: only for the command that runs

    return Words(office_language()).name(names, code)


def code_named(names: dict[str, Text], typed: str) -> str:
    """What the office typed for a stored code: the code itself ("pending") or its name in
    the office's language ("da esaminare"), in any case; anything else as typed."""
    wanted = typed.strip().casefold()
    for code, name in names.items():
        if wanted in (code, say(name).casefold()):
            return code
    return typed


def settings_or_exit(database_url: str | None = None) -> Settings:
    """The settings, or each wrong one said and exit 2. `database_url`: one the command
    was given with --database-url, checked as BUONISPESA_DATABASE_URL is: a wrong scheme
    is the same sentence, not the driver's traceback."""
    # Pydantic and the storage's defaults only for a command that runs: `--help` and the
    # commands' start stay light (tests/unit/test_cli_startup.py checks what is imported).
    from pydantic import ValidationError

    from buonispesa.settings import (
        describe_errors,
        error_names,
        load_settings,
        unknown_variables,
        variables_given,
    )

    for name, meant in unknown_variables(variables_given()):
        warning = (
            t("{name} is not a variable buonispesa reads: ignored.", name=name)
            if meant is None
            else t(
                "{name} is not a variable buonispesa reads: ignored. Did you mean {meant}?",
                name=name,
                meant=meant,
            )
        )
        err.print(say(t("Warning: {problem}", problem=say(warning))), style="yellow", markup=False)
    options = {} if database_url is None else {"BUONISPESA_DATABASE_URL": "--database-url"}
    try:
        return load_settings(database_url)
    except ValidationError as error:
        names = error_names(error)
        configuration_refused(
            describe_errors(error, options),
            options=any(name in options for name in names),
            variables=any(name not in options for name in names),
        )


def configuration_refused(problems: list[str], *, options: bool, variables: bool) -> NoReturn:
    """Each wrong setting on its line, under a header that names where the wrong values
    came from (`options`: the command line's, `variables`: the environment's or .env's),
    and exit 2: the office edits the file for a value it typed, or the other way round."""
    if options and variables:
        header = t("Configuration error: fix these options and environment variables (or .env):")
    elif options:
        header = t("Configuration error: fix these options:")
    else:
        header = t("Configuration error: fix these environment variables (or .env):")
    err.print(say(header), style="red", markup=False)
    for line in problems:
        err.print(f"  - {line}", markup=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def fail(message: Text, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print an error in the office's language and exit."""
    err.print(say(t("Error: {problem}", problem=say(message))), style="red", markup=False)
    raise typer.Exit(code)


def codice_fiscale_or_exit(typed: str) -> str:
    """The codice fiscale typed, in its normal form; else the office reads that it is not
    one and the command stops before its unit of work, nothing changed."""
    from core.domain.errors import InvalidIdentifier
    from core.domain.identity import normalize_codice_fiscale

    try:
        return normalize_codice_fiscale(typed)
    except InvalidIdentifier:
        fail(t("{value} is not a valid codice fiscale.", value=repr(typed)))


def past_ctrl_c() -> None:
    """On a terminal, a new line after the "^C" it echoed (or a half-drawn progress line)."""
    if err.is_terminal:
        err.print()


def interrupted() -> NoReturn:
    """Ctrl-C: one sentence and exit 130 (buonispesa.cli's group calls it for every
    command). A transaction not yet committed is rolled back (by its unit of work as
    asyncio.run cancels the command, else by the database when the connection drops);
    what a command had committed before stays."""
    from buonispesa.cli import EXIT_INTERRUPTED

    past_ctrl_c()
    err.print(
        say(t("Interrupted: nothing more was changed (what was not yet saved was rolled back).")),
        style="yellow",
        markup=False,
    )
    raise typer.Exit(EXIT_INTERRUPTED)


def wrong_secret(url: str, error: WrongServerSecret) -> NoReturn:
    """The database was set up with another server secret (core.bootstrap.open_core): which
    secret was looked for where, and how to start with the right one, exit 2. The file's
    place is named as the exact path looked for: beside a SQLite file, whatever the current
    folder; for a server database, data/secret.key from the current folder."""
    from sqlalchemy.engine import make_url

    from core.storage.secret_file import ENVIRONMENT_ORIGIN, secret_path

    parsed = make_url(url)
    beside_the_file = parsed.get_backend_name() == "sqlite"
    shown = parsed.render_as_string(hide_password=True)

    if error.missing and beside_the_file:
        fail(
            t(
                "The database {url} was set up with a server secret, but {path} does not "
                "exist: the secret file is looked for there, beside the SQLite file, whatever "
                "the folder the command runs from. No new secret was made: it would "
                "invalidate the printed cards, the pending codes and the cashier codes. Copy "
                "the original file to {path}, or set BUONISPESA_SECRET_KEY to the original "
                "secret.",
                url=shown,
                path=error.origin,
            )
        )
    if error.missing:
        fail(
            t(
                "The database {url} was set up with a server secret, but {path} does not "
                "exist. No new secret was made: it would invalidate the printed cards, the "
                "pending codes and the cashier codes. Run the command from the folder that "
                "holds data/secret.key (or copy the original file to {path}), or set "
                "BUONISPESA_SECRET_KEY to the original secret.",
                url=shown,
                path=error.origin,
            )
        )
    if error.origin == ENVIRONMENT_ORIGIN:
        fail(
            t(
                "BUONISPESA_SECRET_KEY is not the server secret the database {url} was set "
                "up with: the printed cards, the pending codes and the cashier codes would "
                "stop working. Set it to the original secret, or unset it to use the "
                "original secret file, {path}.",
                url=shown,
                path=str(secret_path(url)),
            )
        )
    if beside_the_file:
        fail(
            t(
                "{path} is not the server secret the database {url} was set up with: the "
                "printed cards, the pending codes and the cashier codes would stop working. "
                "Put the original secret file at {path} (it is looked for beside the SQLite "
                "file), or set BUONISPESA_SECRET_KEY to the original secret.",
                url=shown,
                path=error.origin,
            )
        )
    fail(
        t(
            "{path} is not the server secret the database {url} was set up with: the "
            "printed cards, the pending codes and the cashier codes would stop working. Run "
            "the command from the folder that holds the original data/secret.key, or set "
            "BUONISPESA_SECRET_KEY to the original secret.",
            url=shown,
            path=error.origin,
        )
    )


def database_unavailable(url: str, problem: str) -> NoReturn:
    """The database could not be opened (buonispesa.runtime.DatabaseUnavailable): where and
    why in one sentence, exit 2."""
    fail(t("Cannot open the database {url}: {problem}", url=url, problem=problem))


# Who is at the keyboard, for the identity log: --by, else this variable, else the OS user.
OPERATOR_VARIABLE = "BUONISPESA_OPERATOR"


def operator_name(given: str | None) -> str:
    for candidate in (given, os.environ.get(OPERATOR_VARIABLE)):
        if candidate and candidate.strip():
            return candidate.strip()[:80]
    try:
        return getpass.getuser()[:80]
    except (OSError, KeyError):
        return "unknown"


ByOption = Annotated[
    str | None, typer.Option("--by", help="Who acts (default: BUONISPESA_OPERATOR or the user)")
]
# The operator a command's activity log names (operator_name), said in the help as such,
# or as the office username of the operator who asks or decides a request.
LoggedByOption = Annotated[
    str | None,
    typer.Option("--by", help=f"operator name for the log (default: ${OPERATOR_VARIABLE})"),
]
OfficeUserOption = Annotated[
    str | None,
    typer.Option("--by", help=f"your office username (default: ${OPERATOR_VARIABLE})"),
]


def cli_actor(by: str | None) -> str:
    """The activity log's actor for a command: cli:<who ran it>."""
    return f"cli:{operator_name(by)}"


def typed_day(option: str, text: str) -> date:
    """A day given to a command's option, read as the office's pages read one
    (application_csv.italian_day): 30/04/2026 (day first) or 2026-04-30, in the digits 0-9;
    anything else (an ISO week day, 20260430, other digits) stops the command, naming the
    option and the shapes to write, before anything is done."""
    from core.domain.application_csv import italian_day

    day = italian_day(text)
    if day is None:
        fail(
            t(
                "{option} {text}: write the day as day/month/year or year-month-day in the "
                "digits 0-9, e.g. 30/04/2026 or 2026-04-30.",
                option=option,
                text=repr(text),
            )
        )
    return day


def lock_text(lock: ShopLockState | None) -> str:
    """A shop's lock as the office reads it: until when, and why (its wrong codes)."""
    if lock is None:
        return say(t("no"))
    if lock.until is None:
        return say(
            tn(
                "until unlocked ({count} wrong code)",
                "until unlocked ({count} wrong codes)",
                lock.wrong_codes,
            )
        )
    return say(
        tn(
            "until {moment} ({count} wrong code)",
            "until {moment} ({count} wrong codes)",
            lock.wrong_codes,
            moment=Moment(lock.until),
        )
    )
