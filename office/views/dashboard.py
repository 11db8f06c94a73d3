"""The dashboard: the window, applications by state, money, messages waiting, shops."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.services import acts, back_office, phone_changes
from core.services.operators import Role
from core.storage import models as m
from office.keys import CORE
from office.pages import NAV, render, words_for
from office.security import operator_of
from office.views.acts import HOME
from office.views.documents import window_asked
from office.views.round import act_rows


async def dashboard(request: web.Request) -> web.Response:
    operator = operator_of(request)
    core = request.app[CORE]
    # One reading of ?window= for every page: a bad number is the same 409 everywhere.
    asked = window_asked(request)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        windows = await back_office.windows(uow, operator)
        latest = windows[-1].number if windows else None
        shown = asked if asked is not None else latest
        figures = await back_office.dashboard(uow, operator, core.now(), shown)
        # A new window starts empty: the one before stays in view beside it (a tranche just
        # credited must not vanish from the office's first page).
        previous = (
            await back_office.dashboard(uow, operator, core.now(), shown - 1)
            if shown is not None and shown == latest and shown > 1
            else None
        )
        waiting = await phone_changes.waiting(uow, operator.municipality_id)
        open_acts = await acts.open_acts(uow, operator.municipality_id)
    # Each kind of act waits on its own page (the round, the checks, the appeals, the
    # reimbursement): the counter leads to the page where the first one is, and names the
    # others when acts wait on more than one.
    act_pages: dict[str, int] = {}
    for act in open_acts:
        page = HOME[acts.ActKind(act.kind)]
        act_pages[page] = act_pages.get(page, 0) + 1
    words = await words_for(request)
    labels = dict(NAV)
    rows = phone_change_rows(operator, waiting)
    return await render(
        request,
        "dashboard.html",
        {
            "town": town,
            "d": figures,
            "windows": back_office.window_choices(windows, core.now()),
            "latest": latest,
            "previous": previous,
            "phone_changes": rows,
            "waiting_by_kind": {
                kind: sum(1 for row in rows if row["kind"] == kind)
                for kind in (phone_changes.PHONE, phone_changes.DELEGATE, phone_changes.CARD)
            },
            "act_pages": [
                (page, words.text(labels[page]), count) for page, count in act_pages.items()
            ],
            "waiting": await act_rows(request, operator, tuple(acts.ActKind)),
        },
    )


def phone_change_rows(
    operator: m.Operator, waiting: list[phone_changes.Waiting]
) -> list[dict[str, Any]]:
    """The requests waiting (a new phone, a delegate, a card), with what this operator may
    do with each (four eyes: a manager who did not ask approves; whoever asked, or a
    manager, withdraws; a Telegram chat's number is first checked by an operator, who then
    counts as the one who asked)."""
    manager = operator.role == Role.MANAGER.value
    return [
        {
            "id": item.change.id,
            "kind": item.change.kind,
            "subject": item.change.subject,
            "linked": not item.change.subject.startswith("citizen #"),
            "previous": item.change.previous_masked or "",
            "phone": item.change.phone_masked or "",
            "reissue": item.change.reissue,
            "by": item.requested_by,
            "by_chat": item.by_chat,
            "checked": item.checked,
            "at": item.change.requested_at,
            # A chat's number: an operator who checked the person says so first, then a
            # manager other than them approves it (phone_changes.check_chat_request).
            "may_check": not item.checked and operator.role != Role.VIEWER.value,
            "may_approve": manager and item.checked and item.change.requested_by_id != operator.id,
            "may_withdraw": manager
            or (item.change.requested_by_id == operator.id and operator.role != Role.VIEWER.value),
        }
        for item in waiting
    ]


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", dashboard, name="dashboard")
