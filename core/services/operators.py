"""Operators of the back-office: accounts, roles, passwords and the sign-in lock-out.

Passwords are argon2id hashes (argon2-cffi). Five wrong passwords in a row lock out for
fifteen minutes, and while locked even the right password is refused, so guessing costs
an attacker the quarter of an hour too. The lock follows OWASP's device cookies: a browser
the operator signed in from before (a valid device cookie for that username) is counted
and locked on its own; all other browsers are counted and locked together. A stranger
guessing a manager's password locks out strangers, not the manager at the office's PC.
A new account gets a one-time password that must be changed at the first sign-in, to one
core.domain.passwords allows (NIST SP 800-63B: long, not common, not the username or the
town). A password change and disabling the operator end all their office sessions
(core.services.office_sessions). A wrong current password on the password page counts as a
wrong sign-in of that browser, and its lock also ends all the operator's sessions. Hashing
runs in a worker thread: it takes tens of milliseconds of CPU on purpose and must not stall
the event loop.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.domain import device_cookies, passwords
from core.domain.errors import Conflict, DomainError, NotAllowed, NotFound, Refusal
from core.domain.passwords import Weakness
from core.services import activity
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

MAX_FAILED_SIGN_INS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
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


class CurrentPasswordWrong(NotAllowed):
    """The password typed as the current one, to change it, is not the operator's."""

    code = "operator.current_password_wrong"


class AccountLocked(NotAllowed):
    code = "operator.locked"


class SignedOutEverywhere(AccountLocked):
    """The current password typed wrong MAX_FAILED_SIGN_INS times in a row on the password
    page: the browser is locked out as after as many wrong sign-ins, and every office
    session of the operator ended (a stolen session cookie guesses no further)."""

    code = "operator.password_change_locked"


class RoleRefused(NotAllowed):
    """The operator's role may not do this (e.g. a viewer preparing, a clerk approving)."""

    code = Refusal.OPERATOR_ROLE_REFUSED


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


@dataclass(frozen=True)
class SignedIn:
    operator: m.Operator
    # The browser's device cookie from now on: a fresh token for this operator first.
    device_cookie: str


async def sign_in(
    uow: UnitOfWork,
    username: str,
    password: str,
    now: datetime,
    device_cookie: str | None = None,
) -> SignedIn:
    """The operator, when the password is right and neither the account is disabled nor
    the browser locked out; with the browser's renewed device cookie.

    `device_cookie` is what the browser sent (None: it had none). A browser holding a
    valid token for this username is a known one: its wrong passwords are counted for it
    alone, and the fifth in a row locks that browser for LOCK_MINUTES. Every other attempt
    (no cookie, a forged or altered one, another operator's) counts for the account's
    unknown browsers together, and their fifth wrong password in a row locks all unknown
    browsers, while the known ones still sign in. So whoever guesses from elsewhere locks
    out only themselves. While locked even the right password is refused.

    Commits either way: the counts and the locks must survive the refusal."""
    try:
        operator = await _check_password(uow, username, password, now, device_cookie)
    except DomainError:
        await uow.commit()
        raise
    await uow.commit()
    return SignedIn(operator, device_cookies.renewed(uow.keys, device_cookie, operator.username))


async def _counts(
    uow: UnitOfWork, operator: m.Operator, device_cookie: str | None
) -> tuple[m.OperatorDevice | None, m.Operator | m.OperatorDevice]:
    """The known browser this attempt comes from (None: an unknown one), and the counts it
    belongs to: that browser's, or the operator's row for all unknown browsers."""
    nonce = device_cookies.known_nonce(uow.keys, device_cookie, operator.username)
    device = None if nonce is None else await uow.operators.device(operator.id, nonce)
    if nonce is not None and device is None:
        device = m.OperatorDevice(operator_id=operator.id, nonce=nonce, failed_sign_ins=0)
    return device, (operator if device is None else device)


async def _count_wrong(
    uow: UnitOfWork,
    operator: m.Operator,
    device: m.OperatorDevice | None,
    counts: m.Operator | m.OperatorDevice,
    now: datetime,
    *,
    signed_in: bool = False,
) -> str | None:
    """Count one wrong password; at the MAX_FAILED_SIGN_INS-th in a row lock those counts
    for LOCK_MINUTES and log it: the logged action then, else None. `signed_in`: typed as
    the current password by someone signed in as the operator (the password page), so
    the lock also ends every office session of the operator: a stolen session cookie
    must not guess the password there either."""
    if device is not None and device.id is None:
        uow.add(device)
    counts.failed_sign_ins += 1
    if counts.failed_sign_ins < MAX_FAILED_SIGN_INS:
        return None
    counts.failed_sign_ins = 0
    counts.locked_until = now + timedelta(minutes=LOCK_MINUTES)
    after: dict[str, object] = {"locked_until": counts.locked_until.isoformat()}
    if signed_in:
        action = "operator.password_change_locked"
        after["browser"] = "unknown" if device is None else "known"
        after["sessions_ended"] = await uow.operators.end_sessions(operator.id)
    else:
        action = "operator.locked" if device is None else "operator.device_locked"
    await activity.record(
        uow,
        operator.municipality_id,
        operator.username,
        action,
        subject=operator.username,
        after=after,
        now=now,
        operator_id=operator.id,
    )
    return action


async def _check_password(
    uow: UnitOfWork, username: str, password: str, now: datetime, device_cookie: str | None
) -> m.Operator:
    name = normalize_username(username)
    operator = await uow.operators.by_username(name, lock=True)
    if operator is None or operator.disabled_at is not None:
        await _verify(_DUMMY_HASH, password)
        raise SignInRefused()
    device, counts = await _counts(uow, operator, device_cookie)
    if counts.locked_until is not None and counts.locked_until > now:
        # Costs the same time as any other refusal: the answer must not tell a locked
        # account (a real username) from an unknown one.
        await _verify(operator.password_hash, password)
        raise AccountLocked(until=counts.locked_until.isoformat())
    if not await _verify(operator.password_hash, password):
        if await _count_wrong(uow, operator, device, counts, now) is not None:
            assert counts.locked_until is not None
            raise AccountLocked(until=counts.locked_until.isoformat())
        raise SignInRefused()
    if device is None:
        operator.failed_sign_ins = 0
        operator.locked_until = None
    elif device.id is not None:
        # The browser's cookie gets a new nonce: this one's count is of no more use.
        await uow.delete(device)
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
    """Lift every sign-in lock of an operator of the municipality before its quarter of an
    hour is over, the unknown browsers' and each known browser's, and forget their wrong
    passwords (the installation administrator's `admin operator unlock`). Logged with who
    lifted it; the caller commits."""
    name = normalize_username(username)
    operator = await uow.operators.by_username(name, lock=True)
    if operator is None or operator.municipality_id != municipality.id:
        raise NotFound(Refusal.OPERATOR_NOT_FOUND, username=name)
    devices = await uow.operators.devices(operator.id)
    before = {
        "locked_until": operator.locked_until.isoformat() if operator.locked_until else None,
        "failed_sign_ins": operator.failed_sign_ins,
        "locked_browsers": sum(
            1 for device in devices if device.locked_until is not None and device.locked_until > now
        ),
    }
    operator.locked_until = None
    operator.failed_sign_ins = 0
    for device in devices:
        await uow.delete(device)
    await activity.record(
        uow,
        municipality.id,
        actor,
        "operator.unlock",
        subject=operator.username,
        before=before,
        after={"locked_until": None, "failed_sign_ins": 0, "locked_browsers": 0},
        now=now,
    )
    return operator


# Why a password may not be chosen, as the refusal that says it.
_WEAKNESS_REFUSALS = {
    Weakness.TOO_SHORT: Refusal.OPERATOR_PASSWORD_TOO_SHORT,
    Weakness.NAMES_THE_OPERATOR: Refusal.OPERATOR_PASSWORD_NAMES_OPERATOR,
    Weakness.NAMES_THE_TOWN: Refusal.OPERATOR_PASSWORD_NAMES_TOWN,
    Weakness.EASY_TO_GUESS: Refusal.OPERATOR_PASSWORD_EASY,
}


async def check_new_password(uow: UnitOfWork, operator: m.Operator, password: str) -> None:
    """Refuse a password this operator may not choose (core.domain.passwords): every
    password an operator chooses passes here. The one-time passwords of add_operator are
    random (16 characters of 31, about 79 bits) and pass it too; the demo town's
    published password is no secret and is not checked."""
    town = await uow.municipalities.by_id(operator.municipality_id)
    names = [town.name, town.code] if town is not None else []
    found = passwords.weakness(password, username=operator.username, town_names=names)
    if found is not None:
        raise Conflict(_WEAKNESS_REFUSALS[found], limit=MIN_PASSWORD_LENGTH)


async def change_password(
    uow: UnitOfWork,
    operator_id: int,
    current: str,
    new: str,
    now: datetime,
    device_cookie: str | None = None,
) -> m.Operator:
    """Set the operator's own new password, when `current` is the present one. Ends every
    office session of the operator (the caller gives its browser a new one). Commits.

    A wrong `current` counts as a wrong sign-in of this browser (`device_cookie`, as for
    sign_in): the same counts, limit and lock. The MAX_FAILED_SIGN_INS-th in a row locks
    the browser out for LOCK_MINUTES, ends every session of the operator and is logged
    (SignedOutEverywhere); while the browser is locked out the password is not changed
    (AccountLocked). Committed either way, as a sign-in is."""
    found = await uow.operators.by_id(operator_id)
    operator = await uow.operators.by_username(found.username, lock=True) if found else None
    if operator is None or operator.disabled_at is not None:
        raise NotFound(Refusal.OPERATOR_NOT_FOUND)
    device, counts = await _counts(uow, operator, device_cookie)
    if counts.locked_until is not None and counts.locked_until > now:
        raise AccountLocked(until=counts.locked_until.isoformat())
    if not await _verify(operator.password_hash, current):
        locked = await _count_wrong(uow, operator, device, counts, now, signed_in=True)
        await uow.commit()
        if locked is not None:
            assert counts.locked_until is not None
            raise SignedOutEverywhere(until=counts.locked_until.isoformat())
        raise CurrentPasswordWrong(
            left=MAX_FAILED_SIGN_INS - counts.failed_sign_ins, minutes=LOCK_MINUTES
        )
    if new == current:
        raise Conflict(Refusal.OPERATOR_PASSWORD_UNCHANGED)
    await check_new_password(uow, operator, new)
    operator.password_hash = await _hash(new)
    operator.must_change_password = False
    operator.password_changed_at = now
    ended = await uow.operators.end_sessions(operator.id)
    await activity.record(
        uow,
        operator.municipality_id,
        operator.username,
        "operator.password_changed",
        subject=operator.username,
        after={"sessions_ended": ended},
        now=now,
        operator_id=operator.id,
    )
    await uow.commit()
    return operator


async def _of_town(uow: UnitOfWork, municipality: m.Municipality, username: str) -> m.Operator:
    name = normalize_username(username)
    operator = await uow.operators.by_username(name, lock=True)
    if operator is None or operator.municipality_id != municipality.id:
        raise NotFound(Refusal.OPERATOR_NOT_FOUND, username=name)
    return operator


async def disable(
    uow: UnitOfWork, municipality: m.Municipality, username: str, now: datetime, actor: str
) -> tuple[m.Operator, int]:
    """Suspend an operator of the municipality (someone who left the office, a stolen
    password): no sign-in any more, and every office session ends now; with how many.
    The account and what it did stay (the activity log names it). Logged with who did it;
    the caller commits."""
    operator = await _of_town(uow, municipality, username)
    if operator.disabled_at is not None:
        raise Conflict(Refusal.OPERATOR_DISABLED, username=operator.username)
    operator.disabled_at = now
    ended = await uow.operators.end_sessions(operator.id)
    await activity.record(
        uow,
        municipality.id,
        actor,
        "operator.disable",
        subject=operator.username,
        after={"disabled_at": now.isoformat(), "sessions_ended": ended},
        now=now,
    )
    return operator, ended


async def enable(
    uow: UnitOfWork, municipality: m.Municipality, username: str, now: datetime, actor: str
) -> m.Operator:
    """Let a disabled operator sign in again, with the password they had. Logged; the
    caller commits."""
    operator = await _of_town(uow, municipality, username)
    if operator.disabled_at is None:
        raise Conflict(Refusal.OPERATOR_NOT_DISABLED, username=operator.username)
    before = operator.disabled_at.isoformat()
    operator.disabled_at = None
    await activity.record(
        uow,
        municipality.id,
        actor,
        "operator.enable",
        subject=operator.username,
        before={"disabled_at": before},
        after={"disabled_at": None},
        now=now,
    )
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
        # The roles that may, so the refusal can say whom to ask.
        raise RoleRefused(role=operator.role, needed="+".join(sorted(r.value for r in roles)))


def may_see_personal_data(operator: m.Operator) -> bool:
    """Viewers read figures and protocols, never a full codice fiscale or phone."""
    return operator.role != Role.VIEWER.value
