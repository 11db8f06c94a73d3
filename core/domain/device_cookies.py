"""Device cookies: how the office's sign-in recognises a browser an operator signed in from.

OWASP's "Slow Down Online Guessing Attacks with Device Cookies": after a successful
sign-in the browser keeps a token `username:nonce:signature`, the signature an HMAC-SHA256
of the username and a random nonce with a key derived from the server secret
(ServerKeys.derive). A token that verifies for the username being signed in makes the
attempt a known browser's: its wrong passwords are counted for that nonce alone. One
cookie holds the tokens of the last few operators who signed in from the browser (an
office PC can be shared), newest first. Nothing here is secret but the key; a token
proves only that this browser once signed in as that username.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from core.domain.keys import ServerKeys

# The operators one browser remembers (a shared office PC): the oldest is dropped.
MAX_TOKENS = 5
_PURPOSE = "office-device-cookie"
_FIELDS = ":"
_TOKENS = "|"


def _key(keys: ServerKeys) -> bytes:
    return keys.derive(_PURPOSE)


def _signature(key: bytes, username: str, nonce: str) -> str:
    digest = hmac.new(key, f"{username}{_FIELDS}{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _verified(key: bytes, token: str) -> tuple[str, str] | None:
    """(username, nonce) of a token signed with the key, or None (forged, altered, junk)."""
    parts = token.split(_FIELDS)
    if len(parts) != 3 or not all(parts):
        return None
    username, nonce, signature = parts
    if not hmac.compare_digest(_signature(key, username, nonce).encode(), signature.encode()):
        return None
    return username, nonce


def _tokens(cookie: str | None) -> list[str]:
    return [token for token in (cookie or "").split(_TOKENS) if token][: MAX_TOKENS * 2]


def known_nonce(keys: ServerKeys, cookie: str | None, username: str) -> str | None:
    """The nonce of the cookie's valid token for `username`: None when the browser is
    not known for that username (no cookie, a forged or altered token, another user's)."""
    key = _key(keys)
    for token in _tokens(cookie):
        found = _verified(key, token)
        if found is not None and found[0] == username:
            return found[1]
    return None


def renewed(keys: ServerKeys, cookie: str | None, username: str) -> str:
    """The browser's cookie after `username` signed in: a fresh token for them first, then
    the valid tokens of the other operators it knew, at most MAX_TOKENS in all."""
    key = _key(keys)
    nonce = secrets.token_urlsafe(16)
    tokens = [_FIELDS.join((username, nonce, _signature(key, username, nonce)))]
    seen = {username}
    for token in _tokens(cookie):
        found = _verified(key, token)
        if found is not None and found[0] not in seen and len(tokens) < MAX_TOKENS:
            seen.add(found[0])
            tokens.append(token)
    return _TOKENS.join(tokens)
