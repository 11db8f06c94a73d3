"""Appeals from the chat: the queue, and the decision (upheld or rejected) with its reason,
which goes back to the citizen. A viewer sees the queue without the citizens' words."""

from __future__ import annotations

from aiohttp import web

from core.domain.errors import Conflict, Refusal
from core.domain.messages import t
from core.services import acts, appeals, back_office
from core.services.operators import Role, may_see_personal_data
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
from office.views.forms import fields, see_other
from office.views.round import act_rows
from office.words import APPEAL_STATUS_NAMES, CHANNEL_NAMES


async def appeals_page(request: web.Request) -> web.Response:
    operator = operator_of(request)
    words = await words_for(request)
    personal = may_see_personal_data(operator)
    # Back from the confirmation with "No": that appeal's form as it was left.
    back = await refused_here(request)
    typed = back[0] if back is not None else {}
    async with request.app[CORE].uow() as uow:
        town = await back_office.town_of(uow, operator)
        found = await appeals.appeals_of(uow, town)
    rows = [
        {
            "id": item.appeal.id,
            "protocol": item.protocol,
            "received": item.appeal.created_at,
            "channel": words.name(CHANNEL_NAMES, item.appeal.channel),
            "status": item.appeal.status,
            "status_name": words.text(APPEAL_STATUS_NAMES[item.appeal.status]),
            # The citizen's own words may say anything about their life: not for viewers.
            "reason": item.appeal.reason if personal else None,
            "decided_at": item.appeal.decided_at,
            "decided_by": item.appeal.decided_by,
            "decision_reason": item.appeal.decision_reason,
        }
        for item in found
    ]
    return await render(
        request,
        "appeals.html",
        {
            "town": town,
            "queue": [row for row in rows if row["status"] == appeals.AppealStatus.OPEN.value],
            "decided": [row for row in rows if row["status"] != appeals.AppealStatus.OPEN.value],
            "may_decide": operator.role != Role.VIEWER.value,
            "typed": typed,
            "waiting": await act_rows(request, operator, (acts.ActKind.APPEAL_CORRECTION,)),
        },
    )


async def decide(request: web.Request) -> web.StreamResponse:
    """Decide an appeal: the button of the appeals page shows what will be sent to the
    citizen and asks to confirm; the confirmed form decides it."""
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    appeal_id = int(request.match_info["appeal"])
    words = await words_for(request)
    outcome, reason = form.get("outcome", ""), form.get("reason", "")
    if form.get("confirm") != "yes":
        # The button of the appeals page: first the page that says what deciding does
        # (sent to the citizen at once), with what was chosen and typed. The refusals
        # deciding would give are said here, before anything is asked.
        async with core.uow() as uow:
            town = await back_office.town_of(uow, operator)
            appeal, status, why = await appeals.decidable(
                uow, town, appeal_id, outcome, reason, operator
            )
            application = await uow.appeals.application(appeal.application_id)
            assert application is not None  # a foreign key
            page = await render(
                request,
                "appeal_decide.html",
                {
                    "appeal": appeal,
                    "protocol": application.protocol,
                    "outcome": status.value,
                    "decision": words.text(APPEAL_STATUS_NAMES[status.value]),
                    "reason": why,
                },
            )
        # A reason sent to a citizen is often read again and corrected: "No, go back"
        # finds it in the form, not an empty field to type it all again.
        await kept_for_the_way_back(
            request, "appeals", {"appeal": str(appeal.id), "outcome": outcome, "reason": reason}
        )
        return page
    try:
        async with core.uow() as uow:
            town = await back_office.town_of(uow, operator)
            appeal = await appeals.decide(
                uow, town, appeal_id, outcome, reason, core.now(), operator, confirmed=True
            )
            await uow.commit()
        await forget_the_way_back(request)
    except Conflict as error:
        # The service refuses a second decision (the appeal is no longer open), nothing
        # sent; the same decision confirmed twice (a double click, an old tab) lands where
        # the first landed.
        if error.code != Refusal.APPEAL_NOT_OPEN:
            raise
        async with core.uow() as uow:
            decided = await uow.appeals.by_id(appeal_id)
        if decided is None or decided.status != outcome:
            raise
        await notify(
            request,
            t(
                "Appeal {number} was already decided ({decision}): nothing was done twice, "
                "and the citizen was told once.",
                number=str(decided.id),
                decision=words.text(APPEAL_STATUS_NAMES[decided.status]),
            ),
        )
        raise see_other(request, "appeals") from None
    await notify(
        request,
        t(
            "Appeal {number}: {decision}. The citizen has been told.",
            number=str(appeal.id),
            decision=words.text(APPEAL_STATUS_NAMES[appeal.status]),
        ),
    )
    raise see_other(request, "appeals")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/appeals", appeals_page, name="appeals")
    app.router.add_post(r"/appeals/{appeal:\d{1,9}}/decide", decide, name="appeal_decide")
