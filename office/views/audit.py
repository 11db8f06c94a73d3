"""Checks on self-declarations: the sample to check (the first draw binds), the outcome of
each check, revocations of false declarations (prepared from each application's page), the
sums to recover, and undoing a revocation made by mistake; revocations and their undoing go
through four eyes."""

from __future__ import annotations

from aiohttp import web

from core.domain.errors import Conflict, Refusal
from core.domain.messages import t, tn
from core.services import acts, audit, back_office, municipalities
from core.services.operators import Role
from core.storage import models as m
from office.keys import CORE
from office.pages import (
    forget_the_way_back,
    kept_for_the_way_back,
    notify,
    refused_here,
    render,
    words_for,
)
from office.security import operator_of
from office.tables import Column, Table
from office.views.documents import personal_file, window_asked
from office.views.forms import fields
from office.views.round import act_rows

OUTCOME_NAMES = {
    audit.CheckOutcome.CONFIRMED.value: t("confirmed"),
    audit.CheckOutcome.DISCREPANCY.value: t("discrepancy found"),
}


def _number(text: str) -> int | None:
    """A window's number as typed in a form or an address, else None."""
    return int(text) if text.isdigit() and len(text) <= 9 else None


async def audit_page(request: web.Request) -> web.Response:
    """The checks of one window, named on the page: `?window=N`, else the latest closed
    window (the one whose declarations can be checked), else the latest."""
    operator = operator_of(request)
    words = await words_for(request)
    core = request.app[CORE]
    now = core.now()
    # One reading of ?window= for every page: a bad number is the same 409 everywhere.
    asked = window_asked(request)
    # Back from the draw's confirmation with "No": the per cent, seed and reason as left.
    back = await refused_here(request)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        windows = await back_office.windows(uow, operator)
        shown: m.Round | None
        if asked is not None:
            shown = await audit.window_of(uow, town, asked)
        else:
            closed = [w for w in windows if not municipalities.is_open(w, now)]
            shown = (closed or windows)[-1] if windows else None
        draws = await back_office.samples(uow, shown) if shown else []
        checks = await audit.checks(uow, town)
        to_recover = await audit.sums_to_recover(uow, town)
        undoing = {
            str(act.params.get("protocol"))
            for act in await acts.open_acts(uow, town.id, acts.ActKind.REVOCATION_UNDO)
        }
    return await render(
        request,
        "audit.html",
        {
            "town": town,
            "windows": [(w.number, municipalities.is_open(w, now)) for w in windows],
            "window": shown.number if shown else None,
            "window_open": municipalities.is_open(shown, now),
            "binding": draws[0] if draws else None,
            "later": draws[1:],
            "may_prepare": operator.role != Role.VIEWER.value,
            "checks": checks,
            "outcomes": {key: words.text(name) for key, name in OUTCOME_NAMES.items()},
            "to_recover": to_recover,
            "total_to_recover": sum(row.to_recover_cents for row in to_recover),
            "undoing": undoing,
            "waiting": await act_rows(
                request, operator, (acts.ActKind.REVOCATION, acts.ActKind.REVOCATION_UNDO)
            ),
            "typed": back[0] if back is not None else {},
        },
    )


def _audit_of(request: web.Request, window: int | None) -> web.HTTPSeeOther:
    """Back to the checks page of the window the form was about."""
    target = request.app.router["audit"].url_for()
    if window is not None:
        target = target.with_query(window=str(window))
    return web.HTTPSeeOther(str(target))


async def draw(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    confirmed = form.get("confirm") == "yes"
    async with core.uow() as uow:
        try:
            protocols = await back_office.draw_sample(
                uow,
                operator,
                form.get("window", ""),
                form.get("percent", ""),
                form.get("seed", ""),
                core.now(),
                form.get("reason", ""),
                confirmed=confirmed,
            )
        except Conflict as error:
            if confirmed or error.code != Refusal.OFFICE_NOT_CONFIRMED:
                raise
            # The button of the checks' page: first the page that says the draw cannot be
            # undone, with what was typed (checked: its refusals are said before this).
            asked = {key: form.get(key, "").strip() for key in ("window", "percent", "seed")}
            reason = " ".join(form.get("reason", "").split())
            page = await render(request, "audit_draw_confirm.html", {**asked, "reason": reason})
            # "No, go back" finds what was typed in the form, to correct, not type again.
            await kept_for_the_way_back(request, "audit", {**asked, "reason": reason})
            return page
    # Both were read by the draw: they are a window's number and a seed.
    window, seed = int(form["window"]), int(form["seed"])
    await forget_the_way_back(request)
    await notify(
        request,
        tn(
            "Window {window}: {count} application drawn with seed {seed}; the draw is recorded.",
            "Window {window}: {count} applications drawn with seed {seed}; the draw is recorded.",
            len(protocols),
            seed=str(seed),
            window=str(window),
        ),
    )
    raise _audit_of(request, window)


async def check(request: web.Request) -> web.StreamResponse:
    """The outcome of checking one sampled application (recorded again: corrected)."""
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        recorded = await audit.record_check(
            uow,
            town,
            form.get("protocol", ""),
            form.get("outcome", ""),
            form.get("note", ""),
            core.now(),
            operator,
        )
        await uow.commit()
    words = await words_for(request)
    await notify(
        request,
        t(
            "Outcome recorded for {protocol}: {outcome}.",
            protocol=form.get("protocol", "").upper(),
            outcome=words.text(OUTCOME_NAMES[recorded.outcome]),
        ),
    )
    raise _audit_of(request, _number(form.get("window", "")))


def recovery_table(code: str, rows: list[audit.ToRecover]) -> Table:
    """The sums to recover as downloaded (CSV and .xlsx; also `admin audit recover --out`)."""
    return Table(
        name=f"to-recover-{code}",
        columns=[
            Column("protocol"),
            Column("revoked_at_utc"),
            Column("credited_eur", money=True),
            Column("returned_eur", money=True),
            Column("to_recover_eur", money=True),
            Column("reason"),
        ],
        rows=[
            [
                row.protocol,
                row.revoked_at.isoformat(),
                row.credited_cents,
                row.returned_cents,
                row.to_recover_cents,
                row.reason or "",
            ]
            for row in rows
        ],
    )


async def recovery_download(request: web.Request) -> web.Response:
    operator = operator_of(request)
    async with request.app[CORE].uow() as uow:
        town = await back_office.town_of(uow, operator)
        rows = await audit.sums_to_recover(uow, town)
        # Who owes the town what, and why: people's data, as the applications' file.
        return await personal_file(request, uow, operator, recovery_table(town.code, rows))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/audit", audit_page, name="audit")
    app.router.add_post("/audit/draw", draw, name="audit_draw")
    app.router.add_post("/audit/check", check, name="audit_check")
    app.router.add_get(
        r"/audit/to-recover.{format:csv|xlsx}", recovery_download, name="audit_recover_file"
    )
