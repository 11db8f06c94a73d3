"""The activity log: read it, download it (CSV, .xlsx). Nothing here can change it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web

from core.services import activity, back_office
from core.storage import models as m
from office.keys import CORE
from office.pages import render, words_for
from office.security import operator_of
from office.tables import Column, Table
from office.words import (
    ACTION_NAMES,
    CHANNEL_NAMES,
    FIELD_NAMES,
    HIDDEN_FIELDS,
    ROLE_NAMES,
    VALUE_NAMES,
    Words,
)

PAGE = 100


def _json(value: dict[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _value(words: Words, key: str, value: Any) -> str:
    """One stored value as the page writes it: money, dates, yes/no, names of statuses."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return words("yes") if value else words("no")
    if key.endswith("_cents") and isinstance(value, int):
        return words.money(value)
    if isinstance(value, int | float):
        return words.decimal(value) if isinstance(value, float) else words.number(value)
    if isinstance(value, list):
        return ", ".join(_value(words, key, item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if key in ("status", "outcome", "browser"):
        return words.name(VALUE_NAMES, text)
    if key == "role":
        return words.name(ROLE_NAMES, text)
    if key == "channel":
        return words.name(CHANNEL_NAMES, text)
    if key.endswith(("_at", "_until")) or key in ("until", "print_by"):
        try:
            return words.moment(datetime.fromisoformat(text))
        except ValueError:
            return text
    return text


def _pairs(words: Words, value: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Before or After as (label, value) pairs in the operator's language; a key without a
    label shows as it is stored; internal keys (a fingerprint) are left out."""
    return [
        (words.name(FIELD_NAMES, key), _value(words, key, item))
        for key, item in (value or {}).items()
        if key not in HIDDEN_FIELDS
    ]


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
            "before": _pairs(words, entry.before),
            "after": _pairs(words, entry.after),
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
