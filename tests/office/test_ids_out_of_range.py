"""An id in an office address that no row can have (0, or more digits than a BIGINT holds:
99999999999999999999999) is answered as an unknown id is, on every route that takes a number
from the address (found from the router, so a new route is covered): never a 500 from
SQLite's OverflowError or PostgreSQL's DataError. On both databases."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from aiohttp import web

from tests.office.conftest import Towns, signed_in

# A route's number in aiohttp's pattern, as office.views writes it (`{act:\d{1,9}}`) or
# any other count of digits (`\d+`): a route that took more would be found and fail here.
_ID = re.compile(r"\(\?P<(\w+)>\\d(?:\{[\d,]+\}|\+)\)")
UNKNOWN = "987654321"  # a well-formed id that names no row
ZERO = ("0", "000")
# Past PostgreSQL's INTEGER, BIGINT and SQLite's 64 bits (OverflowError), and the task's.
TOO_LONG = ("2147483648", "9223372036854775808", "99999999999999999999999")
NOT_FOUND = "Questa pagina non esiste nell'ufficio: controlla l'indirizzo."


def _office_app(app: web.Application) -> web.Application:
    for resource in app.router.resources():
        sub = getattr(resource, "_app", None)
        if isinstance(sub, web.Application) and resource.canonical == "/office":
            return sub
    raise AssertionError("no office sub-application")


def id_routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, path template) of every office route with a number in its address."""
    found = []
    for route in _office_app(app).router.routes():
        info: dict[str, Any] = dict(route.resource.get_info()) if route.resource else {}
        pattern = info.get("pattern")
        names = _ID.findall(pattern.pattern) if pattern is not None else []
        if names and route.method in ("GET", "POST"):
            template = str(info["formatter"])
            for name in names:
                template = template.replace("{" + name + "}", "{id}")
            found.append((route.method, template.replace("{format}", "csv")))
    return sorted(set(found))


def said(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def test_every_id_no_row_can_have_is_answered_as_an_unknown_id(towns: Towns) -> None:
    """0 reaches the view and is what an unknown id is (the same not-found page, word for
    word); an id of more digits than any row's matches no route (office.views.add_routes: 1
    to 9 digits) and is the office's own not-found page, never a database error."""
    manager = await signed_in(towns.server, "bel.manager")
    routes = id_routes(towns.server.server.app)
    assert len(routes) >= 15, routes
    assert ("GET", "/office/reimbursement/runs/{id}/sepa.xml") in routes
    assert ("POST", "/office/phone-changes/{id}/approve") in routes

    async def answer(method: str, template: str, value: str) -> tuple[int, str]:
        path = template.replace("{id}", value)
        if method == "GET":
            page = await manager.get(path)
        else:
            page = await manager.post(path, {"reason": "x"})
        text = said(page.text).replace(value, "{id}")
        # A page may name the number as read ("Il bando 1 non ha una tranche 0." for 000).
        return page.status, re.sub(rf"(?<!\d){int(value)}(?!\d)", "{id}", text)

    for method, template in routes:
        unknown = await answer(method, template, UNKNOWN)
        assert unknown[0] in (404, 409), (template, unknown)
        for value in ZERO:
            zero = await answer(method, template, value)
            # A form's page (the fund's) shows what changes by the minute: its status then.
            assert zero == unknown or zero[0] == unknown[0] == 409, (template, value, zero)
        for value in TOO_LONG:
            status, text = await answer(method, template, value)
            assert status == 404, (template, value, text)
            assert NOT_FOUND in text, (template, value, text)
