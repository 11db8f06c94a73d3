"""`buonispesa admin …`: the social-services office's commands (names kept stable).

Here the `admin` group, its subgroups and what their commands share (a policy or
applications file read, the office asked yes or no; the database is opened by
buonispesa.cli.work); each subgroup's commands live in a module of their own:
admin_municipality, admin_policy, admin_window, admin_applications, admin_allocation
(simulate, allocate, approve, credit), admin_shops and admin_ledger."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from buonispesa.cli import app
from buonispesa.cli.common import EXIT_BAD_INPUT, OfficeConsole, fail, office_language, say
from buonispesa.cli.imports import import_problem, where_text
from buonispesa.cli.refusals import describe
from core.domain.errors import InvalidAmount, PolicyError
from core.domain.messages import Text, t, tn
from core.domain.money import parse_euro
from core.domain.policy import Policy, default_policy, load_policy
from core.i18n import format_money

# The database, the services and the CSV parser (SQLAlchemy, phonenumbers...) are imported
# by the commands that use them: `buonispesa --help` builds every command and must start
# fast (tests/unit/test_cli_startup.py checks what it imports).
if TYPE_CHECKING:
    from core.domain.application_csv import ApplicationRow
    from core.services.applications import ImportRowError

out = OfficeConsole()
# `--help` texts (docstrings, typer help=) stay in English: typer evaluates them at import,
# before the office's language is known. Everything printed at run time goes through say().
admin = typer.Typer(
    help="The office's commands: municipalities, windows, allocation, shops.", no_args_is_help=True
)
municipality_app = typer.Typer(
    help="Municipalities served by this installation.", no_args_is_help=True
)
policy_app = typer.Typer(help="Eligibility and allocation rules (TOML).", no_args_is_help=True)
window_app = typer.Typer(help="The application window.", no_args_is_help=True)
applications_app = typer.Typer(
    help="Applications: import paper ones, export all.", no_args_is_help=True
)
shops_app = typer.Typer(help="Shops: list and approve.", no_args_is_help=True)
ledger_app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
app.add_typer(admin, name="admin")
admin.add_typer(municipality_app, name="municipality")
admin.add_typer(policy_app, name="policy")
admin.add_typer(window_app, name="window")
admin.add_typer(applications_app, name="applications")
admin.add_typer(shops_app, name="shops")
admin.add_typer(ledger_app, name="ledger")

# `--force` of every command that writes a file.
Force = Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists")]


def budget_cents(text: str, option: str = "--budget") -> int:
    """An amount given to `option`; refused naming that option (and nothing is done)."""
    try:
        return parse_euro(text)
    except InvalidAmount as error:
        fail(
            t(
                "{option} {text}: {problem}",
                option=option,
                text=repr(text),
                problem=say(describe(error)),
            )
        )


def read_policy(path: Path | None) -> Policy:
    try:
        return load_policy(path) if path else default_policy()
    except PolicyError as error:
        fail(t("{file}: {problem}", file=str(path), problem=say(describe(error))))
    except OSError as error:
        fail(t("{file}: {problem}", file=str(path), problem=str(error.strerror)))


def read_applications(path: Path) -> list[ApplicationRow]:
    from core.domain.application_csv import decode_csv, parse_applications_csv

    try:
        text = decode_csv(path.read_bytes())
    except OSError as error:
        fail(t("{file}: {problem}", file=str(path), problem=str(error.strerror)))
    if text is None:
        fail(
            t(
                '{file}: not a CSV text file (in Excel: Save as, type "CSV UTF-8").',
                file=str(path),
            )
        )
    parsed = parse_applications_csv(text)
    if parsed.errors:
        err = _nothing_imported(path, len(parsed.errors))
        for problem in parsed.errors:
            where = where_text(problem.line, problem.column)
            err.print(f"  {path}:{say(where)}: {say(problem.text)}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    return parsed.rows


def _nothing_imported(file: Path, count: int) -> Console:
    """The first line of a refused import, on stderr; the problems follow on the console."""
    err = OfficeConsole(stderr=True)
    err.print(
        say(
            tn(
                "{file}: {count} problem; nothing was imported.",
                "{file}: {count} problems; nothing was imported.",
                count,
                file=str(file),
            )
        ),
        style="red",
        markup=False,
    )
    return err


def import_refused(file: Path, rows: Sequence[ApplicationRow], refused: ImportRowError) -> NoReturn:
    """Every refused row with its line and column, then exit 2 (nothing was imported)."""
    err = _nothing_imported(file, len(refused.problems))
    for problem in refused.problems:
        where = where_text(rows[problem.index].line, problem.column)
        sentence = t(
            "{problem} ({code})",
            problem=say(import_problem(problem.error, rows)),
            code=problem.error.code,
        )
        err.print(f"  {file}:{say(where)}: {say(sentence)}", markup=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def money(cents: int) -> str:
    """An amount for a table cell, in the office's language."""
    return format_money(cents, office_language())


def tell(text: Text, style: str | None = None) -> None:
    """One sentence to the office on stdout, in its language, never read as rich markup
    (a shop's name or a reason may hold square brackets)."""
    out.print(say(text), style=style, markup=False)


# A question answered no (or not answered: end of input, Ctrl-C): nothing was done, and the
# exit code tells a script so, apart from a refusal's 2.
EXIT_DECLINED = 1


def confirmed(question: Text) -> bool:
    """The office's yes to a question, default no; no answer (end of input, Ctrl-C) is a
    no, and an answer that is neither is asked again. Read as the chat reads a yes ("s",
    "sì", "y", "yes"): click's own confirm takes only y/n, and an Italian office answers
    "s"."""
    from core.dialogue.words import yes_or_no  # the chat's reading, only when asked

    while True:
        try:
            answer = typer.prompt(say(question), default="", show_default=False)
        except typer.Abort:
            out.print()
            return False
        if not answer.strip():
            return False
        said = yes_or_no(answer)
        if said is not None:
            return said


WindowOption = Annotated[
    int | None,
    typer.Option("--window", min=1, help="Number of the application window (default: latest)"),
]
