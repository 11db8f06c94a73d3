"""Checks on self-certified declarations (DPR 445/2000, art. 71; docs/allocation.md "Checks").

The office draws a random sample of applications to verify, reproducibly from a published
seed so that anyone can re-run the draw and see it was not hand-picked. A declaration found
false revokes the voucher: what is left on the card goes back to the fund, and what was
already spent is recorded as the sum to recover.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from core.domain.charges import ChargeStatus
from core.domain.errors import Conflict, InsufficientFunds, NotAllowed, NotFound, Refusal
from core.domain.ledger import AccountKind, PostingKind
from core.services import ledger
from core.services.municipalities import current_round, is_open
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# AuditSample.seed is a BIGINT column.
_SEED_RANGE = range(-(2**63), 2**63)


class InvalidSampleRequest(NotAllowed):
    code = Refusal.AUDIT_BAD_REQUEST


class AlreadyRevoked(Conflict):
    code = Refusal.APPLICATION_ALREADY_REVOKED


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


async def draw_sample(
    uow: UnitOfWork,
    municipality: m.Municipality,
    percent: float | int | Decimal | str,
    seed: int,
    now: datetime,
) -> list[str]:
    """Draw and record the sample of the current round's applications to check.

    Every application of the round is in the population, revoked ones included, so that
    re-running with the same seed gives the same list at any later time. The draw is stored
    (seed, percent, protocols) as the record of the check. Same Python version, same seed,
    same applications -> same sample."""
    exact_percent = _percent(percent)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed not in _SEED_RANGE:
        raise InvalidSampleRequest(seed=str(seed))
    round_ = await current_round(uow, municipality.id)
    if round_ is None:
        raise NotFound(Refusal.ROUND_NONE)
    if is_open(round_, now):
        # Declarations can still be edited: checking them now would check moving targets.
        raise Conflict(Refusal.WINDOW_STILL_OPEN)
    protocols = [app.protocol for app in await uow.applications.in_round(round_.id)]
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


async def revoke(
    uow: UnitOfWork, municipality: m.Municipality, protocol: str, now: datetime
) -> Revocation:
    """Revoke the voucher of an application whose declaration was found false.

    Cancels the citizen's pending charges, returns the remaining balance citizen -> fund
    (at most what this application brought: money from another round is not touched),
    records the rest as the sum to recover and marks the application revoked (later
    tranches skip it). The caller commits; revoking twice is refused."""
    application = await uow.applications.by_protocol(protocol)
    if application is None or application.municipality_id != municipality.id:
        raise NotFound(Refusal.APPLICATION_NOT_FOUND, protocol=protocol)
    if application.revoked_at is not None:
        raise AlreadyRevoked(protocol=application.protocol)
    if application.withdrawn_at is not None:
        # Withdrawn before any determina: it was never given anything to revoke.
        raise Conflict(Refusal.APPLICATION_WITHDRAWN, protocol=application.protocol)

    # First stop payments in flight: the status compare-and-set makes a concurrent
    # confirmation either finish before us (its payment is then in the balance we read)
    # or fail on the cancelled charge.
    cancelled = 0
    for charge in await uow.charges.pending_for_citizen(application.citizen_id):
        if await uow.charges.mark(
            charge.id, ChargeStatus.PENDING, status=ChargeStatus.CANCELLED, closed_reason="revoked"
        ):
            cancelled += 1

    account = await uow.ledger.find(municipality.id, AccountKind.CITIZEN, application.citizen_id)
    credited = 0 if account is None else await _credited_for(uow, application, account.id)
    balance = 0 if account is None else await uow.ledger.balance(account.id)
    returned = min(balance, credited)
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
    await uow.flush()
    return Revocation(returned, credited - returned, cancelled)
