"""What a member of a shop reads of its money from the chat, given who is asking.

A cashier is an employee the owner added: the shop's turnover and what the municipality
owes it are the owner's business. So a cashier's statement of any period (today, this
month, a month named) and their last payment ("ultimo pagamento") are their own till's
only, and the shop's reimbursements are refused to them (shop.reimbursements_owner_only).
The rule is here, in the service, not in the chat: the chat only says what it is given.
The office's statement of a shop (services.paperwork) is the office's, and unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.channels import chat_label
from core.domain.errors import NotAllowed, Refusal
from core.services import ledger
from core.services.movements import Reimbursements, shop_reimbursements
from core.services.shop_rights import is_owner, till_of
from core.services.shops import Statement, TillTakings, statement
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


def _check_member(member: m.ShopMember, shop: m.Shop) -> None:
    if member.shop_id != shop.id:
        raise NotAllowed(Refusal.SHOP_NOT_MEMBER)


async def statement_for(
    uow: UnitOfWork, member: m.ShopMember, shop: m.Shop, since: datetime, until: datetime
) -> Statement | TillTakings:
    """The period's statement as `member` may read it: the shop's (every till, its refunds,
    what the town owes) for its owner; for a cashier their own till's takings only."""
    _check_member(member, shop)
    if is_owner(member):
        return await statement(uow, shop, since, until)
    return await own_till(uow, member, since, until)


async def own_till(
    uow: UnitOfWork, member: m.ShopMember, since: datetime, until: datetime
) -> TillTakings:
    """What the member's own till took in the period (nothing: zeros), counted in the
    database (ChargeRepository.takings_by_till, that till only): no citizen is loaded."""
    rows = await uow.charges.takings_by_till(member.shop_id, since, until, till=till_of(member))
    payments = paid_cents = refunds = refunded_cents = 0
    for _, count, cents, refunded, refunded_sum in rows:
        payments, paid_cents = payments + count, paid_cents + cents
        refunds, refunded_cents = refunds + refunded, refunded_cents + refunded_sum
    return TillTakings(
        label=chat_label(member.channel, member.address),
        own=True,
        payments=payments,
        paid_cents=paid_cents,
        refunds=refunds,
        refunded_cents=refunded_cents,
    )


@dataclass(frozen=True)
class LastPayment:
    """The last payment made that a member may read (refunded since or not)."""

    charge: m.Charge | None  # None: none yet
    own_till: bool  # a cashier's: their own till's last, not the shop's


async def last_payment_for(uow: UnitOfWork, member: m.ShopMember, shop: m.Shop) -> LastPayment:
    """The shop's last payment, from any till, for its owner; for a cashier the last one
    their own till took (another till's amount and time are not theirs to read)."""
    _check_member(member, shop)
    if is_owner(member):
        return LastPayment(await uow.charges.last_paid_of_shop(shop.id), own_till=False)
    charge = await uow.charges.last_paid_of_shop(shop.id, till=till_of(member))
    return LastPayment(charge, own_till=True)


@dataclass(frozen=True)
class OwedToShop:
    """What the municipality still owes the shop, and the transfers it has ordered."""

    owed_cents: int  # the shop's balance: earned, not yet settled
    transfers: Reimbursements


async def reimbursements_for(uow: UnitOfWork, member: m.ShopMember, shop: m.Shop) -> OwedToShop:
    """The shop's reimbursements, for its owner only: a cashier is refused
    (shop.reimbursements_owner_only), nothing read."""
    _check_member(member, shop)
    if not is_owner(member):
        raise NotAllowed(Refusal.SHOP_REIMBURSEMENTS_OWNER_ONLY)
    return OwedToShop(
        owed_cents=await ledger.shop_balance(uow, shop.municipality_id, shop.id),
        transfers=await shop_reimbursements(uow, shop.municipality_id, shop.id),
    )
