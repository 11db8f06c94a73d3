"""Printed cards for people without a phone (Balestrate's model): a number and a secret PIN.

The number identifies the holder at the till (typed, or scanned from the card's QR
code); the PIN, printed on the card and known only to the holder, is the consent to
a payment, in place of the one-time code a phone would receive. The PIN is stored
like a payment code (core.domain.otp): a salted hash, compared in constant time.
docs/cards-and-delegates.md explains the rules.
"""

from __future__ import annotations

from core.domain import otp
from core.domain.keys import ServerKeys

PIN_DIGITS = 6
# Wrong PINs in a row (across payments and shops) that block the card until the office
# issues a new one. A correct PIN starts the count again: only the holder can type it.
MAX_PIN_FAILURES = 5


def new_pin() -> str:
    return otp.new_code(PIN_DIGITS)


def hash_pin(keys: ServerKeys, pin: str, salt: str) -> str:
    return otp.hash_code(keys, pin, salt)


def normalize_card_number(text: str) -> str:
    """What a cashier types or a scanner reads: "abcd efgh-jk" -> "ABCDEFGHJK"."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def grouped(code: str, size: int = 4) -> str:
    """ABCD EFGH JK: easier to read out and to type."""
    return " ".join(code[i : i + size] for i in range(0, len(code), size))


def mask_codice_fiscale(cf: str) -> str:
    """Enough for the holder to recognise their card, not enough to read the code off it."""
    if len(cf) != 16:
        return "•" * 6
    return cf[:6] + "•" * 9 + cf[-1]


def mask_codice_fiscale_gsm(cf: str) -> str:
    """The same for an SMS: GSM-7 has no bullet."""
    return mask_codice_fiscale(cf).replace("•", "*")
