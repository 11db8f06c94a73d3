"""The code typed at the till's code step, in the order ChargeFlow.on_code reads it: what
cannot be this payment's code (words about the code, nothing typed, a phone number, digits of
the wrong length: reject_no_code, nothing judged nor counted), the code judged as this
payment's (judge_code), a wrong one said with the tries left (reject_wrong_code), and what
the till is told of the payment's end (confirmed_texts, outcome_texts). Apart from the flow
(flows/charge.py), which keeps the till's SMS session, so that on_code reads as its steps.
"""

from __future__ import annotations

from core.dialogue import words
from core.dialogue.context import Reject, Turn
from core.dialogue.flows.base import known
from core.dialogue.flows.charge_texts import (
    ANOTHER_TILL_WAITS,
    READ_AGAIN,
    READ_PIN_AGAIN,
    _code_digits,
    _expired_text,
    _wrong_length,
)
from core.dialogue.state import ChargeState
from core.domain.cards import grid_running_out
from core.domain.charges import ShopLock
from core.domain.identity import is_phone_number
from core.domain.messages import Moment, Money, Text, t, tn
from core.services import charges as charge_service
from core.services import voucher_charges


def reject_no_code(s: ChargeState, text: str, typed: str) -> None:
    """Reject what cannot be the code this payment waits for (`typed` is `text` as a code
    reads it): words saying the code did not come or does not work, nothing typed, a phone
    number, digits of the wrong length. None of them is judged: no try used."""
    pin = s.pin
    if not typed and not pin and words.asks_for_a_new_code(text):
        # "Il cliente non ha ricevuto il codice": where it went, and how a new one is
        # sent (PAGA again voids the first); nothing is sent or charged by these words.
        raise Reject(
            t(
                "The code was sent ({where}): ask the customer to look at their messages. "
                "Not there? Write PAGA again for a new code, or ANNULLA.",
                where=known(s.where),
            )
        )
    if not typed and not pin and words.says_the_code_fails(text):
        # "Il cliente dice che il codice non funziona": a code pays once, briefly, this
        # payment only; these words charge nothing and count no wrong try.
        raise Reject(
            t(
                "A code works once, for a few minutes, for this payment. Nothing charged, no "
                "wrong try counted: write PAGA again for a new code."
            )
        )
    if not typed:
        if pin and s.position is not None:
            raise Reject(
                t(
                    "Write code no. {position} of the card (6 digits), or ANNULLA.",
                    position=s.position,
                )
            )
        if pin:
            raise Reject(t("Write the PIN of the card (6 digits), or ANNULLA."))
        raise Reject(t("Write the code the customer reads to you (6 digits), or ANNULLA."))
    digits = _code_digits(s)
    if len(typed) != digits and (words.menu_digit_and_phone(text) or is_phone_number(text or "")):
        # "5 3331000002", "3331000002": a phone number, never a code of the wrong
        # length; the payment keeps waiting for its code, no try used.
        raise Reject(
            t(
                "That is a phone number, not a code. The payment of {amount} ({where}) "
                "still waits for its code: write it here, or ANNULLA to charge someone "
                "else.",
                amount=Money(known(s.amount)),
                where=known(s.where),
            )
        )
    if len(typed) != digits:
        # A digit missing or one too many can never be the code: said, and not counted
        # as a wrong code (no try used, the till session and the shop untouched, the
        # customer not warned). A guess of the right length counts as ever.
        raise Reject(_wrong_length(s, digits, len(typed)))


async def judge_code(
    turn: Turn, s: ChargeState, typed: str, *, till_tries: int | None
) -> charge_service.ConfirmResult:
    """The service's judgement of `typed` as this payment's code (a payment or a community
    voucher's), with the wrong codes the till may still type (ChargeFlow._till_tries)."""
    confirm = voucher_charges.confirm_voucher_charge if s.voucher else charge_service.confirm_charge
    # Whatever the digits are (a slip, a guess, the code of an earlier payment of the
    # same person, another payment's code), they are judged as this payment's code: a
    # wrong one counts, so that no code a cashier has heard buys a free try.
    return await confirm(
        turn.uow,
        charge_id=known(s.charge_id),
        shop_id=known(s.shop_id),
        typed_code=typed,
        now=turn.now,
        typed_by=f"{turn.channel}:{turn.address}",
        till_tries=till_tries,
    )


def reject_wrong_code(
    s: ChargeState, result: charge_service.ConfirmResult, *, another_till_waits: bool = False
) -> None:
    """Reject a wrong code or PIN with the tries left and what to ask the holder next; any
    other outcome ends the payment (confirmed_texts, outcome_texts). `another_till_waits`:
    another till of the shop waits for a code too, so a payment code may have been read to
    the wrong cashier (said, still counted: every code but the payment's own is wrong)."""
    outcome = charge_service.ConfirmOutcome
    pin = s.pin
    grid = pin and s.position is not None  # a card's one-time code, not an old card's PIN
    if result.outcome is outcome.WRONG_CODE and pin and s.position is None:
        raise Reject(
            tn(
                "Wrong PIN: {count} attempt left.",
                "Wrong PIN: {count} attempts left.",
                result.attempts_left,
            ),
            READ_PIN_AGAIN,
        )
    if result.outcome is outcome.WRONG_CODE:
        raise Reject(
            tn(
                "Wrong code: {count} attempt left.",
                "Wrong code: {count} attempts left.",
                result.attempts_left,
            ),
            t(
                "Ask the holder for code no. {position} of the card again and type it, or ANNULLA.",
                position=known(s.position),
            )
            if grid
            else ANOTHER_TILL_WAITS
            if another_till_waits
            else READ_AGAIN,
        )


def confirmed_texts(result: charge_service.ConfirmResult) -> list[Text]:
    """The payment confirmed, with its receipt; and a card's codes running out."""
    amount = Money(result.amount_cents)
    said = [
        t(
            "Payment confirmed: {amount}. Receipt no. {receipt}.",
            amount=amount,
            # Counted per shop; a community voucher's payment has its own number.
            receipt=str(result.receipt_number or result.charge_id),
        )
    ]
    left = result.card_codes_left
    if left is not None and grid_running_out(left):
        said.append(
            tn(
                "Only {count} code left on the card: the holder must ask the office "
                "for a new card.",
                "Only {count} codes left on the card: the holder must ask the office "
                "for a new card.",
                left,
            )
            if left
            else t(
                "No code left on the card: it pays no more. The holder must ask the "
                "office for a new card."
            )
        )
    return said


def outcome_texts(turn: Turn, s: ChargeState, result: charge_service.ConfirmResult) -> list[Text]:
    """What the till is told of a payment the code ended without paying it: a card blocked,
    too many wrong codes (the card or the shop locked), the code expired, the payment
    refused for the balance, or closed already."""
    outcome = charge_service.ConfirmOutcome
    amount = Money(result.amount_cents)
    grid = s.pin and s.position is not None  # a card's one-time code, not an old card's PIN
    if result.outcome is outcome.CARD_BLOCKED:
        return [_card_blocked(amount, grid=grid)]
    if result.outcome in (
        outcome.CANCELLED_TOO_MANY_ATTEMPTS,
        outcome.SHOP_LOCKED,
        outcome.CARD_LOCKED_AT_SHOP,
    ):
        return _too_many_wrong(turn, result, amount, grid=grid)
    if result.outcome is outcome.CODES_STOPPED:
        # The customer was told why; the till, that asking again is useless for now.
        return [
            t(
                "Too many wrong codes for this person at several shops: payment of {amount} "
                "cancelled. No code until {until}.",
                amount=amount,
                until=Moment(known(result.codes_stopped_until)),
            ),
            *_shop_lock_texts(turn, result.shop_lock),
        ]
    if result.outcome is outcome.EXPIRED:
        return [_expired_text(s, amount)]
    if result.outcome is outcome.INSUFFICIENT_FUNDS:
        return [_refused_for_balance(result, amount)]
    return [t("This payment is closed. Start a new one.")]


def _card_blocked(amount: Money, *, grid: bool) -> Text:
    return (
        t(
            "Too many wrong codes: card blocked, payment of {amount} cancelled. The "
            "holder must ask the office for a new card.",
            amount=amount,
        )
        if grid
        else t(
            "Too many wrong PINs: card blocked, payment of {amount} cancelled. The "
            "holder must ask the office for a new card.",
            amount=amount,
        )
    )


def _too_many_wrong(
    turn: Turn, result: charge_service.ConfirmResult, amount: Money, *, grid: bool
) -> list[Text]:
    again = result.card_again_at
    texts = [
        # Neutral: a cashier's typo, a customer's slip and a guess read alike. A shop
        # locked as a whole hears that instead (one SMS): PAGA tells it of the card.
        (
            t(
                "Too many wrong codes for this card: payment of {amount} cancelled. "
                "This shop can charge it again from {until}.",
                amount=amount,
                until=Moment(again),
            )
            if grid
            else t(
                "Too many wrong PINs for this card: payment of {amount} cancelled. "
                "This shop can charge it again from {until}.",
                amount=amount,
                until=Moment(again),
            )
        )
        if again is not None and result.shop_lock is ShopLock.NONE
        else t("Too many wrong codes: the payment of {amount} was cancelled.", amount=amount)
    ]
    return [*texts, *_shop_lock_texts(turn, result.shop_lock)]


def _shop_lock_texts(turn: Turn, lock: ShopLock) -> list[Text]:
    """What a wrong code that also locked the shop adds to the till's answer."""
    if lock is ShopLock.TIMED:
        return [
            t(
                "The shop cannot charge for {minutes} minutes.",
                minutes=turn.policy.shop_lock_minutes,
            )
        ]
    if lock is ShopLock.OFFICE:
        return [t("The shop cannot charge until the municipality's office unlocks it.")]
    return []


def _refused_for_balance(result: charge_service.ConfirmResult, amount: Money) -> Text:
    unheard = result.balance_for_the_holder_cents
    # The citizen, who gave the code, has been told why; the shop is not (no balance
    # oracle): the cashier is told to ask the customer. A card's holder no message
    # reaches hears her balance at the till, where she typed the card's code.
    return (
        t(
            "Payment of {amount} refused: the card has only {balance}. Nothing paid. "
            "Tell the holder: we cannot reach them.",
            amount=amount,
            balance=Money(unheard),
        )
        if unheard is not None
        else t(
            "Payment not confirmed: the payment of {amount} was refused. Ask the "
            "customer: they have been told why.",
            amount=amount,
        )
    )
