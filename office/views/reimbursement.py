"""Reimbursing shops: what each is owed, a draft run, its approval, the SEPA file."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from core.domain.messages import t
from core.services import acts, back_office, ledger, operators, reimbursement
from core.services.operators import Role
from office import personal
from office.keys import CORE
from office.pages import refused_here, render, words_for
from office.security import operator_of
from office.tables import Column, Table
from office.views.acts import sepa_response
from office.views.documents import personal_file
from office.views.round import act_rows
from office.words import Words


def run_row(run: reimbursement.Run, staff: dict[int, str], words: Words) -> dict[str, Any]:
    """One run as the page lists it: when, its message id, total and execution date, who
    ordered it (the act's preparer and approver, or the command line's actor) and its file."""
    act = run.act
    if act is not None:
        by = t(
            "prepared by {preparer}, approved by {approver}",
            preparer=staff.get(act.prepared_by_id, "—"),
            approver=staff.get(act.decided_by_id or 0, "—"),
        )
    elif run.ordered_by is not None:
        by = t("command line ({actor})", actor=run.ordered_by)
    else:
        by = t("command line")
    settlement = run.settlement
    return {
        "id": settlement.id,
        # A run approved in the office keeps its act's address for the file.
        "act": act.id if act is not None and act.document is not None else None,
        "at": settlement.created_at,
        "by": words.text(by),
        "message_id": settlement.message_id,
        "total": settlement.total_cents,
        "execution_date": (
            words.day(settlement.execution_date) if settlement.execution_date else ""
        ),
        "file": run.has_file,
    }


async def reimbursement_page(request: web.Request) -> web.Response:
    refused = await refused_here(request)
    if refused is None:
        return await reimbursement_form(request)
    typed, status = refused
    return await reimbursement_form(
        request, str(typed.get("execution_date", "")), str(typed.get("problem", "")), status
    )


async def reimbursement_form(
    request: web.Request, typed: str | None = None, problem: str = "", status: int = 200
) -> web.Response:
    """The page; after a refused execution date, with the day as typed and why beside it."""
    operator = operator_of(request)
    words = await words_for(request)
    core = request.app[CORE]
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        due = await reimbursement.pending_reimbursements(uow, town)
        total = await ledger.owed_to_shops(uow, town.id)
        staff = {o.id: o.username for o in await operators.of_municipality(uow, town.id)}
        # Every run that paid shops, approved here or ordered on the command line.
        done = await reimbursement.runs(uow, town.id)
    return await render(
        request,
        "reimbursement.html",
        {
            "town": town,
            "due": due,
            "total": total,
            # A SEPA transfer executes on a TARGET2 business day: on a Saturday, a Sunday or
            # a bank holiday the form proposes the next one.
            # Typed as the desk's form reads a date: day/month/year (application_csv).
            "default_day": typed
            if typed is not None
            else f"{reimbursement.default_execution_date(town, core.now()):%d/%m/%Y}",
            "date_problem": problem,
            # The days the form accepts, said in its hint (a text field has no min and max).
            "first_day": f"{core.now().astimezone(ZoneInfo(town.timezone)).date():%d/%m/%Y}",
            "last_day": f"{reimbursement.latest_execution_date(town, core.now()):%d/%m/%Y}",
            "waiting": await act_rows(request, operator, (acts.ActKind.REIMBURSEMENT,)),
            "done": [run_row(run, staff, words) for run in done],
            "may_prepare": operator.role != Role.VIEWER.value,
        },
        status=status,
    )


async def owed_download(request: web.Request) -> web.Response:
    """What each shop is owed, with its P.IVA and IBAN (a viewer's masked): logged as every
    file of personal data."""
    operator = operator_of(request)
    async with request.app[CORE].uow() as uow:
        town = await back_office.town_of(uow, operator)
        due = await reimbursement.pending_reimbursements(uow, town)
        table = Table(
            name=f"owed-{town.code}",
            columns=[
                Column("shop_id"),
                Column("name"),
                Column("partita_iva"),
                Column("iban"),
                Column("amount_eur", money=True),
            ],
            rows=[
                [shop.id, shop.name, shop.vat_number, personal.iban(operator, shop.iban), cents]
                for shop, cents in due
            ],
        )
        return await personal_file(request, uow, operator, table)


async def run_file(request: web.Request) -> web.Response:
    """A run's SEPA file, whoever ordered it, for the operators of its municipality."""
    operator = operator_of(request)
    async with request.app[CORE].uow() as uow:
        kept = await reimbursement.run_file(
            uow, operator.municipality_id, int(request.match_info["run"])
        )
        if kept is None:
            raise web.HTTPNotFound()
        reference, xml = kept
        return await sepa_response(request, uow, operator, reference, xml)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/reimbursement", reimbursement_page, name="reimbursement")
    app.router.add_get(r"/reimbursement/owed.{format:csv|xlsx}", owed_download, name="owed_file")
    app.router.add_get(r"/reimbursement/runs/{run:\d{1,9}}/sepa.xml", run_file, name="run_sepa")
