"""Acts under four eyes: prepare, approve (a manager who did not prepare), withdraw."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from aiohttp import web

from core.domain.application_csv import italian_day
from core.domain.errors import Conflict, DomainError, InvalidAmount, Refusal
from core.domain.messages import Day, Moment, Money, Text, t, tn
from core.domain.money import format_plain, parse_euro
from core.domain.sepa import summarize
from core.services import (
    act_figures,
    activity,
    acts,
    audit,
    back_office,
    economia,
    fund,
    reimbursement,
)
from core.services.applications import Answers
from core.services.operators import Role, require_role
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from core.storage.repositories.results import DeterminaRest
from office.keys import CORE
from office.pages import notify, refused_again, words_for
from office.refusals import describe, status_of
from office.security import operator_of
from office.views.application_desk import answers_of
from office.views.forms import back_or, fields
from office.words import Words

# Where each kind of act is listed while it waits, and where its forms go back to unless
# they name the page they were on (a revocation is prepared on the application's page).
HOME = {
    acts.ActKind.DETERMINA: "round",
    acts.ActKind.CREDIT: "round",
    acts.ActKind.REIMBURSEMENT: "reimbursement",
    acts.ActKind.REVOCATION: "audit",
    acts.ActKind.REVOCATION_UNDO: "audit",
    acts.ActKind.APPEAL_CORRECTION: "appeals",
    acts.ActKind.ECONOMIA: "fund",
}
KIND_NAMES = {
    acts.ActKind.DETERMINA: t("Determina (approval of the tranche)"),
    acts.ActKind.CREDIT: t("Credit of the approved tranche"),
    acts.ActKind.REIMBURSEMENT: t("Reimbursement of the shops"),
    acts.ActKind.REVOCATION: t("Revocation"),
    acts.ActKind.REVOCATION_UNDO: t("Undoing of a revocation"),
    acts.ActKind.APPEAL_CORRECTION: t("Correction of an application on an upheld appeal"),
    acts.ActKind.ECONOMIA: t("Economia (the unassigned rest of a determina back to the fund)"),
}


# A reimbursement's execution date refused: said beside the field, the day typed kept in it.
EXECUTION_DATE_REFUSALS = frozenset(
    {
        Refusal.OFFICE_BAD_DATE,
        Refusal.REIMBURSEMENT_EXECUTION_DATE_PAST,
        Refusal.REIMBURSEMENT_EXECUTION_DATE_TOO_LATE,
        Refusal.REIMBURSEMENT_EXECUTION_DATE_CLOSED,
    }
)


# An economia's form refused: which of its fields is wrong, said beside it on the fund's page.
ECONOMIA_FIELDS: dict[str, str] = {
    Refusal.OFFICE_BAD_DATE: "act_on",
    Refusal.ECONOMIA_DATE_FUTURE: "act_on",
    Refusal.ECONOMIA_DATE_TOO_OLD: "act_on",
    Refusal.ECONOMIA_DATE_BEFORE_DETERMINA: "act_on",
    Refusal.ECONOMIA_REFERENCE_MISSING: "reference",
    Refusal.ECONOMIA_REFERENCE_TOO_LONG: "reference",
    Refusal.ECONOMIA_BAD_AMOUNT: "amount",
}


def economia_field(error: DomainError) -> str | None:
    """The field of the economia's form a refusal is about (an amount not read as one is
    the amount's), or None for a refusal of the act itself (a tranche not credited...)."""
    if isinstance(error, InvalidAmount):
        return "amount"
    return ECONOMIA_FIELDS.get(error.code)


def economia_allocation(form: dict[str, str]) -> int:
    """The determina an economia's form names (its hidden field), refused when it names none:
    a form made by hand or kept from an old page, which the clerk is told to send again from
    the determina's row."""
    typed = form.get("allocation", "").strip()
    if not typed.isascii() or not typed.isdigit() or len(typed) > 9:
        raise Conflict(Refusal.ECONOMIA_NO_DETERMINA)
    return int(typed)


def _kind(value: str) -> acts.ActKind:
    try:
        return acts.ActKind(value)
    except ValueError as exc:
        raise Conflict(Refusal.ACT_KIND_MISSING) from exc


def _params(kind: acts.ActKind, form: dict[str, str], today: date) -> dict[str, Any]:
    if kind is acts.ActKind.DETERMINA:
        params: dict[str, Any] = {"budget_cents": parse_euro(form.get("budget", ""))}
        if form.get("confirm", "").strip():
            params["confirm_cents"] = parse_euro(form["confirm"])
        return params
    if kind is acts.ActKind.REIMBURSEMENT:
        # Read as the desk's form reads a date: 31/12/2026 (or 2026-12-31).
        typed = form.get("execution_date", "")
        day = italian_day(typed)
        if day is None:
            raise Conflict(Refusal.OFFICE_BAD_DATE, example=today.isoformat(), value=typed)
        return {"execution_date": day.isoformat()}
    if kind is acts.ActKind.APPEAL_CORRECTION:
        return {
            "protocol": form.get("protocol", ""),
            "reason": form.get("reason", ""),
            **asdict(answers_of(form)),
        }
    if kind in acts.PER_PROTOCOL:
        return {"protocol": form.get("protocol", ""), "reason": form.get("reason", "")}
    if kind is acts.ActKind.ECONOMIA:
        # Which determina first: a form naming none says so, whatever else it holds.
        allocation_id = economia_allocation(form)
        typed = form.get("act_on", "")
        day = italian_day(typed)
        if day is None:
            raise Conflict(Refusal.OFFICE_BAD_DATE, example=today.isoformat(), value=typed)
        amount = form.get("amount", "").strip()
        return {
            "allocation_id": allocation_id,
            # Blank: all the determina's rest (core.services.economia).
            "amount_cents": parse_euro(amount) if amount else None,
            "reference": form.get("reference", ""),
            "act_on": day.isoformat(),
        }
    return {}


def summary(act: m.OfficeAct) -> Text:
    """What the act does, in a sentence for the list of acts waiting."""
    kind = acts.ActKind(act.kind)
    if kind is acts.ActKind.DETERMINA:
        return t("Budget {amount}", amount=Money(int(act.params["budget_cents"])))
    if kind is acts.ActKind.REIMBURSEMENT:
        day = Day(date.fromisoformat(str(act.params["execution_date"])))
        if "until" not in act.params:
            return t("Execution date {day}", day=day)
        return t(
            "Execution date {day}; what shops earned up to {moment}",
            day=day,
            moment=Moment(datetime.fromisoformat(str(act.params["until"]))),
        )
    if kind is acts.ActKind.ECONOMIA:
        return t(
            "Free {amount} of tranche {tranche} of window {window}: {reference} of {day}",
            amount=Money(int(act.params["amount_cents"])),
            tranche=str(act.params["tranche"]),
            window=str(act.params["window"]),
            reference=str(act.params["reference"]),
            day=Day(date.fromisoformat(str(act.params["act_on"]))),
        )
    if kind in acts.PER_PROTOCOL:
        return t(
            "{protocol}: {reason}",
            protocol=str(act.params["protocol"]),
            reason=str(act.params["reason"]),
        )
    return t("The tranche approved last")


def determina_lines(figures: act_figures.DeterminaFigures, words: Words) -> list[str]:
    """What a determina allocates, line by line: the preparer's check and the approver's."""
    said = [
        t(
            "Tranche {tranche}, budget {budget}.",
            tranche=str(figures.tranche),
            budget=Money(figures.budget_cents),
        ),
        tn(
            "List 1: {count} household, {amount}.",
            "List 1: {count} households, {amount}.",
            figures.list1,
            amount=Money(figures.list1_cents),
        ),
        tn(
            "List 2: {count} household, {amount}.",
            "List 2: {count} households, {amount}.",
            figures.list2,
            amount=Money(figures.list2_cents),
        ),
        tn("Excluded: {count} household.", "Excluded: {count} households.", figures.excluded),
        tn(
            "Allocated: {amount} to {count} household.",
            "Allocated: {amount} to {count} households.",
            figures.households,
            amount=Money(figures.allocated_cents),
        ),
        t("Left in the budget: {amount}.", amount=Money(figures.left_cents)),
    ]
    if figures.fund is not None:
        said += [
            t("Fund of the municipality: {amount}.", amount=Money(figures.fund.fund_cents)),
            t(
                "Already committed by other determine (approved or waiting): {amount}.",
                amount=Money(figures.fund.committed_cents),
            ),
            t(
                "Left in the fund for this determina: {amount}.",
                amount=Money(figures.fund.left_cents),
            ),
        ]
    return [words.text(line) for line in said]


def fund_problem(figures: act_figures.DeterminaFigures, words: Words) -> str:
    """Why the fund cannot cover this determina (its approval would be refused), or ""."""
    if figures.within_fund:
        return ""
    if figures.fund is None:
        return words.text(describe(Conflict(Refusal.FUND_NONE)))
    return words.text(
        describe(
            Conflict(
                Refusal.FUND_EXCEEDED,
                budget_cents=figures.budget_cents,
                left_cents=figures.fund.left_cents,
                fund_cents=figures.fund.fund_cents,
                committed_cents=figures.fund.committed_cents,
            )
        )
    )


def unspent_warning(figures: act_figures.DeterminaFigures, words: Words) -> str:
    if not figures.unspent_cents:
        return ""
    return words.text(
        t(
            "{amount} would stay unspent: every household would already get all it is due.",
            amount=Money(figures.unspent_cents),
        )
    )


def rest_lines(
    rest: DeterminaRest, amount_cents: int, left_cents: int | None, words: Words
) -> list[str]:
    """What a determina left unassigned, for the manager who approves an economia, and what
    approving it does: the amount freed, the fund's rest for new determine before and after
    (`left_cents`, None without a fund), what stays unassigned of the determina."""
    after = []
    if left_cents is not None and 0 < amount_cents <= rest.rest_cents:  # else refused: warned
        after.append(
            words.text(
                t(
                    "Approving it frees {amount}: what is left for new determine goes from "
                    "{before} to {after}; {rest} of tranche {tranche} stays unassigned.",
                    amount=Money(amount_cents),
                    before=Money(left_cents),
                    after=Money(left_cents + amount_cents),
                    rest=Money(rest.rest_cents - amount_cents),
                    tranche=str(rest.tranche),
                )
            )
        )
    return [
        words.text(
            t(
                "Tranche {tranche} of window {window}: budget {budget}, allocated {allocated}, "
                "already freed {freed}; left unassigned now {rest}.",
                tranche=str(rest.tranche),
                window=str(rest.window),
                budget=Money(rest.budget_cents),
                allocated=Money(rest.allocated_cents),
                freed=Money(rest.freed_cents),
                rest=Money(rest.rest_cents),
            )
        ),
        *after,
    ]


def credit_lines(figures: act_figures.CreditFigures, words: Words) -> list[str]:
    said = [
        tn(
            "Tranche {tranche}: {amount} to credit to {count} household.",
            "Tranche {tranche}: {amount} to credit to {count} households.",
            figures.households,
            tranche=str(figures.tranche),
            amount=Money(figures.total_cents),
        ),
        tn("{count} notice will be sent.", "{count} notices will be sent.", figures.notices),
    ]
    if figures.skipped_households:
        # Why the credit pays less than the determina: the manager compares the two.
        said += [
            tn(
                "The determina gave {amount} to {count} household.",
                "The determina gave {amount} to {count} households.",
                figures.households + figures.skipped_households,
                amount=Money(figures.total_cents + figures.skipped_cents),
            ),
            tn(
                "Skipped: {count} household, its application revoked after the determina: "
                "{amount} not paid.",
                "Skipped: {count} households, their applications revoked after the "
                "determina: {amount} not paid.",
                figures.skipped_households,
                amount=Money(figures.skipped_cents),
            ),
            # docs/allocation.md: the fund counts the budget, not what was paid.
            t(
                "What is not paid stays in the municipality's account, but the determina "
                "still commits its whole budget of the fund: to use it again, record it as a "
                "new entry on the fund page."
            ),
        ]
    return [words.text(line) for line in said]


def revocation_lines(figures: audit.Revocation, words: Words) -> list[str]:
    """What approving a revocation does now: the money it takes back, the sum it leaves to
    recover and the payments it cancels, so the manager does not approve it blind."""
    said: list[Text] = [
        t(
            "Taken back from the citizen's vouchers to the fund: {amount}.",
            amount=Money(figures.returned_cents),
        ),
        t(
            "Already spent, to recover from the household: {amount}.",
            amount=Money(figures.to_recover_cents),
        ),
    ]
    if figures.cancelled_charges:
        said.append(
            tn(
                "Cancelled: {count} payment waiting for the citizen's code.",
                "Cancelled: {count} payments waiting for the citizen's code.",
                figures.cancelled_charges,
            )
        )
    return [words.text(line) for line in said]


def undo_lines(figures: audit.UndoFigures, words: Words) -> tuple[list[str], list[str]]:
    """(lines, warnings) of undoing a revocation: what goes back to the citizen, and the
    tranches the undoing does not pay (docs/appeals.md)."""
    said = [
        t(
            "Back on the citizen's vouchers: {amount} (what the revocation returned to the fund).",
            amount=Money(figures.restored_cents),
        ),
        t(
            "Sum to recover cancelled: {amount}.",
            amount=Money(figures.cancelled_recovery_cents),
        ),
    ]
    warnings = [
        t(
            "Tranche {tranche} was credited while the application stood revoked: its {amount} "
            "will not be paid after the undoing.",
            tranche=str(item.tranche),
            amount=Money(item.cents),
        )
        for item in figures.skipped
    ]
    warnings.append(
        t(
            "A tranche credited before this act is approved skips the application and is not "
            "paid afterwards."
        )
    )
    return [words.text(line) for line in said], [words.text(line) for line in warnings]


def reimbursement_lines(figures: act_figures.ReimbursementFigures, words: Words) -> list[str]:
    """What a reimbursement pays, shop by shop, and its total: the approver's check."""
    said = [
        t("{shop}: {amount}", shop=item.name, amount=Money(item.cents)) for item in figures.shops
    ]
    said.append(
        tn(
            "Total: {amount} to {count} shop.",
            "Total: {amount} to {count} shops.",
            len(figures.shops),
            amount=Money(figures.total_cents),
        )
    )
    return [words.text(line) for line in said]


async def reimbursement_figures(
    uow: UnitOfWork, town: m.Municipality, act: m.OfficeAct, words: Words
) -> tuple[list[str], list[str], str]:
    """(lines, warnings, fingerprint) of a waiting reimbursement: the amounts it recorded,
    and what is different now (paid later, or a refund that would refuse it)."""
    now_owed = await act_figures.reimbursement(uow, town)
    recorded = act_figures.recorded_reimbursement(act.params)
    shown = now_owed if recorded is None else recorded
    try:
        await reimbursement.check_no_run_since(uow, town, acts.reimbursement_cutoff(act))
    except reimbursement.PaidSince as error:
        # Another run paid the shops since: said as that, not as one shop's refund.
        said = t(
            "A reimbursement run (SEPA message {reference}, {day}) was ordered after this act "
            "was prepared: approval would be refused, so that nobody is paid twice. Withdraw "
            "it and prepare a new one.",
            reference=str(error.params["message_id"]),
            day=Day(date.fromisoformat(str(error.params["day"]))),
        )
        return reimbursement_lines(shown, words), [words.text(said)], shown.state
    if recorded is None:
        return reimbursement_lines(now_owed, words), [], now_owed.state
    warnings = []
    owed = {item.shop_id: item.cents for item in now_owed.shops}
    for item in recorded.shops:
        if owed.get(item.shop_id, 0) < item.cents:
            warnings.append(
                words.text(
                    t(
                        "{shop} is now owed {owed}, less than this act pays (a refund since "
                        "it was prepared): approval would be refused. Withdraw it and prepare "
                        "a new one.",
                        shop=item.name,
                        owed=Money(owed.get(item.shop_id, 0)),
                    )
                )
            )
    later = now_owed.total_cents - recorded.total_cents
    if later > 0 and not warnings:
        warnings.append(
            words.text(
                t(
                    "Shops earned {amount} after this act was prepared: it is not in this act "
                    "and waits for the next reimbursement.",
                    amount=Money(later),
                )
            )
        )
    return reimbursement_lines(recorded, words), warnings, recorded.state


async def figures_of(
    uow: UnitOfWork, town: m.Municipality, act: m.OfficeAct, words: Words
) -> dict[str, Any]:
    """A waiting determina's or credit's figures as they are now, what changed since it was
    prepared, and the fingerprint the approval sends back; a reimbursement's as it recorded
    them; what undoing a revocation gives back and leaves unpaid, with its fingerprint as a
    credit's (empty for other acts)."""
    kind = acts.ActKind(act.kind)
    warnings: list[str] = []
    try:
        if kind is acts.ActKind.DETERMINA:
            determina = await act_figures.determina(
                uow, town, int(act.params["budget_cents"]), act_id=act.id
            )
            lines, state = determina_lines(determina, words), determina.state
            if not determina.within_fund:
                warnings.append(fund_problem(determina, words))
            if determina.unspent_cents:
                warnings.append(unspent_warning(determina, words))
            simulator = format_plain(determina.budget_cents)
        elif kind is acts.ActKind.CREDIT:
            credit = await act_figures.credit(uow, town)
            lines, state, simulator = credit_lines(credit, words), credit.state, ""
            prepared_for = act.params.get("tranche")
            if prepared_for is not None and int(prepared_for) != credit.tranche:
                warnings.append(
                    words.text(
                        describe(
                            Conflict(
                                Refusal.ACT_OTHER_TRANCHE,
                                prepared=int(prepared_for),
                                waiting=credit.tranche,
                            )
                        )
                    )
                )
        elif kind is acts.ActKind.REIMBURSEMENT:
            lines, notes, state = await reimbursement_figures(uow, town, act, words)
            return {"figures": lines, "warnings": notes, "state": state, "simulator": ""}
        elif kind is acts.ActKind.REVOCATION:
            revocation = await audit.revocation_figures(uow, town, str(act.params["protocol"]))
            # No fingerprint: the declaration is what is decided, and the figures are the
            # balance at the approval, which the revocation takes whatever it is then.
            lines, state, simulator = revocation_lines(revocation, words), "", ""
        elif kind is acts.ActKind.REVOCATION_UNDO:
            undo = await audit.undo_figures(uow, town, str(act.params["protocol"]))
            lines, warnings = undo_lines(undo, words)
            state, simulator = act_figures.undo_state(undo), ""
        elif kind is acts.ActKind.ECONOMIA:
            rest = await economia.rest_of(uow, town, int(act.params["allocation_id"]))
            amount = int(act.params["amount_cents"])
            now = await fund.position(uow, town)
            left = None if now is None else now.left_cents
            lines, state, simulator = rest_lines(rest, amount, left, words), "", ""
            # Refused at approval as it would be now (freed meanwhile): said beforehand.
            economia.check(rest, int(act.params["amount_cents"]))
        else:
            return {"figures": [], "warnings": [], "state": "", "simulator": ""}
    except DomainError as error:
        return {
            "figures": [],
            "warnings": [words.text(describe(error))],
            "state": "",
            "simulator": "",
        }
    if act.params.get("state") not in (None, state):
        changed = (
            # A tranche credited meanwhile: it skips the application, the undoing won't pay it.
            t(
                "What this undoing gives back or leaves unpaid changed since it was prepared: "
                "these are the figures now."
            )
            if kind is acts.ActKind.REVOCATION_UNDO
            else t(
                "The applications changed since the act was prepared: these are the figures now."
            )
        )
        warnings.append(words.text(changed))
    return {"figures": lines, "warnings": warnings, "state": state, "simulator": simulator}


def corrected_answers(act: m.OfficeAct, words: Words, current: Answers | None = None) -> str:
    """The answers an appeal correction would give the application, for the manager who
    approves it: each one that changes as before → after (`current`, the application's
    answers now), the others as they stay."""
    if act.kind != acts.ActKind.APPEAL_CORRECTION.value:
        return ""
    answers = acts.answers_in(act.params)

    def yes_no(value: bool) -> str:
        return words.text(t("yes") if value else t("no"))

    def said(source: Answers) -> list[tuple[Text, str]]:
        return [
            (t("Members"), words.number(source.household_size)),
            (t("Work income"), yes_no(source.has_work_income)),
            (t("Pension"), yes_no(source.has_pension)),
            (t("Liquidity"), words.money(source.liquidity_cents)),
            (t("Public support a month"), words.money(source.public_support_monthly_cents)),
            (t("Rent a month"), words.money(source.rent_monthly_cents)),
        ]

    after = said(answers)
    before = said(current) if current is not None else after
    changed = [
        words.text(t("{label}: {before} → {after}", label=words.text(label), before=old, after=new))
        for (label, new), (_, old) in zip(after, before, strict=True)
        if old != new
    ]
    same = [
        f"{words.text(label)}: {new}"
        for (label, new), (_, old) in zip(after, before, strict=True)
        if old == new
    ]
    if current is None:
        return "; ".join(same)
    kept = words.text(t("unchanged: {answers}", answers="; ".join(same))) if same else ""
    return "; ".join([*changed, *([kept] if kept else [])])


async def prepare(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    kind = _kind(form.get("kind", ""))
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
    try:
        params = _params(kind, form, core.now().astimezone(ZoneInfo(town.timezone)).date())
        async with core.uow() as uow:
            act = await acts.prepare(uow, operator, kind, params, core.now())
    except DomainError as error:
        if isinstance(error, acts.ActAlreadyPrepared) and error.params.get("again"):
            # The second click of a double click, or the form sent again: the first made
            # the draft, which waits on the page the first click landed on.
            await notify(request, describe(error))
            raise back_or(request, form, HOME[kind]) from None
        if kind is acts.ActKind.ECONOMIA:
            # The economia's form refused: the fund's page again, that form open with what
            # was typed, why beside the field (as the fund's own forms), or in the
            # determina's row when the act itself is refused (nothing left, already waiting).
            from office.views.fund import economia_refused  # it imports this module

            raise await economia_refused(request, error, form) from None
        if kind is not acts.ActKind.REIMBURSEMENT or error.code not in EXECUTION_DATE_REFUSALS:
            raise
        # A bad execution date: the page again by a GET (a reload sends nothing), the day
        # as typed in its field, why beside it.
        words = await words_for(request)
        raise await refused_again(
            request,
            "reimbursement",
            {"execution_date": form.get("execution_date", "")},
            {"problem": words.text(describe(error))},
            status_of(error),
        ) from None
    await notify(
        request,
        t(
            "Prepared: act {number}. Another operator with the manager role must approve it.",
            number=str(act.id),
        ),
    )
    raise back_or(request, form, HOME[kind])


async def _refused_beside_act(
    request: web.Request, operator: m.Operator, act_id: int, error: DomainError
) -> NoReturn:
    """An economia's approval or withdrawal refused (approved meanwhile by another manager,
    its rest freed since, no reason given): said on the fund's page beside the act, the
    unit of work that refused it rolled back. Any other act's refusal: the refusal page."""
    try:
        async with request.app[CORE].uow() as uow:
            act = await acts.get(uow, operator, act_id)
    except DomainError:
        raise error from None  # no such act in this town: said as the refusal says it
    if act.kind != acts.ActKind.ECONOMIA.value:
        raise error
    from office.views.fund import economia_act_refused  # it imports this module

    raise await economia_act_refused(request, act_id, error)


async def _done_already(
    request: web.Request, form: dict[str, str], error: DomainError, status: str
) -> None:
    """The second click of a double click (or an old tab) on an act already in the state
    the click leads to (`status`): the service refused it and nothing ran again; said as a
    notice on the page the first click landed on (who decided it and when), not as a
    refusal that reads like a failure of the first."""
    if not isinstance(error, acts.ActNotOpen) or error.params.get("status") != status:
        return
    async with request.app[CORE].uow() as uow:
        act = await acts.get(uow, operator_of(request), int(str(error.params["act_id"])))
    await notify(request, describe(error))
    raise back_or(request, form, HOME[acts.ActKind(act.kind)])


async def approve(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    act_id = int(request.match_info["act"])
    form = await fields(request)
    try:
        async with core.uow() as uow:
            act = await acts.approve(uow, operator, act_id, core.now(), form.get("seen") or None)
    except DomainError as error:
        await _done_already(request, form, error, "approved")
        await _refused_beside_act(request, operator, act_id, error)
    await notify(request, approved_notice(act))
    raise back_or(request, form, HOME[acts.ActKind(act.kind)])


def approved_notice(act: m.OfficeAct) -> Text:
    """What an approval did and, where the work goes on elsewhere, what to do next: a
    determina credits nobody until its credit is prepared and approved; a reimbursement
    pays nobody until its SEPA file is uploaded to the bank."""
    kind = acts.ActKind(act.kind)
    outcome = act.outcome or {}
    number = str(act.id)
    if kind is acts.ActKind.DETERMINA and "tranche" in outcome:
        return t(
            "Act {number} approved and carried out: tranche {tranche} assigns {amount}, and "
            'nobody is credited yet. Next, prepare its credit under "Prepare an act" on the '
            'page "The round".',
            number=number,
            tranche=str(outcome["tranche"]),
            amount=Money(int(outcome.get("allocated_cents", 0))),
        )
    if kind is acts.ActKind.REIMBURSEMENT and "total_cents" in outcome:
        return t(
            "Act {number} approved and carried out: {amount} to the shops. Next, download its "
            'SEPA file under "Reimbursement runs" on the page "Reimbursement" and upload it '
            "to the bank: the shops are paid on {day} once the bank has it.",
            number=number,
            amount=Money(int(outcome["total_cents"])),
            day=Day(date.fromisoformat(str(act.params["execution_date"]))),
        )
    return t("Act {number} approved and carried out.", number=number)


async def withdraw(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    act_id = int(request.match_info["act"])
    form = await fields(request)
    try:
        async with core.uow() as uow:
            act = await acts.withdraw(uow, operator, act_id, form.get("reason", ""), core.now())
    except DomainError as error:
        await _done_already(request, form, error, "withdrawn")
        await _refused_beside_act(request, operator, act_id, error)
    await notify(request, t("Act {number} withdrawn.", number=str(act.id)))
    raise back_or(request, form, HOME[acts.ActKind(act.kind)])


async def sepa_response(
    request: web.Request, uow: UnitOfWork, operator: m.Operator, reference: str, xml: bytes
) -> web.Response:
    """A run's SEPA file (the shops' names and IBANs, some of them one person's business),
    written in the activity log as every download of personal data (who, which file, how
    many transfers) in the transaction that read it. Not for a viewer: the file exists to be
    sent to the bank, and a viewer sees an IBAN only masked."""
    require_role(operator, Role.CLERK, Role.MANAGER)
    file = f"{reference}.xml"
    await activity.exported(
        uow,
        operator.municipality_id,
        operator,
        file,
        rows=summarize(xml)[0],
        masked=False,
        now=request.app[CORE].now(),
    )
    return web.Response(
        body=xml,
        headers={
            "Content-Type": "application/xml",
            "Content-Disposition": f'attachment; filename="{file}"',
        },
    )


async def sepa_file(request: web.Request) -> web.Response:
    operator = operator_of(request)
    core = request.app[CORE]
    async with core.uow() as uow:
        act = await acts.get(uow, operator, int(request.match_info["act"]))
        if act.kind != acts.ActKind.REIMBURSEMENT.value or act.document is None:
            raise web.HTTPNotFound()
        reference = str((act.outcome or {}).get("message_id", act.id))
        return await sepa_response(request, uow, operator, reference, act.document)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/acts", prepare, name="act_prepare")
    app.router.add_post(r"/acts/{act:\d{1,9}}/approve", approve, name="act_approve")
    app.router.add_post(r"/acts/{act:\d{1,9}}/withdraw", withdraw, name="act_withdraw")
    app.router.add_get(r"/acts/{act:\d{1,9}}/sepa.xml", sepa_file, name="act_sepa")
