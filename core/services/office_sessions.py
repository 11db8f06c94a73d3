"""The office's sessions, kept in the database so that they can be ended.

A sign-in starts a session: a random token (256 bits) for the browser's session cookie,
and a row of `operator_sessions` holding only its SHA-256, when it started, until when it
stays valid without a request (`idle_until`, the idle timeout) and when it ends anyway
(`expires_at`, the absolute lifetime). Each request of the browser resumes it by the
token's hash and moves `idle_until` on (at most once every RENEW_EVERY, to spare a write
per page). A session ends, its row deleted, when:

- the operator signs out (that browser's session only: the operator may be signed in at
  another desk, which signing out here does not end);
- the operator changes the password (all their sessions: whoever else held one, by a
  stolen cookie or a PC left signed in, is out; the browser that changed it gets a new
  one);
- the installation administrator disables the operator (all their sessions);
- it sat idle past `idle_until`, or reached `expires_at`.

Expired rows are deleted when found, and every sign-in deletes all expired rows.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.services import operators
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# The idle deadline is moved on when it has moved by at least this much: a page a minute
# at most writes, and a session may end up to this much sooner than the idle timeout.
RENEW_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionRules:
    idle: timedelta  # ends after this long without a request
    lifetime: timedelta  # ends this long after the sign-in, whatever the activity


class Ended(StrEnum):
    """Why a browser's token no longer signs anyone in."""

    IDLE = "idle"  # no request for the idle timeout
    LIFETIME = "lifetime"  # the absolute lifetime is over
    ENDED = "ended"  # signed out, password changed, operator disabled (or never was)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(uow: UnitOfWork, operator_id: int, now: datetime, rules: SessionRules) -> str:
    """A new session of the operator: the token for the browser's cookie. Drops every
    expired session first. The caller commits."""
    await uow.operators.drop_expired_sessions(now)
    token = secrets.token_urlsafe(32)
    expires = now + rules.lifetime
    uow.add(
        m.OperatorSession(
            operator_id=operator_id,
            token_hash=token_hash(token),
            created_at=now,
            idle_until=min(now + rules.idle, expires),
            expires_at=expires,
        )
    )
    await uow.flush()
    return token


async def resume(
    uow: UnitOfWork, token: str, now: datetime, rules: SessionRules
) -> m.Operator | Ended:
    """The operator whose session this token is, its idle deadline moved on; or why it
    signs nobody in (an expired row is deleted then). Commits."""
    row = await uow.operators.session_by_hash(token_hash(token))
    if row is None:
        return Ended.ENDED
    ended: Ended | None = None
    if row.expires_at <= now:
        ended = Ended.LIFETIME
    elif row.idle_until <= now:
        ended = Ended.IDLE
    operator = None if ended else await operators.get(uow, row.operator_id)
    if operator is None:
        await uow.operators.end_session(row.token_hash)
        await uow.commit()
        return ended or Ended.ENDED
    idle_until = min(now + rules.idle, row.expires_at)
    if idle_until - row.idle_until >= RENEW_EVERY:
        await uow.operators.keep_session(row.id, idle_until)
    await uow.commit()
    return operator


async def end(uow: UnitOfWork, token: str) -> None:
    """Sign-out: this browser's session ends (whatever else the operator has open stays).
    Commits."""
    await uow.operators.end_session(token_hash(token))
    await uow.commit()


async def end_all(uow: UnitOfWork, operator_id: int) -> int:
    """Every session of the operator ends (how many there were); the caller commits."""
    return await uow.operators.end_sessions(operator_id)
