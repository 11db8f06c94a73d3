"""`buonispesa admin simulate|allocate|approve|credit`: the allocation of a window, from
its simulation to the vouchers credited."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from buonispesa.cli.admin import (
    Force,
    WindowOption,
    admin,
    budget_cents,
    money,
    out,
    read_applications,
    read_policy,
    tell,
)
from buonispesa.cli.common import ByOption, fail, operator_name, say
from buonispesa.cli.logged import exported_file, logged
from buonispesa.cli.outfile import OutFile
from buonispesa.cli.progress import progress
from buonispesa.cli.work import run_with_core, town_transaction, town_work
from core.domain.allocation import AllocationLine, allocate
from core.domain.messages import Money, t, tn

# The database, the services and the CSV parser (SQLAlchemy, phonenumbers...) are imported
# by the commands that use them: `buonispesa --help` builds every command and must start
# fast (tests/unit/test_cli_startup.py checks what it imports).
if TYPE_CHECKING:
    from core.bootstrap import Core
    from core.services.allocation import CreditResult
    from core.storage import models as m
    from core.storage.uow import UnitOfWork


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
    tell(t("Wrote {file}.", file=str(out_file)))


def _summary(lines: Sequence[AllocationLine], budget: int) -> None:
    table = Table(say(t("List")), say(t("Households")), say(t("Amount")))
    labels = {"1": "1", "2": "2", "excluded": say(t("Excluded"))}
    for key, label in labels.items():
        chosen = [line for line in lines if line.assignment.value == key]
        table.add_row(label, str(len(chosen)), money(sum(x.amount_cents for x in chosen)))
    total = sum(x.amount_cents for x in lines)
    table.add_row(say(t("Total")), str(len(lines)), money(total))
    out.print(table)
    tell(
        t(
            "Budget {budget}, allocated {allocated}, left {left}.",
            budget=Money(budget),
            allocated=Money(total),
            left=Money(budget - total),
        )
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
    from core.services import allocation

    target = OutFile(out_file, force=force, personal=True)
    target.check()
    cents = budget_cents(budget)

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
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
        tell(hint)

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
    from core.services import acts, fund

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
        async with town_work(core, code) as (uow, town):
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
            tell(
                t(
                    "{amount} would stay unspent: every household would already get all it is due.",
                    amount=Money(figures.unspent_cents),
                )
            )
        if left is not None:
            tell(
                t(
                    "Left in the fund for new determine: {amount}.",
                    amount=Money(left.left_cents),
                )
            )
        tell(
            t(
                "{town}: tranche {tranche} of window {window} approved. Run 'admin credit {town}'.",
                town=code.upper(),
                tranche=str(record.tranche),
                window=str(window),
            )
        )

    run_with_core(work)


async def _window_number(uow: UnitOfWork, round_id: int) -> int:
    """The number of the window (round) a tranche belongs to: each window has its tranche 1."""
    round_ = await uow.rounds.by_id(round_id)
    assert round_ is not None
    return round_.number


def _withdraw(code: str, by: str | None) -> None:
    from core.services import allocation

    operator = operator_name(by)

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
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
        tell(
            t(
                "{town}: tranche {tranche} of window {window} withdrawn by {operator}; "
                "nothing was credited.",
                town=code.upper(),
                tranche=str(record.tranche),
                window=str(window),
                operator=operator,
            )
        )

    run_with_core(work)


@admin.command("credit")
def credit(code: str, by: ByOption = None) -> None:
    """Credit the approved tranche to the citizens' balances and notify them."""
    from core.services import allocation, municipalities

    async def work(core: Core) -> tuple[CreditResult, int]:
        async def once(uow: UnitOfWork, town: m.Municipality) -> tuple[CreditResult, int]:
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

        return await town_transaction(core, code, once)

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
