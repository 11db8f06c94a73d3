"""Checks on self-declarations: the sample to check (the first draw binds), then revocations
of false declarations go through four eyes from each application's page."""

from __future__ import annotations

from aiohttp import web

from core.domain.messages import tn
from core.services import audit, back_office
from core.services.operators import Role
from office.keys import CORE
from office.pages import notify, render
from office.security import operator_of
from office.views.forms import fields, see_other


async def audit_page(request: web.Request) -> web.Response:
    operator = operator_of(request)
    async with request.app[CORE].uow() as uow:
        town = await back_office.town_of(uow, operator)
        draws = await back_office.samples(uow, operator)
    return await render(
        request,
        "audit.html",
        {
            "town": town,
            "binding": draws[0] if draws else None,
            "later": draws[1:],
            "may_prepare": operator.role != Role.VIEWER.value,
        },
    )


async def draw(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    try:
        seed = int(form.get("seed", ""))
    except ValueError as exc:
        raise audit.InvalidSampleRequest(seed=form.get("seed", "")) from exc
    async with core.uow() as uow:
        protocols = await back_office.draw_sample(
            uow, operator, form.get("percent", ""), seed, core.now(), form.get("reason", "")
        )
    await notify(
        request,
        tn(
            "{count} application drawn with seed {seed}; the draw is recorded.",
            "{count} applications drawn with seed {seed}; the draw is recorded.",
            len(protocols),
            seed=str(seed),
        ),
    )
    raise see_other(request, "audit")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/audit", audit_page, name="audit")
    app.router.add_post("/audit/draw", draw, name="audit_draw")
