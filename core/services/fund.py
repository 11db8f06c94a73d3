"""The town's fund: recording what it received, correcting an entry, and the check every
determina passes (core.domain.fund has the rule).

A determina, prepared in the office or approved from the command line, commits its whole
budget; it is refused when the budget is more than the fund minus what the determine
already approved or prepared commit. A town with no fund recorded has nothing a determina
could commit: it is told how to record it. Each check holds the town's row until the
commit (FundRepository.lock), so two determine, or a determina and a correction, cannot
both take the same money. Recording an entry is logged in the activity log in the same
transaction; the callers commit.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.domain.application_csv import italian_day
from core.domain.errors import Conflict, NotFound, Refusal
from core.domain.fund import (
    EARLIEST_RECEIPT,
    MAX_AMOUNT_CENTS,
    MAX_DESCRIPTION,
    FundPosition,
    budget_fits,
    correction_fits,
    plausible,
)
from core.domain.money import parse_euro
from core.services import activity
from core.services.back_office import PREPARERS, town_of
from core.services.operators import require_role
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

DETERMINA = "determina"  # acts.ActKind.DETERMINA (acts imports this module)


async def position(
    uow: UnitOfWork, town: m.Municipality, *, excluding_act: int | None = None
) -> FundPosition | None:
    """The fund now, what the determine commit of it and what is left; None when the town
    recorded no fund. `excluding_act`: a prepared determina not to count (the one being
    approved or looked at: its own budget is the one checked)."""
    fund = await uow.fund.total(town.id)
    if fund is None:
        return None
    pending = sum(
        int(act.params["budget_cents"])
        for act in await uow.acts.prepared(town.id, DETERMINA)
        if act.id != excluding_act
    )
    return FundPosition(
        fund_cents=fund,
        approved_cents=await uow.fund.approved_budgets(town.id),
        pending_cents=pending,
        freed_cents=await uow.fund.freed(town.id),
    )


def check_plausible_budget(budget_cents: int) -> None:
    """Refuse a determina's budget above MAX_AMOUNT_CENTS (core.domain.fund): a typo of
    digits, whatever the fund holds. Checked when a determina is prepared, looked at and
    approved, in the office and on the command line."""
    if not plausible(budget_cents):
        raise Conflict(
            Refusal.ACT_BUDGET_IMPLAUSIBLE, budget_cents=budget_cents, most_cents=MAX_AMOUNT_CENTS
        )


def _check_plausible_amount(amount_cents: int) -> None:
    if not plausible(amount_cents):
        raise Conflict(
            Refusal.FUND_AMOUNT_IMPLAUSIBLE, amount_cents=amount_cents, most_cents=MAX_AMOUNT_CENTS
        )


async def check_budget(
    uow: UnitOfWork, town: m.Municipality, budget_cents: int, *, excluding_act: int | None = None
) -> FundPosition:
    """Refuse a determina's budget the fund cannot cover; the town stays locked until the
    commit, so what was checked is what is committed."""
    await uow.fund.lock(town.id)
    found = await position(uow, town, excluding_act=excluding_act)
    if found is None:
        raise Conflict(Refusal.FUND_NONE, code=town.code)
    if not budget_fits(found, budget_cents):
        raise Conflict(
            Refusal.FUND_EXCEEDED,
            budget_cents=budget_cents,
            left_cents=found.left_cents,
            fund_cents=found.fund_cents,
            committed_cents=found.committed_cents,
        )
    return found


def one_line(
    text: str,
    *,
    limit: int = MAX_DESCRIPTION,
    missing: Refusal = Refusal.FUND_DESCRIPTION_MISSING,
    too_long: Refusal = Refusal.FUND_DESCRIPTION_TOO_LONG,
) -> str:
    """The words of a record's description (a receipt's, an economia's act reference) on one
    line, spaces folded; refused (`missing`, `too_long`) when empty or over `limit`."""
    said = " ".join(text.split())
    if not said:
        raise Conflict(missing)
    if len(said) > limit:
        raise Conflict(too_long, limit=limit)
    return said


def past_day(
    town: m.Municipality,
    day: date,
    now: datetime,
    *,
    future: Refusal = Refusal.FUND_DATE_FUTURE,
    too_old: Refusal = Refusal.FUND_DATE_TOO_OLD,
) -> date:
    """A day something happened to the fund (money received, the town's act adopted): not
    after today in the town (`future`), not before EARLIEST_RECEIPT (`too_old`,
    core.domain.fund). A receipt's day still to come would be counted as money in hand,
    which a determina could then commit."""
    today = now.astimezone(ZoneInfo(town.timezone)).date()
    if day > today:
        raise Conflict(future, day=day.isoformat(), today=today.isoformat())
    if day < EARLIEST_RECEIPT:
        raise Conflict(too_old, day=day.isoformat(), earliest=EARLIEST_RECEIPT.isoformat())
    return day


async def _same_receipt(
    uow: UnitOfWork, town: m.Municipality, amount_cents: int, description: str, day: date
) -> m.FundEntry | None:
    """A receipt already recorded with this amount, day and description that still holds
    money (one taken back in full by corrections does not count), or None."""
    entries = list(await uow.fund.of_municipality(town.id))
    taken: dict[int, int] = {}
    for entry in entries:
        if entry.corrects_id is not None:
            taken[entry.corrects_id] = taken.get(entry.corrects_id, 0) - entry.amount_cents
    for entry in entries:
        if (
            entry.corrects_id is None
            and entry.amount_cents == amount_cents
            and entry.received_on == day
            and entry.description.casefold() == description.casefold()
            and entry.amount_cents > taken.get(entry.id, 0)
        ):
            return entry
    return None


async def _same_correction(
    uow: UnitOfWork, town: m.Municipality, entry_id: int, amount_cents: int, why: str
) -> m.FundEntry | None:
    """A correction of this entry already taking back this amount for this reason, or
    None. Another correction of the same entry gives its own reason."""
    for entry in await uow.fund.of_municipality(town.id):
        if (
            entry.corrects_id == entry_id
            and entry.amount_cents == -amount_cents
            and entry.description.casefold() == why.casefold()
        ):
            return entry
    return None


async def record(
    uow: UnitOfWork,
    town: m.Municipality,
    amount_cents: int,
    description: str,
    received_on: date,
    now: datetime,
    *,
    actor: str,
    operator_id: int | None = None,
    again: bool = False,
) -> m.FundEntry:
    """Money received for the vouchers: a new entry, more than zero and at most
    MAX_AMOUNT_CENTS, received on a day between EARLIEST_RECEIPT and today. An entry
    identical to one already recorded (amount, day and description) is refused as typed
    twice, unless `again`: the caller says it is a second receipt on purpose."""
    if amount_cents <= 0:
        raise Conflict(Refusal.FUND_BAD_AMOUNT)
    _check_plausible_amount(amount_cents)
    said = one_line(description)
    day = past_day(town, received_on, now)
    # Held until the commit: two clerks recording the same receipt at once, one is refused.
    await uow.fund.lock(town.id)
    if not again:
        same = await _same_receipt(uow, town, amount_cents, said, day)
        if same is not None:
            raise Conflict(
                Refusal.FUND_DUPLICATE,
                entry_id=same.id,
                amount_cents=amount_cents,
                day=day.isoformat(),
            )
    entry = m.FundEntry(
        municipality_id=town.id,
        amount_cents=amount_cents,
        description=said,
        received_on=day,
        corrects_id=None,
        operator_id=operator_id,
        recorded_by=actor,
        recorded_at=now,
    )
    return await _logged(uow, town, entry, "fund.record", actor, operator_id, now)


async def correct(
    uow: UnitOfWork,
    town: m.Municipality,
    entry_id: int,
    amount_cents: int | None,
    description: str,
    received_on: date,
    now: datetime,
    *,
    actor: str,
    operator_id: int | None = None,
) -> m.FundEntry:
    """Take back `amount_cents` (all the entry still holds when None) of a receipt recorded
    by mistake: a new negative entry naming it. Refused when the entry does not hold that
    much (the corrections of an entry never take back more than it recorded), when a
    correction of the entry already takes back the same amount with the same description
    (the same correction sent twice; another one says why in other words), when the fund
    would fall below what the determine already commit, and an
    amount above MAX_AMOUNT_CENTS (a typo of digits) unless it is all the entry still
    holds: an implausible receipt recorded before the limit can still be taken back."""
    why = one_line(description)
    day = past_day(town, received_on, now)
    await uow.fund.lock(town.id)
    entry = await uow.fund.by_id(entry_id)
    if entry is None or entry.municipality_id != town.id:
        raise NotFound(Refusal.FUND_ENTRY_NOT_FOUND, entry_id=entry_id)
    if entry.corrects_id is not None:
        # A correction is corrected by taking back less of the receipt it names: the
        # receipt is what is corrected (a correction of a correction would give money back).
        raise Conflict(
            Refusal.FUND_ENTRY_IS_CORRECTION,
            entry_id=entry.id,
            corrects_id=entry.corrects_id,
            code=town.code,
        )
    corrected = await uow.fund.corrected(entry.id)
    amount = entry.amount_cents - corrected if amount_cents is None else amount_cents
    same = await _same_correction(uow, town, entry.id, amount, why)
    if same is not None:
        # The same form sent twice (a double click, a command run again): the town's row is
        # held until the commit, so the second of two at once finds the first here.
        raise Conflict(
            Refusal.FUND_DUPLICATE_CORRECTION,
            entry_id=same.id,
            corrects_id=entry.id,
            amount_cents=amount,
        )
    if amount != entry.amount_cents - corrected:
        _check_plausible_amount(amount)
    found = await position(uow, town)
    assert found is not None  # the entry is the town's
    problem = correction_fits(found, entry.amount_cents, corrected, amount)
    if problem == "entry":
        raise Conflict(
            Refusal.FUND_BAD_CORRECTION,
            entry_id=entry.id,
            left_cents=entry.amount_cents - corrected,
        )
    if problem == "committed":
        raise Conflict(
            Refusal.FUND_BELOW_COMMITTED,
            amount_cents=amount,
            fund_cents=found.fund_cents,
            committed_cents=found.committed_cents,
        )
    correction = m.FundEntry(
        municipality_id=town.id,
        amount_cents=-amount,
        description=why,
        received_on=day,
        corrects_id=entry.id,
        operator_id=operator_id,
        recorded_by=actor,
        recorded_at=now,
    )
    return await _logged(uow, town, correction, "fund.correct", actor, operator_id, now)


async def _logged(
    uow: UnitOfWork,
    town: m.Municipality,
    entry: m.FundEntry,
    action: str,
    actor: str,
    operator_id: int | None,
    now: datetime,
) -> m.FundEntry:
    uow.add(entry)
    await uow.flush()
    await activity.record(
        uow,
        town.id,
        actor,
        action,
        subject=f"fund#{entry.id}",
        after={
            "amount_cents": entry.amount_cents,
            "description": entry.description,
            "received_on": entry.received_on.isoformat(),
            "corrects": entry.corrects_id,
        },
        now=now,
        operator_id=operator_id,
    )
    return entry


def typed_day(town: m.Municipality, text: str, now: datetime) -> date:
    """The day typed in the office's form, read as the desk's form reads a date (31/12/2026,
    or 2026-12-31: application_csv.italian_day), refused with today as the example."""
    day = italian_day(text)
    if day is None:
        today = now.astimezone(ZoneInfo(town.timezone)).date()
        raise Conflict(Refusal.OFFICE_BAD_DATE, example=today.isoformat(), value=text)
    return day


async def record_by_operator(
    uow: UnitOfWork,
    operator: m.Operator,
    amount: str,
    description: str,
    received_on: str,
    now: datetime,
    *,
    again: bool = False,
) -> m.FundEntry:
    """The office page's receipt, as typed: a clerk or a manager of the town records it.
    The role is checked before what was typed, so a viewer is told only that."""
    require_role(operator, *PREPARERS)
    town = await town_of(uow, operator)
    day = typed_day(town, received_on, now)
    return await record(
        uow,
        town,
        parse_euro(amount),
        description,
        day,
        now,
        actor=operator.username,
        operator_id=operator.id,
        again=again,
    )


async def correct_by_operator(
    uow: UnitOfWork,
    operator: m.Operator,
    entry_id: int,
    amount: str,
    description: str,
    received_on: str,
    now: datetime,
) -> m.FundEntry:
    """A correction as typed on the office page (amount blank: all of the entry); the role
    first, as for a receipt."""
    require_role(operator, *PREPARERS)
    town = await town_of(uow, operator)
    day = typed_day(town, received_on, now)
    return await correct(
        uow,
        town,
        entry_id,
        parse_euro(amount) if amount else None,
        description,
        day,
        now,
        actor=operator.username,
        operator_id=operator.id,
    )
