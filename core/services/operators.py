"""Operators of the back-office: accounts, roles, passwords and the sign-in lock-out.

Passwords are argon2id hashes (argon2-cffi). Five wrong passwords in a row lock the account
for fifteen minutes; while it is locked even the right password is refused, so guessing
costs an attacker the quarter of an hour too. A new account (or a reset) gets a one-time
password that must be changed at the first sign-in. Hashing runs in a worker thread: it
takes tens of milliseconds of CPU on purpose and must not stall the event loop.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.domain.errors import Conflict, DomainError, NotAllowed, NotFound, Refusal
from core.services import activity
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

MAX_FAILED_SIGN_INS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 12
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
_HASHER = PasswordHasher()
# Verified against when the username is unknown: the answer takes as long as for a real one.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    CLERK = "clerk"
    MANAGER = "manager"
    VIEWER = "viewer"


class SignInRefused(NotAllowed):
    """Wrong username or password: the same answer for both, so usernames cannot be probed."""

    code = "operator.sign_in_refused"


class AccountLocked(NotAllowed):
    code = "operator.locked"


class RoleRefused(NotAllowed):
    """The operator's role may not do this (e.g. a viewer preparing, a clerk approving)."""

    code = "operator.role_refused"


def new_one_time_password() -> str:
    # 4 groups of 4 from an alphabet without look-alikes: easy to read out and type once.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


async def _hash(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


async def _verify(stored: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def normalize_username(username: str) -> str:
    return username.strip().lower()


async def add_operator(
    uow: UnitOfWork,
    municipality: m.Municipality,
    username: str,
    role: str,
    now: datetime,
    *,
    actor: str = "cli",
    password: str | None = None,
) -> tuple[m.Operator, str]:
    """A new operator and their one-time password (shown once, changed at first sign-in).

    With `password` (the demo town's documented accounts) that password is set and need not
    be changed."""
    name = normalize_username(username)
    if not _USERNAME.fullmatch(name):
        raise Conflict(Refusal.OPERATOR_BAD_USERNAME, username=username)
    try:
        chosen_role = Role(role)
    except ValueError as exc:
        raise Conflict(Refusal.OPERATOR_BAD_ROLE, role=role) from exc
    existing = await uow.operators.by_username(name)
    if existing is not None:
        raise Conflict(Refusal.OPERATOR_EXISTS, username=name)
    secret = password or new_one_time_password()
    operator = m.Operator(
        municipality_id=municipality.id,
        username=name,
        role=chosen_role.value,
        password_hash=await _hash(secret),
        must_change_password=password is None,
        failed_sign_ins=0,
        created_at=now,
    )
    uow.add(operator)
    await uow.flush()
    await activity.record(
        uow,
        municipality.id,
        actor,
        "operator.add",
        subject=name,
        after={"role": chosen_role.value},
        now=now,
    )
    return operator, secret


async def sign_in(uow: UnitOfWork, username: str, password: str, now: datetime) -> m.Operator:
    """The operator, when the password is right and the account neither locked nor disabled.

    Commits either way: a wrong password is counted, and the fifth in a row locks the
    account for LOCK_MINUTES; the count and the lock must survive the refusal."""
    try:
        operator = await _check_password(uow, username, password, now)
    except DomainError:
        await uow.commit()
        raise
    await uow.commit()
    return operator


async def _check_password(
    uow: UnitOfWork, username: str, password: str, now: datetime
) -> m.Operator:
    name = normalize_username(username)
    operator = await uow.operators.by_username(name, lock=True)
    if operator is None or operator.disabled_at is not None:
        await _verify(_DUMMY_HASH, password)
        raise SignInRefused()
    if operator.locked_until is not None and operator.locked_until > now:
        # Costs the same time as any other refusal: the answer must not tell a locked
        # account (a real username) from an unknown one.
        await _verify(operator.password_hash, password)
        raise AccountLocked(until=operator.locked_until.isoformat())
    if not await _verify(operator.password_hash, password):
        operator.failed_sign_ins += 1
        if operator.failed_sign_ins >= MAX_FAILED_SIGN_INS:
            operator.failed_sign_ins = 0
            operator.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            await activity.record(
                uow,
                operator.municipality_id,
                operator.username,
                "operator.locked",
                subject=operator.username,
                after={"locked_until": operator.locked_until.isoformat()},
                now=now,
                operator_id=operator.id,
            )
            raise AccountLocked(until=operator.locked_until.isoformat())
        raise SignInRefused()
    operator.failed_sign_ins = 0
    operator.locked_until = None
    operator.last_sign_in_at = now
    await activity.record(
        uow,
        operator.municipality_id,
        operator.username,
        "operator.sign_in",
        subject=operator.username,
        now=now,
        operator_id=operator.id,
    )
    return operator


async def unlock(
    uow: UnitOfWork, municipality: m.Municipality, username: str, now: datetime, actor: str
) -> m.Operator:
    """Lift the sign-in lock of an operator of the municipality before its quarter of an
    hour is over, and forget their wrong passwords (the installation administrator's
    `admin operator unlock`). Logged with who lifted it; the caller commits."""
    name = normalize_username(username)
    operator = await uow.operators.by_username(name, lock=True)
    if operator is None or operator.municipality_id != municipality.id:
        raise NotFound(Refusal.OPERATOR_NOT_FOUND, username=name)
    before = {
        "locked_until": operator.locked_until.isoformat() if operator.locked_until else None,
        "failed_sign_ins": operator.failed_sign_ins,
    }
    operator.locked_until = None
    operator.failed_sign_ins = 0
    await activity.record(
        uow,
        municipality.id,
        actor,
        "operator.unlock",
        subject=operator.username,
        before=before,
        after={"locked_until": None, "failed_sign_ins": 0},
        now=now,
    )
    return operator


async def change_password(
    uow: UnitOfWork, operator_id: int, current: str, new: str, now: datetime
) -> m.Operator:
    operator = await uow.operators.by_id(operator_id)
    if operator is None or operator.disabled_at is not None:
        raise NotFound(Refusal.OPERATOR_NOT_FOUND)
    if not await _verify(operator.password_hash, current):
        raise SignInRefused()
    if len(new) < MIN_PASSWORD_LENGTH:
        raise Conflict(Refusal.OPERATOR_PASSWORD_TOO_SHORT, limit=MIN_PASSWORD_LENGTH)
    if new == current:
        raise Conflict(Refusal.OPERATOR_PASSWORD_UNCHANGED)
    operator.password_hash = await _hash(new)
    operator.must_change_password = False
    operator.password_changed_at = now
    await activity.record(
        uow,
        operator.municipality_id,
        operator.username,
        "operator.password_changed",
        subject=operator.username,
        now=now,
        operator_id=operator.id,
    )
    await uow.commit()
    return operator


async def get(uow: UnitOfWork, operator_id: int) -> m.Operator | None:
    """The operator of a session, if the account still exists and is not disabled."""
    operator = await uow.operators.by_id(operator_id)
    if operator is None or operator.disabled_at is not None:
        return None
    return operator


async def of_municipality(uow: UnitOfWork, municipality_id: int) -> list[m.Operator]:
    return list(await uow.operators.of_municipality(municipality_id))


async def count(uow: UnitOfWork, municipality_id: int) -> int:
    return await uow.operators.count(municipality_id)


def require_role(operator: m.Operator, *roles: Role) -> None:
    if Role(operator.role) not in roles:
        raise RoleRefused(role=operator.role)


def may_see_personal_data(operator: m.Operator) -> bool:
    """Viewers read figures and protocols, never a full codice fiscale or phone."""
    return operator.role != Role.VIEWER.value
