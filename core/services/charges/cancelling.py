"""A pending payment that will not happen: given up by the shop, refused by the customer,
stopped by the office, or expired."""

from __future__ import annotations

from datetime import datetime

from core.domain.charges import (
    ChargeStatus,
)
from core.domain.errors import (
    NotFound,
    Refusal,
)
from core.domain.messages import Money, Reply, t
from core.services import security
from core.services.charges.notices import _tell_void
from core.services.code_destinations import (
    CODE_ELSEWHERE,
    tell_shop_office_stopped,
)
from core.services.outbox import (
    notify_till,
)
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# Why a pending payment was cancelled (its closed_reason), where what the till hears of it
# depends on it: the customer refused it (refuse_charge), or the office stopped it, by
# revoking the customer's vouchers (core/services/audit.py) or because its code went to a
# phone that is no longer theirs (core/services/code_destinations.py).
BY_CITIZEN = "by_citizen"


REVOKED = "revoked"


BY_OFFICE = frozenset({REVOKED, CODE_ELSEWHERE})


async def cancel_charge(
    uow: UnitOfWork, *, charge_id: int, shop_id: int, now: datetime, reason: str = "by_shop"
) -> bool:
    """The shop gives up a pending payment (ANNULLA at the till; `reason`, its
    closed_reason, says why: core/services/tills.py). The citizen holds a code for a
    payment that will not happen: they are told it is void, in this transaction (warned,
    when wrong codes were typed for it: _tell_void). False: it
    was no longer pending (confirmed, expired or cancelled meanwhile), and nobody is told
    anything."""
    charge = await uow.charges.by_id(charge_id)
    if charge is None or charge.shop_id != shop_id:
        raise NotFound(Refusal.CHARGE_NOT_FOUND)
    if not await uow.charges.mark(
        charge.id, ChargeStatus.PENDING, status=ChargeStatus.CANCELLED, closed_reason=reason
    ):
        return False
    citizen = await uow.citizens.by_id(charge.citizen_id)
    shop = await uow.shops.by_id(charge.shop_id)
    if citizen is not None and shop is not None:
        await _tell_void(uow, charge, citizen, shop, now)
    return True


async def refuse_charge(
    uow: UnitOfWork,
    *,
    charge_id: int,
    citizen_id: int,
    now: datetime,
    not_me: bool = False,
    channel: str | None = None,
    challenge: security.NotMeChallenge | None = None,
) -> bool:
    """The citizen (or their delegate) refuses a payment a shop asked: ANNULLA from the chat
    that received the code. Cancelled like the shop's own ANNULLA (cancel_charge), and the
    till that asked it is told, since the cashier waits for a code that will not come.
    `not_me`: she says she did not shop there; the office keeps that, with the shop and the
    till that asked (security.not_me_refusal), in this transaction: written from `channel`,
    unconfirmed until `challenge` comes back when there is one (security.not_me_challenge;
    the refusal itself is immediate: it only protects her). A plain ANNULLA keeps
    nothing: she may just have changed her mind. False: it was no longer pending, and
    nobody is told anything."""
    charge = await uow.charges.by_id(charge_id)
    if charge is None or charge.citizen_id != citizen_id:
        raise NotFound(Refusal.CHARGE_NOT_FOUND)
    if not await uow.charges.mark(
        charge.id, ChargeStatus.PENDING, status=ChargeStatus.CANCELLED, closed_reason=BY_CITIZEN
    ):
        return False
    if not_me:
        await security.not_me_refusal(uow, charge, now, channel=channel, challenge=challenge)
    await notify_till(
        uow,
        charge,
        Reply.of(
            t(
                "The customer refused the payment of {amount}: the code no longer works. "
                "Ask how they want to pay.",
                amount=Money(charge.amount_cents),
            )
        ),
        now,
    )
    return True


async def cancelled_by_office(
    uow: UnitOfWork, charge: m.Charge, citizen: m.Citizen, now: datetime
) -> None:
    """The office stopped a payment waiting for the citizen's code or PIN (a revocation):
    the citizen is told it is void, the shop's members that it will not come (the cashier
    would otherwise wait for a code)."""
    shop = await uow.shops.by_id(charge.shop_id)
    if shop is None:
        return
    await _tell_void(uow, charge, citizen, shop, now, by_office=True)
    await tell_shop_office_stopped(uow, shop, charge, now)


async def expire_charges(uow: UnitOfWork, now: datetime) -> int:
    """Sweep pending charges past their expiry (a code can never be used after it anyway)."""
    return await uow.charges.expire_due(now)
