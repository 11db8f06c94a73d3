"""Callback data of inline buttons: the option key, signed for the chat it was sent to.

Telegram delivers whatever callback data a client sends, and a modified client
can send any string for any message. The engine already refuses an option it did
not offer last to that conversation; the signature adds that a button made for
one chat cannot be replayed in another, and that junk never reaches the engine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

# Telegram's limit on callback_data, in bytes.
MAX_CALLBACK_BYTES = 64
_SEPARATOR = "|"
# 8 bytes of HMAC-SHA256: forging one for a chosen chat and key takes ~2^64 tries.
_SIGNATURE_BYTES = 8


class CallbackSigner:
    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("a callback signing secret is required")
        self._secret = secret

    @classmethod
    def from_bot_token(cls, token: str) -> CallbackSigner:
        """Derived from the token: all processes of an installation agree, nothing to set."""
        return cls(hashlib.sha256(b"buonispesa/callback-data/v1\x00" + token.encode()).digest())

    def _signature(self, chat_id: str, key: str) -> str:
        digest = hmac.new(self._secret, f"{chat_id}\x00{key}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode().rstrip("=")

    def sign(self, chat_id: str, key: str) -> str:
        data = f"{key}{_SEPARATOR}{self._signature(chat_id, key)}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"option key too long for Telegram callback data: {key!r}")
        return data

    def verify(self, chat_id: str, data: str | None) -> str | None:
        """The option key when `data` was signed for `chat_id`, else None."""
        if not data or _SEPARATOR not in data:
            return None
        key, _, signature = data.rpartition(_SEPARATOR)
        if not key or not hmac.compare_digest(signature, self._signature(chat_id, key)):
            return None
        return key
