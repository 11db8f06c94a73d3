"""Checks on self-certified declarations (DPR 445/2000, art. 71; docs/allocation.md "Checks").

The office draws a random sample of applications to verify, reproducibly from a published
seed so that anyone can re-run the draw and see it was not hand-picked, and records the
outcome of each check. A declaration found false revokes the voucher: what is left on the
card goes back to the fund, and what was already spent is recorded as the sum to recover.
A revocation made by mistake can be undone: what it returned goes back to the citizen
(never more), the sum to recover is cancelled and the citizen is told.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

from core.domain.charges import ChargeStatus
from core.domain.erasure import can_act_on
from core.domain.errors import Conflict, InsufficientFunds, NotAllowed, NotFound, Refusal
from core.domain.ledger import AccountKind, PostingKind
from core.domain.messages import Day, Money, Reply, Text, t
from core.services import activity, charges, ledger
from core.services.activity import Actor
from core.services.appeals import last_day
from core.services.municipalities import current_round, is_open, policy_of
from core.services.operators import Role, require_role
from core.services.outbox import notify_citizen
from core.services.still_due import may_still_pay
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# AuditSample.seed is a BIGINT column.
_SEED_RANGE = range(-(2**63), 2**63)


class InvalidSampleRequest(NotAllowed):
    code = Refusal.AUDIT_BAD_REQUEST


class AlreadyRevoked(Conflict):
    code = Refusal.APPLICATION_ALREADY_REVOKED


class NotRevoked(Conflict):
    code = Refusal.APPLICATION_NOT_REVOKED


class RevokedApplicantErased(Conflict):
    """The applicant was erased after the revocation: what it returned to the fund stays
    there, since an erased account must stay empty (privacy.erase_citizen)."""

    code = Refusal.APPLICATION_REVOCATION_ERASED


class NothingToRevoke(Conflict):
    """The application was given nothing and no tranche can pay it: revoking it would
    take nothing back, recover nothing and stop nothing, and only tell its applicant that
    vouchers they never had were revoked."""

    code = Refusal.APPLICATION_NOTHING_TO_REVOKE


class RevocationAlreadyUndone(Conflict):
    """The application's revocation was undone already: there is nothing left to undo."""

    code = Refusal.APPLICATION_REVOCATION_UNDONE


class NotInSample(Conflict):
    code = Refusal.AUDIT_NOT_IN_SAMPLE


class CheckOutcome(StrEnum):
    CONFIRMED = "confirmed"  # the declaration matched what the office verified
    DISCREPANCY = "discrepancy"  # something did not match (revoke it through an act)


MAX_NOTE = 300


class RevocationRaced(Conflict):
    """The citizen's balance changed between reading and returning it: retry."""

    code = Refusal.APPLICATION_REVOCATION_RETRY


def sample_size(population: int, percent: Decimal) -> int:
    """ceil(population * percent / 100), exactly (no float rounding), at least 1 when there is
    anyone to check, never more than the population."""
    if population <= 0:
        return 0
    size = math.ceil(Fraction(population) * Fraction(percent) / 100)
    return min(population, max(1, size))


def draw(protocols: list[str], percent: Decimal, seed: int) -> list[str]:
    """The sample, sorted by protocol. The population is sorted first, so the draw depends
    only on the set of protocols and the seed, not on database order."""
    population = sorted(protocols)
    chosen = random.Random(seed).sample(population, sample_size(len(population), percent))
    return sorted(chosen)


def _percent(value: float | int | Decimal | str) -> Decimal:
    if isinstance(value, bool):
        raise InvalidSampleRequest(percent=str(value))
    try:
        # Through str(), so that 12.3 means 12.3 and not its binary approximation.
        percent = Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidSampleRequest(percent=str(value)) from exc
    if not percent.is_finite() or not Decimal(0) < percent <= Decimal(100):
        raise InvalidSampleRequest(percent=str(value))
    return percent


async def window_of(uow: UnitOfWork, municipality: m.Municipality, window: int | None) -> m.Round:
    """The application window numbered `window` of the municipality, or its latest one."""
    if window is None:
        round_ = await current_round(uow, municipality.id)
        if round_ is None:
            raise NotFound(Refusal.ROUND_NONE)
        return round_
    found = await uow.rounds.by_number(municipality.id, window)
    if found is None:
        raise NotFound(Refusal.ROUND_NOT_FOUND, number=window)
    return found


async def checked_request(
    uow: UnitOfWork,
    municipality: m.Municipality,
    percent: float | int | Decimal | str,
    seed: int,
    now: datetime,
    window: int | None = None,
) -> tuple[Decimal, m.Round]:
    """What draw_sample refuses before drawing (a percent or seed out of range, a window
    missing or still open), checked on its own too: the office asks to confirm a draw only
    when it would be carried out. The percent read exactly, and the window."""
    exact_percent = _percent(percent)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed not in _SEED_RANGE:
        raise InvalidSampleRequest(seed=str(seed))
    round_ = await window_of(uow, municipality, window)
    if is_open(round_, now):
        # Declarations can still be edited: checking them now would check moving targets.
        raise Conflict(Refusal.AUDIT_WINDOW_OPEN, number=round_.number)
    return exact_percent, round_


async def draw_sample(
    uow: UnitOfWork,
    municipality: m.Municipality,
    percent: float | int | Decimal | str,
    seed: int,
    now: datetime,
    window: int | None = None,
) -> list[str]:
    """Draw and record the sample of a window's applications to check: the window numbered
    `window`, or the latest one. It must be closed (a later window may be open meanwhile).

    Every application of the round is in the population, revoked ones included, so that
    re-running with the same seed gives the same list at any later time; withdrawn ones are
    not (there is no declaration left to check, and they were given nothing). The draw is stored
    (seed, percent, protocols) as the record of the check. Same Python version, same seed,
    same applications -> same sample."""
    exact_percent, round_ = await checked_request(uow, municipality, percent, seed, now, window)
    protocols = [
        app.protocol
        for app in await uow.applications.in_round(round_.id)
        if app.withdrawn_at is None
    ]
    sample = draw(protocols, exact_percent, seed)
    uow.add(
        m.AuditSample(
            municipality_id=municipality.id,
            round_id=round_.id,
            seed=seed,
            percent=float(exact_percent),
            protocols={"protocols": sample, "population": len(protocols)},
            created_at=now,
        )
    )
    await uow.flush()
    return sample


@dataclass(frozen=True)
class Revocation:
    returned_cents: int  # taken back from the card to the fund
    to_recover_cents: int  # already spent: the municipality must claim it back
    cancelled_charges: int = 0  # payments that were waiting for the citizen's code


async def _credited_for(uow: UnitOfWork, application: m.Application, account_id: int) -> int:
    """What the ledger credited to this citizen for this application's round (every tranche).

    One application per household and round, so the round's allocation postings into the
    citizen's account are exactly this application's benefit."""
    return await uow.ledger.allocated_in_round(account_id, application.round_id)


async def _revocable(
    uow: UnitOfWork, municipality: m.Municipality, protocol: str
) -> tuple[m.Application, int, int]:
    """The application to revoke, refused as revoke refuses it, with what _taken_back reads
    for it now: (application, credited, returned)."""
    application = await uow.applications.by_protocol(protocol)
    if application is None or application.municipality_id != municipality.id:
        raise NotFound(Refusal.APPLICATION_NOT_FOUND, protocol=protocol)
    if application.revoked_at is not None:
        raise AlreadyRevoked(protocol=application.protocol)
    if application.withdrawn_at is not None:
        # Withdrawn before any determina: it was never given anything to revoke.
        raise Conflict(Refusal.APPLICATION_WITHDRAWN, protocol=application.protocol)
    credited, returned = await _taken_back(uow, municipality, application)
    # Nothing credited (so nothing to take back or recover) and nothing a tranche could
    # still pay: excluded, or of an earlier window. Payments waiting for a code spend
    # another window's money, which this revocation does not touch.
    if credited == 0 and not await may_still_pay(uow, municipality, application):
        raise NothingToRevoke(protocol=application.protocol)
    return application, credited, returned


async def check_revocable(uow: UnitOfWork, municipality: m.Municipality, protocol: str) -> None:
    """Refused as revoke would refuse the application now; the office's page asks it
    before offering "Prepare the revocation", preparing the act asks it again."""
    await _revocable(uow, municipality, protocol)


async def _taken_back(
    uow: UnitOfWork, municipality: m.Municipality, application: m.Application
) -> tuple[int, int]:
    """(credited for the application, what a revocation now returns to the fund): the
    balance left, at most what this application brought (another round's money stays)."""
    account = await uow.ledger.find(municipality.id, AccountKind.CITIZEN, application.citizen_id)
    credited = 0 if account is None else await _credited_for(uow, application, account.id)
    balance = 0 if account is None else await uow.ledger.balance(account.id)
    return credited, min(balance, credited)


async def revocation_figures(
    uow: UnitOfWork, municipality: m.Municipality, protocol: str
) -> Revocation:
    """What revoke would do now, for the manager who approves it (reads only): what goes
    back to the fund, what is left to recover, how many payments waiting for a code it
    cancels. Refused as revoke would be."""
    application, credited, returned = await _revocable(uow, municipality, protocol)
    waiting = await uow.charges.pending_for_citizen(application.citizen_id)
    return Revocation(returned, credited - returned, len(waiting))


async def revoke(
    uow: UnitOfWork,
    municipality: m.Municipality,
    protocol: str,
    now: datetime,
    *,
    reason: str | None = None,
    act_id: int | None = None,
) -> Revocation:
    """Revoke the voucher of an application whose declaration was found false.

    Cancels the citizen's pending charges, returns the remaining balance citizen -> fund
    (at most what this application brought: money from another round is not touched),
    records the rest as the sum to recover and marks the application revoked (later
    tranches skip it). The caller commits; revoking twice is refused."""
    # The figures _revocable read are read again once the payments in flight are stopped.
    application, _, _ = await _revocable(uow, municipality, protocol)

    # First stop payments in flight: the status compare-and-set makes a concurrent
    # confirmation either finish before us (its payment is then in the balance we read)
    # or fail on the cancelled charge.
    cancelled: list[m.Charge] = []
    for charge in await uow.charges.pending_for_citizen(application.citizen_id):
        if await uow.charges.mark(
            charge.id,
            ChargeStatus.PENDING,
            status=ChargeStatus.CANCELLED,
            closed_reason=charges.REVOKED,
        ):
            cancelled.append(charge)

    credited, returned = await _taken_back(uow, municipality, application)
    if returned > 0:
        try:
            await ledger.post(
                uow,
                municipality_id=municipality.id,
                kind=PostingKind.REVOCATION,
                from_owner=application.citizen_id,
                to_owner=0,
                amount_cents=returned,
                now=now,
            )
        except InsufficientFunds as exc:
            raise RevocationRaced(protocol=application.protocol) from exc

    application.revoked_at = now
    application.recover_cents = credited - returned
    application.updated_at = now
    # The record of this revocation: what an undoing may give back (uq_revocations_standing
    # refuses a second standing one for the application).
    uow.add(
        m.Revocation(
            municipality_id=municipality.id,
            application_id=application.id,
            revoked_at=now,
            returned_cents=returned,
            recover_cents=credited - returned,
            reason=reason,
            act_id=act_id,
        )
    )
    await uow.flush()
    # The citizen learns of the decision (their appeal's time runs from it) in the same
    # transaction, in their language, wherever their notices go.
    citizen = await uow.citizens.by_id(application.citizen_id)
    assert citizen is not None  # a foreign key
    for charge in cancelled:
        # Whoever holds the code, and the cashier waiting for it, learn it is void.
        await charges.cancelled_by_office(uow, charge, citizen, now)
    for notice in revocation_notice(
        municipality.name,
        application.protocol,
        last_day(now, policy_of(municipality).appeal_days, municipality.timezone),
        returned_cents=returned,
        recover_cents=credited - returned,
        reason=reason,
    ):
        notify_citizen(uow, citizen, notice, now)
    return Revocation(returned, credited - returned, len(cancelled))


def revocation_notice(
    town: str,
    protocol: str,
    appeal_by: date,
    *,
    returned_cents: int = 0,
    recover_cents: int = 0,
    reason: str | None = None,
) -> list[Reply]:
    """What the citizen is told of a revocation: the decision and the last day to appeal
    (the day STATO names too: the window starts at this notice), in one SMS; then, in a
    second one, what it took from the balance, what is to be paid back and the office's
    reason, those of them there are (the reason is the office's own words, up to 300
    characters: that SMS may be longer than one segment)."""
    notices = [
        Reply.of(
            t(
                "{town}: vouchers of application {protocol} revoked after the checks. To ask "
                "for a review write RICORSO by {day}.",
                town=town,
                protocol=protocol,
                day=Day(appeal_by),
            )
        )
    ]
    details: list[Text] = []
    if returned_cents > 0:
        details.append(
            t("Taken from your balance: {amount} unspent.", amount=Money(returned_cents))
        )
    if recover_cents > 0:
        details.append(t("To pay back: {amount} already spent.", amount=Money(recover_cents)))
    why = " ".join((reason or "").split())
    if why:
        details.append(t("Reason: {reason}", reason=why))
    if details:
        notices.append(Reply(texts=tuple(details)))
    return notices


async def _application(uow: UnitOfWork, town: m.Municipality, protocol: str) -> m.Application:
    application = await uow.applications.by_protocol(protocol)
    if application is None or application.municipality_id != town.id:
        raise NotFound(Refusal.APPLICATION_NOT_FOUND, protocol=protocol)
    return application


# --- the outcome of each check ---------------------------------------------------------------


async def _sample_with(uow: UnitOfWork, application: m.Application) -> m.AuditSample | None:
    """The first draw of the application's window that picked it (the binding one first)."""
    for draw_ in await uow.audit_samples.of_round(application.round_id):
        if application.protocol in (draw_.protocols or {}).get("protocols", []):
            return draw_
    return None


async def record_check(
    uow: UnitOfWork,
    town: m.Municipality,
    protocol: str,
    outcome: str,
    note: str,
    now: datetime,
    by: Actor,
) -> m.AuditCheck:
    """Record (or correct) the outcome of checking a sampled application's declaration.

    Only an application a draw picked can be checked. The activity log keeps who, when, and
    the outcome before and after. A discrepancy changes nothing by itself: revoking is an
    act of its own, under four eyes."""
    if isinstance(by, m.Operator):
        require_role(by, Role.CLERK, Role.MANAGER)
    try:
        result = CheckOutcome(outcome)
    except ValueError as exc:
        raise Conflict(Refusal.AUDIT_BAD_OUTCOME, outcome=outcome) from exc
    text = " ".join(note.split())
    if len(text) > MAX_NOTE:
        raise Conflict(Refusal.AUDIT_NOTE_TOO_LONG, limit=MAX_NOTE)
    application = await _application(uow, town, protocol)
    if application.withdrawn_at is not None:
        # Withdrawn: no declaration stands to be checked (even if an older draw picked it).
        raise Conflict(Refusal.APPLICATION_WITHDRAWN, protocol=application.protocol)
    sample = await _sample_with(uow, application)
    if sample is None:
        raise NotInSample(protocol=application.protocol)
    check = await uow.audit.check_of(application.id)
    before = None if check is None else {"outcome": check.outcome, "note": check.note}
    operator_id = by.id if isinstance(by, m.Operator) else None
    if check is None:
        check = m.AuditCheck(
            municipality_id=town.id,
            application_id=application.id,
            sample_id=sample.id,
            outcome=result.value,
            note=text,
            checked_by=activity.actor_name(by),
            operator_id=operator_id,
            checked_at=now,
        )
        uow.add(check)
    else:
        check.outcome, check.note = result.value, text
        check.checked_by, check.operator_id, check.checked_at = (
            activity.actor_name(by),
            operator_id,
            now,
        )
    await uow.flush()
    await activity.by_actor(
        uow,
        town.id,
        by,
        "audit.check",
        subject=application.protocol,
        before=before,
        after={"outcome": result.value, "note": text},
        now=now,
    )
    return check


async def checks(uow: UnitOfWork, town: m.Municipality) -> dict[str, m.AuditCheck]:
    """The recorded outcomes of the town's checks, by protocol."""
    return dict(await uow.audit.checks_by_protocol(town.id))


# --- sums to recover ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ToRecover:
    protocol: str
    revoked_at: datetime
    credited_cents: int  # what the application brought the citizen
    returned_cents: int  # taken back to the fund at the revocation
    to_recover_cents: int  # already spent: to claim back from the citizen
    reason: str | None


async def sums_to_recover(uow: UnitOfWork, town: m.Municipality) -> list[ToRecover]:
    """Every revocation standing (not undone), oldest first: credited, returned, spent."""
    return [
        ToRecover(
            protocol=application.protocol,
            revoked_at=revocation.revoked_at,
            credited_cents=revocation.returned_cents + revocation.recover_cents,
            returned_cents=revocation.returned_cents,
            to_recover_cents=revocation.recover_cents,
            reason=revocation.reason,
        )
        for revocation, application in await uow.audit.standing_revocations(town.id)
    ]


# --- undoing a revocation made by mistake ----------------------------------------------------


@dataclass(frozen=True)
class Undoing:
    restored_cents: int  # back to the citizen: what the revocation had returned to the fund
    cancelled_recovery_cents: int  # the sum to recover that is no longer due
    told: bool  # a notice to the citizen was queued


async def check_undoable(uow: UnitOfWork, town: m.Municipality, protocol: str) -> m.Revocation:
    """The standing revocation of the application, or the refusal that says why not."""
    application = await _application(uow, town, protocol)
    standing = await uow.audit.standing_revocation(application.id)
    if standing is not None:
        citizen = await uow.citizens.by_id(application.citizen_id)
        if not can_act_on(citizen):
            raise RevokedApplicantErased(protocol=application.protocol)
        return standing
    undone = await uow.audit.last_undone(application.id)
    if undone is not None and undone.undone_at is not None:
        raise RevocationAlreadyUndone(
            protocol=application.protocol, undone_at=undone.undone_at.isoformat()
        )
    raise NotRevoked(protocol=application.protocol)


@dataclass(frozen=True)
class SkippedTranche:
    tranche: int
    cents: int


@dataclass(frozen=True)
class UndoFigures:
    """What undoing the standing revocation would do now: the approver's check."""

    restored_cents: int  # back to the citizen
    cancelled_recovery_cents: int
    # Tranches credited while the revocation stood: they skipped the application and the
    # undoing does not pay them (docs/appeals.md).
    skipped: tuple[SkippedTranche, ...]
    revocation_id: int  # the standing revocation it undoes


async def undo_figures(uow: UnitOfWork, town: m.Municipality, protocol: str) -> UndoFigures:
    """What undo_revocation would give back and leave unpaid, refused as it would be."""
    standing = await check_undoable(uow, town, protocol)
    application = await _application(uow, town, protocol)
    skipped = tuple(
        SkippedTranche(tranche.tranche, line.amount_cents)
        for line, tranche in await uow.allocations.lines_for_application(application.id)
        if line.amount_cents > 0
        and tranche.withdrawn_at is None
        and tranche.credited_at is not None
        and tranche.credited_at >= standing.revoked_at
    )
    return UndoFigures(standing.returned_cents, application.recover_cents, skipped, standing.id)


def undo_notice(town: str, protocol: str, amount_cents: int) -> Reply:
    if amount_cents > 0:
        return Reply.of(
            t(
                "{town}: the revocation of your application {protocol} was a mistake and has "
                "been cancelled. {amount} is back on your vouchers.",
                town=town,
                protocol=protocol,
                amount=Money(amount_cents),
            )
        )
    return Reply.of(
        t(
            "{town}: the revocation of your application {protocol} was a mistake and has "
            "been cancelled.",
            town=town,
            protocol=protocol,
        )
    )


async def undo_revocation(
    uow: UnitOfWork,
    town: m.Municipality,
    protocol: str,
    reason: str,
    now: datetime,
    by: Actor,
    *,
    act_id: int | None = None,
) -> Undoing:
    """Undo a revocation made by mistake. The caller commits.

    What the revocation returned to the fund goes back fund -> citizen (never more: the
    revocation's CHECK), the sum to recover is cancelled, the application counts again for
    later tranches, and the citizen is told through the outbox in the same transaction. A
    tranche credited while it stood revoked is not paid by this (it skipped the
    application); undoing twice is refused."""
    why = " ".join(reason.split())
    if not why:
        raise Conflict(Refusal.ACT_REASON_MISSING)
    if len(why) > MAX_NOTE:
        raise Conflict(Refusal.ACT_REASON_TOO_LONG, limit=MAX_NOTE)
    standing = await check_undoable(uow, town, protocol)
    application = await _application(uow, town, protocol)
    restored = standing.returned_cents
    if not await uow.audit.mark_undone(
        standing.id,
        undone_at=now,
        undone_by=activity.actor_name(by),
        undo_reason=why,
        undo_act_id=act_id,
        restored_cents=restored,
    ):
        raise RevocationAlreadyUndone(protocol=application.protocol, undone_at=now.isoformat())
    if restored > 0:
        await ledger.post(
            uow,
            municipality_id=town.id,
            kind=PostingKind.REVOCATION_UNDO,
            from_owner=0,
            to_owner=application.citizen_id,
            amount_cents=restored,
            now=now,
        )
    cancelled = application.recover_cents
    application.revoked_at = None
    application.recover_cents = 0
    application.updated_at = now
    citizen = await uow.citizens.by_id(application.citizen_id)
    assert citizen is not None  # a foreign key
    told = notify_citizen(uow, citizen, undo_notice(town.name, application.protocol, restored), now)
    await uow.flush()
    await activity.by_actor(
        uow,
        town.id,
        by,
        "revocation.undo",
        subject=application.protocol,
        before={
            "revoked_at": standing.revoked_at.isoformat(),
            "returned_cents": standing.returned_cents,
            "recover_cents": standing.recover_cents,
        },
        after={"restored_cents": restored, "recover_cents": 0, "reason": why},
        now=now,
    )
    return Undoing(restored, cancelled, told is not None)
