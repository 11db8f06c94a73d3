"""`buonispesa admin community …`: community vouchers and donations, for the office."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from buonispesa.cli.admin import admin, municipality_app, out, tell
from buonispesa.cli.common import ByOption, fail, say
from buonispesa.cli.logged import logged
from buonispesa.cli.work import run_with_core, town_work
from core.domain.errors import InvalidAmount
from core.domain.messages import Money, t
from core.domain.money import parse_euro

# The services (SQLAlchemy) are imported by the commands that run: `--help` stays light.
if TYPE_CHECKING:
    from core.bootstrap import Core

community_app = typer.Typer(
    help="Community vouchers and donations paid through Telegram.", no_args_is_help=True
)
admin.add_typer(community_app, name="community")


@municipality_app.command("community")
def municipality_community(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    on: Annotated[bool, typer.Option("--on/--off", help="Turn the feature on or off")],
    by: ByOption = None,
) -> None:
    """Let people buy shop vouchers and donate from the Telegram chat (or stop it)."""
    from core.services import community

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            was = town.community_enabled
            town = await community.set_town_enabled(uow, code, on)
            if was != town.community_enabled:
                await logged(
                    uow,
                    town.id,
                    by,
                    "municipality.set",
                    now=core.now(),
                    subject=town.code,
                    before={"community_enabled": was},
                    after={"community_enabled": town.community_enabled},
                )
            await uow.commit()
        if on:
            text = t(
                "{code}: community vouchers and donations are on. They need "
                "TELEGRAM_PAYMENT_PROVIDER_TOKEN.",
                code=town.code,
            )
        else:
            text = t("{code}: community vouchers and donations are off.", code=town.code)
        tell(text)

    run_with_core(work)


@community_app.command("show")
def community_show(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
) -> None:
    """Vouchers sold per shop (prepaid: never reimbursed) and donations to the fund."""
    from core.services import community

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            figures = await community.totals(uow, town.id)
        table = Table(
            say(t("Shop")),
            say(t("Vouchers")),
            say(t("Sold")),
            say(t("Spent")),
            say(t("Refunded")),
            say(t("To spend")),
        )
        for row in figures.shops:
            table.add_row(
                row.shop,
                str(row.sold),
                say(t("{amount}", amount=Money(row.sold_cents))),
                say(t("{amount}", amount=Money(row.spent_cents))),
                say(t("{amount}", amount=Money(row.refunded_cents))),
                say(t("{amount}", amount=Money(row.outstanding_cents))),
            )
        out.print(table)
        tell(
            t(
                "Vouchers are paid to the shops at purchase: they are not part of the "
                "reimbursements."
            )
        )
        tell(
            t(
                "Donations: {received} received, {granted} granted to tranches, "
                "{available} available.",
                received=Money(figures.donations_cents),
                granted=Money(figures.granted_cents),
                available=Money(figures.available_cents),
            )
        )

    run_with_core(work)


@community_app.command("grant")
def community_grant(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    amount: Annotated[
        str | None, typer.Option(help="Euro to grant (default: all available), e.g. 500")
    ] = None,
) -> None:
    """Move donations into the fund, to be allocated with the next tranche."""
    from core.services import community

    cents: int | None = None
    if amount is not None:
        try:
            cents = parse_euro(amount)
        except InvalidAmount:
            fail(t("This is not an amount. Write it in euro, e.g. 12,50."))

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            moved = await community.grant_donations(uow, town.id, cents, core.now())
            await uow.commit()
        tell(
            t(
                "{amount} of donations moved into the fund: add it to the budget of the "
                "next tranche.",
                amount=Money(moved),
            )
        )

    run_with_core(work)
