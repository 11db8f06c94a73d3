"""What a confirmation tells the till, and the rules that decide it, shared by a buono
spesa's payment and a community voucher's (core/services/voucher_charges.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from core.domain.charges import (
    ChargeStatus,
    Confirmation,
    ConfirmDecision,
    HolderNotice,
    PendingConfirmation,
    ShopLock,
    decide_confirmation,
    shop_lock_now,
)
from core.domain.errors import NotFound, Refusal
from core.domain.policy import Policy
from core.storage import models as m


class ConfirmOutcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    WRONG_CODE = "wrong_code"
    CANCELLED_TOO_MANY_ATTEMPTS = "cancelled_too_many_attempts"
    EXPIRED = "expired"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    NOT_PENDING = "not_pending"
    SHOP_LOCKED = "shop_locked"
    CARD_BLOCKED = "card_blocked"
    CARD_LOCKED_AT_SHOP = "card_locked_at_shop"
    # Too many wrong codes for the person at several shops: her codes are stopped.
    CODES_STOPPED = "codes_stopped"


@dataclass(frozen=True)
class ConfirmResult:
    outcome: ConfirmOutcome
    charge_id: int
    amount_cents: int
    attempts_left: int = 0
    citizen_balance_cents: int | None = None
    shop_lock: ShopLock = ShopLock.NONE
    # CARD_LOCKED_AT_SHOP: when this shop may charge the card again.
    card_again_at: datetime | None = None
    # CODES_STOPPED: until when no payment code goes to the person.
    codes_stopped_until: datetime | None = None
    # CONFIRMED, ALREADY_CONFIRMED: the number on the shop's receipt, counted per shop.
    receipt_number: int | None = None
    # CONFIRMED by a code of a card's grid: the unused codes left on the card.
    card_codes_left: int | None = None
    # INSUFFICIENT_FUNDS of a card payment whose holder no notice reaches: her balance, for
    # the till to say to her (she typed the card's code there; nothing else tells her).
    balance_for_the_holder_cents: int | None = None


# What the cashier is told of each step of the confirmation (core/domain/charges.py).
OUTCOME_OF = {
    Confirmation.ACCEPT: ConfirmOutcome.CONFIRMED,
    Confirmation.ALREADY_CONFIRMED: ConfirmOutcome.ALREADY_CONFIRMED,
    Confirmation.NOT_PENDING: ConfirmOutcome.NOT_PENDING,
    Confirmation.SHOP_LOCKED: ConfirmOutcome.SHOP_LOCKED,
    Confirmation.EXPIRED: ConfirmOutcome.EXPIRED,
    Confirmation.WRONG_CODE: ConfirmOutcome.WRONG_CODE,
    Confirmation.TOO_MANY_ATTEMPTS: ConfirmOutcome.CANCELLED_TOO_MANY_ATTEMPTS,
    Confirmation.LOCKED_OUT: ConfirmOutcome.SHOP_LOCKED,
}


# Steps that look at no code: the payment was closed before, or the shop is locked.
_CLOSED_OR_VOID = (
    Confirmation.ALREADY_CONFIRMED,
    Confirmation.NOT_PENDING,
    Confirmation.SHOP_LOCKED,
)


def decide_on_code(
    charge: m.Charge | m.VoucherCharge,
    shop: m.Shop,
    matched: bool,
    policy: Policy,
    now: datetime,
    till_tries: int | None,
) -> ConfirmDecision:
    """The confirmation's rules (core/domain/charges.py: decide_confirmation) for a pending
    payment of either kind as it is stored now, and a typed code that `matched` or not."""
    return decide_confirmation(
        PendingConfirmation(
            ChargeStatus(charge.status),
            charge.attempts,
            charge.expires_at,
            shop_lock_now(shop.blocked_at, shop.locked_until, now),
            matched,
        ),
        now,
        policy.max_code_attempts,
        till_tries,
    )


P = TypeVar("P", bound=tuple[Any, ...])


def of_this_shop(parties: P | None, shop_id: int) -> P:
    """A payment of either kind with its parties (the payment first), when the shop asking
    is its own: another shop's payment is refused as one that does not exist."""
    if parties is None or parties[0].shop_id != shop_id:
        raise NotFound(Refusal.CHARGE_NOT_FOUND)
    return parties


class MarkCharge(Protocol):
    """A compare-and-set on a payment's status, either kind's (ChargeRepository.mark,
    CommunityRepository.mark_charge): True when it moved from `from_status`."""

    async def __call__(self, charge_id: int, from_status: str, **values: object) -> bool: ...


async def not_paid(
    decision: ConfirmDecision,
    charge_id: int,
    amount_cents: int,
    mark: MarkCharge,
    *,
    warn: Callable[[], Awaitable[None]],
    void: Callable[[], Awaitable[None]],
) -> ConfirmResult:
    """Carry out a decision that pays nothing, for any kind of payment: `mark` moves the
    pending payment and, only when it moved, the holder is given the decision's notice:
    `warn` of wrong codes, or that the code is `void`."""
    if decision.step not in (Confirmation.ALREADY_CONFIRMED, Confirmation.NOT_PENDING):
        values: dict[str, Any] = {"attempts": decision.attempts}
        if decision.new_status is not None:
            values |= {"status": decision.new_status, "closed_reason": decision.closed_reason}
        if await mark(charge_id, ChargeStatus.PENDING, **values):
            if decision.holder is HolderNotice.WRONG_CODES:
                await warn()
            elif decision.holder is HolderNotice.VOID:
                await void()
    return ConfirmResult(
        OUTCOME_OF[decision.step],
        charge_id,
        amount_cents,
        decision.attempts_left,
        shop_lock=decision.shop_lock,
    )


async def refused_for_balance(mark: MarkCharge, charge_id: int) -> None:
    """A payment taken out of "pending" whose money the balance could not cover: cancelled,
    as if never confirmed (the caller tells the holder why)."""
    await mark(
        charge_id,
        ChargeStatus.CONFIRMED,
        status=ChargeStatus.CANCELLED,
        confirmed_at=None,
        closed_reason="insufficient_funds",
    )
