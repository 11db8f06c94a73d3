from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain import otp
from core.domain.charges import ChargeStatus, ChargeView, CodeCheck, can_refund, check_code
from core.domain.ledger import ALLOWED_FLOWS, AccountKind, PostingKind, may_go_negative

NOW = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)


def charge(code: str, attempts: int = 0, status: ChargeStatus = ChargeStatus.PENDING) -> ChargeView:
    salt = otp.new_salt()
    return ChargeView(
        status, salt, otp.hash_code(code, salt), attempts, NOW + timedelta(minutes=10)
    )


def test_codes_are_random_six_digits_and_never_shorter() -> None:
    codes = {otp.new_code() for _ in range(200)}
    assert len(codes) > 190 and all(len(c) == 6 and c.isdigit() for c in codes)
    with pytest.raises(ValueError):
        otp.new_code(4)


def test_code_accepted_as_the_cashier_types_it() -> None:
    assert check_code(charge("123456"), "123 456", NOW, 3).check is CodeCheck.ACCEPTED
    assert check_code(charge("123456"), "123-456", NOW, 3).check is CodeCheck.ACCEPTED


def test_wrong_tries_count_down_then_cancel() -> None:
    first = check_code(charge("123456"), "000000", NOW, 3)
    assert (first.check, first.attempts, first.attempts_left) == (CodeCheck.WRONG, 1, 2)
    last = check_code(charge("123456", attempts=2), "000000", NOW, 3)
    assert last.check is CodeCheck.TOO_MANY_ATTEMPTS


def test_expired_and_used_codes_are_refused() -> None:
    assert check_code(charge("123456"), "123456", NOW + timedelta(minutes=10), 3).check is (
        CodeCheck.EXPIRED
    )
    used = charge("123456", status=ChargeStatus.CONFIRMED)
    assert check_code(used, "123456", NOW, 3).check is CodeCheck.NOT_PENDING


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
