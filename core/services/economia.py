"""An economia: the town's act that frees what a credited determina left unassigned.

A determina commits its whole budget (core.services.fund); its credit pays what the rules
allocated, and the rest, budget − allocated, stays committed: in the town's accounts the
budget is an impegno, and only the town's own act (the responsabile's determina reducing
it, the year's riaccertamento) frees the economia. The office records that act here: the
determina, how much of its rest (all of it, or part), the act's reference and day. It is an
act under four eyes (core.services.acts, kind `economia`): a clerk or a manager prepares it,
another manager approves it, and only the approval frees the money, in one transaction with
the act, its record, the activity log's `fund.economia` and the guarded UPDATE of
allocations.freed_cents that never lets two economie free the same rest
(FundRepository.free). From then on the fund counts it as no longer committed, and a new
determina may commit it.

No posting: the ledger moves money between accounts (a credit pays a household, a payment
a shop); a determina's budget is a commitment of the fund, never posted, so what is freed
of it is not money moving either. Its trace is the economia's row, the act and the log.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.domain.errors import Conflict, NotFound, Refusal
from core.services import activity, fund
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from core.storage.repositories.results import DeterminaRest

MAX_REFERENCE = 100


@dataclass(frozen=True)
class Freed:
    economia: m.Economia
    rest: DeterminaRest  # the determina as the economia leaves it


async def rests(uow: UnitOfWork, town: m.Municipality) -> list[DeterminaRest]:
    """The determine standing in every window, with what each left unassigned."""
    return await uow.fund.rests(town.id)


async def rest_of(uow: UnitOfWork, town: m.Municipality, allocation_id: int) -> DeterminaRest:
    for found in await uow.fund.rests(town.id):
        if found.allocation_id == allocation_id:
            return found
    raise NotFound(Refusal.ECONOMIA_NOT_FOUND, allocation_id=allocation_id)


def check(rest: DeterminaRest, amount_cents: int) -> None:
    """Refuse an economia of a determina not credited yet (withdrawing it gives back its
    whole budget), one with nothing left, and an amount not within its rest."""
    if not rest.credited:
        raise Conflict(Refusal.ECONOMIA_NOT_CREDITED, tranche=rest.tranche, window=rest.window)
    if rest.rest_cents <= 0:
        raise Conflict(
            Refusal.ECONOMIA_NOTHING_LEFT,
            tranche=rest.tranche,
            window=rest.window,
            budget_cents=rest.budget_cents,
        )
    if not 0 < amount_cents <= rest.rest_cents:
        raise Conflict(
            Refusal.ECONOMIA_BAD_AMOUNT,
            amount_cents=amount_cents,
            rest_cents=rest.rest_cents,
            budget_cents=rest.budget_cents,
            allocated_cents=rest.allocated_cents,
            freed_cents=rest.freed_cents,
        )


async def check_offered(uow: UnitOfWork, town: m.Municipality, allocation_id: int) -> None:
    """Refuse as an economia of this determina is refused whatever its fields: none such
    standing, not credited, nothing left. A form with a wrong field for a determina that no
    longer offers one (its rest freed since the page was opened) is told that first."""
    check(await rest_of(uow, town, allocation_id), 1)


def reference(text: str) -> str:
    return fund.one_line(
        text,
        limit=MAX_REFERENCE,
        missing=Refusal.ECONOMIA_REFERENCE_MISSING,
        too_long=Refusal.ECONOMIA_REFERENCE_TOO_LONG,
    )


def act_day(town: m.Municipality, day: date, now: datetime) -> date:
    """The day of the town's act: adopted already (not after today in the town), and not
    before the vouchers' money began (core.domain.fund.EARLIEST_RECEIPT)."""
    return fund.past_day(
        town,
        day,
        now,
        future=Refusal.ECONOMIA_DATE_FUTURE,
        too_old=Refusal.ECONOMIA_DATE_TOO_OLD,
    )


def check_after_determina(town: m.Municipality, rest: DeterminaRest, day: date) -> None:
    """Refuse an act older than the determina whose rest it frees: a rest exists only once
    the determina is approved, so an act dated before it (a slip of the month or the year)
    is the wrong day or the wrong determina. The determina's day is its approval's, in the
    town."""
    approved_on = rest.approved_at.astimezone(ZoneInfo(town.timezone)).date()
    if day < approved_on:
        raise Conflict(
            Refusal.ECONOMIA_DATE_BEFORE_DETERMINA,
            day=day.isoformat(),
            determina_day=approved_on.isoformat(),
            tranche=rest.tranche,
            window=rest.window,
        )


async def prepared_params(
    uow: UnitOfWork, town: m.Municipality, given: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """An economia's draft as core.services.acts keeps it: the determina, the amount (all
    of its rest when none is given), the act's reference and day; refused now as the
    approval would refuse it, so that a draft is not doomed."""
    found = await rest_of(uow, town, int(given["allocation_id"]))
    amount = given.get("amount_cents")
    cents = found.rest_cents if amount is None else int(amount)
    check(found, cents)
    day = act_day(town, date.fromisoformat(str(given["act_on"])), now)
    check_after_determina(town, found, day)
    return {
        "allocation_id": found.allocation_id,
        "window": found.window,
        "tranche": found.tranche,
        "amount_cents": cents,
        "reference": reference(str(given.get("reference", ""))),
        "act_on": day.isoformat(),
    }


async def check_preparable(uow: UnitOfWork, town: m.Municipality, params: dict[str, Any]) -> None:
    check(await rest_of(uow, town, int(params["allocation_id"])), int(params["amount_cents"]))


async def free(
    uow: UnitOfWork,
    town: m.Municipality,
    allocation_id: int,
    amount_cents: int,
    act_reference: str,
    act_on: date,
    now: datetime,
    *,
    actor: str,
    operator_id: int | None,
    act_id: int | None,
) -> Freed:
    """Free `amount_cents` of the determina's rest: the approval of an economia act. The
    caller commits. Refused, nothing written, when the rest (read under the town's lock,
    and again by the guarded UPDATE) is less than the amount."""
    said = reference(act_reference)
    day = act_day(town, act_on, now)
    # Held until the commit, as every change of what the fund commits (core.services.fund).
    await uow.fund.lock(town.id)
    found = await rest_of(uow, town, allocation_id)
    check(found, amount_cents)
    check_after_determina(town, found, day)
    if not await uow.fund.free(allocation_id, amount_cents, found.allocated_cents):
        # Freed meanwhile by another economia: said with the rest as it is now.
        check(await rest_of(uow, town, allocation_id), amount_cents)
        raise Conflict(
            Refusal.ECONOMIA_BAD_AMOUNT,
            amount_cents=amount_cents,
            rest_cents=0,
            budget_cents=found.budget_cents,
            allocated_cents=found.allocated_cents,
            freed_cents=found.budget_cents - found.allocated_cents,
        )
    record = m.Economia(
        municipality_id=town.id,
        allocation_id=allocation_id,
        amount_cents=amount_cents,
        reference=said,
        act_on=day,
        act_id=act_id,
        operator_id=operator_id,
        recorded_by=actor,
        recorded_at=now,
    )
    uow.add(record)
    await uow.flush()
    after = replace(found, freed_cents=found.freed_cents + amount_cents)
    await activity.record(
        uow,
        town.id,
        actor,
        "fund.economia",
        subject=f"economia#{record.id}",
        before={"freed_cents": found.freed_cents, "rest_cents": found.rest_cents},
        after={
            "window": found.window,
            "tranche": found.tranche,
            "amount_cents": amount_cents,
            "reference": said,
            "act_on": day.isoformat(),
            "act": act_id,
            "freed_cents": after.freed_cents,
            "rest_cents": after.rest_cents,
        },
        now=now,
        operator_id=operator_id,
    )
    return Freed(record, after)
