"""The office's pages and actions, one module per area; add_routes names every route."""

from __future__ import annotations

from aiohttp import web

from office.views import activity, auth, dashboard


def add_routes(app: web.Application) -> None:
    for module in (auth, dashboard, activity):
        module.add_routes(app)
