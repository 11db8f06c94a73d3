"""Reimbursing shops: what each is owed, a draft run, its approval, the SEPA file."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from core.services import acts, back_office, operators, reimbursement
from core.services.operators import Role
from office.keys import CORE
from office.pages import render
from office.security import operator_of
from office.tables import Column, Table
from office.views.round import act_rows


async def reimbursement_page(request: web.Request) -> web.Response:
    operator = operator_of(request)
    core = request.app[CORE]
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        due = await reimbursement.pending_reimbursements(uow, town)
        staff = {o.id: o.username for o in await operators.of_municipality(uow, town.id)}
        done = [
            act
            for act in await acts.recent_acts(uow, town.id)
            if act.kind == acts.ActKind.REIMBURSEMENT.value and act.status == "approved"
        ]
    today = core.now().astimezone(ZoneInfo(town.timezone)).date()
    return await render(
        request,
        "reimbursement.html",
        {
            "town": town,
            "due": due,
            "total": sum(cents for _, cents in due),
            "today": today.isoformat(),
            "latest": reimbursement.latest_execution_date(town, core.now()).isoformat(),
            "waiting": await act_rows(request, operator, (acts.ActKind.REIMBURSEMENT,)),
            "done": [
                {
                    "id": act.id,
                    "at": act.decided_at,
                    "by": staff.get(act.decided_by_id or 0, ""),
                    "prepared_by": staff.get(act.prepared_by_id, ""),
                    "message_id": (act.outcome or {}).get("message_id", ""),
                    "total": int((act.outcome or {}).get("total_cents", 0)),
                }
                for act in done
            ],
            "may_prepare": operator.role != Role.VIEWER.value,
        },
    )


async def owed_download(request: web.Request) -> web.Response:
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
        rows=[[shop.id, shop.name, shop.vat_number, shop.iban, cents] for shop, cents in due],
    )
    return table.response(request.match_info["format"])


def add_routes(app: web.Application) -> None:
    app.router.add_get("/reimbursement", reimbursement_page, name="reimbursement")
    app.router.add_get(r"/reimbursement/owed.{format:csv|xlsx}", owed_download, name="owed_file")
