"""The life of a charge: a shop asks, the citizen's code confirms (docs/payments-and-codes.md).

A pending charge holds no money. These functions decide; services persist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo

from core.domain import otp
from core.domain.keys import ServerKeys


class ChargeStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


def expiry(created_at: datetime, ttl_minutes: int) -> datetime:
    return created_at + timedelta(minutes=ttl_minutes)


@dataclass(frozen=True)
class PendingCode:
    """A new payment's one-time code: `code` goes to the payer only; the rest is stored."""

    code: str
    code_salt: str
    code_hash: str
    expires_at: datetime


def new_pending_code(keys: ServerKeys, now: datetime, ttl_minutes: int) -> PendingCode:
    """The code for a charge asked now (buono spesa and community voucher alike)."""
    code, salt = otp.new_code(), otp.new_salt()
    return PendingCode(code, salt, otp.hash_code(keys, code, salt), expiry(now, ttl_minutes))


# The largest receipt number a shop can have (`charges.receipt_number`, a BIGINT): a number
# typed above it names no payment, and asked of the database it overflowed the column's type.
RECEIPT_NUMBER_MAX = 2**63 - 1


def is_receipt_number(number: int) -> bool:
    """Whether a receipt could carry `number` (they count 1, 2, 3… per shop)."""
    return 0 < number <= RECEIPT_NUMBER_MAX


def can_refund(
    status: ChargeStatus, confirmed_at: datetime | None, now: datetime, tz_day: str
) -> bool:
    """A payment can be refunded on the same calendar day (in the municipality's time zone)."""
    if status is not ChargeStatus.CONFIRMED or confirmed_at is None:
        return False
    zone = ZoneInfo(tz_day)
    return confirmed_at.astimezone(zone).date() == now.astimezone(zone).date()


# Payment codes a person receives are counted over this window (codes_per_person_per_hour).
CODES_WINDOW = timedelta(hours=1)


def codes_again_at(sent: Sequence[datetime], by_shop: Sequence[datetime], cap: int) -> datetime:
    """When a shop refused for the person's codes of the last hour may ask again.

    For a shop that sent the person a code in the hour (`by_shop`, the times of its own
    codes): the moment its last one leaves the hour, from which its first code is never
    refused. Only its own codes decide what it is told: the minute the oldest code of the
    hour leaves the window may be another shop's, and telling it would say that another
    shop asked this person for a code, and when. The shop may be let through sooner, when
    enough codes leave the hour; it is never told a time it would be refused at.
    Without that rule (`by_shop` empty): once fewer than `cap` codes (`sent`, all of
    them) are left in the window. The minute after, as the till shows minutes: a code is
    counted until the very instant an hour after it."""
    if by_shop:
        again = max(by_shop) + CODES_WINDOW
    else:
        assert 0 < cap <= len(sent), "codes_again_at is asked only for a refusal"
        # The window counts a code until an hour after it: the oldest ones leave it first.
        again = sorted(sent)[len(sent) - cap] + CODES_WINDOW
    return again.replace(second=0, microsecond=0) + timedelta(minutes=1)


def shop_is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


class ShopLock(StrEnum):
    NONE = "none"
    TIMED = "timed"  # for the policy's shop_lock_minutes
    OFFICE = "office"  # until the office unlocks it


def shop_lock_now(
    blocked_at: datetime | None, locked_until: datetime | None, now: datetime
) -> ShopLock:
    """The lock a shop is under at `now`: blocked until the office unlocks it, or for a while."""
    if blocked_at is not None:
        return ShopLock.OFFICE
    if shop_is_locked(locked_until, now):
        return ShopLock.TIMED
    return ShopLock.NONE


def lock_for_wrong_codes(wrong_codes: int, lock_after: int, block_after: int) -> ShopLock:
    """What a shop's wrong payment codes of the last 24 hours (this one included) earn it.

    Every wrong code counts, whatever becomes of its charge: a new charge, ANNULLA or a
    good sale in between change nothing (NIST SP 800-63B: a limit on failed attempts)."""
    if wrong_codes >= block_after:
        return ShopLock.OFFICE
    if wrong_codes >= lock_after:
        return ShopLock.TIMED
    return ShopLock.NONE


# Confirming a pending payment ------------------------------------------------------------
# One state machine for every payment a shop confirms with the payer's code (a buono spesa
# charge, a community voucher charge); the services keep only their storage and ledger.


class Confirmation(StrEnum):
    """What a typed code does to a payment."""

    ACCEPT = "accept"  # pay now (the ledger may still refuse it: not enough money)
    ALREADY_CONFIRMED = "already_confirmed"
    NOT_PENDING = "not_pending"  # cancelled, expired or refunded before: nothing changes
    SHOP_LOCKED = "shop_locked"  # the shop was locked meanwhile: void, no code looked at
    EXPIRED = "expired"
    WRONG_CODE = "wrong_code"  # counted against the shop; the payment waits for another try
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # the last allowed wrong code: cancelled
    LOCKED_OUT = "locked_out"  # this wrong code locked the shop: cancelled


class HolderNotice(StrEnum):
    """What the code's holder (the citizen, their delegate, a voucher's holder) is told."""

    NONE = "none"
    RECEIPT = "receipt"  # paid, and what is left (once the money has moved)
    VOID = "void"  # the payment will not happen: the code held is no longer valid
    WRONG_CODES = "wrong_codes"  # wrong codes were typed for it: a warning, possible fraud


class PendingConfirmation(NamedTuple):
    """A payment as its confirmation sees it: plain data, read before anything is written.

    (Named tuples, here and for the decision: built on every payment's hot path, where a
    frozen dataclass's field-by-field __init__ costs a few microseconds more.)"""

    status: ChargeStatus
    attempts: int  # wrong codes already typed for it
    expires_at: datetime
    shop_lock: ShopLock  # the shop's lock as found (shop_lock_now)
    code_matches: bool  # the typed code (or card PIN) against the stored keyed hash


class ConfirmDecision(NamedTuple):
    """What happens and who is told. `new_status`: what the pending payment becomes (with
    `closed_reason` and `attempts`), None when it stays as it is; the holder is told only
    when this confirmation moved it (the compare-and-set on "pending" succeeded)."""

    step: Confirmation
    attempts: int
    attempts_left: int = 0
    new_status: ChargeStatus | None = None
    closed_reason: str | None = None
    holder: HolderNotice = HolderNotice.NONE
    shop_lock: ShopLock = ShopLock.NONE

    @property
    def counts_against_shop(self) -> bool:
        """A wrong code: the service records it against the shop, then `after_count`."""
        return self.step in (Confirmation.WRONG_CODE, Confirmation.TOO_MANY_ATTEMPTS)

    def after_count(self, lock: ShopLock) -> ConfirmDecision:
        """The decision once this wrong code was counted and earned the shop `lock`
        (lock_for_wrong_codes). A lock cancels the payment, and its holder is warned of the
        wrong codes: the cashier typed them, the shop did not give the payment up."""
        if lock is ShopLock.NONE or not self.counts_against_shop:
            return self
        if self.step is Confirmation.TOO_MANY_ATTEMPTS:
            return self._replace(shop_lock=lock)
        return ConfirmDecision(
            Confirmation.LOCKED_OUT,
            self.attempts,
            new_status=ChargeStatus.CANCELLED,
            closed_reason="shop_locked",
            holder=HolderNotice.WRONG_CODES,
            shop_lock=lock,
        )


def confirmation_step(
    payment: PendingConfirmation, now: datetime, max_attempts: int, till_tries: int | None = None
) -> Confirmation:
    """The state machine's step alone (what the one-trip path of a payment asks: is this a
    plain acceptance); decide_confirmation says what follows from it."""
    if payment.status is ChargeStatus.CONFIRMED:
        return Confirmation.ALREADY_CONFIRMED
    if payment.status is not ChargeStatus.PENDING:
        return Confirmation.NOT_PENDING
    if payment.shop_lock is not ShopLock.NONE:
        return Confirmation.SHOP_LOCKED
    if now >= payment.expires_at:
        return Confirmation.EXPIRED
    if payment.code_matches:
        return Confirmation.ACCEPT
    if _tries_left(payment.attempts, max_attempts, till_tries) <= 1:
        return Confirmation.TOO_MANY_ATTEMPTS
    return Confirmation.WRONG_CODE


def _tries_left(attempts: int, max_attempts: int, till_tries: int | None) -> int:
    """The wrong codes that may still be typed for a payment, the next one included: the
    payment's own tries, or fewer when the till typing them has fewer of its own left."""
    left = max_attempts - attempts
    return left if till_tries is None else min(left, till_tries)


def decide_confirmation(
    payment: PendingConfirmation, now: datetime, max_attempts: int, till_tries: int | None = None
) -> ConfirmDecision:
    """Judge one typed code. Wrong tries count; the last allowed wrong try cancels the
    payment and warns its holder; a shop locked meanwhile voids it without looking at the
    code.

    `till_tries`: the wrong codes the till that typed this one may still type, this one
    included (an SMS till's session allows two, since its sender could be forged: see
    core/dialogue/flows/charge_session.py); None when only the payment's own tries count. The last
    wrong code the till may type is the last allowed for the payment too, whichever limit
    it reaches: the payment is cancelled and its holder warned alike on every channel, never
    told that the shop gave it up (the cashier may be guessing)."""
    step = confirmation_step(payment, now, max_attempts, till_tries)
    attempts = payment.attempts
    if step is Confirmation.ACCEPT:
        return ConfirmDecision(
            step,
            attempts,
            max_attempts - attempts,
            new_status=ChargeStatus.CONFIRMED,
            holder=HolderNotice.RECEIPT,
        )
    if step is Confirmation.SHOP_LOCKED:
        return ConfirmDecision(
            step,
            attempts,
            new_status=ChargeStatus.CANCELLED,
            closed_reason="shop_locked",
            holder=HolderNotice.VOID,
            shop_lock=payment.shop_lock,
        )
    if step is Confirmation.EXPIRED:
        return ConfirmDecision(
            step, attempts, new_status=ChargeStatus.EXPIRED, closed_reason="expired"
        )
    if step is Confirmation.TOO_MANY_ATTEMPTS:
        return ConfirmDecision(
            step,
            attempts + 1,
            new_status=ChargeStatus.CANCELLED,
            closed_reason="too_many_attempts",
            holder=HolderNotice.WRONG_CODES,
        )
    if step is Confirmation.WRONG_CODE:
        return ConfirmDecision(
            step, attempts + 1, _tries_left(attempts, max_attempts, till_tries) - 1
        )
    return ConfirmDecision(step, attempts)  # already confirmed, or closed before
