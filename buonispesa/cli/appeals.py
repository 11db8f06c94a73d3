"""`buonispesa admin appeals …`: the citizens' appeals (ricorso) against the decision on
their application: the queue, the decision, and the answers corrected on an upheld one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from buonispesa.cli.admin import out, tell
from buonispesa.cli.common import ByOption, cli_actor, named, say
from buonispesa.cli.work import run_with_core, town_work
from core.domain.messages import Moment, t, tn

# The services (SQLAlchemy) are imported by the commands that run: `--help` stays light.
if TYPE_CHECKING:
    from core.bootstrap import Core

# Added to `admin` by buonispesa.cli.office, in the order of the office's groups.
appeals_app = typer.Typer(
    help="Citizens' appeals (ricorso) against the decision on their application.",
    no_args_is_help=True,
)


@appeals_app.command("list")
def appeals_list(
    code: str,
    every: Annotated[
        bool, typer.Option("--all", help="Decided ones too, not only the queue")
    ] = False,
) -> None:
    """The appeals waiting for a decision (with --all: every appeal)."""
    from core.services import appeals
    from office.words import APPEAL_STATUS_NAMES, CHANNEL_NAMES

    async def work(core: Core) -> list[appeals.QueuedAppeal]:
        async with town_work(core, code) as (uow, town):
            return await appeals.appeals_of(uow, town, None if every else appeals.AppealStatus.OPEN)

    found = run_with_core(work)
    table = Table(
        say(t("Appeal")),
        say(t("Protocol")),
        say(t("Received")),
        say(t("Channel")),
        say(t("State")),
        say(t("Reason")),
    )
    for item in found:
        table.add_row(
            str(item.appeal.id),
            item.protocol,
            say(t("{when}", when=Moment(item.appeal.created_at))),
            named(CHANNEL_NAMES, item.appeal.channel),
            named(APPEAL_STATUS_NAMES, item.appeal.status),
            item.appeal.reason,
        )
    out.print(table)
    tell(tn("{count} appeal.", "{count} appeals.", len(found)))


@appeals_app.command("decide")
def appeals_decide(
    code: str,
    appeal_id: int,
    outcome: Annotated[str, typer.Option(help="upheld or rejected")],
    reason: Annotated[str, typer.Option(help="The reason, sent to the citizen")],
    by: ByOption = None,
) -> None:
    """Uphold or reject an appeal; the decision and its reason go to the citizen."""
    from core.services import appeals

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            # The command names the appeal, the outcome and the reason: it is the explicit
            # act the office's page asks to confirm, so it is the confirmation.
            await appeals.decide(
                uow, town, appeal_id, outcome, reason, core.now(), cli_actor(by), confirmed=True
            )
            await uow.commit()

    run_with_core(work)
    tell(t("Appeal {number} decided; the citizen has been told.", number=str(appeal_id)))


Euro = Annotated[str | None, typer.Option(help="Euro, e.g. 1234,56 (default: unchanged)")]


@appeals_app.command("correct")
def appeals_correct(
    code: str,
    protocol: str,
    reason: Annotated[str, typer.Option(help="Why: the upheld appeal (logged)")],
    household_size: Annotated[
        int | None, typer.Option(help="Members of the household (default: unchanged)")
    ] = None,
    work_income: Annotated[
        bool | None, typer.Option("--work-income/--no-work-income", help="(default: unchanged)")
    ] = None,
    pension: Annotated[
        bool | None, typer.Option("--pension/--no-pension", help="(default: unchanged)")
    ] = None,
    liquidity: Euro = None,
    public_support: Euro = None,
    rent: Euro = None,
    by: ByOption = None,
) -> None:
    """Correct the answers of an application whose latest appeal was upheld: the next
    tranche of the window assesses it on them (without four eyes, like 'audit undo')."""
    from core.domain.money import parse_euro
    from core.services import appeal_remedy
    from core.services.applications import Answers

    def euro(text: str | None, current: int) -> int:
        return current if text is None else parse_euro(text)

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            found = await appeal_remedy.check_correctable(uow, town, protocol)
            now = Answers.of(found.application)
            answers = Answers(
                household_size=now.household_size if household_size is None else household_size,
                has_work_income=now.has_work_income if work_income is None else work_income,
                has_pension=now.has_pension if pension is None else pension,
                liquidity_cents=euro(liquidity, now.liquidity_cents),
                public_support_monthly_cents=euro(public_support, now.public_support_monthly_cents),
                rent_monthly_cents=euro(rent, now.rent_monthly_cents),
            )
            await appeal_remedy.correct(
                uow, town, protocol, answers, reason, core.now(), cli_actor(by)
            )
            await uow.commit()

    run_with_core(work)
    tell(
        t(
            "{protocol}: answers corrected on the upheld appeal; the next tranche of the "
            "window assesses them.",
            protocol=protocol.upper(),
        )
    )
