from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain import cards, otp
from core.domain.charges import (
    ChargeStatus,
    Confirmation,
    ConfirmDecision,
    HolderNotice,
    PendingConfirmation,
    ShopLock,
    can_refund,
    confirmation_step,
    decide_confirmation,
    is_receipt_number,
    lock_for_wrong_codes,
    new_pending_code,
    shop_lock_now,
)
from core.domain.keys import ServerKeys, new_secret
from core.domain.ledger import ALLOWED_FLOWS, AccountKind, PostingKind, may_go_negative

NOW = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)
KEYS = ServerKeys(new_secret())


EXPIRES = NOW + timedelta(minutes=10)


def pending(
    *,
    right: bool = True,
    attempts: int = 0,
    status: ChargeStatus = ChargeStatus.PENDING,
    shop_lock: ShopLock = ShopLock.NONE,
) -> PendingConfirmation:
    return PendingConfirmation(status, attempts, EXPIRES, shop_lock, right)


def decide(payment: PendingConfirmation, now: datetime = NOW) -> ConfirmDecision:
    return decide_confirmation(payment, now, max_attempts=3)


def test_codes_are_random_six_digits_and_never_shorter() -> None:
    codes = {otp.new_code() for _ in range(200)}
    assert len(codes) > 190 and all(len(c) == 6 and c.isdigit() for c in codes)
    with pytest.raises(ValueError):
        otp.new_code(4)


def test_code_accepted_as_the_cashier_types_it() -> None:
    salt = otp.new_salt()
    stored = otp.hash_code(KEYS, "123456", salt)
    assert otp.code_matches(KEYS, "123 456", salt, stored)
    assert otp.code_matches(KEYS, "123-456", salt, stored)
    assert not otp.code_matches(KEYS, "123457", salt, stored)


# One confirmation state machine for buoni spesa and community vouchers -----------------


def test_the_right_code_in_time_pays_and_the_holder_gets_the_receipt() -> None:
    decision = decide(pending(attempts=1))
    assert decision == ConfirmDecision(
        Confirmation.ACCEPT,
        attempts=1,
        attempts_left=2,
        new_status=ChargeStatus.CONFIRMED,
        holder=HolderNotice.RECEIPT,
    )
    assert not decision.counts_against_shop
    assert decision.after_count(ShopLock.OFFICE) == decision  # nothing was counted


def test_a_wrong_code_counts_and_leaves_the_payment_waiting_without_telling_the_holder() -> None:
    decision = decide(pending(right=False))
    assert decision == ConfirmDecision(Confirmation.WRONG_CODE, attempts=1, attempts_left=2)
    assert decision.counts_against_shop
    assert decision.after_count(ShopLock.NONE) == decision


def test_the_last_allowed_wrong_code_cancels_and_warns_the_holder_of_wrong_codes() -> None:
    decision = decide(pending(right=False, attempts=2))
    assert decision == ConfirmDecision(
        Confirmation.TOO_MANY_ATTEMPTS,
        attempts=3,
        new_status=ChargeStatus.CANCELLED,
        closed_reason="too_many_attempts",
        holder=HolderNotice.WRONG_CODES,
    )
    assert decision.counts_against_shop
    assert decision.after_count(ShopLock.NONE) == decision


def test_a_wrong_code_that_locks_the_shop_cancels_and_warns_the_holder_of_wrong_codes() -> None:
    for lock in (ShopLock.TIMED, ShopLock.OFFICE):
        decision = decide(pending(right=False)).after_count(lock)
        assert decision == ConfirmDecision(
            Confirmation.LOCKED_OUT,
            attempts=1,
            new_status=ChargeStatus.CANCELLED,
            closed_reason="shop_locked",
            holder=HolderNotice.WRONG_CODES,
            shop_lock=lock,
        )
        assert not decision.counts_against_shop  # counted once, already


def test_the_last_wrong_code_that_also_locks_the_shop_stays_too_many_attempts() -> None:
    decision = decide(pending(right=False, attempts=2)).after_count(ShopLock.TIMED)
    assert (decision.step, decision.holder, decision.shop_lock, decision.closed_reason) == (
        Confirmation.TOO_MANY_ATTEMPTS,
        HolderNotice.WRONG_CODES,
        ShopLock.TIMED,
        "too_many_attempts",
    )


def test_an_sms_tills_last_wrong_code_cancels_and_warns_as_the_payments_last_does() -> None:
    """A till with one wrong code of its own left (an SMS session's second): that wrong code
    is the payment's last, whatever tries the payment still had, and its holder is warned of
    the wrong codes, never told that the shop gave the payment up (the SMS till trial)."""
    decision = decide_confirmation(pending(right=False), NOW, max_attempts=3, till_tries=1)
    assert decision == ConfirmDecision(
        Confirmation.TOO_MANY_ATTEMPTS,
        attempts=1,
        new_status=ChargeStatus.CANCELLED,
        closed_reason="too_many_attempts",
        holder=HolderNotice.WRONG_CODES,
    )
    assert decision.counts_against_shop


def test_the_tries_left_said_are_the_fewest_of_the_payments_and_the_tills() -> None:
    for till_tries, attempts, left in ((2, 0, 1), (5, 0, 2), (2, 1, 1), (None, 1, 1)):
        decision = decide_confirmation(
            pending(right=False, attempts=attempts), NOW, max_attempts=3, till_tries=till_tries
        )
        assert (decision.step, decision.attempts_left) == (Confirmation.WRONG_CODE, left)


def test_the_right_code_pays_whatever_the_tills_tries() -> None:
    decision = decide_confirmation(pending(right=True), NOW, max_attempts=3, till_tries=1)
    assert (decision.step, decision.new_status) == (Confirmation.ACCEPT, ChargeStatus.CONFIRMED)


def test_a_shop_locked_meanwhile_voids_the_payment_whatever_the_code() -> None:
    for lock in (ShopLock.TIMED, ShopLock.OFFICE):
        for right in (True, False):
            decision = decide(pending(right=right, attempts=1, shop_lock=lock))
            assert decision == ConfirmDecision(
                Confirmation.SHOP_LOCKED,
                attempts=1,
                new_status=ChargeStatus.CANCELLED,
                closed_reason="shop_locked",
                holder=HolderNotice.VOID,
                shop_lock=lock,
            )
            assert not decision.counts_against_shop


def test_an_expired_code_pays_nothing_and_counts_nothing_even_when_right() -> None:
    for right in (True, False):
        decision = decide(pending(right=right), now=EXPIRES)
        assert decision == ConfirmDecision(
            Confirmation.EXPIRED,
            attempts=0,
            new_status=ChargeStatus.EXPIRED,
            closed_reason="expired",
        )
        assert not decision.counts_against_shop
    assert decide(pending(), now=EXPIRES - timedelta(seconds=1)).step is Confirmation.ACCEPT


def test_a_closed_payment_changes_nothing_and_tells_nobody() -> None:
    assert decide(pending(status=ChargeStatus.CONFIRMED)) == ConfirmDecision(
        Confirmation.ALREADY_CONFIRMED, attempts=0
    )
    for status in (ChargeStatus.CANCELLED, ChargeStatus.EXPIRED, ChargeStatus.REFUNDED):
        for right in (True, False):
            # Closed first: neither a locked shop nor a wrong code changes what happens.
            payment = pending(right=right, status=status, shop_lock=ShopLock.TIMED)
            assert decide(payment) == ConfirmDecision(Confirmation.NOT_PENDING, attempts=0)


def test_the_step_alone_is_the_step_of_the_whole_decision() -> None:
    """What the one-trip path asks (confirmation_step) never differs from the decision."""
    seen = set()
    for status in ChargeStatus:
        for lock in ShopLock:
            for right in (True, False):
                for attempts in (0, 1, 2):
                    for now in (NOW, EXPIRES):
                        payment = pending(
                            right=right, attempts=attempts, status=status, shop_lock=lock
                        )
                        step = confirmation_step(payment, now, 3)
                        assert step is decide(payment, now).step
                        seen.add(step)
    assert seen == set(Confirmation) - {Confirmation.LOCKED_OUT}  # only after_count


def test_a_shops_lock_now_is_the_offices_block_else_a_lock_not_yet_over() -> None:
    later = NOW + timedelta(minutes=30)
    assert shop_lock_now(None, None, NOW) is ShopLock.NONE
    assert shop_lock_now(None, later, NOW) is ShopLock.TIMED
    assert shop_lock_now(None, later, later) is ShopLock.NONE
    assert shop_lock_now(NOW, None, later) is ShopLock.OFFICE
    assert shop_lock_now(NOW, later, NOW) is ShopLock.OFFICE


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
    assert all(len(c) == 12 and not set(c) & set("0O1IL") for c in codes)
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


def test_a_shop_draws_no_card_cell_it_was_shown_without_a_payment() -> None:
    unused = [3, 4, 17, 29]
    assert cards.drawable_at_shop(unused, {4, 29, 30}) == [3, 17]
    assert cards.drawable_at_shop(unused, set()) == unused
    assert cards.drawable_at_shop(unused, set(unused)) == []
    assert all(cards.draw_position([3, 17]) in {3, 17} for _ in range(20))


@pytest.mark.parametrize(
    ("number", "is_one"), [(1, True), (2**63 - 1, True), (0, False), (-1, False), (2**63, False)]
)
def test_a_receipt_number_fits_the_column(number: int, is_one: bool) -> None:
    # Above a BIGINT no receipt exists, and asking the database for it overflowed.
    assert is_receipt_number(number) is is_one
