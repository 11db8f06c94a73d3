"""Payments: a shop asks, the citizen's one-time code confirms (docs/payments-and-codes.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from core.domain import cards as card_domain
from core.domain import otp
from core.domain.channels import Channel, chat_label
from core.domain.charges import (
    ChargeStatus,
    Confirmation,
    ConfirmDecision,
    HolderNotice,
    PendingCode,
    PendingConfirmation,
    ShopLock,
    can_refund,
    codes_again_at,
    confirmation_step,
    decide_confirmation,
    expiry,
    lock_for_wrong_codes,
    new_pending_code,
    shop_lock_now,
)
from core.domain.errors import (
    Conflict,
    InsufficientFunds,
    InvalidIdentifier,
    NotAllowed,
    NotFound,
    Refusal,
)
from core.domain.identity import mask_phone, parse_reference, receives_sms
from core.domain.keys import ServerKeys
from core.domain.ledger import PostingKind
from core.domain.messages import Moment, Money, Reply, Text, reply_to_json, t, tn
from core.domain.policy import Policy
from core.domain.shops import MemberRole
from core.services import activity, cards, ledger, security
from core.services.code_destinations import (
    CODE_ELSEWHERE,
    office_stopped,
    shown_destination,
    tell_shop_office_stopped,
)
from core.services.municipalities import policy_from_text, policy_of
from core.services.outbox import (
    notify,
    notify_payer,
    notify_till,
    payer_of,
    seal_payload,
)
from core.services.refund_codes import (
    REFUND_DONE,
    REFUND_SHOP_BLOCKED,
    refuse_after_revocation,
    void_refund_codes,
)
from core.services.shop_rights import (
    acting_member,
    check_shop_can_charge,
    refuse_code_to_own_staff,
)
from core.services.shops import notify_owners
from core.services.transactions import retrying
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from core.storage.group_commit import GroupCommit
from core.storage.payment_trip import (
    Paid,
    PaymentOutcome,
    PendingPayment,
    confirm_transaction,
)

# Why a pending payment was cancelled (its closed_reason), where what the till hears of it
# depends on it: the customer refused it (refuse_charge), or the office stopped it, by
# revoking the customer's vouchers (core/services/audit.py) or because its code went to a
# phone that is no longer theirs (core/services/code_destinations.py).
BY_CITIZEN = "by_citizen"
REVOKED = "revoked"
BY_OFFICE = frozenset({REVOKED, CODE_ELSEWHERE})

# Lookups (of a person or a voucher) per till per hour, before "try later": whoever they
# find, so that the limit itself never tells a shop who holds vouchers. One a minute on
# average, above what a till serves in an hour, far below what fishing needs. A whole
# shop, however many cashiers it has, at most LOOKUPS_PER_SHOP_PER_HOUR.
LOOKUPS_PER_HOUR = 60
LOOKUPS_PER_SHOP_PER_HOUR = 4 * LOOKUPS_PER_HOUR


async def find_citizen(uow: UnitOfWork, municipality_id: int, reference: str) -> m.Citizen:
    """The citizen a cashier means: a codice fiscale, a phone number or a card code."""
    kind, value = parse_reference(reference)
    citizen: m.Citizen | None
    if kind == "cf":
        citizen = await uow.citizens.by_codice_fiscale(municipality_id, value)
    elif kind == "phone":
        citizen = await uow.citizens.by_phone(municipality_id, value)
    else:
        citizen = await uow.citizens.by_card_code(
            municipality_id, card_domain.normalize_card_number(value)
        )
    if citizen is None or citizen.erased_at is not None:
        raise NotFound(Refusal.CITIZEN_NOT_FOUND)
    return citizen


async def find_beneficiary(
    uow: UnitOfWork, shop: m.Shop, reference: str, now: datetime, *, till: str
) -> m.Citizen:
    """The voucher holder a shop means, telling the shop nothing more than "not here".

    Somebody unknown and an applicant who never received vouchers get the same answer
    (a shop must not learn who applied). Every lookup counts against the shop, found or
    not, and after LOOKUPS_PER_HOUR in an hour at one till (`till`: who asks) the till
    is told to try later; a miss is also recorded for the office (`admin shops
    lookups`), which the shop never hears of.

    A number no SMS reaches (a landline, a toll-free number) is refused before anything is
    looked up or counted (`payer.no_sms`), the same whoever has it: the customer's code
    could never arrive there, and the customer pays with a codice fiscale, a mobile or a
    card (the till says so from the words alone, flows/charge.py)."""
    try:
        kind, value = parse_reference(reference)
    except InvalidIdentifier:
        kind, value = "", ""  # said by find_citizen, after the lookup is counted, as ever
    if kind == "phone" and not receives_sms(value):
        raise InvalidIdentifier("payer", reference, "no_sms")
    await security.count_lookup(
        uow, shop, now, till=till, limit=LOOKUPS_PER_HOUR, shop_limit=LOOKUPS_PER_SHOP_PER_HOUR
    )
    try:
        citizen = await find_citizen(uow, shop.municipality_id, reference)
    except NotFound:
        citizen = None
    if citizen is None or not await ledger.is_beneficiary(uow, shop.municipality_id, citizen.id):
        await security.record(
            uow,
            security.LOOKUP_MISS,
            now,
            municipality_id=shop.municipality_id,
            shop_id=shop.id,
        )
        raise NotFound(Refusal.CITIZEN_NOT_FOUND)
    return citizen


@dataclass(frozen=True)
class ChargeRequested:
    charge_id: int
    amount_cents: int
    expires_at: datetime
    sent_to: str  # masked destination, for the cashier's screen
    channel: str  # a Channel, or "card" when the holder types a code of the card's slip
    # A card with a grid of one-time codes: the position the server drew, which the till
    # asks the holder for (None: a code sent to a phone, or an old card's PIN).
    card_position: int | None = None


async def request_charge(
    uow: UnitOfWork,
    *,
    shop_id: int,
    citizen_reference: str,
    amount_cents: int,
    requested_by: str,
    now: datetime,
) -> ChargeRequested:
    """Create a pending charge and send the citizen its code. Holds no money yet.

    The amount is checked before anybody is looked up, and the balance is not checked
    here at all: a shop learns whether the balance is enough only after the citizen
    gave the code (the code message tells the citizen)."""
    shop = check_shop_can_charge(await uow.shops.by_id(shop_id), now)
    municipality = await uow.municipalities.by_id(shop.municipality_id)
    assert municipality is not None
    policy = policy_of(municipality)
    check_amount(amount_cents, policy.payment_ceiling_cents())
    citizen = await find_beneficiary(uow, shop, citizen_reference, now, till=requested_by)
    with_pin = cards.pays_with_pin(citizen, citizen_reference)
    if with_pin:
        # A card with a grid pays only while unused codes are left; an old card (only a
        # PIN, issued before the grids) pays with its PIN until the office reissues it.
        # The refusals name what the card uses: its codes, or its PIN (`slip`).
        unused = await cards.unused_positions(uow, citizen)
        slip = card_domain.SLIP_PIN if unused is None else card_domain.SLIP_GRID
        if citizen.card_blocked_at is not None:
            raise NotAllowed(Refusal.CARD_BLOCKED, slip=slip)
        # This shop typed too many wrong codes for the card: not here for now, other shops
        # still charge it (cards.shop_may_charge_from).
        until = await cards.shop_may_charge_from(uow, citizen, shop.id, now)
        if until is not None:
            raise NotAllowed(Refusal.CARD_LOCKED_AT_SHOP, until=until.isoformat(), slip=slip)
        if unused is not None and not unused:
            raise NotAllowed(Refusal.CARD_CODES_USED_UP, town=municipality.name)
        # The balance is checked after the code, at confirmation: the code is the consent.
        for earlier in await _replace_pending(uow, shop, citizen, now):
            # The citizen holds a code from it (a card charge sent none), or wrong codes
            # were typed for it: told as ANNULLA would tell them (_tell_void warns).
            if earlier.code_hash or earlier.attempts:
                await _tell_void(uow, earlier, citizen, shop, now)
        position = None
        if unused is not None:
            position = card_domain.draw_position(
                await _drawable_at(uow, shop, citizen, unused, municipality)
            )
        return await _request_with_pin(
            uow,
            shop,
            citizen,
            amount_cents,
            requested_by,
            now,
            policy.charge_ttl_minutes,
            position,
        )
    payer = await payer_of(uow, citizen)
    if payer is None:
        raise NotAllowed(
            Refusal.CITIZEN_PAYS_BY_CARD if cards.has_pin_card(citizen) else "citizen.unreachable"
        )
    await refuse_code_to_own_staff(uow, shop, (payer.channel, payer.address))
    # Over the cap nothing changes: no code is sent and a code already held stays valid.
    # A shop's first code to the person in the hour is never refused for the codes other
    # shops sent: one shop asking and cancelling charges cannot stop the person paying at
    # every other till (the flood is bounded by the cap plus one code per shop).
    hour_ago = now - timedelta(hours=1)
    sent = await uow.charges.code_times_to(citizen.id, hour_ago)
    cap = policy.codes_per_person_per_hour
    if len(sent) >= cap:
        by_shop = await uow.charges.code_times_to(citizen.id, hour_ago, shop_id=shop.id)
        if by_shop:
            # The shop is told from when it may ask again: when its own codes leave the
            # hour (its first code in the hour is never refused). Never from the other
            # shops' codes: the time would tell it another shop asked this person.
            again = codes_again_at(sent, by_shop, cap)
            raise NotAllowed(Refusal.PAYMENT_CODES_TOO_MANY, when=again.isoformat())
    given_up = await _replace_pending(uow, shop, citizen, now)
    replaced = [x for x in given_up if x.code_hash]
    for card_charge in given_up:
        if not card_charge.code_hash and card_charge.attempts:
            # A card payment given up after wrong codes: its holder was sent no code the
            # new one's message could void, and is warned as ANNULLA would (_tell_void).
            await _tell_void(uow, card_charge, citizen, shop, now)
    # Wrong codes typed for the code this one replaces: the customer is warned in the new
    # code's message, never told a plain "the previous one is void" (as after ANNULLA:
    # cancelled_after_wrong_codes).
    wrong = sum(x.attempts for x in replaced)
    balance = await ledger.citizen_balance(uow, shop.municipality_id, citizen.id)
    pending = new_pending_code(uow.keys, now, policy.charge_ttl_minutes)
    code = pending.code
    charge = m.Charge(
        citizen_id=citizen.id, **pending_columns(shop, amount_cents, requested_by, now, pending)
    )
    uow.add(charge)
    await uow.flush()
    if wrong and balance >= amount_cents:
        # One SMS says the three: the new code, the old one void, and the wrong codes typed
        # for it (possibly someone guessing), with whom to give the code to. No room for
        # the minutes.
        text = tn(
            "{shop} asks {amount}. New code: {code}; the old one is void after {count} wrong "
            "code. Give it only to the cashier.",
            "{shop} asks {amount}. New code: {code}; the old one is void after {count} wrong "
            "codes. Give it only to the cashier.",
            wrong,
            shop=shop.name,
            amount=Money(amount_cents),
            code=code,
        )
    elif wrong:
        text = tn(
            "{shop} asks {amount}. New code: {code}; the old one is void after {count} wrong "
            "code. You only have {balance}.",
            "{shop} asks {amount}. New code: {code}; the old one is void after {count} wrong "
            "codes. You only have {balance}.",
            wrong,
            shop=shop.name,
            amount=Money(amount_cents),
            code=code,
            balance=Money(balance),
        )
    elif replaced and balance >= amount_cents:
        # One SMS says both: the new code, and that the one this shop sent before is void;
        # and, like the first code's message, how long the new one is valid.
        text = t(
            "{shop} asks {amount}. New code: {code} (the previous one is no longer valid). "
            "Tell it to the cashier only if you agree. Valid {minutes} min.",
            shop=shop.name,
            amount=Money(amount_cents),
            code=code,
            minutes=policy.charge_ttl_minutes,
        )
    elif replaced:
        # What is short, and what the person can do: pay less, which only they can say (to
        # the cashier: what to ask, never the code, which would only be refused).
        text = t(
            "{shop} asks {amount}. New code: {code}, the previous one no longer works. You "
            "only have {balance}: ask to pay less.",
            shop=shop.name,
            amount=Money(amount_cents),
            code=code,
            balance=Money(balance),
        )
    elif balance >= amount_cents:
        text = t(
            "{shop} asks {amount}. Code: {code}. Tell it to the cashier only if you agree. "
            "Valid {minutes} min.",
            shop=shop.name,
            amount=Money(amount_cents),
            code=code,
            minutes=policy.charge_ttl_minutes,
        )
    else:
        # The citizen decides what the shop may learn: the payment will be refused after
        # the code, and only the citizen is told why.
        text = (
            # What the customer tells the cashier is the amount to ask, at most the balance
            # ("dillo al cassiere" after it had read as "tell them the code").
            t(
                "{shop} asks {amount}. Code: {code}. You only have {balance}: ask the cashier "
                "to charge you at most that.",
                shop=shop.name,
                amount=Money(amount_cents),
                code=code,
                balance=Money(balance),
            )
            if balance > 0
            else t(
                "{shop} asks {amount}. Code: {code}. Your balance is {balance}: not enough, "
                "the payment will be refused.",
                shop=shop.name,
                amount=Money(amount_cents),
                code=code,
                balance=Money(balance),
            )
        )
    # The database checks the code's destination when its row is written (migration
    # 0038_code_destination_guard): a delegate or a phone the office took away since `payer`
    # was read makes this transaction a lost race, which the dialogue runs again.
    notify(
        uow,
        citizen,
        payer,
        Reply.of(text, sensitive=True),
        now,
        charge_id=charge.id,
        code=True,
        deliver_by=charge.expires_at,
        # Confirmed, cancelled or expired before it left: not sent (outbox.not_worth_sending).
        while_charge=ChargeStatus.PENDING,
    )
    channel, shown = shown_destination(citizen, payer, citizen_reference)
    return ChargeRequested(charge.id, amount_cents, charge.expires_at, shown, channel)


def pending_columns(
    shop: m.Shop, amount_cents: int, requested_by: str, now: datetime, pending: PendingCode
) -> dict[str, Any]:
    """The columns a new pending payment with a code sent starts with, the same for a buono
    spesa's charge and a community voucher's (their tables differ only in whom they charge):
    no attempts yet, the code stored only as its salt and keyed hash."""
    return {
        "municipality_id": shop.municipality_id,
        "shop_id": shop.id,
        "amount_cents": amount_cents,
        "status": ChargeStatus.PENDING.value,
        "code_salt": pending.code_salt,
        "code_hash": pending.code_hash,
        "attempts": 0,
        "requested_by": requested_by,
        "created_at": now,
        "expires_at": pending.expires_at,
    }


def check_amount(amount_cents: int, ceiling_cents: int) -> None:
    """An amount a shop may ask in one payment: more than zero and at most the town's
    ceiling (Policy.payment_ceiling_cents), checked before anybody is looked up and before
    any code is sent. The ceiling is the same for every customer: refusing above it tells
    the shop nothing about anyone's balance."""
    if amount_cents <= 0:
        raise NotAllowed(Refusal.PAYMENT_BAD_AMOUNT)
    if amount_cents > ceiling_cents:
        raise NotAllowed(Refusal.PAYMENT_ABOVE_LIMIT, limit=ceiling_cents)


async def _replace_pending(
    uow: UnitOfWork, shop: m.Shop, citizen: m.Citizen, now: datetime
) -> list[m.Charge]:
    """A new charge from a shop replaces the one it still has pending for the same citizen:
    the earlier ones are cancelled (their codes void). Returns those it cancelled, for the
    caller to tell the citizen (in the new code's message when there is one)."""
    cancelled = []
    for earlier in await uow.charges.pending_for_citizen(citizen.id):
        if earlier.shop_id != shop.id or earlier.expires_at <= now:
            continue  # another shop's, or already dead (the sweep marks it expired)
        if await uow.charges.mark(
            earlier.id,
            ChargeStatus.PENDING,
            status=ChargeStatus.CANCELLED,
            closed_reason="replaced",
        ):
            cancelled.append(earlier)
    return cancelled


async def _drawable_at(
    uow: UnitOfWork,
    shop: m.Shop,
    citizen: m.Citizen,
    unused: list[int],
    municipality: m.Municipality,
) -> list[int]:
    """The unused cells this shop may ask for: never one its till was shown for a payment
    not made (its code may have been heard there; other shops may still draw it). A shop
    shown every cell left without a payment is refused as for a card with no codes left:
    the holder pays elsewhere, or asks the office for a new card."""
    assert citizen.card_issued_at is not None  # a grid is printed when the card is issued
    shown = await uow.charges.card_positions_shown(citizen.id, shop.id, citizen.card_issued_at)
    drawable = card_domain.drawable_at_shop(unused, shown)
    if not drawable:
        raise NotAllowed(Refusal.CARD_CODES_USED_UP, town=municipality.name)
    return drawable


async def _request_with_pin(
    uow: UnitOfWork,
    shop: m.Shop,
    citizen: m.Citizen,
    amount_cents: int,
    requested_by: str,
    now: datetime,
    ttl_minutes: int,
    position: int | None,
) -> ChargeRequested:
    """A charge on a card: nothing is sent, the holder types the code at `position` of the
    card's grid (drawn by the server and bound to the charge here: the till cannot choose
    or change it), or an old card's PIN (`position` None).

    The charge keeps no code of its own (empty hash: nothing matches it); confirmation
    checks the card as it is then, so a reissued card's old grid or PIN never works."""
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
        card_code_position=position,
    )
    uow.add(charge)
    await uow.flush()
    shown = card_domain.grouped(citizen.card_code)
    return ChargeRequested(charge.id, amount_cents, charge.expires_at, shown, "card", position)


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
    # CONFIRMED, ALREADY_CONFIRMED: the number on the shop's receipt, counted per shop.
    receipt_number: int | None = None
    # CONFIRMED by a code of a card's grid: the unused codes left on the card.
    card_codes_left: int | None = None


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


async def not_paid(
    decision: ConfirmDecision,
    charge_id: int,
    amount_cents: int,
    mark: Callable[[dict[str, Any]], Awaitable[bool]],
    tell: Callable[[HolderNotice], Awaitable[None]],
) -> ConfirmResult:
    """Carry out a decision that pays nothing, for any kind of payment: `mark` moves the
    pending payment (a compare-and-set on "pending", with the given column values) and,
    only when it moved, `tell` gives the holder the decision's notice."""
    if decision.step not in (Confirmation.ALREADY_CONFIRMED, Confirmation.NOT_PENDING):
        values: dict[str, Any] = {"attempts": decision.attempts}
        if decision.new_status is not None:
            values |= {"status": decision.new_status, "closed_reason": decision.closed_reason}
        if await mark(values) and decision.holder is not HolderNotice.NONE:
            await tell(decision.holder)
    return ConfirmResult(
        OUTCOME_OF[decision.step],
        charge_id,
        amount_cents,
        decision.attempts_left,
        shop_lock=decision.shop_lock,
    )


def wrong_codes_warning(
    shop_name: str, amount_cents: int, *, pin: bool = False, grid: bool = False
) -> Text:
    """To the holder of a code when wrong codes typed at the till cancelled the payment
    (the last allowed one, or one that locked the shop): possibly a fraud attempt. A card
    holder has a slip of one-time codes (`grid`), or an old card's PIN (`pin`), not a code
    sent to them: the warning says which (docs/cards-and-delegates.md)."""
    if grid:
        return t(
            "Warning: {shop} typed a wrong code of your card too many times. The payment of "
            "{amount} was cancelled. Never show your code slip: give only the code asked.",
            shop=shop_name,
            amount=Money(amount_cents),
        )
    if pin:
        return t(
            "Warning: {shop} typed a wrong PIN for your card too many times. The payment of "
            "{amount} was cancelled. Never tell your PIN to anyone but the cashier.",
            shop=shop_name,
            amount=Money(amount_cents),
        )
    return t(
        "Warning: {shop} typed a wrong code too many times. The payment of {amount} "
        "was cancelled. Never give your code to anyone but the cashier.",
        shop=shop_name,
        amount=Money(amount_cents),
    )


def cancelled_after_wrong_codes(
    shop_name: str, amount_cents: int, wrong: int, *, pin: bool = False, grid: bool = False
) -> Text:
    """To the holder of a code when the shop gave up (ANNULLA, a new PAGA) a payment that
    `wrong` wrong codes had been typed for: never a plain "the shop cancelled", which
    would hide that someone may have been guessing. Worded as wrong_codes_warning."""
    if grid:
        return tn(
            "Warning: {shop} cancelled the card payment of {amount} after {count} wrong code. "
            "Never show your code slip.",
            "Warning: {shop} cancelled the card payment of {amount} after {count} wrong codes. "
            "Never show your code slip.",
            wrong,
            shop=shop_name,
            amount=Money(amount_cents),
        )
    if pin:
        return tn(
            "Warning: {shop} cancelled the card payment of {amount} after {count} wrong PIN. "
            "Tell your PIN only to the cashier.",
            "Warning: {shop} cancelled the card payment of {amount} after {count} wrong PINs. "
            "Tell your PIN only to the cashier.",
            wrong,
            shop=shop_name,
            amount=Money(amount_cents),
        )
    return tn(
        "Warning: {shop} cancelled the payment of {amount} after {count} wrong code. "
        "Give your code only to the cashier.",
        "Warning: {shop} cancelled the payment of {amount} after {count} wrong codes. "
        "Give your code only to the cashier.",
        wrong,
        shop=shop_name,
        amount=Money(amount_cents),
    )


async def confirm_charge(
    uow: UnitOfWork,
    *,
    charge_id: int,
    shop_id: int,
    typed_code: str,
    now: datetime,
    typed_by: str | None = None,
    till_tries: int | None = None,
) -> ConfirmResult:
    """Check the code the cashier typed; on success pay in this one transaction.

    The caller commits. A charge is paid at most once: the status moves from pending
    with a compare-and-set, and the citizen's debit is guarded in the same UPDATE
    that takes the money, so concurrent confirmations cannot overdraw.

    Any code but this payment's own is a wrong code: a mistyped one, the code of an earlier
    payment of the same person (paid, refused, replaced or expired: a cashier may have
    heard it) and the code of another payment alike. Each counts against the payment and
    the shop, and the last allowed (`till_tries`: what the till may still type, see
    decide_confirmation) cancels the payment and warns its holder; no other payment is
    looked at or touched.

    A plain acceptance (pending, right code in time, shop free, not a card PIN) runs as
    one trip to the database (core/storage/payment_trip.py); every other case, judged
    before anything is written, takes the general path below."""

    accept, receipt = _one_trip_rules(uow.keys, typed_code, now)
    fast = await uow.charges.confirm_in_one_trip(
        charge_id, shop_id, now, accept=accept, receipt=receipt
    )
    if fast is not None:
        if fast.outcome is Paid.INSUFFICIENT_FUNDS:
            await tell_refused_for_balance(uow, charge_id, now)
        return _from_one_trip(fast)
    parties = await uow.charges.with_parties(charge_id)
    if parties is None or parties[0].shop_id != shop_id:
        raise NotFound(Refusal.CHARGE_NOT_FOUND)
    charge, citizen, shop, municipality = parties
    policy = policy_of(municipality)
    with_pin = charge.consent == cards.CONSENT_CARD_PIN
    # A card's slip is checked as the card is now (a reissued card's old grid or PIN never
    # works); a blocked card, or one without a slip, matches nothing and is refused below.
    card_refused = with_pin and (citizen.card_blocked_at is not None or not citizen.card_pin_salt)
    salt, digest = (
        (citizen.card_pin_salt or "", citizen.card_pin_hash or "")
        if with_pin
        else (charge.code_salt, charge.code_hash)
    )
    # A card with a grid: only the code at the position bound to this charge, unused.
    cell: m.CardCode | None = None
    unused: list[int] = []
    if with_pin and charge.card_code_position is not None:
        grid = await uow.citizens.card_grid(citizen.id, citizen.card_code)
        unused = [code.position for code in grid if code.used_at is None]
        cell = next((c for c in grid if c.position == charge.card_code_position), None)
        card_refused = card_refused or cell is None
        salt, digest = (cell.code_salt, cell.code_hash) if cell is not None else ("", "")
        if (
            cell is not None
            and cell.used_at is not None
            and ChargeStatus(charge.status) is ChargeStatus.PENDING
        ):
            # Its code confirmed another payment meanwhile (two tills drew the same cell):
            # this one can no longer be confirmed; nothing counts against anyone.
            return await _void_for_a_used_card_code(uow, charge, ChargeStatus.PENDING)
    matched = not card_refused and otp.code_matches(uow.keys, typed_code, salt, digest)
    decision = decide_on_code(charge, shop, matched, policy, now, till_tries)
    if card_refused and decision.step not in _CLOSED_OR_VOID:
        await uow.charges.mark(
            charge.id,
            ChargeStatus.PENDING,
            status=ChargeStatus.CANCELLED,
            closed_reason="card_blocked",
        )
        return ConfirmResult(ConfirmOutcome.CARD_BLOCKED, charge.id, charge.amount_cents)
    if with_pin and decision.step not in _CLOSED_OR_VOID:
        # Requested before this shop's wrong PINs for the card reached the limit (at another
        # till, in the same instant): void, without looking at the PIN.
        again = await cards.shop_may_charge_from(uow, citizen, shop.id, now)
        if again is not None:
            await uow.charges.mark(
                charge.id,
                ChargeStatus.PENDING,
                status=ChargeStatus.CANCELLED,
                closed_reason="card_locked_at_shop",
            )
            return ConfirmResult(
                ConfirmOutcome.CARD_LOCKED_AT_SHOP,
                charge.id,
                charge.amount_cents,
                card_again_at=again,
            )
    if decision.counts_against_shop:
        # A wrong PIN is a wrong code of the shop, one row naming the card: it counts
        # against the shop's own lock, against this shop charging this card, and against
        # the card at every shop (cards.py).
        detail = cards.wrong_pin_detail(citizen) if with_pin else None
        lock = await count_wrong_code(
            uow, shop, policy, now, typed_by, charge_id=charge.id, detail=detail
        )
        if with_pin:
            if await cards.block_after_wrong_pins(uow, citizen, now):
                return await _card_blocked(uow, charge, citizen, shop, decision.attempts, now)
            again = await cards.shop_may_charge_from(uow, citizen, shop.id, now)
            if again is not None:
                return await _card_locked_at_shop(
                    uow, charge, citizen, shop, decision.attempts, again, lock, now
                )
        decision = decision.after_count(lock)
    if decision.step is not Confirmation.ACCEPT:

        async def mark(values: dict[str, Any]) -> bool:
            return await uow.charges.mark(charge.id, ChargeStatus.PENDING, **values)

        async def tell(notice: HolderNotice) -> None:
            if notice is HolderNotice.WRONG_CODES:
                await _warn_wrong_codes(uow, charge, citizen, shop, now)
            elif notice is HolderNotice.VOID:
                await _tell_void(uow, charge, citizen, shop, now)

        result = await not_paid(decision, charge.id, charge.amount_cents, mark, tell)
        if result.outcome is ConfirmOutcome.ALREADY_CONFIRMED:
            # The code typed again: the cashier is shown the receipt they were given.
            return replace(result, receipt_number=charge.receipt_number)
        return result
    # Accepted: take the charge out of "pending" first; a concurrent or repeated
    # confirmation waits on this row and then finds it no longer pending.
    if not await uow.charges.mark(
        charge.id, ChargeStatus.PENDING, status=ChargeStatus.CONFIRMED, confirmed_at=now
    ):
        await uow.charges.refresh(charge)
        outcome = (
            ConfirmOutcome.ALREADY_CONFIRMED
            if charge.status == ChargeStatus.CONFIRMED.value
            else ConfirmOutcome.NOT_PENDING
        )
        return ConfirmResult(
            outcome, charge.id, charge.amount_cents, receipt_number=charge.receipt_number
        )
    if cell is not None and not await uow.citizens.use_card_code(cell.id, charge.id, now):
        # Used by another payment in the same instant: the guarded UPDATE lets one code
        # confirm one payment only.
        return await _void_for_a_used_card_code(uow, charge, ChargeStatus.CONFIRMED)
    # The code is spent only by the payment it makes: refused for the balance below, it is
    # given back in this same transaction, as a code typed too late, or for a payment
    # cancelled or voided, was never taken (docs/cards-and-delegates.md).
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
        if cell is not None:
            await uow.citizens.release_card_code(cell.id, charge.id)
        await uow.charges.mark(
            charge.id,
            ChargeStatus.CONFIRMED,
            status=ChargeStatus.CANCELLED,
            confirmed_at=None,
            closed_reason="insufficient_funds",
        )
        await tell_refused_for_balance(uow, charge.id, now)
        return ConfirmResult(ConfirmOutcome.INSUFFICIENT_FUNDS, charge.id, charge.amount_cents)
    balance = posted.source_balance_cents
    # Numbered once the money moved, as the one-trip plan does: no number is spent on a
    # payment refused for the balance.
    charge.receipt_number = await uow.shops.next_receipt(shop.id)
    await notify_payer(
        uow, citizen, _paid(charge.amount_cents, shop.name, balance), now, charge_id=charge.id
    )
    return ConfirmResult(
        ConfirmOutcome.CONFIRMED,
        charge.id,
        charge.amount_cents,
        citizen_balance_cents=balance,
        receipt_number=charge.receipt_number,
        card_codes_left=None if cell is None else len(unused) - 1,
    )


def _paid(amount_cents: int, shop_name: str, balance_cents: int) -> Reply:
    """The receipt of a confirmed payment."""
    return Reply.of(
        t(
            "Paid {amount} at {shop}. Remaining balance: {balance}.",
            amount=Money(amount_cents),
            shop=shop_name,
            balance=Money(balance_cents),
        )
    )


async def tell_refused_for_balance(uow: UnitOfWork, charge_id: int, now: datetime) -> None:
    """The citizen gave the code but the balance no longer covers the amount (another shop
    was paid meanwhile): the citizen is told, with the balance; the shop is not (the
    cashier is told to ask the customer)."""
    # Loaded one by one, not with_parties: the payment was decided (maybe in one trip), and
    # this is only its notice, on the rare refused path.
    charge = await uow.charges.by_id(charge_id)
    if charge is None:
        return
    citizen = await uow.citizens.by_id(charge.citizen_id)
    shop = await uow.shops.by_id(charge.shop_id)
    if citizen is None or shop is None:
        return
    balance = await ledger.citizen_balance(uow, charge.municipality_id, citizen.id)
    await notify_payer(
        uow,
        citizen,
        Reply.of(
            t(
                "The payment of {amount} at {shop} was refused: your balance is {balance}.",
                amount=Money(charge.amount_cents),
                shop=shop.name,
                balance=Money(balance),
            )
        ),
        now,
        charge_id=charge.id,
    )


class Transactions(Protocol):
    """Where a use case that commits by itself gets its transactions (a Core)."""

    keys: ServerKeys
    group_commit: GroupCommit | None

    def uow(self) -> UnitOfWork: ...


async def confirm_charge_committed(
    transactions: Transactions,
    *,
    charge_id: int,
    shop_id: int,
    typed_code: str,
    now: datetime,
    typed_by: str | None = None,
    till_tries: int | None = None,
) -> ConfirmResult:
    """`confirm_charge` in a transaction of its own, committed when this returns.

    On SQLite a plain acceptance joins the group commit (several payments per fsync,
    core/storage/group_commit.py); anything else, and PostgreSQL, runs in a unit of work."""
    group = transactions.group_commit
    if group is not None:
        accept, receipt = _one_trip_rules(transactions.keys, typed_code, now)
        fast = await group.run(
            confirm_transaction(charge_id, shop_id, now, accept=accept, receipt=receipt)
        )
        if fast is not None:
            if fast.outcome is Paid.INSUFFICIENT_FUNDS:
                # The refusal is committed; the citizen's notice follows in its own.
                async with transactions.uow() as uow:
                    await tell_refused_for_balance(uow, charge_id, now)
                    await uow.commit()
            return _from_one_trip(fast)

    async def once() -> ConfirmResult:
        async with transactions.uow() as uow:
            result = await confirm_charge(
                uow,
                charge_id=charge_id,
                shop_id=shop_id,
                typed_code=typed_code,
                now=now,
                typed_by=typed_by,
                till_tries=till_tries,
            )
            await uow.commit()
        return result

    # Two confirmations of one charge (a right and a wrong code typed at once) queue on
    # the charge's row, locked first (core/storage/payment_trip.py: _LOCK_CHARGE), and
    # so cannot deadlock. The retry stays as every money-moving transaction's safety net:
    # should PostgreSQL abort one anyway, all of it is rolled back and runs again, never
    # reaching the till (core/services/transactions.py).
    return await retrying(once)


def _one_trip_rules(
    keys: ServerKeys, typed_code: str, now: datetime
) -> tuple[Callable[[PendingPayment], bool], Callable[[PendingPayment, int], dict[str, Any]]]:
    """What the one-trip plan asks the service: is this a plain acceptance (pending, the
    right code in time, the shop free, not a card PIN), and the receipt's payload."""

    def accept(payment: PendingPayment) -> bool:
        if payment.consent == cards.CONSENT_CARD_PIN:
            return False
        policy = policy_from_text(payment.policy_toml)
        step = confirmation_step(
            PendingConfirmation(
                ChargeStatus.PENDING,
                payment.attempts,
                payment.expires_at,
                shop_lock_now(payment.shop_blocked_at, payment.shop_locked_until, now),
                otp.code_matches(keys, typed_code, payment.code_salt, payment.code_hash),
            ),
            now,
            policy.max_code_attempts,
        )
        return step is Confirmation.ACCEPT

    def receipt(payment: PendingPayment, balance: int) -> dict[str, Any]:
        reply = _paid(payment.amount_cents, payment.shop_name, balance)
        return seal_payload(keys, reply_to_json(reply))

    return accept, receipt


def _from_one_trip(outcome: PaymentOutcome) -> ConfirmResult:
    return ConfirmResult(
        ConfirmOutcome(outcome.outcome.value),
        outcome.charge_id,
        outcome.amount_cents,
        citizen_balance_cents=outcome.citizen_balance_cents,
        receipt_number=outcome.receipt_number,
    )


async def count_wrong_code(
    uow: UnitOfWork,
    shop: m.Shop,
    policy: Policy,
    now: datetime,
    typed_by: str | None,
    *,
    charge_id: int | None = None,
    detail: str | None = None,
) -> ShopLock:
    """Record a wrong code against the shop and lock it when it has typed too many.

    One rule for every payment the shop takes (buoni spesa, cards, community vouchers):
    what counts is the shop's wrong codes, whatever was being paid."""
    channel, _, address = (typed_by or "").partition(":")
    await security.record(
        uow,
        security.WRONG_PAYMENT_CODE,
        now,
        municipality_id=shop.municipality_id,
        shop_id=shop.id,
        charge_id=charge_id,
        channel=channel or None,
        address=address or None,
        detail=detail,
    )
    wrong = await security.wrong_codes_of_shop(uow, shop.id, now)
    lock = lock_for_wrong_codes(
        wrong, policy.shop_lock_after_wrong_codes, policy.shop_block_after_wrong_codes
    )
    if lock is ShopLock.OFFICE:
        shop.blocked_at = now
        # Until the office unlocks it the shop refunds nothing: its refund requests are void.
        await void_refund_codes(uow, REFUND_SHOP_BLOCKED, now, shop_id=shop.id)
    elif lock is ShopLock.TIMED:
        shop.locked_until = now + timedelta(minutes=policy.shop_lock_minutes)
    if lock is not ShopLock.NONE:
        await _tell_owner_locked(uow, shop, lock, typed_by, now)
    return lock


async def _tell_owner_locked(
    uow: UnitOfWork, shop: m.Shop, lock: ShopLock, typed_by: str | None, now: datetime
) -> None:
    """The owner learns of a lock when it happens, with the till that typed the last wrong
    code: a cashier guessing codes stops the whole shop, and only the owner can remove
    them. The till itself was answered already."""
    channel, _, address = (typed_by or "").partition(":")
    where = chat_label(channel, address) if address else "?"
    if lock is ShopLock.OFFICE:
        text = t(
            "{shop}: too many wrong codes (the last from {where}). It cannot charge until "
            "the office unlocks it.",
            shop=shop.name,
            where=where,
        )
    else:
        text = t(
            "{shop}: too many wrong codes (the last from {where}). It cannot charge until {until}.",
            shop=shop.name,
            where=where,
            until=Moment(shop.locked_until or now),
        )
    await notify_owners(uow, shop, Reply.of(text), now, except_chat=(channel, address))


async def _warn_wrong_codes(
    uow: UnitOfWork, charge: m.Charge, citizen: m.Citizen, shop: m.Shop, now: datetime
) -> None:
    """The holder's warning when wrong codes typed at the till cancelled the payment,
    worded for what the payment asked: a card's PIN or a code of its slip, or a code sent."""
    card = charge.consent == cards.CONSENT_CARD_PIN
    text = wrong_codes_warning(
        shop.name, charge.amount_cents, pin=card, grid=charge.card_code_position is not None
    )
    await notify_payer(uow, citizen, Reply.of(text), now, charge_id=charge.id)


async def _tell_void(
    uow: UnitOfWork,
    charge: m.Charge,
    citizen: m.Citizen,
    shop: m.Shop,
    now: datetime,
    *,
    by_office: bool = False,
) -> None:
    """The citizen holds a code (or was asked for the card's PIN) for a payment that will
    not happen: say it is void. `by_office`: the office stopped it (a revocation), not the
    shop. A shop giving up a payment its cashier typed wrong codes for is told as a warning
    with how many (cancelled_after_wrong_codes): never a plain "the shop cancelled"."""
    amount = Money(charge.amount_cents)
    card = charge.consent == cards.CONSENT_CARD_PIN
    if not by_office and charge.attempts:
        text = cancelled_after_wrong_codes(
            shop.name,
            charge.amount_cents,
            charge.attempts,
            pin=card,
            grid=card and charge.card_code_position is not None,
        )
    elif by_office and card:
        text = t(
            "The office cancelled the card payment of {amount} at {shop}: nothing was taken "
            "from your vouchers.",
            shop=shop.name,
            amount=amount,
        )
    elif by_office:
        text = office_stopped(shop, charge)
    elif card:
        text = t(
            "{shop} cancelled the card payment of {amount}: nothing was taken from your vouchers.",
            shop=shop.name,
            amount=amount,
        )
    else:
        text = t(
            "{shop} cancelled the payment of {amount}. The code is no longer valid.",
            shop=shop.name,
            amount=amount,
        )
    await notify_payer(uow, citizen, Reply.of(text), now, charge_id=charge.id)


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


async def unlock_shop(
    uow: UnitOfWork, municipality_id: int, shop_id: int, *, by: activity.Actor, now: datetime
) -> m.Shop:
    """The office lifts a lock (the command line, or an operator on the shops page); the
    count of wrong codes starts again from now. Recorded twice: as the security event the
    count starts from, and in the office's activity log with the lock it lifted. A shop
    that is not locked is refused (`shop.not_locked`) and nothing changes: its count of
    wrong codes goes on, and nothing is logged."""
    shop = await uow.shops.by_id(shop_id)
    if shop is None or shop.municipality_id != municipality_id:
        raise NotFound(Refusal.SHOP_NOT_FOUND, shop_id=shop_id)
    if security.lock_of(shop, now, 0) is None:
        raise Conflict(Refusal.SHOP_NOT_LOCKED, shop_id=shop.id, name=shop.name)
    lock = security.lock_of(shop, now, await security.wrong_codes_of_shop(uow, shop.id, now))
    blocked_at = shop.blocked_at
    shop.blocked_at = None
    shop.locked_until = None
    await security.record(
        uow,
        security.SHOP_UNLOCKED,
        now,
        municipality_id=municipality_id,
        shop_id=shop.id,
        detail=activity.actor_name(by),
    )
    # The log's page names these keys (office/words.py FIELD_NAMES).
    assert lock is not None
    before: dict[str, object] = {"wrong_codes": lock.wrong_codes}
    if lock.until is not None:
        before["locked_until"] = lock.until.isoformat()
    if blocked_at is not None:
        before["blocked_at"] = blocked_at.isoformat()
    await activity.by_actor(
        uow,
        municipality_id,
        by,
        "shop.unlock",
        subject=f"{shop.id} {shop.name}",
        before=before,
        after={"locked": False},
        now=now,
    )
    return shop


async def _card_blocked(
    uow: UnitOfWork,
    charge: m.Charge,
    citizen: m.Citizen,
    shop: m.Shop,
    attempts: int,
    now: datetime,
) -> ConfirmResult:
    """The wrong PIN that brought the card's wrong PINs at all shops to the limit: the card
    is blocked and this payment cancelled. The office sees the card in `admin cards
    --blocked`; whoever receives the citizen's notices is told."""
    await uow.charges.mark(
        charge.id,
        ChargeStatus.PENDING,
        status=ChargeStatus.CANCELLED,
        attempts=attempts,
        closed_reason="card_blocked",
    )
    blocked = (
        t(
            "Your voucher card was blocked after too many wrong codes at several shops, the "
            "last at {shop}. Ask the office for a new card.",
            shop=shop.name,
        )
        if charge.card_code_position is not None
        else t(
            "Your voucher card was blocked after too many wrong PINs at several shops, "
            "the last at {shop}. Ask the office for a new card.",
            shop=shop.name,
        )
    )
    await notify_payer(uow, citizen, Reply.of(blocked), now, charge_id=charge.id)
    return ConfirmResult(ConfirmOutcome.CARD_BLOCKED, charge.id, charge.amount_cents)


async def _card_locked_at_shop(
    uow: UnitOfWork,
    charge: m.Charge,
    citizen: m.Citizen,
    shop: m.Shop,
    attempts: int,
    again: datetime,
    lock: ShopLock,
    now: datetime,
) -> ConfirmResult:
    """The shop's last allowed wrong PIN for this card: this payment is cancelled and the
    shop cannot charge the card until `again`; the card keeps working at other shops. The
    holder gets the warning of any payment cancelled for wrong codes."""
    if await uow.charges.mark(
        charge.id,
        ChargeStatus.PENDING,
        status=ChargeStatus.CANCELLED,
        attempts=attempts,
        closed_reason="card_locked_at_shop",
    ):
        await _warn_wrong_codes(uow, charge, citizen, shop, now)
    return ConfirmResult(
        ConfirmOutcome.CARD_LOCKED_AT_SHOP,
        charge.id,
        charge.amount_cents,
        shop_lock=lock,
        card_again_at=again,
    )


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


async def awaiting_code(
    uow: UnitOfWork, citizen_id: int, now: datetime
) -> list[tuple[m.Charge, m.Shop]]:
    """The payments asked of a citizen that wait for the code sent to them (a card's PIN
    is typed at the till, nothing was sent), still valid, oldest first, with their shop."""
    return await _with_their_shops(
        uow,
        [
            charge
            for charge in await uow.charges.pending_for_citizen(citizen_id)
            if charge.consent != cards.CONSENT_CARD_PIN and charge.expires_at > now
        ],
    )


async def _with_their_shops(
    uow: UnitOfWork, found: Sequence[m.Charge]
) -> list[tuple[m.Charge, m.Shop]]:
    """Each payment with its shop, in the same order (one whose shop is gone left out)."""
    paired = []
    for charge in found:
        shop = await uow.shops.by_id(charge.shop_id)
        if shop is not None:
            paired.append((charge, shop))
    return paired


@dataclass(frozen=True)
class WaitingCharge:
    """A payment a till asked that still waits for the customer's code (or card PIN)."""

    charge_id: int
    amount_cents: int
    sent_to: str  # as the cashier was shown it (ChargeRequested.sent_to)
    channel: str  # a Channel, or "card"
    voucher: bool  # a community voucher's payment (core.services.voucher_charges)
    code_salt: str = ""
    code_hash: str = ""  # empty for a card's PIN: no code was sent
    card_position: int | None = None  # the cell of the card's grid the holder is asked for


def code_is_for(keys: ServerKeys, waiting: WaitingCharge, typed: str) -> bool:
    """Whether a typed code is this waiting payment's own (read only: nothing counted)."""
    if not waiting.code_hash:
        return False
    return otp.code_matches(keys, typed, waiting.code_salt, waiting.code_hash)


async def waiting_at_till(
    uow: UnitOfWork, *, shop_id: int, till: str, now: datetime
) -> list[WaitingCharge]:
    """The payments of a shop that this till (`channel:address`, its `requested_by`) asked
    and that still wait for a code, newest first: what a till left by MENU, or by closing
    its chat, still holds open (the code typed afterwards confirms it)."""
    found: list[tuple[datetime, WaitingCharge]] = []
    for charge_id in await uow.charges.pending_requested_by(shop_id, till):
        charge = await uow.charges.by_id(charge_id)
        if charge is None or charge.expires_at <= now:
            continue
        citizen = await uow.citizens.by_id(charge.citizen_id)
        if citizen is None:
            continue
        if charge.consent == cards.CONSENT_CARD_PIN:
            sent_to, channel = card_domain.grouped(citizen.card_code or ""), "card"
        else:
            payer = await payer_of(uow, citizen)
            if payer is None:
                continue
            channel, sent_to = shown_destination(citizen, payer)
        found.append(
            (
                charge.created_at,
                WaitingCharge(
                    charge.id,
                    charge.amount_cents,
                    sent_to,
                    channel,
                    voucher=False,
                    code_salt=charge.code_salt,
                    code_hash=charge.code_hash,
                    card_position=charge.card_code_position,
                ),
            )
        )
    for charge_id in await uow.community.pending_charges_requested_by(shop_id, till):
        parties = await uow.community.charge_with_parties(charge_id)
        if parties is None or parties[0].expires_at <= now:
            continue
        voucher_charge, voucher = parties[0], parties[1]
        sms = voucher.holder_channel == Channel.SMS
        sent_to = mask_phone(voucher.holder_address) if sms else "Telegram"
        found.append(
            (
                voucher_charge.created_at,
                WaitingCharge(
                    voucher_charge.id,
                    voucher_charge.amount_cents,
                    sent_to,
                    voucher.holder_channel,
                    voucher=True,
                    code_salt=voucher_charge.code_salt,
                    code_hash=voucher_charge.code_hash,
                ),
            )
        )
    # Newest first; asked in the same instant, the later row first.
    found.sort(key=lambda pair: (pair[0], pair[1].charge_id), reverse=True)
    return [waiting for _, waiting in found]


async def expired_codes(
    uow: UnitOfWork, citizen_id: int, now: datetime
) -> list[tuple[m.Charge, m.Shop]]:
    """The payments asked of a citizen in the last day whose code expired unused (a card's
    PIN sends none), the newest first, with their shop: a code of theirs that comes in
    here is explained, not taken for a word nobody understands."""
    since = now - timedelta(days=1)
    return await _with_their_shops(
        uow,
        [
            charge
            for charge in await uow.charges.expired_for_citizen(citizen_id, since, now)
            if charge.consent != cards.CONSENT_CARD_PIN
        ],
    )


async def closed_codes(
    uow: UnitOfWork, citizen_id: int, now: datetime
) -> list[tuple[m.Charge, m.Shop]]:
    """The payments asked of a citizen in the last day whose code was sent and that are
    over (paid, or cancelled), the newest first, with their shop: such a code coming in
    here is explained, never taken for an answer nor counted as a wrong code."""
    closed = await uow.charges.closed_with_code_for_citizen(citizen_id, now - timedelta(days=1))
    return await _with_their_shops(uow, closed)


async def refuse_charge(uow: UnitOfWork, *, charge_id: int, citizen_id: int, now: datetime) -> bool:
    """The citizen (or their delegate) refuses a payment a shop asked: ANNULLA from the chat
    that received the code. Cancelled like the shop's own ANNULLA (cancel_charge), and the
    till that asked it is told, since the cashier waits for a code that will not come. False:
    it was no longer pending, and nobody is told anything."""
    charge = await uow.charges.by_id(charge_id)
    if charge is None or charge.citizen_id != citizen_id:
        raise NotFound(Refusal.CHARGE_NOT_FOUND)
    if not await uow.charges.mark(
        charge.id, ChargeStatus.PENDING, status=ChargeStatus.CANCELLED, closed_reason=BY_CITIZEN
    ):
        return False
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


async def confirmed_charge(
    uow: UnitOfWork, *, receipt_number: int, shop_id: int
) -> m.Charge | None:
    """A payment this shop received and has not refunded (what a refund may pick), by the
    number on its receipt (counted per shop). Raises NotAllowed when the municipality has
    already reimbursed the shop for it, or revoked the customer's vouchers since: only the
    office can undo it, so the cashier is told before any code is sent; Conflict
    (refund.already_refunded) when it was refunded."""
    charge = await uow.charges.by_receipt(shop_id, receipt_number)
    if charge is not None and charge.status == ChargeStatus.REFUNDED:
        # Said as such: "no payment with this receipt" would read as if it never existed.
        raise Conflict(Refusal.REFUND_ALREADY_REFUNDED)
    if charge is None or charge.status != ChargeStatus.CONFIRMED:
        return None
    if await uow.charges.settled([charge.id]):
        raise NotAllowed(Refusal.REFUND_ALREADY_SETTLED)
    # Revoked since: said before the owner's or the customer's code too.
    await refuse_after_revocation(uow, charge)
    return charge


async def _void_for_a_used_card_code(
    uow: UnitOfWork, charge: m.Charge, was: ChargeStatus
) -> ConfirmResult:
    """A card payment whose drawn code confirmed another payment: cancelled (from `was`,
    compare-and-set), nothing counted against anyone."""
    await uow.charges.mark(
        charge.id,
        was,
        status=ChargeStatus.CANCELLED,
        confirmed_at=None,
        closed_reason="card_code_used",
    )
    return ConfirmResult(ConfirmOutcome.NOT_PENDING, charge.id, charge.amount_cents)


class _Unmarked(Exception):
    """The refund's compare-and-set found the charge no longer refundable."""


async def expire_charges(uow: UnitOfWork, now: datetime) -> int:
    """Sweep pending charges past their expiry (a code can never be used after it anyway)."""
    return await uow.charges.expire_due(now)


async def refund_charge(
    uow: UnitOfWork,
    *,
    charge_id: int,
    shop_id: int,
    by: tuple[str, str],
    now: datetime,
    citizen_confirmed: bool = False,
) -> int:
    """Give a payment of today back to the citizen: shop -> citizen, a new posting.

    `by`: the chat (channel, address) refunding, read now in this transaction: it must
    still work for the shop and the shop be able to charge (shop.not_member, …), and its
    role now decides whether the citizen must consent: a cashier (not the owner) refunds
    only with the code sent to the citizen (see send_refund_code), checked by the caller
    (`citizen_confirmed`). There is no refund without a chat acting for the shop: who may
    refund is never the caller's word."""
    member, _ = await acting_member(uow, shop_id, by, now, shop_may_charge=True)
    by_cashier = member.role != MemberRole.OWNER.value
    charge = await uow.charges.by_id(charge_id)
    if charge is None or charge.shop_id != shop_id:
        raise NotFound(Refusal.CHARGE_NOT_FOUND)
    if by_cashier and not citizen_confirmed:
        raise NotAllowed(Refusal.REFUND_NEEDS_CITIZEN_CODE)
    municipality = await uow.municipalities.by_id(charge.municipality_id)
    assert municipality is not None
    if not can_refund(ChargeStatus(charge.status), charge.confirmed_at, now, municipality.timezone):
        raise NotAllowed(Refusal.REFUND_NOT_TODAY)
    if await uow.charges.settled([charge.id]):
        # The town has paid the shop for it: the office must handle it.
        raise NotAllowed(Refusal.REFUND_ALREADY_SETTLED)
    await refuse_after_revocation(uow, charge)
    # A refusal must leave nothing behind, though the caller (a dialogue turn) commits
    # its conversation after it: the writes are one savepoint, undone when one refuses.
    # The posting comes first for its lock on the shop's account: a reimbursement run
    # committed before it is then seen by the mark's guard.
    try:
        async with uow.savepoint():
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
            if not await uow.charges.mark_refunded(charge.id, now):
                raise _Unmarked
    except _Unmarked:
        # Refunded meanwhile, or a reimbursement run paid it meanwhile (the statement's guard).
        if await uow.charges.settled([charge.id]):
            raise NotAllowed(Refusal.REFUND_ALREADY_SETTLED) from None
        raise NotAllowed(Refusal.REFUND_NOT_TODAY) from None
    except InsufficientFunds as exc:
        # The shop's account cannot go below zero: a run took its money meanwhile.
        raise NotAllowed(Refusal.REFUND_ALREADY_SETTLED) from exc
    # Other cashiers' requests to refund it are over: the customer hears of the refund.
    await void_refund_codes(uow, REFUND_DONE, now, shop_id=charge.shop_id, charge_id=charge.id)
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
