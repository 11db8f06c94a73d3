"""From applications to balances: simulate, approve (the determina), withdraw, credit a tranche.

A round may be served in several tranches. Each tranche gives a household at most what is
still due to it (its full amount minus what earlier tranches gave), so the voucher stays
one-off however many tranches the office approves (docs/rounds-and-tranches.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from core.domain.allocation import AllocationLine, allocate
from core.domain.errors import Conflict, NotFound, Refusal
from core.services import fund
from core.services.crediting import CreditResult, credit_tranche
from core.services.municipalities import current_round, is_open, policy_of
from core.services.still_due import facts_of
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

__all__ = ["AllocatedApplication", "CreditResult", "approve", "credit", "simulate", "withdraw"]


@dataclass(frozen=True)
class AllocatedApplication:
    protocol: str
    codice_fiscale: str
    application_id: int
    line: AllocationLine


async def round_of(
    uow: UnitOfWork, municipality: m.Municipality, window: int | None = None
) -> m.Round:
    """The application window numbered `window`, or the latest one."""
    if window is None:
        round_ = await current_round(uow, municipality.id)
        if round_ is None:
            raise NotFound(Refusal.ROUND_NONE)
        return round_
    round_ = await uow.rounds.by_number(municipality.id, window)
    if round_ is None:
        raise NotFound(Refusal.ROUND_NOT_FOUND, number=window)
    return round_


async def _simulate_round(
    uow: UnitOfWork, municipality: m.Municipality, round_: m.Round, budget_cents: int
) -> list[AllocatedApplication]:
    received = await uow.allocations.given_by_application(round_.id)
    pairs = [
        (app, citizen)
        for app, citizen in await uow.applications.with_citizens(round_.id)
        if app.revoked_at is None and app.withdrawn_at is None
    ]
    lines = allocate(
        [facts_of(app, row, received.get(app.id, 0)) for row, (app, _) in enumerate(pairs)],
        policy_of(municipality),
        budget_cents,
    )
    return [
        AllocatedApplication(app.protocol, citizen.codice_fiscale, app.id, line)
        for (app, citizen), line in zip(pairs, lines, strict=True)
    ]


async def simulate(
    uow: UnitOfWork, municipality: m.Municipality, budget_cents: int, window: int | None = None
) -> list[AllocatedApplication]:
    """What the next tranche would give with this budget (after every tranche approved so
    far, credited or waiting). Writes nothing."""
    return await _simulate_round(
        uow, municipality, await round_of(uow, municipality, window), budget_cents
    )


async def pays_nobody(uow: UnitOfWork, result: Sequence[AllocatedApplication]) -> bool:
    """A determina of nothing: no household gets money and none is decided by it, because
    the window has no application or earlier tranches already paid or told every one.
    Approved, it would commit its whole budget of the fund for ever once credited while
    giving nobody anything. A tranche that pays nobody but tells someone its decision is
    not one: a first tranche whose applicants are all excluded, or one after an upheld
    appeal corrected an application that still gets nothing (the notice with the reason
    and a new last day to appeal); its budget is confirmed as one the rules cannot spend."""
    if any(item.line.amount_cents > 0 for item in result):
        return False
    if not result:
        return True
    return await uow.allocations.still_to_decide([item.application_id for item in result]) == 0


async def approve(
    uow: UnitOfWork,
    municipality: m.Municipality,
    budget_cents: int,
    now: datetime,
    *,
    act_id: int | None = None,
) -> tuple[m.Allocation, list[AllocatedApplication]]:
    """Freeze the next tranche of the latest window. The window must be closed, the
    previous tranche credited (or withdrawn), and the budget within what is left of the
    town's fund (core.services.fund; `act_id`: the prepared determina being approved, whose
    own budget is not counted twice)."""
    round_ = await round_of(uow, municipality)
    if is_open(round_, now):
        raise Conflict(Refusal.WINDOW_STILL_OPEN)
    # The town's row stays locked until the commit: two determine cannot both take the
    # money left (taken before the window's lock, in the order every fund check takes).
    fund.check_plausible_budget(budget_cents)
    await fund.check_budget(uow, municipality, budget_cents, excluding_act=act_id)
    # Two approvals at once: without the lock one could read "nothing waiting" before the
    # other committed and "tranche 1 exists" after, and approve tranche 2 beside it.
    await uow.rounds.lock(round_.id)
    waiting = await uow.allocations.waiting(round_.id)
    if waiting is not None:
        raise Conflict(Refusal.ALLOCATION_NOT_YET_CREDITED, tranche=waiting.tranche)
    previous = await uow.allocations.latest(round_.id)
    result = await _simulate_round(uow, municipality, round_, budget_cents)
    if await pays_nobody(uow, result):
        raise Conflict(Refusal.ALLOCATION_PAYS_NOBODY, budget_cents=budget_cents)
    tranche = (previous.tranche + 1) if previous else 1
    allocation = m.Allocation(
        municipality_id=municipality.id,
        round_id=round_.id,
        tranche=tranche,
        budget_cents=budget_cents,
        approved_at=now,
    )
    uow.add(allocation)
    try:
        await uow.flush()
    except IntegrityError as error:
        # Another approval of the same tranche committed first (the unique round/tranche
        # key): this one is refused whole, the office sees the tranche that won.
        raise Conflict(Refusal.ALLOCATION_APPROVED_MEANWHILE, tranche=tranche) from error
    await uow.allocations.add_lines(
        [
            {
                "allocation_id": allocation.id,
                "application_id": item.application_id,
                "assignment": item.line.assignment.value,
                "score_text": item.line.score_text,
                "exclusion_reason": item.line.exclusion_reason.value
                if item.line.exclusion_reason
                else None,
                "full_amount_cents": item.line.full_amount_cents,
                "amount_cents": item.line.amount_cents,
            }
            for item in result
        ]
    )
    return allocation, result


async def withdraw(
    uow: UnitOfWork, municipality: m.Municipality, now: datetime, by: str
) -> m.Allocation:
    """Withdraw the approved tranche that was not credited yet (a mistaken determina).

    The row stays, marked with who withdrew it and when; its lines no longer count as
    given, and the next approval takes the next tranche number."""
    round_ = await round_of(uow, municipality)
    waiting = await uow.allocations.waiting(round_.id)
    if waiting is None:
        latest = await uow.allocations.latest_standing(round_.id)
        if latest is not None and latest.credited_at is not None:
            raise Conflict(Refusal.ALLOCATION_ALREADY_CREDITED, tranche=latest.tranche)
        raise NotFound(Refusal.ALLOCATION_NONE_TO_WITHDRAW)
    for act in await uow.acts.prepared(municipality.id, "credit"):
        # The office prepared its credit: withdrawn first there (with its reason), or the
        # draft would be left to be approved for a tranche that is no longer there.
        raise Conflict(
            Refusal.ALLOCATION_CREDIT_ACT_WAITING, tranche=waiting.tranche, act_id=act.id
        )
    # Compare-and-set: a credit that started meanwhile wins, and then nothing is withdrawn.
    if not await uow.allocations.mark_withdrawn(waiting.id, now, by):
        raise Conflict(Refusal.ALLOCATION_ALREADY_CREDITED, tranche=waiting.tranche)
    waiting.withdrawn_at, waiting.withdrawn_by = now, by
    return waiting


async def credit(
    uow: UnitOfWork,
    municipality: m.Municipality,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> CreditResult:
    """Credit the approved tranche of the latest window: fund -> citizen, one notice each."""
    round_ = await current_round(uow, municipality.id)
    waiting = await uow.allocations.waiting(round_.id) if round_ else None
    if waiting is None:
        latest = await uow.allocations.latest_standing(round_.id) if round_ else None
        if latest is not None and latest.credited_at is not None:
            raise Conflict(Refusal.ALLOCATION_ALREADY_CREDITED, tranche=latest.tranche)
        raise NotFound(Refusal.ALLOCATION_NONE)
    # Compare-and-set on the tranche: of two credit runs at once, one pays and the other
    # finds it credited (on PostgreSQL it waits on this row until the first commits).
    if not await uow.allocations.mark_credited(waiting.id, now):
        raise Conflict(Refusal.ALLOCATION_ALREADY_CREDITED, tranche=waiting.tranche)
    waiting.credited_at = now
    return await credit_tranche(uow, municipality, waiting, now, progress)
