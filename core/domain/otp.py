"""One-time codes that confirm a payment (DESIGN §6).

The code is random, sent only to the citizen, stored as a salted HMAC and
compared in constant time. Charge state rules live in core.domain.charges.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CODE_DIGITS = 6


def new_code(digits: int = CODE_DIGITS) -> str:
    if digits < 6:
        raise ValueError("a payment code has at least 6 digits")
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def new_salt() -> str:
    return secrets.token_hex(16)


def hash_code(code: str, salt: str) -> str:
    return hmac.new(bytes.fromhex(salt), code.encode(), hashlib.sha256).hexdigest()


def normalize_typed_code(text: str) -> str:
    """Cashiers type what they hear: keep the digits, drop spaces and dashes."""
    return "".join(ch for ch in text if ch.isdigit())


def code_matches(typed: str, salt: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_code(normalize_typed_code(typed), salt), stored_hash)
