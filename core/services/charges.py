"""Payments: a shop asks, the citizen's one-time code confirms (DESIGN §6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.domain import cards as card_domain
from core.domain import otp
from core.domain.charges import (
    ChargeStatus,
    ChargeView,
    CodeCheck,
    can_refund,
    check_code,
    expiry,
    shop_is_locked,
)
from core.domain.errors import InsufficientFunds, NotAllowed, NotFound
from core.domain.identity import (
    looks_like_codice_fiscale,
    mask_phone,
    normalize_codice_fiscale,
    normalize_phone,
)
from core.domain.ledger import PostingKind
from core.domain.messages import Money, Reply, t
from core.services import cards, ledger
from core.services.municipalities import policy_of
from core.services.outbox import notify, notify_payer, payer_of
from core.storage import models as m
from core.storage.uow import UnitOfWork


async def find_citizen(uow: UnitOfWork, municipality_id: int, reference: str) -> m.Citizen:
    """The citizen a cashier means: a codice fiscale, a phone number or a card code."""
    text = reference.strip()
    citizen: m.Citizen | None = None
    if looks_like_codice_fiscale(text):
        citizen = await uow.citizens.by_codice_fiscale(
            municipality_id, normalize_codice_fiscale(text)
        )
    elif sum(ch.isdigit() for ch in text) >= 6 and text.lstrip("+").replace(" ", "").isdigit():
        citizen = await uow.citizens.by_phone(municipality_id, normalize_phone(text))
    else:
        citizen = await uow.citizens.by_card_code(
            municipality_id, card_domain.normalize_card_number(text)
        )
    if citizen is None or citizen.erased_at is not None:
        raise NotFound("citizen.not_found")
    return citizen


@dataclass(frozen=True)
class ChargeRequested:
    charge_id: int
    amount_cents: int
    expires_at: datetime
    sent_to: str  # masked destination, for the cashier's screen
    channel: str  # "sms", "telegram", or "card" when the holder types the card's PIN


async def request_charge(
    uow: UnitOfWork,
    *,
    shop_id: int,
    citizen_reference: str,
    amount_cents: int,
    requested_by: str,
    now: datetime,
) -> ChargeRequested:
    """Create a pending charge and send the citizen its code. Holds no money yet."""
    shop = await uow.shops.by_id(shop_id)
    if shop is None or shop.status != "approved":
        raise NotAllowed("shop.not_approved")
    if shop_is_locked(shop.locked_until, now):
        raise NotAllowed(
            "shop.locked", until=shop.locked_until.isoformat() if shop.locked_until else ""
        )
    if amount_cents <= 0:
        raise NotAllowed("payment.bad_amount")
    municipality = await uow.municipalities.by_id(shop.municipality_id)
    assert municipality is not None
    policy = policy_of(municipality)
    citizen = await find_citizen(uow, shop.municipality_id, citizen_reference)
    with_pin = cards.pays_with_pin(citizen, citizen_reference)
    payer = None if with_pin else await payer_of(uow, citizen)
    if with_pin and citizen.card_blocked_at is not None:
        raise NotAllowed("card.blocked")
    if not with_pin and payer is None:
        raise NotAllowed(
            "citizen.pays_by_card" if cards.has_pin_card(citizen) else "citizen.unreachable"
        )
    balance = await ledger.citizen_balance(uow, shop.municipality_id, citizen.id)
    if balance < amount_cents:
        raise InsufficientFunds(amount_cents=amount_cents)
    if with_pin:
        return await _request_with_pin(
            uow, shop, citizen, amount_cents, requested_by, now, policy.charge_ttl_minutes
        )
    assert payer is not None
    code = otp.new_code()
    salt = otp.new_salt()
    charge = m.Charge(
        municipality_id=shop.municipality_id,
        shop_id=shop.id,
        citizen_id=citizen.id,
        amount_cents=amount_cents,
        status=ChargeStatus.PENDING.value,
        code_salt=salt,
        code_hash=otp.hash_code(code, salt),
        attempts=0,
        requested_by=requested_by,
        created_at=now,
        expires_at=expiry(now, policy.charge_ttl_minutes),
    )
    uow.session.add(charge)
    await uow.session.flush()
    notify(
        uow,
        citizen,
        payer,
        Reply.of(
            t(
                "{shop} asks {amount}. Code: {code}. Tell it to the cashier only if you agree. "
                "Valid {minutes} min.",
                shop=shop.name,
                amount=Money(amount_cents),
                code=code,
                minutes=policy.charge_ttl_minutes,
            ),
            sensitive=True,
        ),
        now,
        charge_id=charge.id,
        code=True,
    )
    shown = mask_phone(payer.address) if payer.channel == "sms" else "Telegram"
    return ChargeRequested(charge.id, amount_cents, charge.expires_at, shown, payer.channel)


async def _request_with_pin(
    uow: UnitOfWork,
    shop: m.Shop,
    citizen: m.Citizen,
    amount_cents: int,
    requested_by: str,
    now: datetime,
    ttl_minutes: int,
) -> ChargeRequested:
    """A charge on a card with a PIN: nothing is sent, the holder types the card's PIN.

    The charge keeps no code of its own (empty hash: nothing matches it); confirmation
    checks the PIN of the card as it is then, so a reissued card's old PIN never works."""
    charge = m.Charge(
        municipality_id=shop.municipality_id,
        shop_id=shop.id,
        citizen_id=citizen.id,
        amount_cents=amount_cents,
        status=ChargeStatus.PENDING.value,
        code_salt="",
        code_hash="",
        consent=cards.CONSENT_CARD_PIN,
        attempts=0,
        requested_by=requested_by,
        created_at=now,
        expires_at=expiry(now, ttl_minutes),
    )
    uow.session.add(charge)
    await uow.session.flush()
    shown = card_domain.grouped(citizen.card_code)
    return ChargeRequested(charge.id, amount_cents, charge.expires_at, shown, "card")


class ConfirmOutcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    WRONG_CODE = "wrong_code"
    CANCELLED_TOO_MANY_ATTEMPTS = "cancelled_too_many_attempts"
    EXPIRED = "expired"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    NOT_PENDING = "not_pending"
    CARD_BLOCKED = "card_blocked"


@dataclass(frozen=True)
class ConfirmResult:
    outcome: ConfirmOutcome
    charge_id: int
    amount_cents: int
    attempts_left: int = 0
    citizen_balance_cents: int | None = None
    shop_locked: bool = False


async def confirm_charge(
    uow: UnitOfWork, *, charge_id: int, shop_id: int, typed_code: str, now: datetime
) -> ConfirmResult:
    """Check the code the cashier typed; on success pay in this one transaction.

    The caller commits. A charge is paid at most once: the status moves from pending
    with a compare-and-set, and the citizen's debit is guarded in the same UPDATE
    that takes the money, so concurrent confirmations cannot overdraw."""
    parties = await uow.charges.with_parties(charge_id)
    if parties is None or parties[0].shop_id != shop_id:
        raise NotFound("charge.not_found")
    charge, citizen, shop, municipality = parties
    policy = policy_of(municipality)
    status = ChargeStatus(charge.status)
    if status is ChargeStatus.CONFIRMED:
        return ConfirmResult(ConfirmOutcome.ALREADY_CONFIRMED, charge.id, charge.amount_cents)
    salt, digest = charge.code_salt, charge.code_hash
    with_pin = charge.consent == cards.CONSENT_CARD_PIN
    if with_pin and status is ChargeStatus.PENDING:
        if citizen.card_blocked_at is not None or not citizen.card_pin_salt:
            await uow.charges.mark(
                charge.id, "pending", status="cancelled", closed_reason="card_blocked"
            )
            return ConfirmResult(ConfirmOutcome.CARD_BLOCKED, charge.id, charge.amount_cents)
        salt, digest = citizen.card_pin_salt, citizen.card_pin_hash or ""
    verdict = check_code(
        ChargeView(status, salt, digest, charge.attempts, charge.expires_at),
        typed_code,
        now,
        policy.max_code_attempts,
    )
    if (
        with_pin
        and verdict.check in (CodeCheck.WRONG, CodeCheck.TOO_MANY_ATTEMPTS)
        and await cards.count_wrong_pin(uow, citizen, now)
    ):
        if verdict.check is CodeCheck.TOO_MANY_ATTEMPTS:
            _strike(shop, now, policy.shop_lock_after_failed_charges, policy.shop_lock_minutes)
        return await _card_blocked(uow, charge, citizen, shop, verdict.attempts, now)
    if verdict.check is CodeCheck.NOT_PENDING:
        return ConfirmResult(ConfirmOutcome.NOT_PENDING, charge.id, charge.amount_cents)
    if verdict.check is CodeCheck.EXPIRED:
        await uow.charges.mark(charge.id, "pending", status="expired", closed_reason="expired")
        return ConfirmResult(ConfirmOutcome.EXPIRED, charge.id, charge.amount_cents)
    if verdict.check is CodeCheck.WRONG:
        await uow.charges.mark(charge.id, "pending", attempts=verdict.attempts)
        return ConfirmResult(
            ConfirmOutcome.WRONG_CODE, charge.id, charge.amount_cents, verdict.attempts_left
        )
    if verdict.check is CodeCheck.TOO_MANY_ATTEMPTS:
        await uow.charges.mark(
            charge.id,
            "pending",
            status="cancelled",
            attempts=verdict.attempts,
            closed_reason="too_many_attempts",
        )
        locked = _strike(shop, now, policy.shop_lock_after_failed_charges, policy.shop_lock_minutes)
        await notify_payer(
            uow,
            citizen,
            Reply.of(
                t(
                    "Warning: {shop} typed a wrong code too many times. The payment of {amount} "
                    "was cancelled. Never give your code to anyone but the cashier.",
                    shop=shop.name,
                    amount=Money(charge.amount_cents),
                )
            ),
            now,
            charge_id=charge.id,
        )
        return ConfirmResult(
            ConfirmOutcome.CANCELLED_TOO_MANY_ATTEMPTS,
            charge.id,
            charge.amount_cents,
            0,
            shop_locked=locked,
        )
    # Accepted: take the charge out of "pending" first; a concurrent or repeated
    # confirmation waits on this row and then finds it no longer pending.
    if not await uow.charges.mark(charge.id, "pending", status="confirmed", confirmed_at=now):
        await uow.charges.refresh(charge)
        outcome = (
            ConfirmOutcome.ALREADY_CONFIRMED
            if charge.status == ChargeStatus.CONFIRMED.value
            else ConfirmOutcome.NOT_PENDING
        )
        return ConfirmResult(outcome, charge.id, charge.amount_cents)
    try:
        posted = await ledger.post(
            uow,
            municipality_id=charge.municipality_id,
            kind=PostingKind.PAYMENT,
            from_owner=citizen.id,
            to_owner=shop.id,
            amount_cents=charge.amount_cents,
            now=now,
            charge_id=charge.id,
        )
    except InsufficientFunds:
        await uow.charges.mark(
            charge.id,
            "confirmed",
            status="cancelled",
            confirmed_at=None,
            closed_reason="insufficient_funds",
        )
        return ConfirmResult(ConfirmOutcome.INSUFFICIENT_FUNDS, charge.id, charge.amount_cents)
    if shop.failed_charge_strikes:
        shop.failed_charge_strikes = 0
    if with_pin:
        await uow.citizens.reset_pin_failures(citizen.id)
    balance = posted.source_balance_cents
    await notify_payer(
        uow,
        citizen,
        Reply.of(
            t(
                "Paid {amount} at {shop}. Remaining balance: {balance}.",
                amount=Money(charge.amount_cents),
                shop=shop.name,
                balance=Money(balance),
            )
        ),
        now,
        charge_id=charge.id,
    )
    return ConfirmResult(
        ConfirmOutcome.CONFIRMED, charge.id, charge.amount_cents, citizen_balance_cents=balance
    )


async def _card_blocked(
    uow: UnitOfWork,
    charge: m.Charge,
    citizen: m.Citizen,
    shop: m.Shop,
    attempts: int,
    now: datetime,
) -> ConfirmResult:
    """The last allowed wrong PIN: the card is blocked and this payment cancelled. The office
    sees the card in `admin cards --blocked`; whoever receives the citizen's notices is told."""
    await uow.charges.mark(
        charge.id,
        "pending",
        status="cancelled",
        attempts=attempts,
        closed_reason="card_blocked",
    )
    await notify_payer(
        uow,
        citizen,
        Reply.of(
            t(
                "Your voucher card was blocked after too many wrong PINs at {shop}. Ask the "
                "office for a new card.",
                shop=shop.name,
            )
        ),
        now,
        charge_id=charge.id,
    )
    return ConfirmResult(ConfirmOutcome.CARD_BLOCKED, charge.id, charge.amount_cents)


def _strike(shop: m.Shop, now: datetime, limit: int, lock_minutes: int) -> bool:
    """Count a charge cancelled for wrong codes; lock a shop that keeps guessing."""
    shop.failed_charge_strikes = (shop.failed_charge_strikes or 0) + 1
    if shop.failed_charge_strikes >= limit:
        shop.locked_until = now + timedelta(minutes=lock_minutes)
        shop.failed_charge_strikes = 0
        return True
    return False


async def cancel_charge(uow: UnitOfWork, *, charge_id: int, shop_id: int) -> bool:
    charge = await uow.charges.by_id(charge_id)
    if charge is None or charge.shop_id != shop_id:
        raise NotFound("charge.not_found")
    return await uow.charges.mark(charge.id, "pending", status="cancelled", closed_reason="by_shop")


async def expire_charges(uow: UnitOfWork, now: datetime) -> int:
    """Sweep pending charges past their expiry (a code can never be used after it anyway)."""
    from sqlalchemy import update

    result = await uow.session.execute(
        update(m.Charge)
        .where(m.Charge.status == "pending", m.Charge.expires_at <= now)
        .values(status="expired", closed_reason="expired")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def refund_charge(uow: UnitOfWork, *, charge_id: int, shop_id: int, now: datetime) -> int:
    """Give a payment of today back to the citizen: shop -> citizen, a new posting."""
    charge = await uow.charges.by_id(charge_id)
    if charge is None or charge.shop_id != shop_id:
        raise NotFound("charge.not_found")
    municipality = await uow.municipalities.by_id(charge.municipality_id)
    assert municipality is not None
    if not can_refund(ChargeStatus(charge.status), charge.confirmed_at, now, municipality.timezone):
        raise NotAllowed("refund.not_today")
    if not await uow.charges.mark(charge.id, "confirmed", status="refunded", refunded_at=now):
        raise NotAllowed("refund.not_today")
    try:
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
    except InsufficientFunds as exc:
        # Already reimbursed by the municipality: the office must handle it.
        raise NotAllowed("refund.already_settled") from exc
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
