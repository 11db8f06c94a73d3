"""`buonispesa admin fund …`: the money the municipality received for the vouchers, which
no determina may exceed (docs/allocation.md#the-fund). The economie, under four eyes, are
buonispesa.cli.fund_economia's, with the sentences here that both say."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from buonispesa.cli.admin import admin, money, out, tell
from buonispesa.cli.common import (
    cli_actor,
    fail,
    office_language,
    say,
    typed_day,
)
from buonispesa.cli.refusals import describe
from buonispesa.cli.work import run_with_core, town_work
from core.domain import messages
from core.domain.errors import InvalidAmount
from core.domain.messages import Money, Text, t
from core.domain.money import parse_euro
from core.i18n import format_param

# The services (SQLAlchemy) are imported by the commands that run: `--help` stays light.
if TYPE_CHECKING:
    from core.bootstrap import Core
    from core.domain.fund import FundPosition
    from core.services.unit_of_work import UnitOfWork
    from core.storage.models import Economia, FundEntry, Municipality
    from core.storage.repositories.results import DeterminaRest

fund_app = typer.Typer(
    help="The municipality's fund: money received for the vouchers.", no_args_is_help=True
)
admin.add_typer(fund_app, name="fund")

By = Annotated[
    str | None,
    typer.Option("--by", help="Operator name for the record (default: BUONISPESA_OPERATOR, login)"),
]
Day = Annotated[
    str | None,
    typer.Option("--date", help="Day received, DD/MM/YYYY or YYYY-MM-DD (default: today)"),
]


def amount_cents(text: str) -> int:
    """--amount in euro; refused naming the option, before anything is done."""
    try:
        return parse_euro(text)
    except InvalidAmount as error:
        fail(t("--amount {text}: {problem}", text=repr(text), problem=say(describe(error))))


def day_given(text: str | None, today: date) -> date:
    """--date as the office's pages read a day (typed_day); `today` when not given."""
    if text is None:
        return today
    return typed_day("--date", text)


def town_today(core: Core, timezone: str) -> date:
    """Today in the town's time zone."""
    from zoneinfo import ZoneInfo

    return core.now().astimezone(ZoneInfo(timezone)).date()


def say_position(code: str, position: FundPosition | None) -> None:
    """The fund's position: what it holds, what the determine commit, what is left."""
    if position is None:
        tell(t("{code}: no fund recorded.", code=code))
        return
    tell(
        t(
            "{code}: fund {fund}; committed by determine {committed} (approved {approved}, "
            "waiting for approval {pending}); left {left}.",
            code=code,
            fund=Money(position.fund_cents),
            committed=Money(position.committed_cents),
            approved=Money(position.approved_cents),
            pending=Money(position.pending_cents),
            left=Money(position.left_cents),
        )
    )


def _new_entry(
    code: str,
    day: str | None,
    write: Callable[[UnitOfWork, Municipality, date, datetime], Awaitable[FundEntry]],
    said: Callable[[FundEntry], Text],
) -> None:
    """A new entry (a receipt, a correction) written on the day given, by default today
    in the town, and committed; then what was written and the fund's position are said."""
    from core.services import fund

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            written = await write(
                uow, town, day_given(day, town_today(core, town.timezone)), core.now()
            )
            await uow.commit()
            position = await fund.position(uow, town)
        tell(said(written))
        say_position(code.upper(), position)

    run_with_core(work)


def _say_rests(rests: list[DeterminaRest], freed: list[Economia]) -> None:
    """The determine with what they left unassigned, and the economie recorded."""
    if not rests:
        return
    names = {
        rest.allocation_id: say(
            t(
                "Tranche {tranche} of window {window}",
                tranche=str(rest.tranche),
                window=str(rest.window),
            )
        )
        for rest in rests
    }
    table = Table(
        say(t("Tranche")),
        say(t("Budget")),
        say(t("Allocated")),
        say(t("Freed")),
        say(t("Left unassigned")),
        title=say(t("What the determine left unassigned")),
    )
    for rest in rests:
        table.add_row(
            names[rest.allocation_id],
            money(rest.budget_cents),
            money(rest.allocated_cents),
            money(rest.freed_cents),
            money(rest.rest_cents),
        )
    out.print(table)
    if not freed:
        return
    table = Table(
        say(t("Day of the act")),
        say(t("The municipality's act (reference)")),
        say(t("Tranche")),
        say(t("Freed")),
        say(t("Approved by")),
        title=say(t("Economie recorded")),
    )
    for item in freed:
        table.add_row(
            format_param(messages.Day(item.act_on), office_language()),
            item.reference,
            names.get(item.allocation_id, ""),
            money(item.amount_cents),
            item.recorded_by,
        )
    out.print(table)


@fund_app.command("record")
def fund_record(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    amount: Annotated[str, typer.Option(help="Amount received, in euro")],
    description: Annotated[str, typer.Option(help="Where the money comes from")],
    day: Day = None,
    by: By = None,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="A second receipt on purpose, identical to one already recorded "
            "(same amount, day and description)",
        ),
    ] = False,
) -> None:
    """Record money the municipality received for the vouchers (logged). The day is not
    in the future nor before 2020; an entry identical to one recorded is refused unless
    --again."""
    from core.services import fund

    cents = amount_cents(amount)
    # As every command's change in the activity log: cli:<who ran it>.
    operator = cli_actor(by)
    _new_entry(
        code,
        day,
        lambda uow, town, received_on, now: fund.record(
            uow, town, cents, description, received_on, now, actor=operator, again=again
        ),
        lambda entry: t(
            "Recorded in the fund: {amount} (entry {number}).",
            amount=Money(entry.amount_cents),
            number=str(entry.id),
        ),
    )


@fund_app.command("correct")
def fund_correct(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    entry: Annotated[int, typer.Argument(help="Number of the entry to correct")],
    description: Annotated[str, typer.Option(help="Why the correction")],
    amount: Annotated[
        str | None, typer.Option(help="Amount to take back, in euro (default: all of it)")
    ] = None,
    day: Day = None,
    by: By = None,
) -> None:
    """Take back all or part of an entry recorded by mistake, with a new negative entry."""
    from core.services import fund

    cents = amount_cents(amount) if amount is not None else None
    # As every command's change in the activity log: cli:<who ran it>.
    operator = cli_actor(by)
    _new_entry(
        code,
        day,
        lambda uow, town, received_on, now: fund.correct(
            uow, town, entry, cents, description, received_on, now, actor=operator
        ),
        lambda correction: t(
            "Entry {corrected} corrected: {amount} taken back (entry {number}).",
            corrected=str(entry),
            amount=Money(-correction.amount_cents),
            number=str(correction.id),
        ),
    )


@fund_app.command("show")
def fund_show(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
) -> None:
    """The fund's entries, what the determine commit of it and what is left; what each
    determina left unassigned and the economie that freed some of it (prepared and approved
    under four eyes, in the office or with 'fund economia': docs/allocation.md)."""
    from core.services import acts, economia, fund

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            entries = list(await uow.fund.of_municipality(town.id))
            position = await fund.position(uow, town)
            rests = await economia.rests(uow, town)
            freed = list(await uow.fund.economie(town.id))
            waiting = [
                (act, await uow.operators.by_id(act.prepared_by_id))
                for act in await acts.open_acts(uow, town.id, acts.ActKind.ECONOMIA)
            ]
        table = Table(
            say(t("No.")),
            say(t("Received on")),
            say(t("Description")),
            say(t("Amount")),
            say(t("Corrects")),
            say(t("Recorded by")),
        )
        for row in entries:
            table.add_row(
                str(row.id),
                format_param(messages.Day(row.received_on), office_language()),
                row.description,
                money(row.amount_cents),
                str(row.corrects_id or ""),
                row.recorded_by,
            )
        if entries:
            out.print(table)
        say_position(code.upper(), position)
        _say_rests(rests, freed)
        for act, preparer in waiting:
            tell(
                t(
                    "Economia act {number}, prepared by {who}, waits for a manager's "
                    "approval ('admin fund economia approve {code} {number} --by MANAGER'):",
                    number=str(act.id),
                    who="" if preparer is None else preparer.username,
                    code=code.upper(),
                )
            )
            say_act(act.params)

    run_with_core(work)


def say_act(act_params: dict[str, object]) -> None:
    """An economia act: what it frees, of which tranche, by which act of the town."""
    tell(
        t(
            "Free {amount} of tranche {tranche} of window {window}: {reference} of {day}",
            amount=Money(int(str(act_params["amount_cents"]))),
            tranche=str(act_params["tranche"]),
            window=str(act_params["window"]),
            reference=str(act_params["reference"]),
            day=messages.Day(date.fromisoformat(str(act_params["act_on"]))),
        )
    )
