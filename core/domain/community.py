"""Community vouchers and donations paid through Telegram Payments: the pure rules.

Anyone may buy a voucher of a participating shop (a balance usable only there) or give
to the municipality's fund. The invoice's payload says what is being bought; the money
exists for buonispesa only once the provider reports the payment, and each payment is
recorded once, whatever the number of times it is reported. docs/community-vouchers.md.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.domain.errors import Refusal

CURRENCY = "EUR"
VOUCHER_PREFIX = "V"
VOUCHER_DIGITS = 11
_VOUCHER = re.compile(rf"{VOUCHER_PREFIX}\d{{{VOUCHER_DIGITS}}}")
# What a town accepts when a shop sets no limits of its own, and the widest it may set.
DEFAULT_MIN_CENTS = 500
DEFAULT_MAX_CENTS = 10_000
LIMIT_MAX_CENTS = 100_000
# Donations: from one euro to what one payment of a private person is sensibly worth.
DONATION_MIN_CENTS = 100
DONATION_MAX_CENTS = 100_000


class Purpose(StrEnum):
    VOUCHER = "voucher"
    DONATION = "donation"


@dataclass(frozen=True)
class Purchase:
    """What an invoice sells, carried in its payload (at most 128 bytes for Telegram)."""

    purpose: Purpose
    municipality_id: int
    amount_cents: int
    shop_id: int | None = None  # the shop of a voucher

    def payload(self) -> str:
        if self.purpose is Purpose.VOUCHER:
            return f"cv:{self.municipality_id}:{self.shop_id}:{self.amount_cents}"
        return f"cd:{self.municipality_id}:{self.amount_cents}"


def parse_payload(payload: str) -> Purchase | None:
    """The purchase an invoice's payload names, or None when it is not one of ours."""
    parts = payload.split(":")
    if not all(part.isdigit() for part in parts[1:]):
        return None
    numbers = [int(part) for part in parts[1:]]
    if parts[0] == "cv" and len(numbers) == 3:
        return Purchase(Purpose.VOUCHER, numbers[0], numbers[2], shop_id=numbers[1])
    if parts[0] == "cd" and len(numbers) == 2:
        return Purchase(Purpose.DONATION, numbers[0], numbers[1])
    return None


def amount_refusal(amount_cents: int, minimum: int, maximum: int) -> Refusal | None:
    if amount_cents < minimum or amount_cents > maximum:
        return Refusal.PURCHASE_AMOUNT_OUT_OF_RANGE
    return None


def check_limits(minimum: int, maximum: int) -> None:
    """A shop's limits: at least 1 euro, the maximum not below the minimum, at most 1,000 euro."""
    if minimum < 100 or maximum < minimum or maximum > LIMIT_MAX_CENTS:
        raise ValueError("limits out of range")


def new_voucher_code() -> str:
    """The number the holder shows at the till: unguessable, digits only after the V (easy
    to read out), and never mistaken for a card code (10 characters, no V-plus-digits)."""
    digits = "".join(secrets.choice("0123456789") for _ in range(VOUCHER_DIGITS))
    return VOUCHER_PREFIX + digits


def normalize_voucher_code(text: str) -> str | None:
    """ "v 1234-5678 901" -> "V12345678901"; None when it is not a voucher number."""
    code = "".join(ch for ch in text.upper() if ch.isalnum())
    return code if _VOUCHER.fullmatch(code) else None


def looks_like_voucher_code(text: str) -> bool:
    """A voucher's number, perhaps with a digit more or less: V and digits only. Never read
    as a card number (a card's is 10 characters, and no V-plus-digits)."""
    code = "".join(ch for ch in text.upper() if ch.isalnum())
    return code.startswith(VOUCHER_PREFIX) and code[len(VOUCHER_PREFIX) :].isdigit()


def can_refund(
    bought_at: datetime, now: datetime, days: int, *, spent: bool, refunded: bool
) -> bool:
    """A voucher may be refunded by its shop while nobody spent any of it, within `days`."""
    return not spent and not refunded and now - bought_at <= timedelta(days=days)
