"""The server secret and what is derived from it: keyed code hashes and sealed outbox bodies.

One secret (BUONISPESA_SECRET_KEY, or a file generated in the data folder) gives two
independent keys through HKDF-SHA256: one to hash codes with HMAC-SHA256, so that a
copy of the database alone cannot be brute-forced back to a 6-digit code, and one to
encrypt (AES-GCM) outbox messages that carry a code while they wait to be sent.
See docs/payments-and-codes.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_BYTES = 32
MIN_SECRET_BYTES = 16
_NONCE_BYTES = 12
_SEALED_PREFIX = "v1:"
_FINGERPRINT_LABEL = b"buonispesa/secret-fingerprint/v1"


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"buonispesa/{purpose}".encode()
    ).derive(secret)


@dataclass(frozen=True)
class ServerKeys:
    secret: bytes = field(repr=False)
    _code_key: bytes = field(init=False, repr=False)
    _outbox_key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the server secret must have at least {MIN_SECRET_BYTES} bytes")
        object.__setattr__(self, "_code_key", _derive(self.secret, "codes"))
        object.__setattr__(self, "_outbox_key", _derive(self.secret, "outbox"))

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key of its own for another use (e.g. the office's session cookie)."""
        return _derive(self.secret, purpose)

    def fingerprint(self) -> str:
        """What the database remembers of the secret it was set up with (core/bootstrap.py):
        an HMAC of a fixed label, so that a start with another secret is refused, while the
        stored value gives nothing of the secret or of the keys derived from it."""
        return hmac.new(self.secret, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()

    # Codes -----------------------------------------------------------------------------

    def hash_code(self, code: str, salt: str = "") -> str:
        """HMAC-SHA256 with the server's code key over the salt and the code (hex)."""
        message = f"{salt}:{code}".encode()
        return hmac.new(self._code_key, message, hashlib.sha256).hexdigest()

    def code_matches(self, code: str, salt: str, stored_hash: str) -> bool:
        return hmac.compare_digest(self.hash_code(code, salt), stored_hash)

    # Sealed outbox bodies ----------------------------------------------------------------

    def seal(self, data: dict[str, Any]) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        body = AESGCM(self._outbox_key).encrypt(nonce, json.dumps(data).encode(), None)
        return _SEALED_PREFIX + base64.urlsafe_b64encode(nonce + body).decode()

    def unseal(self, token: str) -> dict[str, Any]:
        """The sealed data; raises ValueError when it was sealed with another secret."""
        if not token.startswith(_SEALED_PREFIX):
            raise ValueError("not a sealed body")
        raw = base64.urlsafe_b64decode(token.removeprefix(_SEALED_PREFIX).encode())
        try:
            plain = AESGCM(self._outbox_key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None)
        except Exception as exc:  # cryptography's InvalidTag: another secret, or tampered
            raise ValueError("sealed with another secret, or altered") from exc
        data = json.loads(plain)
        if not isinstance(data, dict):
            raise ValueError("not a sealed body")
        return data


# One random secret per process for cores built without one (tests, benchmarks): codes
# made by one Core of the process verify in another. Entry points pass the real secret.
PROCESS_KEYS = ServerKeys(new_secret())
