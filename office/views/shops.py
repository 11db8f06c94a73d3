"""Shops: registrations to approve or refuse (with a reason), all shops and what each is owed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

from aiohttp import web

from core.dialogue.menus import CATEGORY_LABELS
from core.domain.errors import DomainError, NotFound, Refusal
from core.domain.messages import Moment, t
from core.domain.shops import ShopCategory
from core.services import back_office, ledger, security, shop_members
from core.services.operators import Role
from core.services.shops import REFUSAL_REASON_MAX
from core.storage import models as m
from office import personal
from office.keys import CORE
from office.pages import notify, refused_again, refused_here, render, words_for
from office.refusals import describe, status_of
from office.security import operator_of
from office.views.forms import fields, see_other
from office.words import CHANNEL_NAMES, SHOP_STATUS_NAMES, Words


def _people(words: Words, members: list[m.ShopMember]) -> list[dict[str, Any]]:
    """The shop's members, one entry per person and role: the same phone on two channels
    (SMS and the terminal chat, as in the demo) is one owner, not two. Each membership keeps
    its own label for its removal button."""
    people: dict[tuple[str, str], dict[str, Any]] = {}
    for member in members:
        entry = people.setdefault(
            (member.role, member.address), {"role": member.role, "memberships": []}
        )
        entry["memberships"].append({"member": member, "label": shop_members.member_label(member)})
    for entry in people.values():
        first = entry["memberships"][0]["member"]
        channels = [words.name(CHANNEL_NAMES, x["member"].channel) for x in entry["memberships"]]
        entry["label"] = f"{' · '.join(channels)} ***{first.address[-3:]}"
        entry["since"] = min(x["member"].created_at for x in entry["memberships"])
    return list(people.values())


def _refusals(
    words: Words, operator: m.Operator, refusals: list[security.NotMeRefusal]
) -> list[dict[str, Any]]:
    """A shop's "not me" refusals as the page lists them: the till that asked, by its
    channel and number (masked for viewers), or a dash when it is not known; whether the
    customer confirmed it, and from which channel she wrote."""
    shown = []
    for refusal in refusals:
        channel, _, address = (refusal.till or "").partition(":")
        till = (
            f"{words.name(CHANNEL_NAMES, channel)} {personal.phone(operator, address)}"
            if address
            else "—"
        )
        shown.append(
            {
                "at": refusal.at,
                "amount": refusal.amount_cents,
                "till": till,
                "confirmed": refusal.confirmed,
                "by": words.name(CHANNEL_NAMES, refusal.channel) if refusal.channel else "—",
            }
        )
    return shown


def category_name(words: Words, code: str) -> str:
    try:
        return words.text(CATEGORY_LABELS[ShopCategory(code)])
    except ValueError:
        return code


async def shops_page(request: web.Request) -> web.Response:
    refused = await refused_here(request)
    if refused is None:
        return await shops_form(request)
    return await shops_form(request, *refused)


async def shops_form(
    request: web.Request, renamed: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    """The page; after a refused new name, the name form with the shop chosen
    (`renamed["shop"]`), the name typed (`renamed["name"]`) and why beside it."""
    operator = operator_of(request)
    core = request.app[CORE]
    words = await words_for(request)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        found = await uow.shops.search(town.id, approved_only=False)
        locks = await security.shop_locks(uow, found, core.now())
        not_me = await security.not_me_refusals(uow, town.id)
        rows = [
            {
                "shop": shop,
                "status": shop.status,
                "status_name": words.name(SHOP_STATUS_NAMES, shop.status),
                "category": category_name(words, shop.category),
                "owed": await ledger.shop_balance(uow, town.id, shop.id),
                "lock": locks.get(shop.id),
                "members": _people(words, await shop_members.members_of(uow, shop.id)),
                "not_me": refusals,
                # The shop is judged on confirmed refusals only: an SMS "not me" whose
                # challenge never came back may be a forged sender's (security.not_me_refusal).
                "confirmed": [x for x in refusals if x["confirmed"]],
                "unconfirmed": [x for x in refusals if not x["confirmed"]],
            }
            for shop in found
            for refusals in [_refusals(words, operator, not_me.get(shop.id, []))]
        ]
        owed_total = await ledger.owed_to_shops(uow, town.id)
    return await render(
        request,
        "shops.html",
        {
            "town": town,
            "pending": [row for row in rows if row["status"] == "pending"],
            "rows": rows,
            "owed_total": owed_total,
            "locked": [row for row in rows if row["lock"] is not None],
            "staffed": [row for row in rows if row["members"]],
            # The shop with the most confirmed refusals first: several from one shop stand out.
            "refused": sorted(
                (row for row in rows if row["not_me"]),
                key=lambda row: (-len(row["confirmed"]), -len(row["unconfirmed"])),
            ),
            "may_prepare": operator.role != Role.VIEWER.value,
            "reason_max": REFUSAL_REASON_MAX,
            "renamed": renamed or {},
        },
        status=status,
    )


async def approve(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    async with core.uow() as uow:
        shop = await back_office.approve_shop(
            uow, operator, int(request.match_info["shop"]), core.now()
        )
    await notify(request, t("{shop} approved; the owner is told.", shop=shop.name))
    raise see_other(request, "shops")


async def refuse(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    async with core.uow() as uow:
        shop = await back_office.refuse_shop(
            uow, operator, int(request.match_info["shop"]), form.get("reason", ""), core.now()
        )
    await notify(request, t("{shop} refused; the owner is told the reason.", shop=shop.name))
    raise see_other(request, "shops")


async def unlock(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    async with core.uow() as uow:
        done = await back_office.unlock_shop(
            uow, operator, int(request.match_info["shop"]), core.now()
        )
    await notify(
        request,
        t(
            "{shop} was already unlocked: it can charge; nothing was done twice.",
            shop=done.shop.name,
        )
        if done.already
        else t(
            "{shop} unlocked: it can charge again and its count of wrong codes starts from zero.",
            shop=done.shop.name,
        ),
    )
    raise see_other(request, "shops")


async def _removed_already(request: web.Request, gone: shop_members.AlreadyRemoved) -> NoReturn:
    """A removal sent again (a double click, an old tab): the shops page the first landed
    on, with a notice of what was done and when, not a refusal that reads like a failure."""
    who, shop = str(gone.params["who"]), str(gone.params["shop"])
    moment = Moment(datetime.fromisoformat(str(gone.params["at"])))
    action = str(gone.params["action"])
    if action == "shop.member_leave":
        said = t(
            "{who} had already left {shop} on {moment}: nothing was done twice.",
            who=who,
            shop=shop,
            moment=moment,
        )
    else:
        # The log stores a chat as "telegram:12345": said as the shop's owner, masked.
        words = await words_for(request)
        said = t(
            "{who} had already been removed from {shop} by {by} on {moment}: nothing was "
            "done twice.",
            who=who,
            shop=shop,
            by=words.actor(str(gone.params["by"]), action),
            moment=moment,
        )
    await notify(request, said)
    raise see_other(request, "shops")


def _joined_at(text: str | None) -> datetime | None:
    """When the member the page showed joined (the form's `since`), None when the page
    said none or something else."""
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _to_remove_page(request: web.Request, shop_id: str, member_id: str, since: str) -> NoReturn:
    """To the page that asks to confirm the removal of the member the form named."""
    target = request.app.router["shop_member_remove_page"].url_for(shop=shop_id, member=member_id)
    raise web.HTTPSeeOther(str(target.with_query(since=since) if since else target))


async def remove_member_page(request: web.Request) -> web.Response:
    """What removing a cashier means, and the button that does it. The refusals removing
    would give (another town's shop, a member gone, the owner) are said here first. The
    member is the one who joined when the shops page showed (`since`): on SQLite their id
    may have gone to a cashier who joined after they left (shop_members.remove_member)."""
    operator = operator_of(request)
    try:
        async with request.app[CORE].uow() as uow:
            removable = await back_office.removable_member(
                uow,
                operator,
                int(request.match_info["shop"]),
                int(request.match_info["member"]),
                joined_at=_joined_at(request.query.get("since")),
            )
    except shop_members.AlreadyRemoved as gone:
        await _removed_already(request, gone)
    return await render(request, "shop_member_remove.html", {"removable": removable})


async def remove_member(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    shop_id, member_id = request.match_info["shop"], request.match_info["member"]
    joined_at = _joined_at(form.get("since"))
    if form.get("confirm") != "yes" or joined_at is None:
        # The button of the shops page: first the page that says what removing means. A
        # confirmation that does not say when the member joined (a page of before) is
        # asked again, naming who the id is now.
        _to_remove_page(request, shop_id, member_id, form.get("since", ""))
    try:
        async with core.uow() as uow:
            removed = await back_office.remove_shop_member(
                uow,
                operator,
                int(shop_id),
                int(member_id),
                core.now(),
                confirmed=True,
                joined_at=joined_at,
            )
    except shop_members.AlreadyRemoved as gone:
        await _removed_already(request, gone)
    await notify(
        request,
        t(
            "{who} no longer works for {shop}: the cashier and the owner are told.",
            who=removed.label,
            shop=removed.shop.name,
        ),
    )
    raise see_other(request, "shops")


# The refusals of the name typed (the service judges): said beside it, the name kept.
NAME_REFUSALS = frozenset(
    {
        Refusal.SHOP_NAME_MISSING,
        Refusal.SHOP_NAME_TOO_LONG,
        Refusal.SHOP_NAME_NOT_SEPA,
        Refusal.SHOP_NAME_TAKEN,
    }
)


async def rename(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    shop_id = form.get("shop", "")
    # An id is 1 to 9 digits, as in the office's addresses: more overflow the database.
    if not (shop_id.isascii() and shop_id.isdigit() and len(shop_id) <= 9):
        raise NotFound(Refusal.SHOP_NOT_FOUND, shop_id=shop_id)
    typed = form.get("name", "")
    try:
        async with core.uow() as uow:
            old, shop = await back_office.rename_shop(
                uow, operator, int(shop_id), typed, core.now()
            )
    except DomainError as error:
        # Said once the unit of work is closed (SQLite's lock), nothing written.
        if error.code not in NAME_REFUSALS:
            raise
        # The shops page again by a GET (a reload sends nothing), the name typed kept.
        words = await words_for(request)
        said = {"shop": shop_id, "problem": words.text(describe(error))}
        raise await refused_again(
            request, "shops", {"name": typed}, said, status_of(error)
        ) from None
    await notify(
        request, t("Shop {id}: {old} is now {name}.", id=str(shop.id), old=old, name=shop.name)
    )
    raise see_other(request, "shops")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/shops", shops_page, name="shops")
    app.router.add_post(r"/shops/{shop:\d{1,9}}/approve", approve, name="shop_approve")
    app.router.add_post(r"/shops/{shop:\d{1,9}}/refuse", refuse, name="shop_refuse")
    app.router.add_post(r"/shops/{shop:\d{1,9}}/unlock", unlock, name="shop_unlock")
    member = r"/shops/{shop:\d{1,9}}/members/{member:\d{1,9}}/remove"
    app.router.add_get(member, remove_member_page, name="shop_member_remove_page")
    app.router.add_post(member, remove_member, name="shop_member_remove")
    app.router.add_post("/shops/rename", rename, name="shop_rename")
