"""One-time codes that confirm a payment, an application or a shop change.

Codes are random, sent only to the person's own channel, stored as a keyed hash
(HMAC-SHA256 with a key derived from the server secret, see core.domain.keys) and
compared in constant time. Charge state rules live in core.domain.charges.
"""

from __future__ import annotations

import secrets

from core.domain.keys import ServerKeys

CODE_DIGITS = 6
# Cashier invitations are typed once, so they can be longer: no 0/O, 1/I/L to confuse.
INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
INVITE_LENGTH = 10


def new_code(digits: int = CODE_DIGITS) -> str:
    if digits < 6:
        raise ValueError("a payment code has at least 6 digits")
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def new_salt() -> str:
    return secrets.token_hex(16)


def new_invite_code(length: int = INVITE_LENGTH) -> str:
    if length < INVITE_LENGTH:
        raise ValueError(f"a cashier code has at least {INVITE_LENGTH} characters")
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(length))


def normalize_invite_code(text: str) -> str:
    """What a cashier types: any case, spaces and dashes ignored."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def hash_code(keys: ServerKeys, code: str, salt: str) -> str:
    return keys.hash_code(code, salt)


def normalize_typed_code(text: str) -> str:
    """Cashiers type what they hear: keep the digits, drop spaces and dashes."""
    return "".join(ch for ch in text if ch.isdigit())


def code_matches(keys: ServerKeys, typed: str, salt: str, stored_hash: str) -> bool:
    return keys.code_matches(normalize_typed_code(typed), salt, stored_hash)
