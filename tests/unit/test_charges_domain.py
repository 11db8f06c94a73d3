from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain import otp
from core.domain.charges import (
    ChargeStatus,
    ChargeView,
    CodeCheck,
    ShopLock,
    can_refund,
    check_code,
    lock_for_wrong_codes,
    new_pending_code,
)
from core.domain.keys import ServerKeys, new_secret
from core.domain.ledger import ALLOWED_FLOWS, AccountKind, PostingKind, may_go_negative

NOW = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)
KEYS = ServerKeys(new_secret())


def charge(code: str, attempts: int = 0, status: ChargeStatus = ChargeStatus.PENDING) -> ChargeView:
    salt = otp.new_salt()
    return ChargeView(
        status, salt, otp.hash_code(KEYS, code, salt), attempts, NOW + timedelta(minutes=10)
    )


def test_codes_are_random_six_digits_and_never_shorter() -> None:
    codes = {otp.new_code() for _ in range(200)}
    assert len(codes) > 190 and all(len(c) == 6 and c.isdigit() for c in codes)
    with pytest.raises(ValueError):
        otp.new_code(4)


def test_code_accepted_as_the_cashier_types_it() -> None:
    assert check_code(charge("123456"), "123 456", NOW, 3, KEYS).check is CodeCheck.ACCEPTED
    assert check_code(charge("123456"), "123-456", NOW, 3, KEYS).check is CodeCheck.ACCEPTED


def test_wrong_tries_count_down_then_cancel() -> None:
    first = check_code(charge("123456"), "000000", NOW, 3, KEYS)
    assert (first.check, first.attempts, first.attempts_left) == (CodeCheck.WRONG, 1, 2)
    last = check_code(charge("123456", attempts=2), "000000", NOW, 3, KEYS)
    assert last.check is CodeCheck.TOO_MANY_ATTEMPTS


def test_expired_and_used_codes_are_refused() -> None:
    assert check_code(charge("123456"), "123456", NOW + timedelta(minutes=10), 3, KEYS).check is (
        CodeCheck.EXPIRED
    )
    used = charge("123456", status=ChargeStatus.CONFIRMED)
    assert check_code(used, "123456", NOW, 3, KEYS).check is CodeCheck.NOT_PENDING


def test_refund_only_on_the_same_day_in_rome() -> None:
    late_evening = datetime(2026, 4, 6, 21, 30, tzinfo=UTC)  # 23:30 in Rome
    assert can_refund(
        ChargeStatus.CONFIRMED, late_evening, late_evening + timedelta(minutes=20), "Europe/Rome"
    )
    assert not can_refund(
        ChargeStatus.CONFIRMED, late_evening, late_evening + timedelta(hours=1), "Europe/Rome"
    )
    assert not can_refund(ChargeStatus.REFUNDED, late_evening, late_evening, "Europe/Rome")


def test_only_the_fund_may_be_overdrawn_and_each_posting_kind_has_one_flow() -> None:
    assert may_go_negative(AccountKind.FUND)
    assert not any(
        may_go_negative(kind)
        for kind in (AccountKind.CITIZEN, AccountKind.SHOP, AccountKind.SETTLED)
    )
    assert set(ALLOWED_FLOWS) == set(PostingKind)
    assert ALLOWED_FLOWS[PostingKind.PAYMENT] == (AccountKind.CITIZEN, AccountKind.SHOP)
    assert ALLOWED_FLOWS[PostingKind.REIMBURSEMENT] == (AccountKind.SHOP, AccountKind.SETTLED)


def test_a_code_hash_needs_the_server_secret() -> None:
    """A copy of the database alone (salt and hash) does not give the code away."""
    salt = otp.new_salt()
    stored = otp.hash_code(KEYS, "123456", salt)
    other = ServerKeys(new_secret())
    assert otp.code_matches(KEYS, "123456", salt, stored)
    assert not any(otp.code_matches(other, f"{n:06d}", salt, stored) for n in range(123000, 124000))


def test_cashier_codes_are_long_and_unambiguous() -> None:
    codes = {otp.new_invite_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) >= 10 and not set(c) & set("0O1IL") for c in codes)
    assert otp.normalize_invite_code("abcd-efgh 23") == "ABCDEFGH23"


def test_wrong_codes_lock_for_a_while_then_until_the_office_unlocks() -> None:
    assert lock_for_wrong_codes(4, 5, 10) is ShopLock.NONE
    assert lock_for_wrong_codes(5, 5, 10) is ShopLock.TIMED
    assert lock_for_wrong_codes(9, 5, 10) is ShopLock.TIMED
    assert lock_for_wrong_codes(10, 5, 10) is ShopLock.OFFICE


def test_sealed_outbox_bodies_open_only_with_the_same_secret() -> None:
    sealed = KEYS.seal({"code": "123456"})
    assert "123456" not in sealed
    assert KEYS.unseal(sealed) == {"code": "123456"}
    with pytest.raises(ValueError):
        ServerKeys(new_secret()).unseal(sealed)


def test_a_new_pending_code_is_stored_only_as_its_keyed_hash_and_expires_after_the_ttl() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    pending = new_pending_code(KEYS, now, ttl_minutes=5)
    assert otp.code_matches(KEYS, pending.code, pending.code_salt, pending.code_hash)
    assert pending.code not in pending.code_hash
    assert pending.expires_at == now + timedelta(minutes=5)
    assert new_pending_code(KEYS, now, 5).code_salt != pending.code_salt
