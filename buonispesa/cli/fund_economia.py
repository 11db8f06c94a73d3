"""`buonispesa admin fund economia …`: an economia frees what a credited determina left
unassigned, under four eyes: prepared by one operator, approved by another, a manager
(docs/allocation.md#economia)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from buonispesa.cli.admin import tell
from buonispesa.cli.common import fail, operator_name
from buonispesa.cli.fund import (
    amount_cents,
    day_given,
    fund_app,
    say_act,
    say_position,
    town_today,
)
from buonispesa.cli.work import operator_work, run_with_core, town_work
from core.domain.messages import Money, t

# The services (SQLAlchemy) are imported by the commands that run: `--help` stays light.
if TYPE_CHECKING:
    from core.bootstrap import Core
    from core.domain.fund import FundPosition
    from core.services.unit_of_work import UnitOfWork
    from core.storage.models import Operator
    from core.storage.repositories.results import DeterminaRest

economia_app = typer.Typer(
    help="Economie: free what a credited determina left unassigned, under four eyes.",
    no_args_is_help=True,
)
fund_app.add_typer(economia_app, name="economia")

OfficeUser = Annotated[
    str | None,
    typer.Option("--by", help="Your office username (default: BUONISPESA_OPERATOR, login)"),
]


def _rest_named(rests: list[DeterminaRest], code: str, tranche: int, window: int | None) -> int:
    """The determina of this tranche (of this window; default: the latest window with one)."""
    found = [
        rest
        for rest in rests
        if rest.tranche == tranche and (window is None or rest.window == window)
    ]
    if found:
        return found[-1].allocation_id
    if window is None:
        fail(
            t(
                "{code} has no determina of tranche {tranche} standing (approved and not "
                "withdrawn): 'admin fund show {code}' lists them. Nothing was prepared.",
                code=code,
                tranche=str(tranche),
            )
        )
    fail(
        t(
            "{code} has no determina of tranche {tranche} of window {window} standing "
            "(approved and not withdrawn): 'admin fund show {code}' lists them. Nothing was "
            "prepared.",
            code=code,
            tranche=str(tranche),
            window=str(window),
        )
    )


@economia_app.command("prepare")
def economia_prepare(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    tranche: Annotated[int, typer.Option(help="The tranche whose determina left a rest")],
    reference: Annotated[
        str, typer.Option(help="The municipality's act freeing it, e.g. 'det. n. 123/2026'")
    ],
    day: Annotated[str, typer.Option("--date", help="Day of the act, DD/MM/YYYY or YYYY-MM-DD")],
    window: Annotated[
        int | None, typer.Option(help="The window of the tranche (default: the latest)")
    ] = None,
    amount: Annotated[
        str | None, typer.Option(help="Amount to free, in euro (default: all of the rest)")
    ] = None,
    by: OfficeUser = None,
) -> None:
    """Prepare an economia (a clerk or a manager): the act waits, freeing nothing, until
    another operator with the manager role approves it with 'economia approve'. Refused as
    the office's Fund page refuses it: a determina not credited or with nothing left, an
    amount beyond its rest, a day still to come or before the determina, no reference."""
    from core.services import acts, economia, phone_changes

    cents = amount_cents(amount) if amount is not None else None
    operator = operator_name(by)

    async def work(core: Core) -> tuple[int, dict[str, object]]:
        async with town_work(core, code) as (uow, town):
            account = await phone_changes.operator_named(uow, town, operator)
            chosen = _rest_named(await economia.rests(uow, town), code.upper(), tranche, window)
            given = {
                "allocation_id": chosen,
                "amount_cents": cents,
                "reference": reference,
                "act_on": day_given(day, town_today(core, town.timezone)).isoformat(),
            }
            act = await acts.prepare(uow, account, acts.ActKind.ECONOMIA, given, core.now())
            return act.id, dict(act.params)

    number, params = run_with_core(work)
    tell(
        t(
            "Prepared: act {number}. Another operator with the manager role must approve it.",
            number=str(number),
        )
    )
    say_act(params)
    tell(
        t(
            "To approve it: 'admin fund economia approve {code} {number} --by MANAGER'.",
            code=code.upper(),
            number=str(number),
        )
    )


async def _economia_act(uow: UnitOfWork, account: Operator, act_id: int) -> None:
    """Refuse an act that is not an economia: these commands decide economie only."""
    from core.services import acts

    act = await acts.get(uow, account, act_id)
    if act.kind != acts.ActKind.ECONOMIA.value:
        fail(
            t(
                "Act {number} is not an economia: decide it on the office's page that lists "
                "it. Nothing was changed.",
                number=str(act_id),
            )
        )


@economia_app.command("approve")
def economia_approve(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    act_id: Annotated[int, typer.Argument(metavar="ACT", help="Number of the economia act")],
    by: OfficeUser = None,
) -> None:
    """Approve an economia another operator prepared (a manager): its amount is freed now,
    no longer committed, and a new determina may commit it."""
    from core.services import acts, fund

    operator = operator_name(by)

    async def work(core: Core) -> tuple[dict[str, object], dict[str, object], FundPosition | None]:
        async with operator_work(core, code, operator) as (uow, account):
            await _economia_act(uow, account, act_id)
            act = await acts.approve(uow, account, act_id, core.now())
            params, outcome = dict(act.params), dict(act.outcome or {})
        async with town_work(core, code) as (uow, town):
            return params, outcome, await fund.position(uow, town)

    params, outcome, position = run_with_core(work)
    tell(t("Act {number} approved and carried out.", number=str(act_id)))
    say_act(params)
    tell(
        t(
            "Tranche {tranche} of window {window}: {rest} left unassigned.",
            tranche=str(params["tranche"]),
            window=str(params["window"]),
            rest=Money(int(str(outcome["rest_cents"]))),
        )
    )
    say_position(code.upper(), position)


@economia_app.command("withdraw")
def economia_withdraw(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    act_id: Annotated[int, typer.Argument(metavar="ACT", help="Number of the economia act")],
    reason: Annotated[str, typer.Option(help="Why it is not approved (logged)")],
    by: OfficeUser = None,
) -> None:
    """Withdraw an economia you prepared, or turn down another's (a manager): nothing is
    freed."""
    from core.services import acts

    operator = operator_name(by)

    async def work(core: Core) -> None:
        async with operator_work(core, code, operator) as (uow, account):
            await _economia_act(uow, account, act_id)
            await acts.withdraw(uow, account, act_id, reason, core.now())

    run_with_core(work)
    tell(t("Act {number} withdrawn: nothing was freed.", number=str(act_id)))
