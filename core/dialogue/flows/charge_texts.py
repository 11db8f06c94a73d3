"""What the till is told about a payment at its code step and after it: a wrong code or PIN
(READ_AGAIN, READ_PIN_AGAIN, a code of the wrong length for the code, the card's PIN or a
code of the card's slip), where the customer's code went (masked: the cashier's chat never
sees the code nor the whole phone number), and what became of a payment: cancelled,
refused by the customer, cancelled by the office, expired. The same words whenever it is
said, at the moment or to a code typed afterwards; and how a note joins a reply in one SMS
(_say_with). Apart from the flow (flows/charge.py), so that its steps read as steps.
"""

from __future__ import annotations

from dataclasses import replace

from core.dialogue.context import Turn
from core.dialogue.flows.base import known
from core.dialogue.state import ChargeState
from core.domain import cards as card_domain
from core.domain import otp
from core.domain.channels import Channel
from core.domain.charges import ChargeStatus
from core.domain.messages import Money, Reply, Text, t, tn
from core.services import charges as charge_service
from core.storage import models as m

# After a wrong code at the till, what the cashier does next: the same for a slip, a
# customer's misreading and a guess, and nothing about the right code (a dishonest cashier
# learns only how many tries are left). With the count it makes one SMS.
READ_AGAIN = t("Ask the customer to read the code on their phone again and type it, or ANNULLA.")
# The same while another till of the shop waits for a code: a busy shop's customer may read
# her code to the wrong cashier.
ANOTHER_TILL_WAITS = t(
    "Another till here waits for a code too: is the customer paying there? Else ask for the "
    "code again, or ANNULLA."
)
# The same after a wrong PIN of an old card: again, or ANNULLA; nothing about the PIN.
READ_PIN_AGAIN = t(
    "Ask the holder to type the card's PIN again or to tell it to you again, or ANNULLA."
)


def _masked(channel: str, sent_to: str) -> str:
    # The service masks with "•", which an SMS cannot carry in GSM-7: show the last digits only.
    if channel == "card":
        return sent_to  # the card number, grouped: the cashier has the card
    if channel == Channel.SMS:
        digits = "".join(ch for ch in sent_to if ch.isdigit())
        # No digits when the service shows none (a delegate's phone, see shown_destination).
        return f"SMS ***{digits[-3:]}" if digits else "SMS"
    return "Telegram"


def _code_digits(s: ChargeState) -> int:
    """How many digits the code this payment waits for has: a code of the card's slip, an
    old card's PIN, or the code sent to the customer (or a voucher's holder)."""
    if s.pin and s.position is not None:
        return card_domain.CODE_DIGITS
    if s.pin:
        return card_domain.PIN_DIGITS
    return otp.CODE_DIGITS


def _wrong_length(s: ChargeState, digits: int, typed: int) -> Text:
    if s.pin and s.position is not None:
        return tn(
            "Code no. {position} of the card has {digits} digits, you wrote {count}: write it "
            "again, or ANNULLA.",
            "Code no. {position} of the card has {digits} digits, you wrote {count}: write it "
            "again, or ANNULLA.",
            typed,
            position=s.position,
            digits=digits,
        )
    if s.pin:
        return tn(
            "The card's PIN has {digits} digits, you wrote {count}: write it again, or ANNULLA.",
            "The card's PIN has {digits} digits, you wrote {count}: write it again, or ANNULLA.",
            typed,
            digits=digits,
        )
    return tn(
        "The code has {digits} digits, you wrote {count}: ask the customer again and write "
        "it here, or ANNULLA.",
        "The code has {digits} digits, you wrote {count}: ask the customer again and write "
        "it here, or ANNULLA.",
        typed,
        digits=digits,
    )


def cancelled_text(waiting: charge_service.WaitingCharge) -> Text:
    """A payment this till gave up, as the till showed it: the amount and where its code
    went."""
    if waiting.channel == "card":
        # A card's code was not spent: it still pays when the till asks for it again.
        return t(
            "Payment of {amount} with card {card} cancelled: nothing was paid.",
            amount=Money(waiting.amount_cents),
            card=waiting.sent_to,
        )
    return t(
        "Payment of {amount} ({where}) cancelled: the customer's code no longer works.",
        amount=Money(waiting.amount_cents),
        where=_masked(waiting.channel, waiting.sent_to),
    )


def _ended_text(s: ChargeState, charge: m.Charge | m.VoucherCharge | None, turn: Turn) -> Text:
    """What became of the payment a code step waited for, told to a code typed for it
    afterwards: refused by the customer, cancelled by the office or at the shop, expired,
    or closed otherwise; in the words the till hears when it happens."""
    amount = Money(known(s.amount))
    reason = charge.closed_reason if charge is not None else None
    if charge is not None and (
        charge.status == ChargeStatus.EXPIRED
        or (charge.status == ChargeStatus.PENDING and charge.expires_at <= turn.now)
    ):
        return _expired_text(s, amount)
    if charge is None or charge.status != ChargeStatus.CANCELLED:
        return t("This payment is closed. Start a new one.")
    if reason == charge_service.BY_CITIZEN:
        return t(
            "The customer refused the payment of {amount}: the code no longer works. Ask how "
            "they want to pay.",
            amount=amount,
        )
    if reason in charge_service.BY_OFFICE:
        return t(
            "The office cancelled the payment of {amount}: it cannot be completed, do not "
            "wait for the code.",
            amount=amount,
        )
    if s.pin:
        return t(
            "Payment of {amount} with card {card} cancelled: nothing was paid.",
            amount=amount,
            card=known(s.where),
        )
    return t(
        "Payment of {amount} ({where}) cancelled: the customer's code no longer works.",
        amount=amount,
        where=known(s.where),
    )


def _expired_text(s: ChargeState, amount: Money) -> Text:
    if s.pin and s.position is not None:
        # The card's code was not spent (only a payment made spends it): said, for the
        # holder who fears a code of the slip is lost.
        return t(
            "Too late: the payment of {amount} was cancelled, and code no. {position} "
            "of the card was not used. Start again.",
            amount=amount,
            position=s.position,
        )
    if s.pin:
        return t("Too late: the payment of {amount} was cancelled. Start again.", amount=amount)
    return t(
        "The code has expired: the payment of {amount} was cancelled. Start again.",
        amount=amount,
    )


def _left_waiting(waiting: charge_service.WaitingCharge) -> Text:
    return t(
        "A payment of {amount} waits for the customer's code: write it here, or ANNULLA.",
        amount=Money(waiting.amount_cents),
    )


def _say_with(turn: Turn, at: int, notes: list[Text], *, first: bool) -> None:
    """Say `notes` in reply `at`, before its texts (`first`) or after them, when it is
    plain text and they fit one SMS together; else as a message of their own, before or
    after it."""
    if not notes:
        return
    reply = turn.replies[at] if 0 <= at < len(turn.replies) else None
    texts = (*notes, *reply.texts) if first and reply else (*reply.texts, *notes) if reply else ()
    if (
        reply is not None
        and reply.request is None
        and reply.document is None
        and reply.pin is None
        and reply.invoice is None
        and not reply.sensitive
        and (not turn.is_sms or turn.fits_sms(list(texts), reply.options))
    ):
        turn.replies[at] = replace(reply, texts=texts)
        return
    turn.replies.insert(at if first else len(turn.replies), Reply(texts=tuple(notes)))
