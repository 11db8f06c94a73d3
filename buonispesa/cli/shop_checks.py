"""`buonispesa admin shops refuse|unlock|lookups|refusals|members|remove-member`: the
office's side of shop trust.

Rules in docs/payments-and-codes.md: a shop that typed too many wrong payment codes
is locked (for a while, or until the office unlocks it here, recorded with who and
when); lookups that found nobody are listed so that a shop fishing for who applied
stands out, and so are the payments customers refused as "not me" (docs/office.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from buonispesa.cli.admin import money, out, shops_app, tell
from buonispesa.cli.common import (
    LoggedByOption,
    fail,
    lock_text,
    office_language,
    operator_name,
    say,
)
from buonispesa.cli.work import run_with_core, town_work
from core.domain.channels import CHANNEL_WORDS, chat_label
from core.domain.errors import InvalidIdentifier, NotFound, Refusal
from core.domain.messages import Moment, t, tn
from core.i18n import format_param

# The services (SQLAlchemy) are imported by the commands that run: `--help` stays light.
if TYPE_CHECKING:
    from core.bootstrap import Core
    from core.services.security import NotMeRefusal
    from core.storage.uow import UnitOfWork


async def _shop_id(uow: UnitOfWork, municipality_id: int, reference: str) -> int:
    """A shop by its id or its partita IVA."""
    from core.domain.identity import normalize_partita_iva

    text = reference.strip()
    if text.isdigit() and len(text) < 11:
        return int(text)
    try:
        vat = normalize_partita_iva(text)
    except InvalidIdentifier as error:
        raise NotFound(Refusal.SHOP_NOT_FOUND, shop_id=text) from error
    found = [
        shop
        for shop in await uow.shops.search(municipality_id, approved_only=False)
        if shop.vat_number == vat
    ]
    if len(found) != 1:
        raise NotFound(Refusal.SHOP_NOT_FOUND, shop_id=text)
    return found[0].id


@shops_app.command("refuse")
def shops_refuse(
    code: str,
    shop_id: int,
    reason: Annotated[str, typer.Option(help="Told to the owner (one SMS: 60 characters)")],
) -> None:
    """Refuse a registered shop; the owner is told the reason."""
    from core.services import shops

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            shop = await shops.refuse_shop(uow, town.id, shop_id, reason, core.now())
            await uow.commit()
            tell(t("Shop {id} ({name}) refused.", id=str(shop.id), name=shop.name))

    run_with_core(work)


@shops_app.command("rename")
def shops_rename(
    code: str,
    shop_id: int,
    name: str,
    by: LoggedByOption = None,
) -> None:
    """Correct a shop's name (e.g. as on its bank account, for the SEPA file); logged."""
    from core.services import shops

    operator = operator_name(by)

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            old, shop = await shops.rename_shop(
                uow, town.id, shop_id, name, core.now(), actor=operator
            )
            await uow.commit()
            tell(t("Shop {id}: {old} is now {name}.", id=str(shop.id), old=old, name=shop.name))

    run_with_core(work)


@shops_app.command("unlock")
def shops_unlock(
    code: str,
    shop: str,
    by: LoggedByOption = None,
) -> None:
    """Unlock a shop locked for wrong payment codes (SHOP: its id or partita IVA); logged."""
    from core.services import charges

    operator = operator_name(by)

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            found = await charges.unlock_shop(
                uow, town.id, await _shop_id(uow, town.id, shop), by=operator, now=core.now()
            )
            await uow.commit()
            tell(
                t(
                    "Shop {id} ({name}) unlocked: it can charge again and its count of "
                    "wrong codes starts from zero.",
                    id=str(found.id),
                    name=found.name,
                )
            )

    run_with_core(work)


@shops_app.command("lookups")
def shops_lookups(code: str) -> None:
    """Shops whose lookups found nobody in the last 7 days, every shop locked for wrong
    payment codes (until when, how many), and how many numbers are at their limit of
    confirmation codes."""
    from core.services import security

    async def work(core: Core) -> None:
        now = core.now()
        async with town_work(core, code) as (uow, town):
            rows = list(await security.lookup_misses(uow, town.id, now))
            shops = await uow.shops.search(town.id, approved_only=False)
            locks = await security.shop_locks(uow, shops, now)
            # A locked shop is listed even when all its lookups found someone.
            listed = {row.shop_id for row in rows}
            quiet = [shop for shop in shops if shop.id in locks and shop.id not in listed]
            table = Table(
                say(t("ID")),
                say(t("Name")),
                say(t("Last hour")),
                say(t("Last 24 hours")),
                say(t("Last 7 days")),
                say(t("Latest")),
                say(t("Locked")),
            )
            for row in rows:
                table.add_row(
                    str(row.shop_id),
                    row.shop_name,
                    str(row.last_hour),
                    str(row.last_day),
                    str(row.last_week),
                    format_param(Moment(row.latest), office_language()),
                    lock_text(locks.get(row.shop_id)),
                )
            for shop in quiet:
                table.add_row(
                    str(shop.id), shop.name, "0", "0", "0", "", lock_text(locks.get(shop.id))
                )
            # Numbers at their limit of confirmation codes: a forger's flood, or a person
            # who asks and never types the code back (docs/payments-and-codes.md).
            at_limit = await security.numbers_at_code_limit(uow, town.id, now)
            if not rows and not quiet:
                tell(t("In the last 7 days no shop searched for someone who is not a beneficiary."))
            else:
                out.print(table)
            if at_limit:
                tell(
                    tn(
                        "{count} number cannot be sent a confirmation code now: too many "
                        "codes sent to it were not typed back.",
                        "{count} numbers cannot be sent a confirmation code now: too many "
                        "codes sent to them were not typed back.",
                        at_limit,
                    )
                )

    run_with_core(work)


def _refused_by(refusal: NotMeRefusal) -> str:
    """The channel the customer wrote from and whether she confirmed it: an SMS "not me"
    whose challenge never came back may be a forged sender's, and the shop is not judged
    on it (docs/payments-and-codes.md)."""
    channel = CHANNEL_WORDS.get(refusal.channel, refusal.channel) if refusal.channel else "—"
    said = t("confirmed by the customer") if refusal.confirmed else t("not confirmed")
    return f"{channel}: {say(said)}"


def _till(till: str | None) -> str:
    """The till that asked a refused payment ("channel:address"), as `admin shops members`
    shows a shop's chats: the channel and the last three digits, a dash when not known.
    Not in full, though the office's Shops page shows it in full to a clerk: the command
    line has no role to tell a clerk from a viewer, and what it prints goes to scrollback,
    pipes and logs, where it never writes a whole number (a citizen's phone is masked by
    `citizen phone` and `phone-change` too; whole numbers go only to files of mode 0600).
    The same label as `admin shops members` is what the office needs: which cashier
    asked, to remove them with `remove-member`."""
    channel, _, address = (till or "").partition(":")
    return chat_label(channel, address) if address else "—"


@shops_app.command("refusals")
def shops_refusals(
    code: str,
    shop: Annotated[
        str | None, typer.Argument(help="Only this shop's (its id or partita IVA)")
    ] = None,
) -> None:
    """The payments customers refused as "not me" (someone used their name or card at the
    till), the newest first: when, the shop, the amount and the till that asked."""
    from core.services import security

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            names = {x.id: x.name for x in await uow.shops.search(town.id, approved_only=False)}
            only = None if shop is None else await _shop_id(uow, town.id, shop)
            if only is not None and only not in names:
                raise NotFound(Refusal.SHOP_NOT_FOUND, shop_id=shop)
            refused = [
                (shop_id, refusal)
                for shop_id, refusals in (await security.not_me_refusals(uow, town.id)).items()
                if only in (None, shop_id)
                for refusal in refusals
            ]
        if not refused:
            tell(t('No payment was refused as "not me".'))
            return
        table = Table(
            say(t("When")),
            say(t("ID")),
            say(t("Shop")),
            say(t("Amount")),
            say(t("Asked from")),
            say(t("Refused by")),
        )
        # The newest first across shops (sorted() keeps each shop's own order on a tie).
        for shop_id, refusal in sorted(refused, key=lambda x: x[1].at, reverse=True):
            table.add_row(
                format_param(Moment(refusal.at), office_language()),
                str(shop_id),
                names.get(shop_id, ""),
                money(refusal.amount_cents),
                _till(refusal.till),
                _refused_by(refusal),
            )
        out.print(table)

    run_with_core(work)


@shops_app.command("members")
def shops_members(code: str, shop: str) -> None:
    """Who works at a shop (SHOP: its id or partita IVA): the owner and the cashiers, each
    with the id that `remove-member` takes and the last digits of the number or chat."""
    from core.services import shop_members

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            members = await shop_members.members_of(uow, await _shop_id(uow, town.id, shop))
            table = Table(say(t("ID")), say(t("Role")), say(t("Chat")), say(t("Since")))
            for member in members:
                table.add_row(
                    str(member.id),
                    say(t("owner") if member.role == "owner" else t("cashier")),
                    shop_members.member_label(member),
                    _since_shown(member.created_at),
                )
            out.print(table)

    run_with_core(work)


SINCE_FORMAT = "%d/%m/%Y %H:%M:%S"


def _since_shown(moment: datetime) -> str:
    """When a member joined, as `admin shops members` shows it (with the seconds)."""
    return format_param(Moment(moment, seconds=True), office_language())


def _since_typed(typed: str) -> str:
    """The moment `--since` gave, as `admin shops members` writes it (day/month/year and
    the time with its seconds, the office's time zone); a clear refusal otherwise."""
    try:
        moment = datetime.strptime(" ".join(typed.split()), SINCE_FORMAT)
    except ValueError:
        fail(
            t(
                "Write --since as 'admin shops members' shows it: day/month/year and the time "
                "with its seconds, e.g. {example}.",
                example="07/12/2026 18:45:09",
            )
        )
    return f"{moment:{SINCE_FORMAT}}"


@shops_app.command("remove-member")
def shops_remove_member(
    code: str,
    shop: str,
    member: Annotated[
        int, typer.Argument(help="The member's id, as `admin shops members` shows it")
    ],
    since: Annotated[
        str,
        typer.Option(
            help="When the member joined, as `admin shops members` shows it "
            "(e.g. '07/12/2026 18:45:09'): an id freed by a removal may go to the next "
            "cashier to join, and a member who joined at another moment is not removed"
        ),
    ],
    by: LoggedByOption = None,
) -> None:
    """Remove a cashier from a shop (SHOP: its id or partita IVA): they can no longer charge,
    refund or read the shop's statement; the payments they left waiting for a code are
    cancelled, and the cashier and the owner are told. Logged. The owner is never removed.
    --since names the member as the list showed them: one who joined at another moment
    (the id given to someone else meanwhile) is refused and nothing is done."""
    from core.services import shop_members

    operator = operator_name(by)
    meant = _since_typed(since)

    async def work(core: Core) -> tuple[str, str] | None:
        async with town_work(core, code) as (uow, town):
            shop_id = await _shop_id(uow, town.id, shop)
            # The member with this id now: the service removes them only if they joined at
            # the very moment read here (their id may have gone to someone else).
            found = await uow.shops.member_locked(shop_id, member)
            if found is not None and _since_shown(found.created_at) != meant:
                return shop_members.member_label(found), _since_shown(found.created_at)
            removed = await shop_members.remove_member(
                uow,
                town.id,
                shop_id,
                member,
                by=f"cli:{operator}",
                now=core.now(),
                joined_at=None if found is None else found.created_at,
            )
            await uow.commit()
            tell(
                tn(
                    "{who} no longer works for {shop}; {count} payment waiting for a "
                    "code was cancelled.",
                    "{who} no longer works for {shop}; {count} payments waiting for a "
                    "code were cancelled.",
                    removed.cancelled_charges,
                    who=removed.label,
                    shop=removed.shop.name,
                )
            )
            return None

    other = run_with_core(work)
    if other is not None:
        who, joined = other
        fail(
            t(
                "Member {member} is now {who}, who joined on {joined}, not on {since}: not the "
                "person you meant. Nothing was done; see 'admin shops members'.",
                member=str(member),
                who=who,
                joined=joined,
                since=meant,
            )
        )
