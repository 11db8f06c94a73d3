"""Reimbursing shops: what each is owed, and the settlement run that pays it by SEPA transfer.

A shop's ledger account holds what it has earned from payments (minus same-day refunds) and
not yet been paid by the municipality. Settling moves that balance shop -> settled, one new
posting per shop, produces the pain.001 file the municipality's bank executes, and tells
each shop's owner the amount and the day the bank executes the transfer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.domain.business_days import closed_because, next_business_day
from core.domain.errors import Conflict, InsufficientFunds, NotAllowed, Refusal
from core.domain.ledger import PostingKind
from core.domain.messages import Day, Money, Reply, t
from core.domain.sepa import (
    CreditTransfer,
    PaymentOrder,
    build_pain001,
    remittance_text,
    sepa_name,
)
from core.services import ledger, shops
from core.services.sepa_schema import validate_pain001
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


class MunicipalityHasNoIban(NotAllowed):
    """The municipality's own account is unknown: there is nothing to debit."""

    code = Refusal.REIMBURSEMENT_NO_IBAN


class NothingToReimburse(Conflict):
    code = Refusal.REIMBURSEMENT_NOTHING_DUE


class ExecutionDateInPast(Conflict):
    code = Refusal.REIMBURSEMENT_EXECUTION_DATE_PAST


class ExecutionDateTooLate(Conflict):
    code = Refusal.REIMBURSEMENT_EXECUTION_DATE_TOO_LATE


class ExecutionDateClosed(Conflict):
    """A day the bank executes no SEPA transfer (core.domain.business_days)."""

    code = Refusal.REIMBURSEMENT_EXECUTION_DATE_CLOSED


# The furthest execution date a reimbursement may ask of the bank, in days from today: a
# later one is a typo (31/12/9999) that would tell every shop it is paid in years' time.
EXECUTION_DAYS_AHEAD = 90


class BalancesChanged(Conflict):
    """A shop's balance dropped while settling (a refund in between): retry the run."""

    code = Refusal.REIMBURSEMENT_BALANCES_CHANGED


class LessOwed(Conflict):
    """A shop is owed less now than the approved act pays it (a refund after the act was
    prepared): paying the act would overpay it. The act is withdrawn and prepared again."""

    code = Refusal.REIMBURSEMENT_LESS_OWED


class PaidSince(Conflict):
    """Another reimbursement run (the command line's) was ordered after an act's cut-off:
    it paid, at least in part, what the act would pay. The act is withdrawn and prepared
    again; `message_id` and `day` say which run."""

    code = Refusal.REIMBURSEMENT_PAID_SINCE


class NameNotInSepa(Conflict):
    """A shop (or the municipality) whose name has nothing a SEPA file can write, even
    transliterated (only emoji or symbols): the bank would refuse the whole file. The
    office corrects the name; `name` and `shop_id` (None: the municipality) say whose."""

    code = Refusal.REIMBURSEMENT_NAME_NOT_SEPA


async def pending_reimbursements(
    uow: UnitOfWork, municipality: m.Municipality
) -> list[tuple[m.Shop, int]]:
    """Each shop owed money, with the amount (its account balance, > 0), by name."""
    return list(await uow.ledger.shops_owed(municipality.id))


# How many runs the office's page lists (the newest).
RUNS_LISTED = 50

# The activity-log action of a run's order, by an approved act or by the command line.
APPROVE_ACTION = "reimbursement.approve"


@dataclass(frozen=True)
class Run:
    """A reimbursement run as the office lists it: the settlement, whether its SEPA file is
    kept, and who ordered it: the approved act (preparer and approver), else the actor of
    the command line's entry in the activity log (`cli:<name>`), else nobody known."""

    settlement: m.Settlement
    has_file: bool
    act: m.OfficeAct | None
    ordered_by: str | None


async def runs(uow: UnitOfWork, municipality_id: int, limit: int = RUNS_LISTED) -> list[Run]:
    """The municipality's reimbursement runs, newest first, whoever ordered them."""
    recent = await uow.settlements.recent(municipality_id, limit)
    # Each run approved in the office is one act; the newest acts cover the newest runs.
    by_act = {
        str((act.outcome or {}).get("message_id", "")): act
        for act in await uow.acts.approved_of_kind(municipality_id, "reimbursement", limit)
    }
    others = [s.message_id for s, _ in recent if s.message_id not in by_act]
    actors = {
        entry.subject: entry.actor
        for entry in reversed(await uow.activity.about(municipality_id, others, None))
        if entry.action == APPROVE_ACTION
    }
    return [
        Run(
            settlement=settlement,
            has_file=has_file,
            act=by_act.get(settlement.message_id),
            ordered_by=actors.get(settlement.message_id),
        )
        for settlement, has_file in recent
    ]


async def run_file(
    uow: UnitOfWork, municipality_id: int, settlement_id: int
) -> tuple[str, bytes] | None:
    """(message id, SEPA file) of one of the municipality's runs; None when it has no such
    run, or a run made before files were kept on it."""
    settlement = await uow.settlements.by_id(settlement_id)
    if settlement is None or settlement.municipality_id != municipality_id:
        return None
    if settlement.document is None:
        return None
    return settlement.message_id, settlement.document


async def check_no_run_since(
    uow: UnitOfWork, municipality: m.Municipality, cutoff: datetime
) -> None:
    """Refuses (PaidSince) when a run was ordered after `cutoff`, an act's: what the act
    recorded as owed was paid, at least in part, by that run."""
    since = await uow.settlements.first_after(municipality.id, cutoff)
    if since is not None:
        raise PaidSince(
            message_id=since.message_id,
            day=since.created_at.astimezone(ZoneInfo(municipality.timezone)).date().isoformat(),
        )


def message_id(code: str, local_now: datetime, number: int) -> str:
    """The SEPA MsgId "<CODE>-<yyyymmddHHMMSS>-<n>".

    Unique because n is a per-municipality sequence and municipality codes are unique; the
    timestamp is only there for people (dropped in the unlikely case the reference would
    exceed the 35 characters SEPA allows)."""
    full = f"{code}-{local_now:%Y%m%d%H%M%S}-{number}"
    return full if len(full) <= 35 else f"{code}-{number}"


async def _shop_name(uow: UnitOfWork, shop_id: int) -> str:
    shop = await uow.shops.by_id(shop_id)
    return shop.name if shop is not None else str(shop_id)


async def _period_start(uow: UnitOfWork, municipality_id: int) -> datetime | None:
    """Where this run's period begins: the previous settlement, else the first payment."""
    previous = await uow.settlements.latest_at(municipality_id)
    if previous is not None:
        return previous
    return await uow.ledger.first_posting_at(municipality_id, PostingKind.PAYMENT)


def latest_execution_date(municipality: m.Municipality, now: datetime) -> date:
    return now.astimezone(ZoneInfo(municipality.timezone)).date() + timedelta(
        days=EXECUTION_DAYS_AHEAD
    )


def default_execution_date(municipality: m.Municipality, now: datetime) -> date:
    """Today in the municipality's time when the bank executes transfers on it, else the
    next TARGET2 business day."""
    return next_business_day(now.astimezone(ZoneInfo(municipality.timezone)).date())


def check_execution_date(municipality: m.Municipality, now: datetime, execution_date: date) -> None:
    """The bank executes on a day to come (today included, in the municipality's time), at
    most EXECUTION_DAYS_AHEAD days away, and on a TARGET2 business day: a SEPA credit
    transfer asked for a Saturday, a Sunday or a TARGET2 holiday is not executed that day,
    and every shop would be told a date that is not true."""
    if execution_date < now.astimezone(ZoneInfo(municipality.timezone)).date():
        raise ExecutionDateInPast(execution_date=execution_date.isoformat())
    latest = latest_execution_date(municipality, now)
    if execution_date > latest:
        raise ExecutionDateTooLate(
            execution_date=execution_date.isoformat(), latest=latest.isoformat()
        )
    closed = closed_because(execution_date)
    if closed is not None:
        raise ExecutionDateClosed(
            execution_date=execution_date.isoformat(),
            closed=closed.value,
            next=next_business_day(execution_date).isoformat(),
        )


async def settle(
    uow: UnitOfWork,
    municipality: m.Municipality,
    now: datetime,
    execution_date: date,
    covers: Sequence[tuple[int, int]] | None = None,
    until: datetime | None = None,
) -> tuple[m.Settlement, bytes]:
    """Mark what is owed to shops as settled and return the SEPA file that pays it.

    Without `covers`, everything owed now (the command line's run). With `covers`, the
    (shop id, cents) an approved act recorded when it was prepared, at the cut-off `until`:
    exactly those amounts are paid, whatever arrived since (it stays on the shop's account
    for the next run); a shop now owed less than its amount (a refund since) refuses the
    whole run (LessOwed), so nobody is ever paid more than they are owed.

    Writes one Settlement (keeping the file, for the office to download again) and one
    shop -> settled posting per shop; the caller commits.
    The file is built (every IBAN checked, the whole file validated against the
    pain.001.001.03 schema) before anything is posted, so a bad shop IBAN raises
    InvalidIdentifier, an invalid file SepaError, and the run leaves nothing behind once
    rolled back."""
    if not municipality.iban:
        raise MunicipalityHasNoIban(municipality=municipality.code)
    zone = ZoneInfo(municipality.timezone)
    local_now = now.astimezone(zone)
    check_execution_date(municipality, now, execution_date)
    due = await pending_reimbursements(uow, municipality)
    if covers is not None:
        owed = {shop.id: (shop, cents) for shop, cents in due}
        chosen = []
        for shop_id, cents in covers:
            if cents <= 0:
                continue
            shop, balance = owed.get(shop_id, (None, 0))
            if shop is None or balance < cents:
                name = shop.name if shop is not None else await _shop_name(uow, shop_id)
                raise LessOwed(shop_id=shop_id, name=name, cents=cents, owed_cents=balance)
            chosen.append((shop, cents))
        due = chosen
    if not due:
        raise NothingToReimburse(municipality=municipality.code)
    if sepa_name(municipality.name) is None:
        raise NameNotInSepa(name=municipality.name, shop_id=None)
    for shop, _ in due:
        if sepa_name(shop.name) is None:
            raise NameNotInSepa(name=shop.name, shop_id=shop.id)

    number = await uow.municipalities.next_number(municipality.id, "settlement")
    reference = message_id(municipality.code, local_now, number)
    start = await _period_start(uow, municipality.id)
    first_day = start.astimezone(zone).date() if start is not None else local_now.date()
    last_day = (until or now).astimezone(zone).date()
    period = f"{min(first_day, last_day):%d/%m/%Y}-{last_day:%d/%m/%Y}"
    remittance = remittance_text(municipality.name, period)
    order = PaymentOrder(
        message_id=reference,
        created_at=local_now,
        initiating_party=municipality.name,
        debtor_name=municipality.name,
        debtor_iban=municipality.iban,
        debtor_bic=municipality.bic,
        execution_date=execution_date,
        transfers=tuple(
            CreditTransfer(
                end_to_end_id=f"{municipality.code}-R{number}-S{shop.id}",
                amount_cents=cents,
                creditor_name=shop.name,
                creditor_iban=shop.iban,
                remittance=remittance,
            )
            for shop, cents in due
        ),
    )
    xml = build_pain001(order)
    # The bank refuses a whole file for one schema error: never hand one to the office.
    validate_pain001(xml)

    settlement = m.Settlement(
        municipality_id=municipality.id,
        created_at=now,
        total_cents=order.total_cents,
        message_id=reference,
        execution_date=execution_date,
        document=xml,
    )
    uow.add(settlement)
    await uow.flush()
    for shop, cents in due:
        try:
            await ledger.post(
                uow,
                municipality_id=municipality.id,
                kind=PostingKind.REIMBURSEMENT,
                from_owner=shop.id,
                to_owner=0,
                amount_cents=cents,
                now=now,
                settlement_id=settlement.id,
            )
        except InsufficientFunds as exc:
            # The guarded debit refused: a refund (or another run) took money from the shop
            # after we read its balance. Paying the old amount would overpay it.
            raise BalancesChanged(shop_id=shop.id) from exc
        # In the run's transaction: a shop hears of its transfer exactly when it is ordered.
        await shops.notify_owners(
            uow,
            shop,
            Reply.of(
                t(
                    "Voucher reimbursement: a transfer of {amount} to your account ending "
                    "{iban_end} was ordered. The bank pays it on {day}. Ref. {reference}",
                    amount=Money(cents),
                    iban_end=shop.iban[-4:],
                    day=Day(execution_date),
                    reference=reference,
                )
            ),
            now,
        )
    return settlement, xml
