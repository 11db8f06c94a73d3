"""What a till holds open: the payments it asked that still wait for the customer's code.

A till (a cashier's chat or number, a payment's `requested_by`) says "Cancelled." only when
nothing it asked still waits for a code, else the code told later would still pay
(docs/payments-and-codes.md, "At the till"). So a new PAGA, ANNULLA and the end of an SMS
till's session after wrong codes give up what the till holds, here, in the transaction of
the turn (the payment the session's last wrong code was typed for is cancelled by that
code itself, its customer warned of the wrong codes: charges.confirm_charge): each payment
moves from pending to cancelled by a compare-and-set (one confirmed in the same instant
stays confirmed, and is not named) and its customer is told that the code no longer works,
as a shop's replaced payment is (charges.request_charge), or, when wrong codes were typed
for it, warned of them (charges.cancelled_after_wrong_codes).
"""

from __future__ import annotations

from datetime import datetime

from core.services import charges, voucher_charges
from core.services.charges import WaitingCharge
from core.services.unit_of_work import UnitOfWork

# Why a till gave a payment up (its closed_reason): ANNULLA, a new PAGA, or the SMS till's
# session ended by wrong codes.
BY_SHOP = "by_shop"
REPLACED = "replaced"
TILL_CLOSED = "till_closed"


async def cancel_waiting(
    uow: UnitOfWork,
    *,
    shop_id: int,
    till: str,
    now: datetime,
    reason: str,
    keep: int | None = None,
) -> list[WaitingCharge]:
    """Cancel every payment of the shop that this till asked and that still waits for a
    code (buoni spesa and community vouchers), but `keep` (the one a new PAGA just asked),
    telling each customer; the ones cancelled, newest first, for the till to name (amount,
    and where the code went as it was shown)."""
    cancelled = []
    for waiting in await charges.waiting_at_till(uow, shop_id=shop_id, till=till, now=now):
        if waiting.charge_id == keep:
            continue
        cancel = voucher_charges.cancel_voucher_charge if waiting.voucher else charges.cancel_charge
        if await cancel(uow, charge_id=waiting.charge_id, shop_id=shop_id, now=now, reason=reason):
            cancelled.append(waiting)
    return cancelled
