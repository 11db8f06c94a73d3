"""The activity log: read it, download it (CSV, .xlsx). Nothing here can change it."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from aiohttp import web

from core.domain.errors import Conflict, Refusal
from core.domain.messages import t
from core.services import activity, back_office
from core.services.operators import may_see_personal_data
from core.storage import models as m
from office.keys import CORE
from office.pages import render, words_for
from office.security import operator_of
from office.tables import Column, Table
from office.words import (
    CHANNEL_NAMES,
    FIELD_NAMES,
    HIDDEN_FIELDS,
    ROLE_NAMES,
    VALUE_NAMES,
    Words,
    action_name,
)

PAGE = 100
# A hundred million entries: more than any office writes.
MAX_PAGE = 1_000_000


def _json(value: dict[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


# Values typed by people (or names): shown as written, even one that looks like a date.
FREE_TEXT = frozenset({"reason", "note", "description", "name", "member", "seed", "pseudonym"})
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _text(words: Words, key: str, text: str) -> str:
    if key in ("status", "outcome", "browser"):
        return words.name(VALUE_NAMES, text)
    if key == "role":
        return words.name(ROLE_NAMES, text)
    if key == "channel":
        return words.name(CHANNEL_NAMES, text)
    if key == "requested_by":
        # Who asked, stored as the log's actors are ("chat:telegram", a username).
        return words.actor(text)
    if key in FREE_TEXT:
        return text
    # Days and moments are stored in ISO form ("2026-03-20", "2026-03-20T09:30:00+00:00"):
    # the page writes them as the office does (20/03/2026, 20/03/2026 10:30 Rome time).
    try:
        if ISO_DAY.fullmatch(text):
            return words.day(date.fromisoformat(text))
        if ISO_MOMENT.match(text):
            return words.moment(datetime.fromisoformat(text))
    except ValueError:
        pass
    return text


def _labelled(words: Words, label: str, value: str) -> str:
    return words.text(t("{label}: {value}", label=label, value=value))


def _shop_lines(words: Words, value: list[Any]) -> list[str] | None:
    """A reimbursement's shops, stored as [id, name, cents] each: one line per shop with its
    name and amount; None when they are not stored so."""
    if not value or not all(
        isinstance(item, list)
        and len(item) == 3
        and isinstance(item[1], str)
        and isinstance(item[2], int)
        for item in value
    ):
        return None
    return [_labelled(words, label=name, value=words.money(cents)) for _, name, cents in value]


def _value(words: Words, key: str, value: Any) -> str | list[str]:
    """One stored value as the page writes it: money, days, yes/no, names of statuses, a
    list as the language joins one; a reimbursement's shops one per line."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return words("yes") if value else words("no")
    if key.endswith("_cents") and isinstance(value, int):
        return words.money(value)
    if isinstance(value, int | float):
        return words.decimal(value) if isinstance(value, float) else words.number(value)
    if isinstance(value, list):
        if key == "shops" and (lines := _shop_lines(words, value)) is not None:
            return lines
        return words.join([_flat(words, key, item) for item in value])
    if isinstance(value, dict):
        return words.join(
            [
                _labelled(words, words.name(FIELD_NAMES, k), _flat(words, k, v))
                for k, v in value.items()
                if k not in HIDDEN_FIELDS
            ]
        )
    return _text(words, key, str(value))


def _flat(words: Words, key: str, value: Any) -> str:
    found = _value(words, key, value)
    return found if isinstance(found, str) else words.join(found)


def _pairs(words: Words, value: dict[str, Any] | None) -> list[tuple[str, str | list[str]]]:
    """Before or After as (label, value) pairs in the operator's language; a key without a
    label shows as it is stored; internal keys (a fingerprint) are left out."""
    return [
        (words.name(FIELD_NAMES, key), _value(words, key, item))
        for key, item in (value or {}).items()
        if key not in HIDDEN_FIELDS
    ]


def _action(words: Words, entry: m.ActivityEntry) -> str:
    return action_name(words, entry.action)


async def activity_page(request: web.Request) -> web.Response:
    operator = operator_of(request)
    core = request.app[CORE]
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page = 1
    if page > MAX_PAGE:
        # Its offset would not fit the database's integers.
        raise Conflict(Refusal.OFFICE_BAD_PAGE, most=MAX_PAGE)
    words = await words_for(request)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        entries = await activity.entries(
            uow, operator.municipality_id, limit=PAGE + 1, offset=(page - 1) * PAGE
        )
    rows = [
        {
            "when": words.moment(entry.created_at),
            "actor": words.actor(entry.actor, entry.action),
            "action": _action(words, entry),
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
    full = may_see_personal_data(operator)
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
                # A shop's chat is stored with its full number ("sms:+39…"): a viewer never
                # reads one, and gets who it was in words, masked.
                entry.actor if full else words.actor(entry.actor, entry.action),
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
