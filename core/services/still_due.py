"""What a tranche may still give one application, and the application as the allocation's
rules read it. Kept apart from core.services.allocation, which reaches core.services.audit
(through the fund and the back office), so that a revocation can ask it without a cycle."""

from __future__ import annotations

from core.domain.allocation import ApplicationFacts, allocate
from core.services.municipalities import current_round, policy_of
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


def facts_of(application: m.Application, row: int, received_cents: int = 0) -> ApplicationFacts:
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
        received_cents=received_cents,
    )


async def may_still_pay(
    uow: UnitOfWork, municipality: m.Municipality, application: m.Application
) -> bool:
    """Whether a tranche may still give the application money: an approved one not credited
    yet gives it some, or its window is the latest (tranches are approved for it only) and
    the rules, on its answers and the policy now, leave it something still due (it is not
    excluded, nor paid in full). Reads only."""
    received = 0
    for line, tranche in await uow.allocations.lines_for_application(application.id):
        if tranche.withdrawn_at is not None:
            continue
        if tranche.credited_at is None and line.amount_cents > 0:
            return True
        received += line.amount_cents
    latest = await current_round(uow, municipality.id)
    if latest is None or latest.id != application.round_id:
        return False
    policy = policy_of(municipality)
    # A budget of the largest full amount leaves the rules nothing to cut: the line gives
    # all that is still due, in whole rounding units as a tranche would.
    [due] = allocate(
        [facts_of(application, 0, received)], policy, max(policy.amounts_by_size_cents)
    )
    return due.amount_cents > 0
