"""The round: the window, the budget simulator, the determina and the credit (four eyes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from core.domain.allocation import Assignment
from core.domain.errors import Conflict, DomainError, Refusal
from core.domain.fund import MAX_AMOUNT_CENTS, plausible
from core.domain.messages import Money, t
from core.domain.money import parse_euro
from core.services import act_figures, acts, allocation, back_office, municipalities, operators
from core.services.applications import Answers
from core.services.operators import Role, require_role
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from office.keys import CORE
from office.pages import notify, render, words_for
from office.refusals import describe
from office.security import operator_of
from office.views.acts import (
    KIND_NAMES,
    corrected_answers,
    determina_lines,
    figures_of,
    fund_problem,
    summary,
    unspent_warning,
)
from office.views.documents import window_asked
from office.views.forms import fields, see_other
from office.words import Words

MAX_BUDGETS = 4


async def act_rows(
    request: web.Request, operator: m.Operator, kinds: tuple[acts.ActKind, ...]
) -> list[dict[str, Any]]:
    """The acts waiting for approval, with who prepared them, what this operator may do and,
    for a determina or a credit, what it will do if approved now."""
    words = await words_for(request)
    rows = []
    async with request.app[CORE].uow() as uow:
        town = await back_office.town_of(uow, operator)
        staff = {
            o.id: o.username for o in await operators.of_municipality(uow, operator.municipality_id)
        }
        for act in await acts.open_acts(uow, operator.municipality_id):
            kind = acts.ActKind(act.kind)
            if kind not in kinds:
                continue
            current = None
            if kind is acts.ActKind.APPEAL_CORRECTION:
                application = await uow.applications.by_protocol(str(act.params["protocol"]))
                current = Answers.of(application) if application is not None else None
            rows.append(
                {
                    "id": act.id,
                    "kind": words.text(KIND_NAMES[kind]),
                    "what": words.text(summary(act)),
                    "details": corrected_answers(act, words, current),
                    **await figures_of(uow, town, act, words),
                    "by": staff.get(act.prepared_by_id, ""),
                    "at": act.prepared_at,
                    "may_approve": operator.role == Role.MANAGER.value
                    and act.prepared_by_id != operator.id,
                    "may_withdraw": act.prepared_by_id == operator.id
                    or operator.role == Role.MANAGER.value,
                }
            )
    return rows


async def _credit_refusal(
    uow: UnitOfWork, town: m.Municipality, now: datetime, words: Words
) -> str:
    """Why the credit of a tranche cannot be prepared now, as preparing it would be refused
    (acts.check_preparable); empty when it can, and the button is offered."""
    try:
        await acts.check_preparable(uow, town, acts.ActKind.CREDIT, {}, now)
    except acts.ActAlreadyPrepared:
        return words.text(
            t("The credit of the approved tranche is prepared: it waits for approval below.")
        )
    except DomainError as error:
        return words.text(describe(error))
    return ""


async def round_page(request: web.Request) -> web.Response:
    operator = operator_of(request)
    core = request.app[CORE]
    words = await words_for(request)
    # Each field by its number on the form: a blank one is skipped, a bad one named.
    fields_given = [value.strip() for value in request.query.getall("budget", [])][:MAX_BUDGETS]
    columns: list[dict[str, Any]] = []
    problems: list[str] = []
    checking = request.query.get("determina", "").strip()
    check: dict[str, Any] | None = None
    check_problem = None
    # The tranches of any window (?window=N, as on the dashboard); the rest of the page is
    # the latest window's, the one the determina and the credit work on.
    asked = window_asked(request)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        figures = await back_office.dashboard(uow, operator, core.now())
        round_ = await municipalities.current_round(uow, town.id)
        tranches = await back_office.tranches(uow, operator, asked)
        windows = back_office.window_choices(await back_office.windows(uow, operator), core.now())
        # Said before "Open a new window" is pressed: opening is refused until a tranche
        # decides them (municipalities.open_window).
        never_allocated = (
            await uow.allocations.never_allocated(round_.id)
            if round_ is not None and not municipalities.is_open(round_, core.now())
            else 0
        )
        # The other refusal of opening said beforehand: an approved tranche waiting for its
        # credit (municipalities.check_open_window, which opening runs too).
        tranche_waiting = None
        if round_ is not None and not municipalities.is_open(round_, core.now()):
            try:
                await municipalities.check_open_window(uow, town, core.now())
            except Conflict as refusal:
                if refusal.code == Refusal.WINDOW_TRANCHE_WAITING:
                    tranche_waiting = refusal.params["tranche"]
        for number, text in enumerate(fields_given, start=1):
            if not text:
                continue
            try:
                budget = parse_euro(text)
                # A typo of digits: the limit of a determina's budget (core.domain.fund).
                if not plausible(budget):
                    problem = words.text(
                        t(
                            "It is not a plausible budget: at most {most}.",
                            most=Money(MAX_AMOUNT_CENTS),
                        )
                    )
                else:
                    result = await allocation.simulate(uow, town, budget)
                    problem = ""
            except DomainError as error:
                problem = words.text(describe(error))
            if problem:
                problems.append(
                    words.text(
                        t(
                            "Budget {number} ({value}): {problem}",
                            number=str(number),
                            value=text,
                            problem=problem,
                        )
                    )
                )
                continue
            column: dict[str, Any] = {"budget": budget, "text": text, "number": number}
            for key in Assignment:
                chosen = [i for i in result if i.line.assignment is key]
                column[key.value] = (len(chosen), sum(i.line.amount_cents for i in chosen))
            column["total"] = sum(i.line.amount_cents for i in result)
            column["served"] = sum(1 for i in result if i.line.amount_cents > 0)
            columns.append(column)
        may_prepare = operator.role != Role.VIEWER.value
        credit_refusal = await _credit_refusal(uow, town, core.now(), words) if may_prepare else ""
        if checking and may_prepare:
            # The determina's check before it is prepared: what the rules would allocate.
            try:
                determina = await act_figures.determina(uow, town, parse_euro(checking))
                check = {
                    "text": checking,
                    "figures": determina_lines(determina, words),
                    "unspent": unspent_warning(determina, words),
                    "fund_problem": fund_problem(determina, words),
                    # A determina of nothing: preparing it is refused (acts.check_determina).
                    "pays_nobody": words.text(
                        describe(
                            Conflict(
                                Refusal.ALLOCATION_PAYS_NOBODY,
                                budget_cents=determina.budget_cents,
                            )
                        )
                    )
                    if determina.pays_nobody
                    else "",
                }
            except DomainError as error:
                check_problem = words.text(describe(error))
    waiting = await act_rows(
        request,
        operator,
        (acts.ActKind.DETERMINA, acts.ActKind.CREDIT, acts.ActKind.REVOCATION),
    )
    return await render(
        request,
        "round.html",
        {
            "town": town,
            "d": figures,
            "columns": columns,
            "budgets": fields_given + [""] * (MAX_BUDGETS - len(fields_given)),
            "problems": problems,
            "checking": checking,
            "check": check,
            "check_problem": check_problem,
            "waiting": waiting,
            "tranches": tranches,
            "shown": tranches.window.number if tranches.window is not None else None,
            "windows": windows,
            "never_allocated": never_allocated,
            "tranche_waiting": tranche_waiting,
            "may_prepare": may_prepare,
            "credit_refusal": credit_refusal,
        },
    )


def _whole(text: str) -> int:
    """A whole number from a field, or the office's refusal of it."""
    try:
        return int(text.strip())
    except ValueError as exc:
        raise Conflict(Refusal.OFFICE_BAD_NUMBER) from exc


def _days(text: str) -> int | None:
    """The window's length as typed (empty: the policy's)."""
    return _whole(text) if text.strip() else None


def _shown(form: dict[str, str]) -> int:
    """The window the confirmation page named (its hidden field): one opened or closed since
    it was shown is refused, not replaced by another (municipalities.check_open_window,
    municipalities.close_window)."""
    return _whole(form.get("number", ""))


async def window_open_page(request: web.Request) -> web.Response:
    """What opening a new window means, and the button that does it. The same refusals as
    opening it (a window still open, a tranche waiting, applications never allocated, a bad
    number of days) are said here, before anything is asked."""
    operator = operator_of(request)
    core = request.app[CORE]
    require_role(operator, *back_office.PREPARERS)
    typed = request.query.get("days", "").strip()
    days = _days(typed)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        window = await municipalities.check_open_window(uow, town, core.now(), days)
        previous = (
            await back_office.dashboard(uow, operator, core.now(), window.previous.number)
            if window.previous is not None
            else None
        )
    return await render(
        request,
        "round_open.html",
        {"town": town, "window": window, "days": typed, "previous": previous},
    )


async def window_open(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    days = _days(form.get("days", ""))
    if form.get("confirm") != "yes" or not form.get("number"):
        # The button of the round page (or a page that named no window): first the page
        # that says which window opens and what opening it means.
        url = request.app.router["window_open_page"].url_for()
        raise web.HTTPSeeOther(url.with_query(days=str(days)) if days is not None else url)
    async with core.uow() as uow:
        done = await back_office.open_window(
            uow, operator, core.now(), days, confirmed=True, expected_number=_shown(form)
        )
    number = str(done.round.number)
    await notify(
        request,
        t("Application window {number} was already open: nothing was done twice.", number=number)
        if done.already
        else t("Application window {number} is open.", number=number),
    )
    raise see_other(request, "round")


async def window_close_page(request: web.Request) -> web.Response:
    """What closing the window early means, and the button that does it."""
    operator = operator_of(request)
    core = request.app[CORE]
    require_role(operator, *back_office.PREPARERS)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        figures = await back_office.dashboard(uow, operator, core.now())
    return await render(request, "round_close.html", {"town": town, "d": figures})


async def window_close(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    if form.get("confirm") != "yes" or not form.get("number"):
        # The button of the round page (or a page that named no window): first the page
        # that says which window closes and what closing means.
        raise see_other(request, "window_close_page")
    async with core.uow() as uow:
        done = await back_office.close_window(
            uow, operator, core.now(), confirmed=True, expected_number=_shown(form)
        )
    number = str(done.round.number)
    await notify(
        request,
        t("Application window {number} was already closed: nothing was done twice.", number=number)
        if done.already
        else t("Application window {number} is closed.", number=number),
    )
    raise see_other(request, "round")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/round", round_page, name="round")
    app.router.add_get("/round/window/open", window_open_page, name="window_open_page")
    app.router.add_post("/round/window/open", window_open, name="window_open")
    app.router.add_get("/round/window/close", window_close_page, name="window_close_page")
    app.router.add_post("/round/window/close", window_close, name="window_close")
