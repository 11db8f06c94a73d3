"""`buonispesa admin documents …`: the office's paperwork as PDF files, for scripts.

The same documents the office downloads from /office/ (core.documents.paperwork), written
through `OutFile` as every other `--out`: the target checked before any work, an existing
file kept without `--force`, owner-only (0600) when the document speaks of people. A shop's
statement is in the office's activity log, as its download from the office is."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from buonispesa.cli.admin import Force, admin, tell
from buonispesa.cli.common import ByOption, office_language, typed_day
from buonispesa.cli.logged import exported_file
from buonispesa.cli.outfile import OutFile
from buonispesa.cli.work import run_with_core, town_work
from core.domain.messages import t
from core.i18n import supported

# The services (SQLAlchemy) are imported by the commands that run: `--help` stays light.
if TYPE_CHECKING:
    from core.bootstrap import Core

documents_app = typer.Typer(help="The office's paperwork as PDF.", no_args_is_help=True)
admin.add_typer(documents_app, name="documents")

Out = Annotated[Path, typer.Option("--out", help="PDF file to write")]
Lang = Annotated[str | None, typer.Option("--lang", help="it or en (default: the office's)")]


def _write(target: OutFile, body: bytes) -> None:
    target.write(body)
    tell(t("Wrote {file}.", file=str(target.path)))


def _language(value: str | None) -> str:
    return supported(value) if value else office_language()


@documents_app.command("determina")
def determina(
    code: str,
    out_file: Out,
    tranche: Annotated[int, typer.Option(min=1, help="Tranche of the window")] = 1,
    language: Lang = None,
    window: Annotated[
        int | None,
        typer.Option("--window", min=1, help="Number of the application window (default: latest)"),
    ] = None,
    force: Force = False,
) -> None:
    """The attachment to the determina: beneficiaries by protocol, amounts, lists, criteria.
    An unknown window is refused as the office's page refuses it, and nothing is written."""
    from core.services import paperwork

    # Protocols only, made to be filed and published: the usual mode, as the report's.
    target = OutFile(out_file, force=force, personal=False)
    target.check()

    async def work(core: Core) -> bytes:
        # fpdf is imported by the command that writes a PDF, not by every start of the CLI.
        from core.documents import paperwork as documents

        async with town_work(core, code) as (uow, town):
            data = await paperwork.determina(uow, town, tranche, window)
        return documents.determina_pdf(data, _language(language))

    _write(target, run_with_core(work))


@documents_app.command("letters")
def letters(
    code: str,
    out_file: Out,
    protocol: Annotated[
        str | None, typer.Option(help="One application (default: all paper applications)")
    ] = None,
    language: Lang = None,
    window: Annotated[
        int | None,
        typer.Option("--window", min=1, help="Paper letters of this window (default: latest)"),
    ] = None,
    force: Force = False,
) -> None:
    """Decision letters: one applicant's, or everyone's who applied on paper in a window."""
    from core.services import paperwork

    # Each letter says what was decided on one household, and why: owner-only.
    target = OutFile(out_file, force=force, personal=True)
    target.check()

    async def work(core: Core) -> bytes:
        # fpdf is imported by the command that writes a PDF, not by every start of the CLI.
        from core.documents import paperwork as documents

        async with town_work(core, code) as (uow, town):
            if protocol:
                found = [await paperwork.decision_letter(uow, town, protocol)]
                return documents.decision_letters_pdf(found, _language(language), core.now())
            letters = await paperwork.paper_decisions(uow, town, window)
        return documents.decision_letters_pdf(
            letters.decisions,
            _language(language),
            core.now(),
            town=letters.town,
            window=letters.round_number,
            undecided=letters.undecided,
        )

    _write(target, run_with_core(work))


@documents_app.command("receipt")
def receipt(
    code: str, protocol: str, out_file: Out, language: Lang = None, force: Force = False
) -> None:
    """The receipt of a paper application, with its protocol number."""
    from core.services import paperwork

    # One household's application (its size, when it was handed in): owner-only.
    target = OutFile(out_file, force=force, personal=True)
    target.check()

    async def work(core: Core) -> bytes:
        # fpdf is imported by the command that writes a PDF, not by every start of the CLI.
        from core.documents import paperwork as documents

        async with town_work(core, code) as (uow, town):
            found = await paperwork.decision(uow, town, protocol)
        return documents.receipt_pdf(found, _language(language))

    _write(target, run_with_core(work))


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    return typed_day(option, value)


@documents_app.command("statement")
def statement(
    code: str,
    shop_id: int,
    out_file: Out,
    start: Annotated[
        str | None, typer.Option("--from", help="First day DD/MM/YYYY or YYYY-MM-DD")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day DD/MM/YYYY or YYYY-MM-DD")
    ] = None,
    language: Lang = None,
    force: Force = False,
    by: ByOption = None,
) -> None:
    """A shop's statement for a period (default: this month to today). The file is in the
    office's activity log, as the office's download is."""
    from core.services import paperwork

    # The shop's P.IVA and IBAN, often one person's business: owner-only.
    target = OutFile(out_file, force=force, personal=True)
    target.check()
    first, last = _day("--from", start), _day("--to", end)

    async def work(core: Core) -> None:
        # fpdf is imported by the command that writes a PDF, not by every start of the CLI.
        from core.documents import paperwork as documents

        async with town_work(core, code) as (uow, town):
            since, until = paperwork.statement_period(town, core.now(), first, last)
            data = await paperwork.shop_statement(uow, town, shop_id, since, until)
            body = documents.shop_statement_pdf(data, _language(language))
            # Logged as the office's download of the same statement, with the file.
            await exported_file(
                uow, town.id, by, target, body, rows=len(data.payments), now=core.now()
            )

    run_with_core(work)
    tell(t("Wrote {file}.", file=str(target.path)))
