"""The dashboard: the window, applications by state, money, messages waiting, shops."""

from __future__ import annotations

from aiohttp import web

from core.services import back_office
from office.keys import CORE
from office.pages import render
from office.security import operator_of


async def dashboard(request: web.Request) -> web.Response:
    operator = operator_of(request)
    core = request.app[CORE]
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        figures = await back_office.dashboard(uow, operator, core.now())
    return await render(request, "dashboard.html", {"town": town, "d": figures})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", dashboard, name="dashboard")
