"""A payment of today given back (storno): the payments a refund lists, as the member asking
may read them (the owner every till's, a cashier their own till's), the receipt a refund
picks, and the refund's posting from the shop to the citizen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.charges import (
    ChargeStatus,
    can_refund,
    is_receipt_number,
)
from core.domain.errors import (
    Conflict,
    InsufficientFunds,
    NotAllowed,
    NotFound,
    Refusal,
)
from core.domain.ledger import PostingKind
from core.domain.messages import Money, Reply, t
from core.services import ledger
from core.services.outbox import (
    notify_payer,
)
from core.services.refund_codes import (
    REFUND_DONE,
    refuse_after_erasure,
    refuse_after_revocation,
    void_refund_codes,
)
from core.services.shop_rights import (
    acting_member,
    is_owner,
    till_of,
)
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


@dataclass(frozen=True)
class Refundable:
    charges: list[m.Charge]  # newest first, at most the limit
    settled: int  # payments of the period left out: the town has reimbursed the shop for them


async def refundable_charges(
    uow: UnitOfWork, member: m.ShopMember, since: datetime, until: datetime, limit: int = 5
) -> Refundable:
    """Confirmed (not refunded) payments of the member's shop in a period, newest first,
    without those already reimbursed to the shop (only the office can undo them): every
    till's for the owner, for a cashier only those their own till took."""
    till = None if is_owner(member) else till_of(member)
    charges = await uow.charges.of_shop(member.shop_id, since, until, till=till)
    confirmed = [c for c in charges if c.status == ChargeStatus.CONFIRMED]
    settled = await uow.charges.settled([c.id for c in confirmed])
    open_ = [c for c in confirmed if c.id not in settled]
    return Refundable(sorted(open_, key=lambda c: c.id, reverse=True)[:limit], len(settled))


async def confirmed_charge(
    uow: UnitOfWork, *, receipt_number: int, member: m.ShopMember
) -> m.Charge | None:
    """A payment the member's shop received and has not refunded (what a refund may pick),
    by the number on its receipt (counted per shop). Raises NotAllowed when the municipality has
    already reimbursed the shop for it, or revoked the customer's vouchers since: only the
    office can undo it, so the cashier is told before any code is sent; Conflict
    (refund.already_refunded) when it was refunded. A number no receipt can carry (0, or
    more digits than the column holds: `STORNO 99999999999999999999`) is no payment, never
    asked of the database."""
    if not is_receipt_number(receipt_number):
        return None
    charge = await uow.charges.by_receipt(member.shop_id, receipt_number)
    if charge is not None and charge.status == ChargeStatus.REFUNDED:
        # Said as such: "no payment with this receipt" would read as if it never existed.
        raise Conflict(Refusal.REFUND_ALREADY_REFUNDED)
    if charge is None or charge.status != ChargeStatus.CONFIRMED:
        return None
    if await uow.charges.settled([charge.id]):
        raise NotAllowed(Refusal.REFUND_ALREADY_SETTLED)
    # Revoked, or the customer erased, since: said before the owner's or the customer's
    # code too.
    await refuse_after_revocation(uow, charge)
    await refuse_after_erasure(uow, charge)
    return charge


class _Unmarked(Exception):
    """The refund's compare-and-set found the charge no longer refundable."""


async def refund_charge(
    uow: UnitOfWork,
    *,
    charge_id: int,
    shop_id: int,
    by: tuple[str, str],
    now: datetime,
    citizen_confirmed: bool = False,
) -> int:
    """Give a payment of today back to the citizen: shop -> citizen, a new posting.

    `by`: the chat (channel, address) refunding, read now in this transaction: it must
    still work for the shop and the shop be able to charge (shop.not_member, …), and its
    role now decides whether the citizen must consent: a cashier (not the owner) refunds
    only with the code sent to the citizen (see send_refund_code), checked by the caller
    (`citizen_confirmed`). There is no refund without a chat acting for the shop: who may
    refund is never the caller's word. A customer erased since the payment is refunded by
    nobody (refund.customer_erased): their account stays at zero."""
    member, _ = await acting_member(uow, shop_id, by, now, shop_may_charge=True)
    by_cashier = not is_owner(member)
    charge = await uow.charges.by_id(charge_id)
    if charge is None or charge.shop_id != shop_id:
        raise NotFound(Refusal.CHARGE_NOT_FOUND)
    if by_cashier and not citizen_confirmed:
        raise NotAllowed(Refusal.REFUND_NEEDS_CITIZEN_CODE)
    municipality = await uow.municipalities.by_id(charge.municipality_id)
    assert municipality is not None
    if not can_refund(ChargeStatus(charge.status), charge.confirmed_at, now, municipality.timezone):
        raise NotAllowed(Refusal.REFUND_NOT_TODAY)
    if await uow.charges.settled([charge.id]):
        # The town has paid the shop for it: the office must handle it.
        raise NotAllowed(Refusal.REFUND_ALREADY_SETTLED)
    await refuse_after_revocation(uow, charge)
    # The owner's refund needs no customer code: without this, an owner could put money on
    # an erased, pseudonymised account, which erasure leaves at zero for good.
    await refuse_after_erasure(uow, charge)
    # A refusal must leave nothing behind, though the caller (a dialogue turn) commits
    # its conversation after it: the writes are one savepoint, undone when one refuses.
    # The posting comes first for its lock on the shop's account: a reimbursement run
    # committed before it is then seen by the mark's guard.
    try:
        async with uow.savepoint():
            await ledger.post(
                uow,
                municipality_id=charge.municipality_id,
                kind=PostingKind.REFUND,
                from_owner=charge.shop_id,
                to_owner=charge.citizen_id,
                amount_cents=charge.amount_cents,
                now=now,
                charge_id=charge.id,
            )
            if not await uow.charges.mark_refunded(charge.id, now):
                raise _Unmarked
    except _Unmarked:
        # Refunded meanwhile, or a reimbursement run paid it meanwhile (the statement's guard).
        if await uow.charges.settled([charge.id]):
            raise NotAllowed(Refusal.REFUND_ALREADY_SETTLED) from None
        raise NotAllowed(Refusal.REFUND_NOT_TODAY) from None
    except InsufficientFunds as exc:
        # The shop's account cannot go below zero: a run took its money meanwhile.
        raise NotAllowed(Refusal.REFUND_ALREADY_SETTLED) from exc
    # Other cashiers' requests to refund it are over: the customer hears of the refund.
    await void_refund_codes(uow, REFUND_DONE, now, shop_id=charge.shop_id, charge_id=charge.id)
    citizen = await uow.citizens.by_id(charge.citizen_id)
    shop = await uow.shops.by_id(charge.shop_id)
    assert citizen is not None and shop is not None
    balance = await ledger.citizen_balance(uow, charge.municipality_id, citizen.id)
    await notify_payer(
        uow,
        citizen,
        Reply.of(
            t(
                "{shop} refunded {amount}. Balance: {balance}.",
                shop=shop.name,
                amount=Money(charge.amount_cents),
                balance=Money(balance),
            )
        ),
        now,
        charge_id=charge.id,
    )
    return balance
