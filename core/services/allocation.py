"""From applications to balances: simulate, approve (the determina), credit a tranche."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from core.domain.allocation import AllocationLine, ApplicationFacts, allocate
from core.domain.errors import Conflict, NotFound, Refusal
from core.domain.ledger import PostingKind
from core.domain.messages import Money, Reply, t
from core.services import conversations, ledger
from core.services.municipalities import current_round, is_open, policy_of
from core.services.outbox import citizen_channel, notify_citizen
from core.storage import models as m
from core.storage.uow import UnitOfWork


@dataclass(frozen=True)
class AllocatedApplication:
    protocol: str
    codice_fiscale: str
    application_id: int
    line: AllocationLine


def facts_of(application: m.Application, row: int) -> ApplicationFacts:
    return ApplicationFacts(
        ref=application.protocol,
        household_size=application.household_size,
        has_work_income=application.has_work_income,
        has_pension=application.has_pension,
        liquidity_cents=application.liquidity_cents,
        public_support_monthly_cents=application.public_support_monthly_cents,
        rent_monthly_cents=application.rent_monthly_cents,
        submitted_at=application.submitted_at,
        row=row,
    )


async def simulate(
    uow: UnitOfWork, municipality: m.Municipality, budget_cents: int
) -> list[AllocatedApplication]:
    """What the allocation would be with this budget. Writes nothing."""
    round_ = await current_round(uow, municipality.id)
    if round_ is None:
        raise NotFound(Refusal.ROUND_NONE)
    pairs = [
        (app, citizen)
        for app, citizen in await uow.applications.with_citizens(round_.id)
        if app.revoked_at is None
    ]
    lines = allocate(
        [facts_of(app, row) for row, (app, _) in enumerate(pairs)],
        policy_of(municipality),
        budget_cents,
    )
    return [
        AllocatedApplication(app.protocol, citizen.codice_fiscale, app.id, line)
        for (app, citizen), line in zip(pairs, lines, strict=True)
    ]


async def approve(
    uow: UnitOfWork, municipality: m.Municipality, budget_cents: int, now: datetime
) -> tuple[m.Allocation, list[AllocatedApplication]]:
    """Freeze an allocation as the next tranche. The window must be closed first."""
    round_ = await current_round(uow, municipality.id)
    if round_ is None:
        raise NotFound(Refusal.ROUND_NONE)
    if is_open(round_, now):
        raise Conflict(Refusal.WINDOW_STILL_OPEN)
    previous = await uow.allocations.latest(round_.id)
    if previous is not None and previous.credited_at is None:
        raise Conflict(Refusal.ALLOCATION_NOT_YET_CREDITED, tranche=previous.tranche)
    result = await simulate(uow, municipality, budget_cents)
    allocation = m.Allocation(
        municipality_id=municipality.id,
        round_id=round_.id,
        tranche=(previous.tranche + 1) if previous else 1,
        budget_cents=budget_cents,
        approved_at=now,
    )
    uow.session.add(allocation)
    await uow.session.flush()
    uow.session.add_all(
        m.AllocationLine(
            allocation_id=allocation.id,
            application_id=item.application_id,
            assignment=item.line.assignment.value,
            score_text=item.line.score_text,
            exclusion_reason=item.line.exclusion_reason.value
            if item.line.exclusion_reason
            else None,
            full_amount_cents=item.line.full_amount_cents,
            amount_cents=item.line.amount_cents,
        )
        for item in result
    )
    await uow.session.flush()
    return allocation, result


@dataclass(frozen=True)
class CreditResult:
    tranche: int
    citizens: int
    total_cents: int


async def credit(
    uow: UnitOfWork,
    municipality: m.Municipality,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> CreditResult:
    """Credit the approved, not yet credited tranche: fund -> citizen, one notice each."""
    round_ = await current_round(uow, municipality.id)
    allocation = await uow.allocations.latest(round_.id) if round_ else None
    if allocation is None:
        raise NotFound(Refusal.ALLOCATION_NONE)
    if allocation.credited_at is not None:
        raise Conflict(Refusal.ALLOCATION_ALREADY_CREDITED, tranche=allocation.tranche)
    lines = [line for line in await uow.allocations.lines(allocation.id) if line.amount_cents > 0]
    total = 0
    for index, line in enumerate(lines, start=1):
        application = await uow.session.get(m.Application, line.application_id)
        assert application is not None
        if application.revoked_at is not None:
            continue
        citizen = await uow.citizens.by_id(application.citizen_id)
        assert citizen is not None
        await ledger.post(
            uow,
            municipality_id=municipality.id,
            kind=PostingKind.ALLOCATION,
            from_owner=0,
            to_owner=citizen.id,
            amount_cents=line.amount_cents,
            now=now,
            allocation_id=allocation.id,
        )
        balance = await ledger.citizen_balance(uow, municipality.id, citizen.id)
        if not await _wrote_stop(uow, municipality.id, citizen):
            notify_citizen(
                uow,
                citizen,
                Reply.of(
                    t(
                        "{town}: {amount} of grocery vouchers have been credited to you. "
                        "Balance: {balance}.",
                        town=municipality.name,
                        amount=Money(line.amount_cents),
                        balance=Money(balance),
                    )
                ),
                now,
            )
        total += line.amount_cents
        if progress is not None:
            progress(index, len(lines))
    allocation.credited_at = now
    return CreditResult(allocation.tranche, len(lines), total)


async def _wrote_stop(uow: UnitOfWork, municipality_id: int, citizen: m.Citizen) -> bool:
    """A citizen who wrote STOP gets no credit notice (the balance is there when they ask)."""
    destination = citizen_channel(citizen)
    return destination is not None and await conversations.has_stopped(
        uow, municipality_id, *destination
    )
