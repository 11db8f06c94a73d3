"""The life of a charge: a shop asks, the citizen's code confirms (docs/payments-and-codes.md).

A pending charge holds no money. These functions decide; services persist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.domain import otp
from core.domain.keys import ServerKeys


class ChargeStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class CodeCheck(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    EXPIRED = "expired"
    NOT_PENDING = "not_pending"


@dataclass(frozen=True, slots=True)
class ChargeView:
    status: ChargeStatus
    code_salt: str
    code_hash: str
    attempts: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CodeVerdict:
    check: CodeCheck
    attempts: int
    attempts_left: int


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


def check_code(
    charge: ChargeView, typed: str, now: datetime, max_attempts: int, keys: ServerKeys
) -> CodeVerdict:
    """Judge one typed code. Wrong tries count; the last allowed wrong try cancels the charge."""
    if charge.status is not ChargeStatus.PENDING:
        return CodeVerdict(CodeCheck.NOT_PENDING, charge.attempts, 0)
    if now >= charge.expires_at:
        return CodeVerdict(CodeCheck.EXPIRED, charge.attempts, 0)
    if otp.code_matches(keys, typed, charge.code_salt, charge.code_hash):
        return CodeVerdict(CodeCheck.ACCEPTED, charge.attempts, max_attempts - charge.attempts)
    attempts = charge.attempts + 1
    if attempts >= max_attempts:
        return CodeVerdict(CodeCheck.TOO_MANY_ATTEMPTS, attempts, 0)
    return CodeVerdict(CodeCheck.WRONG, attempts, max_attempts - attempts)


def can_refund(
    status: ChargeStatus, confirmed_at: datetime | None, now: datetime, tz_day: str
) -> bool:
    """A payment can be refunded on the same calendar day (in the municipality's time zone)."""
    if status is not ChargeStatus.CONFIRMED or confirmed_at is None:
        return False
    zone = ZoneInfo(tz_day)
    return confirmed_at.astimezone(zone).date() == now.astimezone(zone).date()


def shop_is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


class ShopLock(StrEnum):
    NONE = "none"
    TIMED = "timed"  # for the policy's shop_lock_minutes
    OFFICE = "office"  # until the office unlocks it


def lock_for_wrong_codes(wrong_codes: int, lock_after: int, block_after: int) -> ShopLock:
    """What a shop's wrong payment codes of the last 24 hours (this one included) earn it.

    Every wrong code counts, whatever becomes of its charge: a new charge, ANNULLA or a
    good sale in between change nothing (NIST SP 800-63B: a limit on failed attempts)."""
    if wrong_codes >= block_after:
        return ShopLock.OFFICE
    if wrong_codes >= lock_after:
        return ShopLock.TIMED
    return ShopLock.NONE
