"""Four eyes: acts that move money are prepared by one operator and approved by another.

A clerk (or a manager) prepares the determina of a tranche, its credit, a reimbursement run,
a revocation, the undoing of a revocation made by mistake, the correction of an application
on an upheld appeal or an economia (freeing what a credited determina left unassigned); a
manager who is NOT the one who prepared it approves it, and only then does the underlying
service run (core.services.allocation, reimbursement, audit, appeal_remedy, economia), in
the same transaction as the approval and its activity-log entry.
The database refuses an approved act whose approver is its preparer (CHECK four_eyes on
office_acts), a second open draft of a kind (of an application, for the acts about one:
uq_office_acts_open), and a second decision of one act: approval and withdrawal take the
act by a compare-and-set (OfficeActRepository.decide) before anything else, so that of
two clicks at once one runs and the other is told the act is no longer open.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from core.domain.errors import Conflict, NotAllowed, NotFound, Refusal
from core.services import (
    act_figures,
    activity,
    allocation,
    appeal_remedy,
    audit,
    economia,
    fund,
    reimbursement,
)
from core.services.applications import Answers
from core.services.municipalities import current_round, is_open
from core.services.operators import Role, RoleRefused, require_role
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

MAX_REASON = 300


class ActKind(StrEnum):
    DETERMINA = "determina"
    CREDIT = "credit"
    REIMBURSEMENT = "reimbursement"
    REVOCATION = "revocation"
    REVOCATION_UNDO = "revocation_undo"
    APPEAL_CORRECTION = "appeal_correction"
    # The town's act freeing what a credited determina left unassigned (core.services.economia).
    ECONOMIA = "economia"


# Acts about one application: one open draft per protocol (not per kind).
PER_PROTOCOL = (ActKind.REVOCATION, ActKind.REVOCATION_UNDO, ActKind.APPEAL_CORRECTION)


def answers_in(params: dict[str, Any]) -> Answers:
    """The corrected answers an appeal correction carries in its parameters."""
    return Answers(
        household_size=int(params["household_size"]),
        has_work_income=bool(params["has_work_income"]),
        has_pension=bool(params["has_pension"]),
        liquidity_cents=int(params["liquidity_cents"]),
        public_support_monthly_cents=int(params["public_support_monthly_cents"]),
        rent_monthly_cents=int(params["rent_monthly_cents"]),
    )


class SamePerson(NotAllowed):
    """Whoever prepared an act cannot approve it."""

    code = "act.same_person"


class ActNotOpen(Conflict):
    code = "act.not_open"


async def already_decided(uow: UnitOfWork, act: m.OfficeAct) -> ActNotOpen:
    """The refusal of a decision on an act another one already took: which (approved and
    carried out, or withdrawn and why), by whom and when. The second click of a double
    click, or a page left open in another tab, must not leave the manager wondering
    whether the money moved."""
    decider = None if act.decided_by_id is None else await uow.operators.by_id(act.decided_by_id)
    return ActNotOpen(
        act_id=act.id,
        status=act.status,
        decided_by="" if decider is None else decider.username,
        decided_at="" if act.decided_at is None else act.decided_at.isoformat(),
        reason=str((act.outcome or {}).get("reason", "")),
    )


class ActAlreadyPrepared(Conflict):
    """A draft of this kind already waits (`act_id`). `again` when it is the very draft the
    operator asks for (theirs, the same figures asked): a "Prepare" clicked twice, which
    lands on that draft instead of reading as a refusal."""

    code = "act.already_prepared"


def given_reason(text: str) -> str:
    """A reason as logged: spaces collapsed, required, at most MAX_REASON characters."""
    reason = " ".join(text.split())
    if not reason:
        raise Conflict(Refusal.ACT_REASON_MISSING)
    if len(reason) > MAX_REASON:
        raise Conflict(Refusal.ACT_REASON_TOO_LONG, limit=MAX_REASON)
    return reason


async def open_acts(
    uow: UnitOfWork, municipality_id: int, kind: ActKind | None = None
) -> list[m.OfficeAct]:
    return list(await uow.acts.prepared(municipality_id, kind.value if kind else None))


async def recent_acts(uow: UnitOfWork, municipality_id: int, limit: int = 50) -> list[m.OfficeAct]:
    return list(await uow.acts.recent(municipality_id, limit))


async def get(uow: UnitOfWork, operator: m.Operator, act_id: int) -> m.OfficeAct:
    """The act, when it belongs to the operator's municipality (else: not found)."""
    act = await uow.acts.by_id(act_id)
    if act is None or act.municipality_id != operator.municipality_id:
        raise NotFound(Refusal.ACT_NOT_FOUND, act_id=act_id)
    return act


async def _check_preparable(
    uow: UnitOfWork, town: m.Municipality, kind: ActKind, params: dict[str, Any], now: datetime
) -> None:
    """What can be known before approval is checked now, so that a draft is not doomed."""
    round_ = await current_round(uow, town.id)
    if kind in (ActKind.DETERMINA, ActKind.CREDIT):
        if round_ is None:
            raise NotFound(Refusal.ROUND_NONE)
        if kind is ActKind.DETERMINA:
            latest = await uow.allocations.latest(round_.id)
            if is_open(round_, now):
                raise Conflict(Refusal.WINDOW_STILL_OPEN)
            if latest is not None and latest.credited_at is None:
                raise Conflict(Refusal.ALLOCATION_NOT_YET_CREDITED, tranche=latest.tranche)
            if int(params["budget_cents"]) <= 0:
                raise Conflict(Refusal.ACT_BAD_BUDGET)
            fund.check_plausible_budget(int(params["budget_cents"]))
        elif await uow.allocations.waiting(round_.id) is None:
            # As allocation.credit finds it: approved, neither credited nor withdrawn.
            raise NotFound(Refusal.ALLOCATION_NONE)
    elif kind is ActKind.REIMBURSEMENT:
        if not town.iban:
            raise reimbursement.MunicipalityHasNoIban(municipality=town.code)
        if not await reimbursement.pending_reimbursements(uow, town):
            raise reimbursement.NothingToReimburse(municipality=town.code)
        # Refused now, not only at approval: a draft the manager could never approve.
        reimbursement.check_execution_date(
            town, now, date.fromisoformat(str(params["execution_date"]))
        )
    elif kind is ActKind.REVOCATION:
        await audit.check_revocable(uow, town, str(params["protocol"]))
    elif kind is ActKind.REVOCATION_UNDO:
        await audit.check_undoable(uow, town, str(params["protocol"]))
    elif kind is ActKind.APPEAL_CORRECTION:
        await appeal_remedy.check_correctable(
            uow, town, str(params["protocol"]), answers_in(params)
        )
    elif kind is ActKind.ECONOMIA:
        await economia.check_preparable(uow, town, params)


async def check_preparable(
    uow: UnitOfWork, town: m.Municipality, kind: ActKind, params: dict[str, Any], now: datetime
) -> None:
    """Refused as prepare refuses a draft of this kind before looking at its figures: what
    it needs is missing, or one is already waiting (one open draft per kind, per protocol
    for a revocation or its undoing). The office's pages ask it before offering a button."""
    await _check_preparable(uow, town, kind, params, now)
    await _check_none_open(uow, town, kind, params, None)


def _protocol(kind: ActKind, params: dict[str, Any]) -> str:
    """The open-draft key beside the kind (office_acts.protocol): the application an act
    is about, "" for the town's acts."""
    return str(params["protocol"]) if kind in PER_PROTOCOL else ""


async def _check_none_open(
    uow: UnitOfWork,
    town: m.Municipality,
    kind: ActKind,
    params: dict[str, Any],
    operator: m.Operator | None,
) -> None:
    for act in await open_acts(uow, town.id, kind):
        if kind not in PER_PROTOCOL or act.params.get("protocol") == params["protocol"]:
            raise ActAlreadyPrepared(
                kind=kind.value, act_id=act.id, again=_asked_again(act, operator, params)
            )


def _asked_again(act: m.OfficeAct, operator: m.Operator | None, params: dict[str, Any]) -> bool:
    """The waiting draft is what `operator` asks for now: theirs, every figure they give
    the same (a draft records more than it is given: the tranche, the cut-off)."""
    return (
        operator is not None
        and act.prepared_by_id == operator.id
        and all(act.params.get(key) == value for key, value in params.items())
    )


def check_determina(determina: act_figures.DeterminaFigures, confirmed: int | None) -> None:
    """A budget given a second time (`confirmed`) that is not the budget is refused first:
    one of the two is a typo, and which one is not known. A determina that pays and decides
    nobody is refused whatever is typed (allocation.approve refuses it again); one whose
    budget the rules cannot spend in full only when the budget was given a second time,
    identical, the second time knowing what stays unspent."""
    if confirmed is not None and confirmed != determina.budget_cents:
        raise Conflict(
            Refusal.ACT_BUDGET_MISMATCH,
            budget_cents=determina.budget_cents,
            confirmed_cents=confirmed,
        )
    if determina.pays_nobody:
        raise Conflict(Refusal.ALLOCATION_PAYS_NOBODY, budget_cents=determina.budget_cents)
    if determina.unspent_cents and confirmed != determina.budget_cents:
        raise Conflict(
            Refusal.ACT_BUDGET_UNSPENT,
            unspent_cents=determina.unspent_cents,
            budget_cents=determina.budget_cents,
        )


async def approve_determina(
    uow: UnitOfWork,
    town: m.Municipality,
    budget_cents: int,
    now: datetime,
    *,
    confirmed: int | None,
) -> tuple[act_figures.DeterminaFigures, m.Allocation, list[allocation.AllocatedApplication]]:
    """The command line's determina (`admin approve`, no four eyes): the same checks as an
    act prepared in the office (check_determina), then approved at once. The caller
    commits."""
    # In the order allocation.approve refuses: an open window, then the fund (a typo of a
    # budget is told it has no money), then what the rules would do with it.
    if is_open(await allocation.round_of(uow, town), now):
        raise Conflict(Refusal.WINDOW_STILL_OPEN)
    fund.check_plausible_budget(budget_cents)
    await fund.check_budget(uow, town, budget_cents)
    determina = await act_figures.determina(uow, town, budget_cents)
    check_determina(determina, confirmed)
    record, result = await allocation.approve(uow, town, budget_cents, now)
    return determina, record, result


async def prepare(
    uow: UnitOfWork,
    operator: m.Operator,
    kind: ActKind,
    params: dict[str, Any],
    now: datetime,
) -> m.OfficeAct:
    """A draft for a manager to approve. One open draft per kind (per protocol for a
    revocation or its undoing): a second one would let two approvals run the same money
    twice."""
    require_role(operator, Role.CLERK, Role.MANAGER)
    town = await uow.municipalities.by_id(operator.municipality_id)
    assert town is not None
    if kind in PER_PROTOCOL:
        given = params
        params = {
            "protocol": str(given.get("protocol", "")).strip().upper(),
            "reason": given_reason(str(given.get("reason", ""))),
        }
        if kind is ActKind.APPEAL_CORRECTION:
            params |= asdict(answers_in(given))
    confirmed = params.get("confirm_cents")
    if kind is ActKind.DETERMINA:
        params = {"budget_cents": int(params["budget_cents"])}
    elif kind is ActKind.CREDIT:
        params = {}
    elif kind is ActKind.REIMBURSEMENT:
        params = {"execution_date": str(params["execution_date"])}
    elif kind is ActKind.ECONOMIA:
        # The determina, the amount (its whole rest when none is given), the act's reference
        # and day; checked here as the approval checks them.
        params = await economia.prepared_params(uow, town, params, now)
    await _check_preparable(uow, town, kind, params, now)
    asked = dict(params)  # what the operator gave, before the draft records its figures
    await _check_none_open(uow, town, kind, asked, operator)
    if kind is ActKind.DETERMINA:
        # Within what is left of the town's fund, counting the determine approved and those
        # waiting (none of this kind can wait beside it, but a command-line approval can
        # commit meanwhile: the town stays locked until this act is committed).
        await fund.check_budget(uow, town, params["budget_cents"])
        # What the rules would allocate with this budget, recorded with the act: a budget
        # they cannot spend (every household at its full amount) is prepared only when
        # the amount is given twice, the second time knowing what stays unspent.
        determina = await act_figures.determina(uow, town, params["budget_cents"])
        check_determina(determina, confirmed)
        params |= {"tranche": determina.tranche, "state": determina.state}
        if determina.unspent_cents:
            params["unspent_cents"] = determina.unspent_cents
    elif kind is ActKind.CREDIT:
        credit = await act_figures.credit(uow, town)
        params = {"tranche": credit.tranche, "state": credit.state}
    elif kind is ActKind.REIMBURSEMENT:
        # What each shop is owed now, the cut-off: approval pays exactly this, and what
        # shops earn after it waits for the next reimbursement.
        owed = await act_figures.reimbursement(uow, town)
        params |= {"until": now.isoformat(), **act_figures.reimbursement_params(owed)}
    elif kind is ActKind.REVOCATION_UNDO:
        # What it gives back and leaves unpaid, as the preparer was shown: approval runs on
        # those figures or on the ones its approver saw, never on others (_check_state).
        undo = await audit.undo_figures(uow, town, params["protocol"])
        params["state"] = act_figures.undo_state(undo)
    act = m.OfficeAct(
        municipality_id=town.id,
        kind=kind.value,
        protocol=_protocol(kind, params),
        status="prepared",
        params=params,
        prepared_by_id=operator.id,
        prepared_at=now,
    )
    if not await uow.acts.add_open(act):
        # Another draft of this kind committed since check_preparable read none (a "Prepare"
        # sent twice, two operators): the database kept the first, refused as it would be.
        await _check_none_open(uow, town, kind, asked, operator)
        raise ActAlreadyPrepared(kind=kind.value)
    await activity.by_operator(
        uow, operator, f"{kind.value}.prepare", subject=f"#{act.id}", after=params, now=now
    )
    await uow.commit()
    return act


def reimbursement_cutoff(act: m.OfficeAct) -> datetime:
    """The moment a reimbursement act read what shops are owed: its `until`, else (acts
    prepared before it was recorded) its preparation."""
    until = act.params.get("until")
    return datetime.fromisoformat(str(until)) if until else act.prepared_at


def _check_state(act: m.OfficeAct, state: str, seen: str | None) -> bool:
    """An act runs on the figures its approver saw (`seen`, the office page sends them) or,
    without them, on those of its preparation: when the applications changed since, it is
    refused, and the figures must be looked at again. True when they changed since the
    preparation (the approver saw the new ones)."""
    prepared = act.params.get("state")
    expected = seen if seen is not None else prepared
    if expected is not None and expected != state:
        raise Conflict(Refusal.ACT_FIGURES_CHANGED, act_id=act.id)
    return prepared is not None and prepared != state


async def approve(
    uow: UnitOfWork, operator: m.Operator, act_id: int, now: datetime, seen: str | None = None
) -> m.OfficeAct:
    """A manager other than the preparer approves: the act runs now, and is committed here
    with its money, its notices and its activity row, in one transaction.

    A determina, a credit or the undoing of a revocation is checked against the state now:
    `seen` is the fingerprint of the figures the approver was shown
    (core.services.act_figures). A reimbursement pays exactly the amounts it recorded
    when prepared (and shows)."""
    act = await get(uow, operator, act_id)
    require_role(operator, Role.MANAGER)
    if act.prepared_by_id == operator.id:
        raise SamePerson(act_id=act.id)
    # Taken first, by a compare-and-set in this transaction: of two approvals at once (a
    # double click, two managers) one runs the act and the other is refused here, before
    # any effect; a refusal further on rolls the taking back with the rest.
    if not await uow.acts.decide(act, "approved", operator.id, now):
        raise await already_decided(uow, act)
    town = await uow.municipalities.by_id(act.municipality_id)
    assert town is not None
    kind = ActKind(act.kind)
    outcome: dict[str, Any]
    if kind is ActKind.DETERMINA:
        budget = int(act.params["budget_cents"])
        record, lines = await allocation.approve(uow, town, budget, now, act_id=act.id)
        # The lines just frozen, not a simulation beside them: what runs is what is checked.
        state = act_figures.determina_state(record.round_id, record.tranche, budget, lines)
        outcome = {
            "tranche": record.tranche,
            "allocation_id": record.id,
            "households": sum(1 for item in lines if item.line.amount_cents > 0),
            "allocated_cents": sum(item.line.amount_cents for item in lines),
            "changed_since_preparation": _check_state(act, state, seen),
        }
    elif kind is ActKind.CREDIT:
        figures = await act_figures.credit(uow, town)
        prepared_for = act.params.get("tranche")
        if prepared_for is not None and int(prepared_for) != figures.tranche:
            raise Conflict(
                Refusal.ACT_OTHER_TRANCHE, prepared=int(prepared_for), waiting=figures.tranche
            )
        changed = _check_state(act, figures.state, seen)
        result = await allocation.credit(uow, town, now)
        if (result.citizens, result.total_cents) != (figures.households, figures.total_cents):
            # Changed between the figures and the credit's locks (a revocation committing
            # meanwhile): refused whole, the caller rolls the postings back.
            raise Conflict(Refusal.ACT_FIGURES_CHANGED, act_id=act.id)
        outcome = {
            "tranche": result.tranche,
            "households": result.citizens,
            "credited_cents": result.total_cents,
            "notices": result.notices,
            "changed_since_preparation": changed,
        }
    elif kind is ActKind.REIMBURSEMENT:
        day = date.fromisoformat(str(act.params["execution_date"]))
        # Another run ordered after the act's cut-off (the command line's) paid what the
        # act recorded: said as that, before any shop's amount is found short.
        await reimbursement.check_no_run_since(uow, town, reimbursement_cutoff(act))
        recorded = act_figures.recorded_reimbursement(act.params)
        if recorded is None:
            # Prepared before acts recorded their amounts: what is owed now, as shown.
            now_owed = await act_figures.reimbursement(uow, town)
            _check_state(act, now_owed.state, seen)
            settlement, xml = await reimbursement.settle(uow, town, now, day)
        else:
            # Exactly what was prepared and shown; the fingerprint never changes, so a
            # different one means the approver looked at another act's figures.
            _check_state(act, recorded.state, seen)
            settlement, xml = await reimbursement.settle(
                uow,
                town,
                now,
                day,
                covers=[(item.shop_id, item.cents) for item in recorded.shops],
                until=datetime.fromisoformat(str(act.params["until"])),
            )
            if settlement.total_cents != recorded.total_cents:
                raise Conflict(Refusal.ACT_FIGURES_CHANGED, act_id=act.id)
        outcome = {"message_id": settlement.message_id, "total_cents": settlement.total_cents}
        act.document = xml
    elif kind is ActKind.REVOCATION:
        revocation = await audit.revoke(
            uow,
            town,
            str(act.params["protocol"]),
            now,
            reason=str(act.params.get("reason", "")) or None,
            act_id=act.id,
        )
        outcome = {
            "returned_cents": revocation.returned_cents,
            "to_recover_cents": revocation.to_recover_cents,
            "cancelled_charges": revocation.cancelled_charges,
        }
    elif kind is ActKind.ECONOMIA:
        freed = await economia.free(
            uow,
            town,
            int(act.params["allocation_id"]),
            int(act.params["amount_cents"]),
            str(act.params["reference"]),
            date.fromisoformat(str(act.params["act_on"])),
            now,
            actor=operator.username,
            operator_id=operator.id,
            act_id=act.id,
        )
        outcome = {
            "economia_id": freed.economia.id,
            "freed_cents": freed.economia.amount_cents,
            "rest_cents": freed.rest.rest_cents,
        }
    elif kind is ActKind.APPEAL_CORRECTION:
        application = await appeal_remedy.correct(
            uow,
            town,
            str(act.params["protocol"]),
            answers_in(act.params),
            str(act.params["reason"]),
            now,
            operator,
            act_id=act.id,
        )
        outcome = {"protocol": application.protocol, "decision_notified_at": None}
    else:
        protocol = str(act.params["protocol"])
        undo = await audit.undo_figures(uow, town, protocol)
        changed = _check_state(act, act_figures.undo_state(undo), seen)
        undoing = await audit.undo_revocation(
            uow, town, protocol, str(act.params["reason"]), now, operator, act_id=act.id
        )
        outcome = {
            "restored_cents": undoing.restored_cents,
            "cancelled_recovery_cents": undoing.cancelled_recovery_cents,
            "citizen_told": undoing.told,
            "changed_since_preparation": changed,
        }
    act.outcome = outcome
    await uow.flush()
    await activity.by_operator(
        uow,
        operator,
        f"{kind.value}.approve",
        subject=f"#{act.id}",
        before={"status": "prepared", **act.params},
        after={"status": "approved", **outcome},
        now=now,
    )
    await uow.commit()
    return act


async def withdraw(
    uow: UnitOfWork, operator: m.Operator, act_id: int, reason: str, now: datetime
) -> m.OfficeAct:
    """The preparer takes a draft back, or a manager turns it down, with a reason."""
    act = await get(uow, operator, act_id)
    if act.prepared_by_id != operator.id:
        if Role(operator.role) != Role.MANAGER:
            # Whoever prepared it may too: the refusal says so, not "only a manager".
            raise RoleRefused(role=operator.role, needed="manager", or_preparer=True)
    else:
        require_role(operator, Role.CLERK, Role.MANAGER)
    if act.status != "prepared":
        raise await already_decided(uow, act)
    why = given_reason(reason)
    # Compare-and-set, as approve: an approval (or another withdrawal) that won meanwhile
    # keeps the act, and this one is refused with nothing written.
    if not await uow.acts.decide(act, "withdrawn", operator.id, now):
        raise await already_decided(uow, act)
    act.outcome = {"reason": why}
    await uow.flush()
    await activity.by_operator(
        uow,
        operator,
        f"{act.kind}.withdraw",
        subject=f"#{act.id}",
        before={"status": "prepared"},
        after={"status": "withdrawn", "reason": why},
        now=now,
    )
    await uow.commit()
    return act
