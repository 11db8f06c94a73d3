"""`buonispesa admin shops list|approve`: the shops of a municipality."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from buonispesa.cli.admin import money, out, shops_app, tell
from buonispesa.cli.common import ByOption, code_named, lock_text, named, say
from buonispesa.cli.logged import logged
from buonispesa.cli.work import run_with_core, town_work
from core.domain.messages import t
from core.domain.shops import ShopCategory

# The database, the services and the CSV parser (SQLAlchemy, phonenumbers...) are imported
# by the commands that use them: `buonispesa --help` builds every command and must start
# fast (tests/unit/test_cli_startup.py checks what it imports).
if TYPE_CHECKING:
    from core.bootstrap import Core
    from core.services.security import NotMeRefusal


def _category(value: str) -> str:
    from core.dialogue.menus import CATEGORY_LABELS

    try:
        return say(CATEGORY_LABELS[ShopCategory(value)])
    except (KeyError, ValueError):
        return value


@shops_app.command("list")
def shops_list(
    code: str,
    status: Annotated[
        str | None,
        typer.Option(help="pending, approved or refused (or the status as the list shows it)"),
    ] = None,
) -> None:
    """List shops with their status, what they are owed, their lock for wrong codes and how
    many payments customers refused as "not me" (`admin shops refusals` lists them)."""
    from core.services import ledger, security
    from office.words import SHOP_STATUS_NAMES

    wanted = code_named(SHOP_STATUS_NAMES, status) if status else None

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            found = await uow.shops.search(town.id, approved_only=False)
            locks = await security.shop_locks(uow, found, core.now())
            not_me = await security.not_me_refusals(uow, town.id)
            table = Table(
                say(t("ID")),
                say(t("Name")),
                say(t("Partita IVA")),
                say(t("Category")),
                say(t("Address")),
                say(t("Status")),
                say(t("To reimburse")),
                say(t("Locked")),
                say(t('"Not me"')),
                say(t('"Not me" not confirmed')),
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
                    *_not_me_counts(not_me.get(shop.id, [])),
                )
            out.print(table)

    run_with_core(work)


def _not_me_counts(refusals: list[NotMeRefusal]) -> tuple[str, str]:
    """A shop's "not me" refusals in the list: how many confirmed, and apart how many not
    (an SMS whose challenge never came back, on which no shop is judged); blank for none,
    so that the shops with refusals stand out."""
    confirmed = sum(1 for x in refusals if x.confirmed)
    unconfirmed = len(refusals) - confirmed
    return (str(confirmed) if confirmed else "", str(unconfirmed) if unconfirmed else "")


@shops_app.command("approve")
def shops_approve(code: str, shop_id: int, by: ByOption = None) -> None:
    """Approve a registered shop: it can charge vouchers from now on."""
    from core.services import shops

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            before = await uow.shops.by_id(shop_id)
            status = before.status if before is not None else None
            shop = await shops.approve_shop(uow, town.id, shop_id, core.now())
            if status == shop.status:
                tell(
                    t(
                        "Shop {id} ({name}) was already approved: nothing changed.",
                        id=str(shop.id),
                        name=shop.name,
                    )
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
            tell(t("Shop {id} ({name}) approved.", id=str(shop.id), name=shop.name))

    run_with_core(work)
