"""The cashier types the customer's code: checked, and on success paid in the same
transaction (in one trip to the database when it is a plain acceptance)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from core.domain import otp
from core.domain.channels import chat_of
from core.domain.charges import (
    ChargeStatus,
    Confirmation,
    PendingConfirmation,
    ShopLock,
    confirmation_step,
    shop_lock_now,
)
from core.domain.errors import InsufficientFunds, NotFound, Refusal
from core.domain.keys import ServerKeys
from core.domain.ledger import PostingKind
from core.domain.messages import Reply, reply_to_json, t
from core.services import cards, ledger
from core.services.charges import person_locks
from core.services.charges.notices import (
    _paid,
    _tell_void,
    _warn_wrong_codes,
    tell_refused_for_balance,
)
from core.services.charges.outcomes import (
    _CLOSED_OR_VOID,
    ConfirmOutcome,
    ConfirmResult,
    decide_on_code,
    not_paid,
    of_this_shop,
    refused_for_balance,
)
from core.services.charges.shop_locks import count_wrong_code
from core.services.municipalities import policy_from_text, policy_of
from core.services.outbox import (
    notify_payer,
    seal_payload,
)
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


async def confirm_charge(
    uow: UnitOfWork,
    *,
    charge_id: int,
    shop_id: int,
    typed_code: str,
    now: datetime,
    typed_by: str,
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

    `typed_by` ("channel:address"): the chat that typed the code. Only the owner or a
    cashier of the shop that asked the payment may confirm it, whatever the dialogue
    checked before: any other chat is refused as if the payment did not exist
    (charge.not_found), before the code is looked at, and no try is spent.

    A plain acceptance (pending, right code in time, shop free, not a card PIN) runs as
    one trip to the database (core/storage/payment_trip.py); every other case, judged
    before anything is written, takes the general path below. The one-trip plan runs
    first in every case: it checks the chat for both paths."""

    accept, receipt = _one_trip_rules(uow.keys, typed_code, now)
    fast = await uow.charges.confirm_in_one_trip(
        charge_id, shop_id, chat_of(typed_by), now, accept=accept, receipt=receipt
    )
    if fast is not None:
        if fast.outcome is Paid.INSUFFICIENT_FUNDS:
            await tell_refused_for_balance(uow, charge_id, now)
        return _from_one_trip(fast)
    charge, citizen, shop, municipality = of_this_shop(
        await uow.charges.with_parties(charge_id), shop_id
    )
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
        # the card at every shop (cards.py). A wrong code sent to her phone or chat names
        # her the same way, and counts against her codes at every shop (person_locks.py).
        detail = (
            cards.wrong_pin_detail(citizen) if with_pin else person_locks.wrong_code_detail(citizen)
        )
        lock = await count_wrong_code(
            uow, shop, policy, now, typed_by, charge_id=charge.id, detail=detail
        )
        if not with_pin:
            until = await person_locks.stop_codes_after_wrong_code(uow, citizen, shop, now)
            if until is not None:
                # This payment was cancelled with her others, and she was told.
                return ConfirmResult(
                    ConfirmOutcome.CODES_STOPPED,
                    charge.id,
                    charge.amount_cents,
                    shop_lock=lock,
                    codes_stopped_until=until,
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
        result = await not_paid(
            decision,
            charge.id,
            charge.amount_cents,
            uow.charges.mark,
            warn=lambda: _warn_wrong_codes(uow, charge, citizen, shop, now),
            void=lambda: _tell_void(uow, charge, citizen, shop, now),
        )
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
        await refused_for_balance(uow.charges.mark, charge.id)
        notice = await tell_refused_for_balance(uow, charge.id, now)
        # A card's holder whom no notice reaches (no phone, no chat, no delegate) typed the
        # card's code at the till, her consent to this payment, and stands there: the till
        # says the balance to her, or nothing would (the one-trip path never takes a card).
        return ConfirmResult(
            ConfirmOutcome.INSUFFICIENT_FUNDS,
            charge.id,
            charge.amount_cents,
            balance_for_the_holder_cents=(
                notice[1] if with_pin and notice is not None and notice[0] == 0 else None
            ),
        )
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
    typed_by: str,
    till_tries: int | None = None,
) -> ConfirmResult:
    """`confirm_charge` in a transaction of its own, committed when this returns.

    On SQLite a plain acceptance joins the group commit (several payments per fsync,
    core/storage/group_commit.py); anything else, and PostgreSQL, runs in a unit of work."""
    group = transactions.group_commit
    if group is not None:
        accept, receipt = _one_trip_rules(transactions.keys, typed_code, now)
        fast = await group.run(
            confirm_transaction(
                charge_id, shop_id, chat_of(typed_by), now, accept=accept, receipt=receipt
            )
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
    if outcome.outcome is Paid.UNKNOWN:
        # Not the shop's chat: the answer to a payment that does not exist.
        raise NotFound(Refusal.CHARGE_NOT_FOUND)
    return ConfirmResult(
        ConfirmOutcome(outcome.outcome.value),
        outcome.charge_id,
        outcome.amount_cents,
        citizen_balance_cents=outcome.citizen_balance_cents,
        receipt_number=outcome.receipt_number,
    )


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
