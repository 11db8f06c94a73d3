"""Transparency: the report and the participating shops, in the office and as open data.

The open-data addresses need no sign-in (they publish aggregates and shop addresses only):
/office/open-data/{CODE}/report.{csv,json,md} and /office/open-data/{CODE}/shops.{csv,json}.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from aiohttp import web

from core.dialogue.menus import CATEGORY_LABELS
from core.documents.paperwork import LEGAL_BASIS
from core.domain.shops import ShopCategory
from core.domain.spreadsheet import csv_record
from core.services import back_office, municipalities, open_data, reports
from office.keys import CORE
from office.pages import render, words_for
from office.security import operator_of
from office.views.documents import window_asked


async def transparency_page(request: web.Request) -> web.Response:
    """The report as the office reads it: its tables in HTML, for the window chosen with
    ?window=N (as the command's --window; default: the latest)."""
    operator = operator_of(request)
    core = request.app[CORE]
    words = await words_for(request)
    window = window_asked(request)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        built = await reports.transparency_report(uow, town, core.now(), window)
        windows = [round_.number for round_ in await uow.rounds.of_municipality(town.id)]
        shops = await open_data.participating_shops(uow, town)
    by_category: dict[str, list[dict[str, str]]] = {}
    for shop in shops:
        try:
            label = words.text(CATEGORY_LABELS[ShopCategory(shop["category"])])
        except (KeyError, ValueError):
            label = shop["category"]
        by_category.setdefault(label, []).append(shop)
    return await render(
        request,
        "transparency.html",
        {
            "town": town,
            "report": built,
            "report_title": built.title(words.language),
            "preamble": built.preamble(words.language),
            "tables": built.tables(words.language),
            "privacy_note": words.text(reports.PRIVACY_NOTE),
            "windows": list(reversed(windows)),
            "window": built.round_number,
            "legal_basis": words.text(LEGAL_BASIS),
            "by_category": by_category,
        },
    )


def _csv(rows: list[dict[str, str]], fields: tuple[str, ...]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_record(row) for row in rows)
    return buffer.getvalue().encode("utf-8")


def _file(body: bytes, kind: str, name: str) -> web.Response:
    return web.Response(
        body=body,
        headers={
            "Content-Type": f"{kind}; charset=utf-8",
            "Content-Disposition": f'inline; filename="{name}"',
            "Access-Control-Allow-Origin": "*",  # open data: any site may read it
        },
    )


async def open_report(request: web.Request) -> web.Response:
    core = request.app[CORE]
    fmt = request.match_info["format"]
    # ?window=N publishes that window's report for good: opening a new window makes it the
    # latest, and a town's website linking the file without it would show the new window's
    # zeros in place of the allocation it published.
    window = window_asked(request)
    async with core.uow() as uow:
        town = await municipalities.require(uow, request.match_info["code"])
        published = await open_data.report(uow, town, core.now(), window)
    name = f"report-{town.code}.{fmt}"
    if fmt == "md":
        language = request.query.get("lang", "it")
        return _file(published.report.to_markdown(language).encode(), "text/markdown", name)
    if fmt == "json":
        document: dict[str, Any] = {
            "schema": "buonispesa/transparency-report/1",
            "municipality": town.name,
            "code": town.code,
            "rows": published.rows,
        }
        body = json.dumps(document, ensure_ascii=False, indent=2).encode()
        return _file(body, "application/json", name)
    return _file(_csv(published.rows, open_data.REPORT_FIELDS), "text/csv", name)


async def open_shops(request: web.Request) -> web.Response:
    fmt = request.match_info["format"]
    async with request.app[CORE].uow() as uow:
        town = await municipalities.require(uow, request.match_info["code"])
        shops = await open_data.participating_shops(uow, town)
    name = f"shops-{town.code}.{fmt}"
    if fmt == "json":
        document = {
            "schema": "buonispesa/participating-shops/1",
            "municipality": town.name,
            "code": town.code,
            "shops": shops,
        }
        return _file(
            json.dumps(document, ensure_ascii=False, indent=2).encode(), "application/json", name
        )
    return _file(_csv(shops, open_data.SHOP_FIELDS), "text/csv", name)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/transparency", transparency_page, name="transparency")
    app.router.add_get(
        r"/open-data/{code:[A-Za-z0-9]+}/report.{format:csv|json|md}",
        open_report,
        name="open_report",
    )
    app.router.add_get(
        r"/open-data/{code:[A-Za-z0-9]+}/shops.{format:csv|json}", open_shops, name="open_shops"
    )
