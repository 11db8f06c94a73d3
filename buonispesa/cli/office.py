"""`buonispesa admin reimburse|audit|report|privacy`: paying shops, checks, publication,
GDPR. The `appeals` group (buonispesa.cli.appeals) is added here, between audit and
privacy, where `admin --help` has always listed it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from buonispesa.cli.admin import Force, WindowOption, admin, money, out, tell
from buonispesa.cli.appeals import appeals_app
from buonispesa.cli.common import ByOption, cli_actor, fail, say, typed_day
from buonispesa.cli.logged import exported_file, logged
from buonispesa.cli.outfile import OutFile
from buonispesa.cli.work import run_with_core, town_work
from core.domain.messages import Moment, Money, t, tn
from core.i18n import LANGUAGES

# The services (SQLAlchemy) are imported by the commands that run: `--help` stays light.
if TYPE_CHECKING:
    from core.bootstrap import Core
    from core.services import audit

audit_app = typer.Typer(help="Checks on self-declarations (DPR 445/2000).", no_args_is_help=True)
privacy_app = typer.Typer(help="A citizen's personal data (GDPR).", no_args_is_help=True)
admin.add_typer(audit_app, name="audit")
admin.add_typer(appeals_app, name="appeals")
admin.add_typer(privacy_app, name="privacy")


@admin.command("reimburse")
def reimburse(
    code: str,
    out_file: Annotated[Path, typer.Option("--out", help="SEPA credit transfer file to write")],
    execution_date: Annotated[
        str | None,
        typer.Option(
            help="Requested execution date DD/MM/YYYY or YYYY-MM-DD (default: today, or the "
            "next bank business day)"
        ),
    ] = None,
    force: Force = False,
    by: ByOption = None,
) -> None:
    """Settle what every shop is owed and write the SEPA file (pain.001.001.03) for the bank."""
    from core.domain.sepa import SepaError, summarize
    from core.services import reimbursement

    # Names and IBANs of shops, some of them one person's business: owner-only.
    target = OutFile(out_file, force=force, personal=True)
    target.check()
    wanted = typed_day("--execution-date", execution_date) if execution_date else None

    async def work(core: Core) -> tuple[str, int, int]:
        async with town_work(core, code) as (uow, town):
            day = wanted or reimbursement.default_execution_date(town, core.now())
            settlement, xml = await reimbursement.settle(uow, town, core.now(), day)
            count, cents = summarize(xml)
            await logged(
                uow,
                town.id,
                by,
                "reimbursement.approve",
                now=core.now(),
                subject=settlement.message_id,
                after={
                    "transfers": count,
                    "total_cents": cents,
                    "execution_date": day.isoformat(),
                    "file": out_file.name,
                },
            )
            # The file is written before the commit and put in place after it: a failed
            # commit leaves no payment order for money the ledger did not settle.
            with target.staged(xml):
                await uow.commit()
        return settlement.message_id, count, cents

    try:
        message_id, count, cents = run_with_core(work)
    except SepaError as error:
        # The detail names the element, in the schema's English, like other file problems.
        fail(t("no SEPA file written, nothing settled: {problem}", problem=str(error)))
    tell(
        tn(
            "Wrote {file}: {count} transfer, {amount}, message {message}. "
            "Upload it to the municipality's bank.",
            "Wrote {file}: {count} transfers, {amount}, message {message}. "
            "Upload it to the municipality's bank.",
            count,
            file=str(out_file),
            amount=Money(cents),
            message=message_id,
        )
    )


@admin.command("report")
def report(
    code: str,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to a file")] = None,
    fmt: Annotated[str, typer.Option("--format", help="markdown or csv")] = "markdown",
    language: Annotated[str, typer.Option("--lang", help="it or en (markdown)")] = "it",
    force: Force = False,
    window: WindowOption = None,
) -> None:
    """The transparency report: aggregates only, nothing that identifies a beneficiary."""
    from core.services import reports

    target = None if out_file is None else OutFile(out_file, force=force)
    if target is not None:
        target.check()
    if fmt not in ("markdown", "csv"):
        fail(t("--format: {value} is not markdown or csv.", value=repr(fmt)))
    if language not in LANGUAGES:
        # Another language would silently come out in Italian, the catalogs' fallback.
        fail(t("--lang: {value} is not it or en.", value=repr(language)))

    async def work(core: Core) -> str:
        async with town_work(core, code) as (uow, town):
            built = await reports.transparency_report(uow, town, core.now(), window)
        return built.to_csv() if fmt == "csv" else built.to_markdown(language)

    text = run_with_core(work)
    if target is None:
        typer.echo(text)
    else:
        target.write(text)
        tell(t("Wrote {file}.", file=str(target.path)))


@audit_app.command("sample")
def audit_sample(
    code: str,
    percent: Annotated[str, typer.Option(help="Share of applications to check, e.g. 5")],
    seed: Annotated[int, typer.Option(help="Seed of the draw (publish it: anyone can redo it)")],
    window: WindowOption = None,
) -> None:
    """Draw a reproducible random sample of a closed window's applications to check."""
    from core.services import audit

    async def work(core: Core) -> list[str]:
        async with town_work(core, code) as (uow, town):
            protocols = await audit.draw_sample(uow, town, percent, seed, core.now(), window)
            await uow.commit()
        return protocols

    protocols = run_with_core(work)
    for protocol in protocols:
        typer.echo(protocol)  # machine output: one protocol a line, as it is
    tell(
        tn(
            "{count} application drawn with seed {seed}; the draw is recorded.",
            "{count} applications drawn with seed {seed}; the draw is recorded.",
            len(protocols),
            seed=str(seed),
        )
    )


@audit_app.command("check")
def audit_check(
    code: str,
    protocol: str,
    outcome: Annotated[str, typer.Option(help="confirmed or discrepancy")],
    note: Annotated[str, typer.Option(help="What was checked or found (logged)")] = "",
    by: ByOption = None,
) -> None:
    """Record (or correct) the outcome of checking a sampled application."""
    from core.services import audit

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            await audit.record_check(uow, town, protocol, outcome, note, core.now(), cli_actor(by))
            await uow.commit()

    run_with_core(work)
    tell(t("{protocol}: outcome recorded.", protocol=protocol.upper()))


def recovery_rich_table(rows: list[audit.ToRecover]) -> Table:
    """The sums to recover as the terminal shows them."""
    # The protocol is what the office looks up: never cut ("BEL-2026-000..."), whatever the
    # terminal's width; the other columns give way first.
    table = Table()
    table.add_column(
        say(t("Protocol")), no_wrap=True, min_width=max((len(r.protocol) for r in rows), default=0)
    )
    table.add_column(say(t("Revoked on")))
    for title in (t("Credited"), t("Returned to the fund"), t("To recover")):
        table.add_column(say(title), justify="right")
    for row in rows:
        table.add_row(
            row.protocol,
            say(t("{when}", when=Moment(row.revoked_at))),
            money(row.credited_cents),
            money(row.returned_cents),
            money(row.to_recover_cents),
        )
    return table


@audit_app.command("recover")
def audit_recover(
    code: str,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write a CSV file")] = None,
    force: Force = False,
    by: ByOption = None,
) -> None:
    """Sums to recover: revoked applications and what their citizens had already spent. A
    file written (--out) is in the office's activity log, as the office's download is."""
    from core.services import audit

    # The reasons of revocations may say things about people: owner-only, as the others.
    target = None if out_file is None else OutFile(out_file, force=force, personal=True)
    if target is not None:
        target.check()

    async def work(core: Core) -> list[audit.ToRecover]:
        async with town_work(core, code) as (uow, town):
            found = await audit.sums_to_recover(uow, town)
            if target is not None:
                # The office's table (the same columns as its download); imports aiohttp,
                # so here.
                from office.views.audit import recovery_table

                table = recovery_table(code.upper(), found).csv()
                await exported_file(
                    uow, town.id, by, target, table, rows=len(found), now=core.now()
                )
            return found

    rows = run_with_core(work)
    if target is not None:
        tell(t("Wrote {file}.", file=str(target.path)))
        return
    out.print(recovery_rich_table(rows))
    tell(
        t(
            "To recover in all: {amount}.",
            amount=Money(sum(row.to_recover_cents for row in rows)),
        )
    )


@audit_app.command("undo")
def audit_undo(
    code: str,
    protocol: str,
    reason: Annotated[str, typer.Option(help="Why the revocation was a mistake (logged)")],
    by: ByOption = None,
) -> None:
    """Undo a revocation made by mistake: what it returned goes back to the citizen."""
    from core.services import audit

    async def work(core: Core) -> audit.Undoing:
        async with town_work(core, code) as (uow, town):
            undoing = await audit.undo_revocation(
                uow, town, protocol, reason, core.now(), cli_actor(by)
            )
            await uow.commit()
        return undoing

    result = run_with_core(work)
    tell(
        t(
            "{protocol}: revocation undone; {amount} back to the citizen, who has been told.",
            protocol=protocol.upper(),
            amount=Money(result.restored_cents),
        )
    )


@audit_app.command("revoke")
def audit_revoke(
    code: str,
    protocol: str,
    reason: Annotated[
        str | None, typer.Option(help="Why (kept with the revocation and sent to the citizen)")
    ] = None,
    by: ByOption = None,
) -> None:
    """Revoke the voucher of a false declaration and record the sum to recover."""
    from core.services import audit

    async def work(core: Core) -> audit.Revocation:
        async with town_work(core, code) as (uow, town):
            revocation = await audit.revoke(uow, town, protocol, core.now(), reason=reason)
            await logged(
                uow,
                town.id,
                by,
                "revocation.approve",
                now=core.now(),
                subject=protocol,
                after={
                    "returned_cents": revocation.returned_cents,
                    "to_recover_cents": revocation.to_recover_cents,
                    "cancelled_charges": revocation.cancelled_charges,
                    "reason": reason,
                },
            )
            await uow.commit()
        return revocation

    result = run_with_core(work)
    table = Table(
        say(t("Returned to the fund")), say(t("To recover")), say(t("Payments cancelled"))
    )
    table.add_row(
        money(result.returned_cents),
        money(result.to_recover_cents),
        str(result.cancelled_charges),
    )
    tell(t("{protocol}: revoked.", protocol=protocol))
    out.print(table)


@privacy_app.command("export")
def privacy_export(
    code: str,
    codice_fiscale: str,
    out_file: Annotated[Path, typer.Option("--out", help="JSON file to write")],
    force: Force = False,
    by: ByOption = None,
) -> None:
    """Everything held about one person (right of access), as JSON; who wrote it is in the
    office's activity log."""
    from core.services import privacy

    target = OutFile(out_file, force=force, personal=True)
    target.check()

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            data = await privacy.export_citizen(uow, town, codice_fiscale)
            text = json.dumps(data, ensure_ascii=False, indent=2)
            await exported_file(uow, town.id, by, target, text, rows=1, now=core.now())

    run_with_core(work)
    tell(t("Wrote {file}.", file=str(out_file)))


@privacy_app.command("erase")
def privacy_erase(
    code: str,
    codice_fiscale: str,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone")] = False,
    by: ByOption = None,
) -> None:
    """Pseudonymise one person; the ledger keeps the amounts (public spending records).
    The office's activity log records who erased whom (the pseudonym) and when."""
    from core.services import privacy
    from core.storage.engine import checkpoint_wal

    if not yes:
        fail(t("The erasure cannot be undone: repeat the command with --yes."))

    async def work(core: Core) -> tuple[privacy.Erasure, bool]:
        async with town_work(core, code) as (uow, town):
            erasure = await privacy.erase_citizen(
                uow, town, codice_fiscale, core.now(), by=cli_actor(by)
            )
            await uow.commit()
        # The old pages (codice fiscale, phone) leave the SQLite file only at a checkpoint.
        return erasure, await checkpoint_wal(core.engine)

    result, scrubbed = run_with_core(work)
    # Two counts, two plurals: each clause is a sentence of its own for the translator.
    # (Rendered first: Babel does not extract a t() nested in another t()'s arguments.)
    conversations = tn(
        "{count} conversation deleted",
        "{count} conversations deleted",
        result.conversations_deleted,
    )
    messages = tn("{count} message blanked", "{count} messages blanked", result.messages_blanked)
    erased = t(
        "Erased: now {pseudonym}; {conversations}, {messages}.",
        pseudonym=result.pseudonym,
        conversations=say(conversations),
        messages=say(messages),
    )
    tell(erased)
    if not scrubbed:
        tell(
            t(
                "Another process (the server?) is reading the database: older copies of the "
                "erased data stay in the database's write-ahead log until its next "
                "checkpoint, at the latest when that process stops."
            ),
            style="yellow",
        )
