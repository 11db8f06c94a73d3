"""The municipality's fund: what it received for the vouchers, its corrections, what the
determine commit of it (core.services.fund), what they left unassigned and the economie
that give it back (core.services.economia: an act under four eyes, prepared here through
the acts' form and approved in the list of acts waiting on this page)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from core.domain.errors import DomainError, InvalidAmount, Refusal
from core.domain.messages import Money, t
from core.services import acts, back_office, economia, fund
from core.services.operators import Role
from office.keys import CORE
from office.pages import (
    notify,
    refused_again,
    refused_here,
    render,
    says_nothing_changed,
    words_for,
)
from office.refusals import describe, status_of
from office.security import operator_of
from office.views.acts import economia_allocation, economia_field
from office.views.forms import fields, see_other
from office.views.round import act_rows


async def fund_page(request: web.Request) -> web.Response:
    refused = await refused_here(request)
    if refused is None:
        return await fund_form(request)
    typed, status = refused
    act_id, act_text = typed.pop("act_id", None), typed.pop("act_text", None)
    if isinstance(act_id, int) and isinstance(act_text, str):
        return await fund_form(request, status=status, act_problem={"id": act_id, "text": act_text})
    return await fund_form(request, typed, status)


# The refusals of what was typed on the fund's forms (a receipt, a correction), with the field
# each is about: said beside it, everything typed kept, so that a typo costs no retyping.
FIELD_REFUSALS: dict[str, str] = {
    Refusal.OFFICE_BAD_DATE: "received_on",
    Refusal.FUND_DATE_FUTURE: "received_on",
    Refusal.FUND_DATE_TOO_OLD: "received_on",
    Refusal.FUND_BAD_AMOUNT: "amount",
    Refusal.FUND_AMOUNT_IMPLAUSIBLE: "amount",
    Refusal.FUND_BAD_CORRECTION: "amount",
    Refusal.FUND_BELOW_COMMITTED: "amount",
    Refusal.FUND_DESCRIPTION_MISSING: "description",
    Refusal.FUND_DESCRIPTION_TOO_LONG: "description",
}


def refused_field(error: DomainError) -> str | None:
    """The field of a fund form a refusal is about (an amount not read as one is the
    amount's), or None for a refusal of the record itself (an entry not found...)."""
    if isinstance(error, InvalidAmount):
        return "amount"
    return FIELD_REFUSALS.get(error.code)


async def fund_form(
    request: web.Request,
    typed: dict[str, str] | None = None,
    status: int = 200,
    act_problem: dict[str, Any] | None = None,
) -> web.Response:
    """The page; after a refused field, the form it was typed on (`typed["form"]`: "record",
    or the id of the entry corrected) with what was typed and why beside that field
    (`typed["field"]`); after an
    economia act refused (approved, withdrawn), why beside that act (`act_problem`: its
    "id" and the "text" to say)."""
    operator = operator_of(request)
    core = request.app[CORE]
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        entries = list(await uow.fund.of_municipality(town.id))
        position = await fund.position(uow, town)
        rests = await economia.rests(uow, town)
        freed = list(await uow.fund.economie(town.id))
    tranches = {rest.allocation_id: rest for rest in rests}
    taken = {entry.id: 0 for entry in entries}
    for entry in entries:
        if entry.corrects_id is not None:
            taken[entry.corrects_id] -= entry.amount_cents
    rows: list[dict[str, Any]] = [
        {
            "entry": entry,
            "correctable": entry.corrects_id is None and entry.amount_cents > taken[entry.id],
            "still": entry.amount_cents - taken[entry.id] if entry.corrects_id is None else 0,
        }
        for entry in reversed(entries)
    ]
    today = core.now().astimezone(ZoneInfo(town.timezone)).date()
    # An economia refused for a determina that has no row (none such in the town): said
    # above the table rather than lost.
    given = (typed or {}).get("form", "")
    economia_problem = (
        (typed or {}).get("problem", "")
        if given.startswith("economia-")
        and given not in {f"economia-{rest.allocation_id}" for rest in rests}
        else ""
    )
    # A correction refused for an entry that offers none any more (taken back meanwhile, a
    # form kept from an old page): said above the entries rather than lost with its form.
    entry_problem = (
        (typed or {}).get("problem", "")
        if given.isdigit()
        and given not in {str(row["entry"].id) for row in rows if row["correctable"]}
        else ""
    )
    return await render(
        request,
        "fund.html",
        {
            "town": town,
            "position": position,
            "rows": rows,
            # Typed as the desk's form reads a date: day/month/year (application_csv).
            "today": f"{today:%d/%m/%Y}",
            "typed": typed or {},
            "may_record": operator.role != Role.VIEWER.value,
            # What each determina left unassigned, and the economie that freed some of it.
            "rests": rests,
            "economia_problem": economia_problem,
            "entry_problem": entry_problem,
            "economie": [
                {"economia": item, "rest": tranches.get(item.allocation_id)}
                for item in reversed(freed)
            ],
            "waiting": await act_rows(request, operator, (acts.ActKind.ECONOMIA,)),
            "act_problem": act_problem or {},
        },
        status=status,
    )


async def _field_refused(
    request: web.Request, error: DomainError, form: dict[str, str], which: str
) -> web.HTTPSeeOther:
    """The fund's page again by a GET (a reload sends nothing), the form `which` open with
    what was typed and why beside the field."""
    words = await words_for(request)
    return await refused_again(
        request,
        "fund",
        {key: form.get(key, "") for key in FIELDS},
        {
            "form": which,
            "field": refused_field(error) or "",
            "problem": words.text(describe(error)),
        },
        status_of(error),
    )


FIELDS = ("amount", "description", "received_on")
ECONOMIA_FORM = ("amount", "reference", "act_on")


async def economia_refused(
    request: web.Request, error: DomainError, form: dict[str, str]
) -> web.HTTPSeeOther:
    """The economia's form refused (office.views.acts.prepare): the page again with that
    determina's form open, what was typed kept, and why beside the field it is about; a
    refusal of the act itself (the tranche not credited, nothing left, another economia
    waiting) in that determina's row, saying that nothing changed. A wrong field of a form
    whose determina offers none any more (a page left open while its rest was freed) is
    said as what refuses that determina now, in its row; a form naming no determina above
    the table. Shown by a GET, as the fund's own forms (a reload sends nothing)."""
    words = await words_for(request)
    field = economia_field(error)
    if field is not None:
        try:
            allocation_id = economia_allocation(form)
            async with request.app[CORE].uow() as uow:
                town = await back_office.town_of(uow, operator_of(request))
                await economia.check_offered(uow, town, allocation_id)
        except DomainError as refused:
            error, field = refused, None
    return await refused_again(
        request,
        "fund",
        {key: form.get(key, "") for key in ECONOMIA_FORM},
        {
            # Its determina's id as sent: never more than the digits of an id.
            "form": f"economia-{form.get('allocation', '')[:12]}",
            "field": field or "",
            "problem": words.text(describe(error))
            if field
            else says_nothing_changed(words, describe(error)),
        },
        status_of(error),
    )


async def economia_act_refused(
    request: web.Request, act_id: int, error: DomainError
) -> web.HTTPSeeOther:
    """An economia act's approval or withdrawal refused (office.views.acts): the fund's page
    again with why beside that act in the acts waiting (above them when it waits no more:
    decided meanwhile by someone else), saying that nothing changed."""
    words = await words_for(request)
    said: dict[str, str | int] = {
        "act_id": act_id,
        "act_text": says_nothing_changed(words, describe(error)),
    }
    return await refused_again(request, "fund", {}, said, status_of(error))


async def record(request: web.Request) -> web.StreamResponse:
    """A receipt; one identical to an entry already recorded is shown again with the
    refusal and a box to tick when it is a second receipt on purpose."""
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    field_refused: DomainError | None = None
    async with core.uow() as uow:
        try:
            entry = await fund.record_by_operator(
                uow,
                operator,
                form.get("amount", ""),
                form.get("description", ""),
                form.get("received_on", ""),
                core.now(),
                again=form.get("again") == "yes",
            )
        except DomainError as error:
            if refused_field(error) is not None:
                field_refused = error  # said once this unit of work is closed (SQLite's lock)
            elif error.code != Refusal.FUND_DUPLICATE:
                raise
            else:
                # The refusal with the box that records it anyway: the same fields, sent again.
                return await render(
                    request,
                    "fund_again.html",
                    {
                        "message": (await words_for(request)).text(describe(error)),
                        "form": {key: form.get(key, "") for key in FIELDS},
                        "entry_id": error.params["entry_id"],
                    },
                    status=409,
                )
        else:
            await uow.commit()
    if field_refused is not None:
        raise await _field_refused(request, field_refused, form, "record")
    await notify(
        request,
        t(
            "Recorded in the fund: {amount} (entry {number}).",
            amount=Money(entry.amount_cents),
            number=str(entry.id),
        ),
    )
    raise see_other(request, "fund")


async def correct(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    entry_id = int(request.match_info["entry"])
    field_refused: DomainError | None = None
    async with core.uow() as uow:
        try:
            entry = await fund.correct_by_operator(
                uow,
                operator,
                entry_id,
                form.get("amount", ""),
                form.get("description", ""),
                form.get("received_on", ""),
                core.now(),
            )
        except DomainError as error:
            if refused_field(error) is None:
                raise
            field_refused = error  # said once this unit of work is closed (SQLite's lock)
        else:
            await uow.commit()
    if field_refused is not None:
        raise await _field_refused(request, field_refused, form, str(entry_id))
    await notify(
        request,
        t(
            "Entry {corrected} corrected: {amount} taken back (entry {number}).",
            corrected=str(entry_id),
            amount=Money(-entry.amount_cents),
            number=str(entry.id),
        ),
    )
    raise see_other(request, "fund")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/fund", fund_page, name="fund")
    app.router.add_post("/fund", record, name="fund_record")
    app.router.add_post(r"/fund/{entry:\d{1,9}}/correct", correct, name="fund_correct")
