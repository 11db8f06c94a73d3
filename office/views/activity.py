"""The activity log: read it, download it (CSV, .xlsx). Nothing here can change it."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from core.services import activity, back_office
from core.storage import models as m
from office.keys import CORE
from office.pages import render, words_for
from office.security import operator_of
from office.tables import Column, Table
from office.words import ACTION_NAMES, Words

PAGE = 100


def _json(value: dict[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _action(words: Words, entry: m.ActivityEntry) -> str:
    return words.name(ACTION_NAMES, entry.action)


async def activity_page(request: web.Request) -> web.Response:
    operator = operator_of(request)
    core = request.app[CORE]
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page = 1
    words = await words_for(request)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        entries = await activity.entries(
            uow, operator.municipality_id, limit=PAGE + 1, offset=(page - 1) * PAGE
        )
    rows = [
        {
            "when": words.moment(entry.created_at),
            "actor": entry.actor,
            "action": _action(words, entry),
            "code": entry.action,
            "subject": entry.subject,
            "before": _json(entry.before),
            "after": _json(entry.after),
        }
        for entry in entries[:PAGE]
    ]
    return await render(
        request,
        "activity.html",
        {"town": town, "rows": rows, "page": page, "more": len(entries) > PAGE},
    )


async def activity_download(request: web.Request) -> web.Response:
    operator = operator_of(request)
    core = request.app[CORE]
    words = await words_for(request)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        entries = await activity.entries(uow, operator.municipality_id, limit=None)
    table = Table(
        name=f"activity-{town.code}",
        columns=[
            Column("id"),
            Column("when_utc"),
            Column("operator"),
            Column("action"),
            Column("description"),
            Column("subject"),
            Column("before"),
            Column("after"),
        ],
        rows=[
            [
                entry.id,
                entry.created_at.isoformat(),
                entry.actor,
                entry.action,
                _action(words, entry),
                entry.subject,
                _json(entry.before),
                _json(entry.after),
            ]
            for entry in reversed(entries)
        ],
    )
    return table.response(request.match_info["format"])


def add_routes(app: web.Application) -> None:
    app.router.add_get("/activity", activity_page, name="activity")
    app.router.add_get(r"/activity.{format:csv|xlsx}", activity_download, name="activity_file")
