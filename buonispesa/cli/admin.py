"""`buonispesa admin …`: the social-services office's commands (names kept stable)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from buonispesa.cli import app
from buonispesa.cli.common import (
    EXIT_BAD_INPUT,
    ByOption,
    OfficeConsole,
    code_named,
    database_unavailable,
    err,
    fail,
    lock_text,
    named,
    office_language,
    operator_name,
    say,
    settings_or_exit,
    wrong_secret,
)
from buonispesa.cli.imports import import_problem, where_text
from buonispesa.cli.logged import exported_file, logged
from buonispesa.cli.outfile import OutFile
from buonispesa.cli.progress import progress
from buonispesa.cli.refusals import describe, refusal
from core.domain.allocation import AllocationLine, allocate
from core.domain.errors import DomainError, InvalidAmount, PolicyError
from core.domain.messages import Moment, Money, Text, t, tn
from core.domain.money import parse_euro
from core.domain.policy import Policy, default_policy, load_policy
from core.domain.shops import ShopCategory
from core.i18n import format_money

# The database, the services and the CSV parser (SQLAlchemy, phonenumbers...) are imported
# by the commands that use them: `buonispesa --help` builds every command and must start
# fast (tests/unit/test_cli_startup.py checks what it imports).
if TYPE_CHECKING:
    from datetime import datetime

    from core.bootstrap import Core
    from core.domain.application_csv import ApplicationRow
    from core.services.allocation import CreditResult
    from core.services.applications import ImportRowError
    from core.services.back_office import WindowFigures
    from core.services.municipalities import NewWindow
    from core.storage import models as m
    from core.storage.uow import UnitOfWork

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

T = TypeVar("T")

# `--force` of every command that writes a file.
Force = Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists")]


def run_with_core(work: Callable[[Core], Awaitable[T]]) -> T:
    """Open the configured database (migrated), run one job, report domain errors clearly."""
    from buonispesa.runtime import DatabaseUnavailable, core_from_settings
    from core.storage.secret_file import WrongServerSecret

    settings = settings_or_exit()

    async def _run() -> T:
        core = await core_from_settings(settings)
        try:
            return await work(core)
        finally:
            await core.close()

    try:
        return asyncio.run(_run())
    except DomainError as error:
        fail(refusal(error))
    except WrongServerSecret as error:
        wrong_secret(settings.database_url, error)
    except DatabaseUnavailable as error:
        database_unavailable(error.url, error.problem)


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


def _policy_text(path: Path | None) -> str | None:
    """The text of the policy file given (--policy), once read_policy has checked it; None
    when none is given."""
    if path is None:
        return None
    read_policy(path)
    return path.read_text(encoding="utf-8")


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


def _category(value: str) -> str:
    from core.dialogue.menus import CATEGORY_LABELS

    try:
        return say(CATEGORY_LABELS[ShopCategory(value)])
    except (KeyError, ValueError):
        return value


def money(cents: int) -> str:
    """An amount for a table cell, in the office's language."""
    return format_money(cents, office_language())


# municipality ------------------------------------------------------------------------


@municipality_app.command("add")
def municipality_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. BEL (used in protocol numbers)")],
    name: Annotated[str, typer.Argument(help="Name of the municipality")],
    policy: Annotated[Path | None, typer.Option(help="Policy TOML (default: Belforte)")] = None,
    sms_number: Annotated[str | None, typer.Option(help="Number citizens text (Twilio To)")] = None,
    iban: Annotated[str | None, typer.Option(help="IBAN that pays the shops")] = None,
    bic: Annotated[str | None, typer.Option(help="BIC of that bank")] = None,
    by: ByOption = None,
) -> None:
    """Add a municipality with its policy."""
    from core.services import municipalities

    policy_text = _policy_text(policy)

    async def work(core: Core) -> None:
        async with core.uow() as uow:
            town = await municipalities.add_municipality(
                uow,
                code=code,
                name=name,
                now=core.now(),
                policy_toml=policy_text,
                sms_number=sms_number,
                iban=iban,
                bic=bic,
            )
            await uow.flush()
            await logged(
                uow,
                town.id,
                by,
                "municipality.add",
                now=core.now(),
                subject=town.code,
                after=_town_data(town),
            )
            await uow.commit()
            out.print(
                say(t("Added municipality {code} ({name}).", code=town.code, name=town.name)),
                markup=False,
            )

    run_with_core(work)


@municipality_app.command("set")
def municipality_set(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    name: Annotated[str | None, typer.Option(help="Name of the municipality")] = None,
    iban: Annotated[str | None, typer.Option(help="IBAN that pays the shops ('' removes)")] = None,
    bic: Annotated[str | None, typer.Option(help="BIC of that bank ('' removes)")] = None,
    policy: Annotated[
        Path | None, typer.Option(help="Policy TOML replacing the current one")
    ] = None,
    sms_number: Annotated[
        str | None, typer.Option(help="Number citizens text ('' removes)")
    ] = None,
    privacy_url: Annotated[
        str | None, typer.Option(help="Address of its privacy notice ('' removes)")
    ] = None,
    office_contact: Annotated[
        str | None,
        typer.Option(help="How citizens reach the office, said by UFFICIO ('' removes)"),
    ] = None,
    by: ByOption = None,
) -> None:
    """Correct a municipality: only the options given change; all are checked first."""
    from core.services import municipalities

    given = (name, iban, bic, policy, sms_number, privacy_url, office_contact)
    if all(value is None for value in given):
        fail(
            t(
                "Nothing to change: give at least one of --name, --iban, --bic, --policy, "
                "--sms-number, --privacy-url, --office-contact."
            )
        )
    policy_text = _policy_text(policy)

    async def work(core: Core) -> None:
        async with core.uow() as uow:
            before = _town_data(await municipalities.require(uow, code))
            town = await municipalities.update_municipality(
                uow,
                code,
                name=name,
                policy_toml=policy_text,
                sms_number=sms_number,
                iban=iban,
                bic=bic,
                privacy_url=privacy_url,
                office_contact=office_contact,
            )
            await _log_town_change(uow, town, before, by, core.now())
            await uow.commit()
            if office_contact is not None:
                out.print(say(_office_contact_text(town)), markup=False)
            out.print(
                say(
                    t(
                        "{code}: {name}; SMS number {sms}; IBAN {iban}; BIC {bic}; policy "
                        "{policy}.",
                        code=town.code,
                        name=town.name,
                        sms=town.sms_number or "-",
                        iban=town.iban or "-",
                        bic=town.bic or "-",
                        policy=municipalities.policy_of(town).name,
                    )
                ),
                markup=False,
            )

    run_with_core(work)


# What `municipality set` may change, as the activity log keeps it.
TOWN_DATA_FIELDS = ("name", "sms_number", "iban", "bic", "policy", "privacy_url", "office_contact")


def _town_data(town: m.Municipality) -> dict[str, str | None]:
    """TOWN_DATA_FIELDS of the town now (the policy by its name: its TOML is in the row)."""
    from core.services.municipalities import policy_of

    values = {field: getattr(town, field) for field in TOWN_DATA_FIELDS if field != "policy"}
    return values | {"policy": policy_of(town).name}


async def _log_town_change(
    uow: UnitOfWork,
    town: m.Municipality,
    before: dict[str, str | None],
    by: str | None,
    now: datetime,
) -> None:
    """The town's data that changed (an IBAN that pays the shops above all), if any."""
    after = _town_data(town)
    changed = [key for key in after if after[key] != before[key]]
    if changed:
        await logged(
            uow,
            town.id,
            by,
            "municipality.set",
            now=now,
            subject=town.code,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )


def _office_contact_text(town: m.Municipality) -> Text:
    if town.office_contact:
        return t("UFFICIO now answers: {contact}", contact=town.office_contact)
    return t("UFFICIO now answers: ask at the town hall (no contact recorded).")


@municipality_app.command("privacy-url")
def municipality_privacy_url(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    url: Annotated[str, typer.Argument(help="Address of its privacy notice ('' removes it)")],
    by: ByOption = None,
) -> None:
    """Link the municipality's privacy notice from the consent citizens give when applying."""
    from core.services import municipalities

    async def work(core: Core) -> None:
        async with core.uow() as uow:
            before = _town_data(await municipalities.require(uow, code))
            town = await municipalities.set_privacy_url(uow, code, url)
            await _log_town_change(uow, town, before, by, core.now())
            await uow.commit()
            if town.privacy_url:
                text = t("Privacy notice of {code}: {url}", code=town.code, url=town.privacy_url)
            else:
                text = t("Privacy notice of {code} removed.", code=town.code)
            out.print(say(text), markup=False)

    run_with_core(work)


@municipality_app.command("list")
def municipality_list() -> None:
    """List the municipalities."""
    from core.services import municipalities

    async def work(core: Core) -> None:
        async with core.uow() as uow:
            table = Table(say(t("Code")), say(t("Name")), say(t("SMS number")), say(t("Policy")))
            for town in await uow.municipalities.all():
                table.add_row(
                    town.code, town.name, town.sms_number or "", municipalities.policy_of(town).name
                )
            out.print(table)

    run_with_core(work)


# policy ------------------------------------------------------------------------------


@policy_app.command("check")
def policy_check(file: Path) -> None:
    """Validate a policy TOML file and print what it decides."""
    policy = read_policy(file)
    table = Table(say(t("Members")), say(t("Amount")), say(t("Liquidity limit")))
    sizes = max(len(policy.amounts_by_size_cents), len(policy.liquidity_thresholds_cents))
    for size in range(1, sizes + 1):
        plus = "+" if size == sizes else ""
        table.add_row(
            f"{size}{plus}",
            money(policy.full_amount_cents(size)),
            money(policy.liquidity_threshold_cents(size)),
        )
    days = policy.application_window_days
    out.print(
        say(
            tn(
                "{file}: valid. {policy}, list 2 mode {mode}, window of {count} day.",
                "{file}: valid. {policy}, list 2 mode {mode}, window of {count} days.",
                days,
                file=str(file),
                policy=policy.name,
                mode=policy.list2_mode,
            )
        ),
        style="green",
        markup=False,
    )
    out.print(table)


# window ------------------------------------------------------------------------------


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
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
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
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
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
            out.print(
                say(
                    t(
                        "{town}: application window {number} open until {until}.",
                        town=town.code,
                        number=str(round_.number),
                        until=Moment(round_.closes_at),
                    )
                ),
                markup=False,
            )

    run_with_core(work)


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
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
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
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
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
            out.print(
                say(
                    t(
                        "{town}: application window {number} closed.",
                        town=town.code,
                        number=str(round_.number),
                    )
                ),
                markup=False,
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


# applications ------------------------------------------------------------------------


@applications_app.command("import")
def applications_import(code: str, file: Path, by: ByOption = None) -> None:
    """Import paper applications from a CSV: all rows or none."""
    from core.services import applications, municipalities
    from core.services.applications import ApplicationInput

    rows = read_applications(file)

    async def work(core: Core) -> int:
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
            if await municipalities.current_round(uow, town.id) is None:
                fail(
                    t(
                        "{town} has no application window yet: run 'admin window open {town}'.",
                        town=town.code,
                    )
                )
            town_id = town.id  # the import expires every loaded row (its bulk statements)
            inputs = [(ApplicationInput.from_row(row), row.submitted_at) for row in rows]
            with progress(t("Importing")) as report:
                try:
                    count = await applications.import_applications(
                        uow, town, inputs, core.now(), progress=report
                    )
                except applications.ImportRowError as refused:
                    import_refused(file, rows, refused)
            await logged(
                uow,
                town_id,
                by,
                "applications.import",
                now=core.now(),
                subject=file.name,
                after={"count": count},
            )
            await uow.commit()
        return count

    count = run_with_core(work)
    out.print(
        say(
            tn(
                "Imported {count} application into {town}.",
                "Imported {count} applications into {town}.",
                count,
                town=code.upper(),
            )
        ),
        markup=False,
    )


WindowOption = Annotated[
    int | None,
    typer.Option("--window", min=1, help="Number of the application window (default: latest)"),
]


@applications_app.command("export")
def applications_export(
    code: str, file: Path, force: Force = False, window: WindowOption = None, by: ByOption = None
) -> None:
    """Export a window's applications as CSV (the README's applications columns). The
    office's activity log keeps who wrote which file, with how many rows."""
    from core.domain.application_csv import ApplicationRow, write_applications_csv
    from core.services import allocation, municipalities

    target = OutFile(file, force=force, personal=True)
    target.check()

    async def work(core: Core) -> list[ApplicationRow]:
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
            if window is None:
                round_ = await municipalities.current_round(uow, town.id)
            else:
                round_ = await allocation.round_of(uow, town, window)
            pairs = await uow.applications.with_citizens(round_.id) if round_ else []
            rows = [
                ApplicationRow(
                    codice_fiscale=citizen.codice_fiscale,
                    phone=citizen.phone or "",
                    household_size=app_.household_size,
                    has_work_income=app_.has_work_income,
                    has_pension=app_.has_pension,
                    liquidity_cents=app_.liquidity_cents,
                    public_support_monthly_cents=app_.public_support_monthly_cents,
                    rent_monthly_cents=app_.rent_monthly_cents,
                    submitted_at=app_.submitted_at,
                )
                for app_, citizen in pairs
            ]
            text = write_applications_csv(rows)
            await exported_file(uow, town.id, by, target, text, rows=len(rows), now=core.now())
        return rows

    rows = run_with_core(work)
    out.print(
        say(
            tn(
                "Wrote {count} application to {file}.",
                "Wrote {count} applications to {file}.",
                len(rows),
                file=str(file),
            )
        ),
        markup=False,
    )


# allocation --------------------------------------------------------------------------


@admin.command("simulate")
def simulate(
    applications_file: Annotated[Path, typer.Option("--applications", help="Applications CSV")],
    budget: Annotated[str, typer.Option(help="Budget in euro, e.g. 38000 or 38.000,00")],
    out_file: Annotated[Path, typer.Option("--out", help="Allocation CSV to write")],
    policy: Annotated[Path | None, typer.Option(help="Policy TOML (default: Belforte)")] = None,
    force: Force = False,
) -> None:
    """The budget simulator: no database at all; protocol = the 1-based row number."""
    from core.domain.application_csv import to_facts, write_allocation_csv

    target = OutFile(out_file, force=force, personal=True)
    target.check()
    rules = read_policy(policy)
    cents = budget_cents(budget)
    rows = read_applications(applications_file)
    lines = allocate(to_facts(rows), rules, cents)
    target.write(
        write_allocation_csv(zip(lines, (row.codice_fiscale for row in rows), strict=True))
    )
    _summary(lines, cents)
    out.print(say(t("Wrote {file}.", file=str(out_file))), markup=False)


def _summary(lines: Sequence[AllocationLine], budget: int) -> None:
    table = Table(say(t("List")), say(t("Households")), say(t("Amount")))
    labels = {"1": "1", "2": "2", "excluded": say(t("Excluded"))}
    for key, label in labels.items():
        chosen = [line for line in lines if line.assignment.value == key]
        table.add_row(label, str(len(chosen)), money(sum(x.amount_cents for x in chosen)))
    total = sum(x.amount_cents for x in lines)
    table.add_row(say(t("Total")), str(len(lines)), money(total))
    out.print(table)
    out.print(
        say(
            t(
                "Budget {budget}, allocated {allocated}, left {left}.",
                budget=Money(budget),
                allocated=Money(total),
                left=Money(budget - total),
            )
        ),
        markup=False,
    )


@admin.command("allocate")
def allocate_cmd(
    code: str,
    budget: Annotated[str, typer.Option(help="Budget in euro")],
    out_file: Annotated[Path, typer.Option("--out", help="Allocation CSV to write")],
    force: Force = False,
    window: WindowOption = None,
    by: ByOption = None,
) -> None:
    """What the next tranche of a window would give with this budget. Approves nothing; the
    file (codici fiscali) is in the office's activity log."""
    from core.domain.application_csv import write_allocation_csv
    from core.services import allocation, municipalities

    target = OutFile(out_file, force=force, personal=True)
    target.check()
    cents = budget_cents(budget)

    async def work(core: Core) -> None:
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
            result = await allocation.simulate(uow, town, cents, window)
            nobody = await allocation.pays_nobody(uow, result)
            latest = (await allocation.round_of(uow, town)).number
            text = write_allocation_csv((item.line, item.codice_fiscale) for item in result)
            await exported_file(uow, town.id, by, target, text, rows=len(result), now=core.now())
        _summary([item.line for item in result], cents)
        # The hint names what 'admin approve' would do: it refuses a tranche that pays
        # nobody, and it decides the latest window's next tranche only.
        if nobody:
            hint = t(
                "Wrote {file}. Nothing was approved: this allocation pays nobody, and "
                "'admin approve' refuses a tranche that pays nobody.",
                file=str(out_file),
            )
        elif window is not None and window != latest:
            hint = t(
                "Wrote {file}. Nothing was approved; 'admin approve' approves a tranche of "
                "the latest window only (window {latest}).",
                file=str(out_file),
                latest=latest,
            )
        else:
            hint = t(
                "Wrote {file}. Nothing was approved: run 'admin approve' for the determina.",
                file=str(out_file),
            )
        out.print(say(hint), markup=False)

    run_with_core(work)


@admin.command("approve")
def approve(
    code: str,
    budget: Annotated[str | None, typer.Option(help="Budget in euro")] = None,
    confirm_budget: Annotated[
        str | None,
        typer.Option(
            "--confirm-budget",
            help="The budget typed again: needed when the rules cannot spend all of it",
        ),
    ] = None,
    withdraw: Annotated[
        bool, typer.Option("--withdraw", help="Withdraw the approved tranche not yet credited")
    ] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="Operator name for the record (default: login)")
    ] = None,
) -> None:
    """Approve the allocation (the determina) as the next tranche, or withdraw it. The
    budget must be within what is left of the town's fund ('admin fund show'); a budget the
    rules cannot spend in full is typed again with --confirm-budget; a tranche that would
    pay nobody is refused."""
    from core.services import acts, fund, municipalities

    if withdraw:
        if budget is not None or confirm_budget is not None:
            fail(t("--withdraw takes no --budget: it withdraws the tranche already approved."))
        _withdraw(code, by)
        return
    if budget is None:
        fail(t("Give the tranche's budget with --budget, e.g. --budget 30000."))
    cents = budget_cents(budget)
    confirmed = (
        budget_cents(confirm_budget, "--confirm-budget") if confirm_budget is not None else None
    )

    async def work(core: Core) -> None:
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
            figures, record, result = await acts.approve_determina(
                uow, town, cents, core.now(), confirmed=confirmed
            )
            await logged(
                uow,
                town.id,
                by,
                "determina.approve",
                now=core.now(),
                subject=f"{town.code} tranche {record.tranche}",
                after={
                    "tranche": record.tranche,
                    "budget_cents": cents,
                    "allocated_cents": sum(item.line.amount_cents for item in result),
                    "households": len(result),
                },
            )
            await uow.commit()
            left = await fund.position(uow, town)
            window = await _window_number(uow, record.round_id)
        _summary([item.line for item in result], cents)
        if figures.unspent_cents:
            out.print(
                say(
                    t(
                        "{amount} would stay unspent: every household would already get all it "
                        "is due.",
                        amount=Money(figures.unspent_cents),
                    )
                ),
                markup=False,
            )
        if left is not None:
            out.print(
                say(
                    t(
                        "Left in the fund for new determine: {amount}.",
                        amount=Money(left.left_cents),
                    )
                ),
                markup=False,
            )
        out.print(
            say(
                t(
                    "{town}: tranche {tranche} of window {window} approved. "
                    "Run 'admin credit {town}'.",
                    town=code.upper(),
                    tranche=str(record.tranche),
                    window=str(window),
                )
            ),
            markup=False,
        )

    run_with_core(work)


async def _window_number(uow: UnitOfWork, round_id: int) -> int:
    """The number of the window (round) a tranche belongs to: each window has its tranche 1."""
    round_ = await uow.rounds.by_id(round_id)
    assert round_ is not None
    return round_.number


def _withdraw(code: str, by: str | None) -> None:
    from core.services import allocation, municipalities

    operator = operator_name(by)

    async def work(core: Core) -> None:
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
            record = await allocation.withdraw(uow, town, core.now(), operator)
            await logged(
                uow,
                town.id,
                by,
                "determina.withdraw",
                now=core.now(),
                subject=f"{town.code} tranche {record.tranche}",
                before={"status": "approved"},
                after={"status": "withdrawn", "tranche": record.tranche},
            )
            await uow.commit()
            window = await _window_number(uow, record.round_id)
        out.print(
            say(
                t(
                    "{town}: tranche {tranche} of window {window} withdrawn by {operator}; "
                    "nothing was credited.",
                    town=code.upper(),
                    tranche=str(record.tranche),
                    window=str(window),
                    operator=operator,
                )
            ),
            markup=False,
        )

    run_with_core(work)


@admin.command("credit")
def credit(code: str, by: ByOption = None) -> None:
    """Credit the approved tranche to the citizens' balances and notify them."""
    from core.services import allocation, municipalities
    from core.services.transactions import in_transaction

    async def work(core: Core) -> tuple[CreditResult, int]:
        async def once(uow: UnitOfWork) -> tuple[CreditResult, int]:
            town = await municipalities.require(uow, code)
            with progress(t("Crediting")) as step:
                result = await allocation.credit(uow, town, core.now(), progress=step)
            # The window whose tranche allocation.credit just credited: the latest.
            round_ = await municipalities.current_round(uow, town.id)
            assert round_ is not None
            await logged(
                uow,
                town.id,
                by,
                "credit.approve",
                now=core.now(),
                subject=f"{town.code} tranche {result.tranche}",
                after={
                    "tranche": result.tranche,
                    "total_cents": result.total_cents,
                    "households": result.citizens,
                    "notices": result.notices,
                },
            )
            return result, round_.number

        return await in_transaction(core.uow, once)

    result, window = run_with_core(work)
    # Households and notices are counted apart: a household that wrote STOP gets no notice,
    # an applicant the tranche decided without money gets one.
    out.print(
        say(
            tn(
                "Tranche {tranche} of window {window}: credited {amount} to {count} household.",
                "Tranche {tranche} of window {window}: credited {amount} to {count} households.",
                result.citizens,
                tranche=str(result.tranche),
                window=str(window),
                amount=Money(result.total_cents),
            )
        )
        + " "
        + say(tn("{count} notice queued.", "{count} notices queued.", result.notices)),
        markup=False,
    )


# shops -------------------------------------------------------------------------------


@shops_app.command("list")
def shops_list(
    code: str,
    status: Annotated[
        str | None,
        typer.Option(help="pending, approved or refused (or the status as the list shows it)"),
    ] = None,
) -> None:
    """List shops with their status, what they are owed and their lock for wrong codes."""
    from core.services import ledger, municipalities, security
    from office.words import SHOP_STATUS_NAMES

    wanted = code_named(SHOP_STATUS_NAMES, status) if status else None

    async def work(core: Core) -> None:
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
            found = await uow.shops.search(town.id, approved_only=False)
            locks = await security.shop_locks(uow, found, core.now())
            table = Table(
                say(t("ID")),
                say(t("Name")),
                say(t("Partita IVA")),
                say(t("Category")),
                say(t("Address")),
                say(t("Status")),
                say(t("To reimburse")),
                say(t("Locked")),
            )
            for shop in found:
                if wanted and shop.status != wanted:
                    continue
                owed = await ledger.shop_balance(uow, town.id, shop.id)
                table.add_row(
                    str(shop.id),
                    shop.name,
                    shop.vat_number,
                    _category(shop.category),
                    f"{shop.address}, {shop.postcode} {shop.town}",
                    named(SHOP_STATUS_NAMES, shop.status),
                    money(owed),
                    lock_text(locks.get(shop.id)),
                )
            out.print(table)

    run_with_core(work)


@shops_app.command("approve")
def shops_approve(code: str, shop_id: int, by: ByOption = None) -> None:
    """Approve a registered shop: it can charge vouchers from now on."""
    from core.services import municipalities, shops

    async def work(core: Core) -> None:
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
            before = await uow.shops.by_id(shop_id)
            status = before.status if before is not None else None
            shop = await shops.approve_shop(uow, town.id, shop_id, core.now())
            if status == shop.status:
                out.print(
                    say(
                        t(
                            "Shop {id} ({name}) was already approved: nothing changed.",
                            id=str(shop.id),
                            name=shop.name,
                        )
                    ),
                    markup=False,
                )
                return
            await logged(
                uow,
                town.id,
                by,
                "shop.approve",
                now=core.now(),
                subject=f"{shop.id} {shop.name}",
                before={"status": status},
                after={"status": shop.status},
            )
            await uow.commit()
            out.print(
                say(t("Shop {id} ({name}) approved.", id=str(shop.id), name=shop.name)),
                markup=False,
            )

    run_with_core(work)


@ledger_app.command("check")
def ledger_check(code: str) -> None:
    """Prove that every balance equals the sum of its postings."""
    from core.services import ledger, municipalities

    async def work(core: Core) -> None:
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
            check = await ledger.verify(uow, town.id)
        for figures in check.bad_tranches:
            err.print(
                say(
                    t(
                        "Tranche {tranche} (id {id}): approved {approved}, posted {posted}, "
                        "not paid for revoked applications {excused}, postings without "
                        "their line {stray}.",
                        tranche=str(figures.tranche),
                        id=str(figures.allocation_id),
                        approved=Money(figures.approved_cents),
                        posted=Money(figures.posted_cents),
                        excused=Money(figures.excused_cents),
                        stray=str(figures.stray_postings),
                    )
                ),
                style="red",
                markup=False,
            )
        if not check.ok:
            fail(
                t(
                    "The ledger does not balance: sum {total}; accounts that differ "
                    "(id, balance, sum of postings): {mismatches}; tranches that differ "
                    "from their determina: {tranches}",
                    mismatches=str(check.mismatches),
                    total=Money(check.total_cents),
                    tranches=str(len(check.bad_tranches)),
                ),
                code=1,
            )
        out.print(
            say(
                tn(
                    "Ledger balanced: {count} account, sum 0.",
                    "Ledger balanced: {count} accounts, sum 0.",
                    check.accounts,
                )
            ),
            style="green",
            markup=False,
        )
        out.print(
            say(
                tn(
                    "Every tranche posted its approved total, one posting per line "
                    "({count} tranche).",
                    "Every tranche posted its approved total, one posting per line "
                    "({count} tranches).",
                    len(check.tranches),
                )
            ),
            style="green",
            markup=False,
        )

    run_with_core(work)
