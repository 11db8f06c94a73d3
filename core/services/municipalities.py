"""Municipalities and their application windows (rounds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from urllib.parse import urlsplit

from core.domain import gsm7
from core.domain.errors import Conflict, NotFound, Refusal
from core.domain.identity import normalize_bic, normalize_iban, normalize_phone
from core.domain.policy import DEFAULT_POLICY_RESOURCE, INT_RANGES, Policy, parse_policy
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


@lru_cache(maxsize=64)
def policy_from_text(text: str) -> Policy:
    return parse_policy(text)


def default_policy_text() -> str:
    """The TOML of the default policy (Belforte del Chienti), stored with each municipality."""
    return resources.files("core.policies").joinpath(DEFAULT_POLICY_RESOURCE).read_text("utf-8")


def policy_of(municipality: m.Municipality) -> Policy:
    return policy_from_text(municipality.policy_toml)


async def add_municipality(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    now: datetime,
    policy_toml: str | None = None,
    sms_number: str | None = None,
    iban: str | None = None,
    bic: str | None = None,
) -> m.Municipality:
    code = code.strip().upper()
    if not code.isalnum() or not 2 <= len(code) <= 16:
        raise Conflict(Refusal.MUNICIPALITY_BAD_CODE, code=code)
    if await uow.municipalities.by_code(code) is not None:
        raise Conflict(Refusal.MUNICIPALITY_EXISTS, code=code)
    text = policy_toml if policy_toml is not None else default_policy_text()
    parse_policy(text)  # validated before anything is written
    number = await _free_sms_number(uow, sms_number, None)
    municipality = m.Municipality(
        code=code,
        name=_name(name),
        policy_toml=text,
        sms_number=number,
        iban=normalize_iban(iban) if iban else None,
        bic=normalize_bic(bic) if bic else None,
        timezone="Europe/Rome",
        created_at=now,
    )
    uow.add(municipality)
    await uow.flush()
    return municipality


MAX_NAME = 200


def _name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > MAX_NAME:
        raise Conflict(Refusal.MUNICIPALITY_BAD_NAME, limit=MAX_NAME)
    return name


async def _free_sms_number(uow: UnitOfWork, value: str | None, owner_id: int | None) -> str | None:
    """The number normalised, refused when another municipality already answers on it."""
    if not value:
        return None
    number = normalize_phone(value)
    holder = await uow.municipalities.by_sms_number(number)
    if holder is not None and holder.id != owner_id:
        raise Conflict(Refusal.MUNICIPALITY_SMS_NUMBER_TAKEN, number=number, code=holder.code)
    return number


async def update_municipality(
    uow: UnitOfWork,
    code: str,
    *,
    name: str | None = None,
    policy_toml: str | None = None,
    sms_number: str | None = None,
    iban: str | None = None,
    bic: str | None = None,
    privacy_url: str | None = None,
    office_contact: str | None = None,
) -> m.Municipality:
    """Correct a municipality: only what is given changes, everything checked first (nothing
    is written when one value is wrong). An empty IBAN, BIC, SMS number, privacy address or
    office contact removes it; a name cannot be empty."""
    town = await require(uow, code)
    changes: dict[str, str | None] = {}
    if name is not None:
        changes["name"] = _name(name)
    if policy_toml is not None:
        parse_policy(policy_toml)
        changes["policy_toml"] = policy_toml
    if sms_number is not None:
        changes["sms_number"] = await _free_sms_number(uow, sms_number.strip(), town.id)
    if iban is not None:
        changes["iban"] = normalize_iban(iban) if iban.strip() else None
    if bic is not None:
        changes["bic"] = normalize_bic(bic) if bic.strip() else None
    if office_contact is not None:
        changes["office_contact"] = check_office_contact(office_contact)
    if privacy_url is not None:
        await set_privacy_url(uow, code, privacy_url)
    for field, value in changes.items():
        setattr(town, field, value)
    return town


async def require(uow: UnitOfWork, code: str) -> m.Municipality:
    municipality = await uow.municipalities.by_code(code)
    if municipality is None:
        raise NotFound(Refusal.MUNICIPALITY_NOT_FOUND, code=code)
    return municipality


@dataclass(frozen=True, slots=True)
class NewWindow:
    """The window that opening one now would open: its number and when it would close."""

    number: int
    opens_at: datetime
    closes_at: datetime
    days: int
    previous: m.Round | None


async def check_open_window(
    uow: UnitOfWork,
    municipality: m.Municipality,
    now: datetime,
    days: int | None = None,
    *,
    expected_number: int | None = None,
) -> NewWindow:
    """What open_window would open now, or its refusal; nothing is written. The office shows
    it on the page (and `admin window open` before its question) that asks to confirm before
    a window is opened. `expected_number`: the window that page or question named; refused
    when the next window is another one (one was opened or closed meanwhile)."""
    latest = await uow.rounds.latest(municipality.id)
    if latest is not None and latest.opens_at <= now < latest.closes_at:
        raise Conflict(Refusal.WINDOW_ALREADY_OPEN, closes_at=latest.closes_at.isoformat())
    number = (latest.number + 1) if latest else 1
    if expected_number is not None and expected_number != number:
        # Said before the refusals about the window before: those would speak of a window
        # the operator was not shown.
        raise Conflict(
            Refusal.WINDOW_CHANGED, action="open", expected=expected_number, number=number
        )
    waiting = await uow.allocations.waiting_in_municipality(municipality.id)
    if waiting is not None:
        # Its credit works on the latest window: a new one would strand it.
        raise Conflict(Refusal.WINDOW_TRANCHE_WAITING, tranche=waiting.tranche)
    if latest is not None:
        never = await uow.allocations.never_allocated(latest.id)
        if never:
            # The same reason: approval and credit work on the latest window only, so these
            # applicants could never be decided nor paid once another window is opened.
            raise Conflict(Refusal.WINDOW_NEVER_ALLOCATED, window=latest.number, count=never)
    length = days if days is not None else policy_of(municipality).application_window_days
    shortest, longest = INT_RANGES["policy.application_window_days"]
    if not shortest <= length <= longest:
        # The policy's own range: 3650 is a typo, and a window cannot be shortened after.
        raise Conflict(Refusal.WINDOW_BAD_DAYS, days=length, most=longest)
    return NewWindow(
        number=number,
        opens_at=now,
        closes_at=now + timedelta(days=length),
        days=length,
        previous=latest,
    )


async def open_window(
    uow: UnitOfWork,
    municipality: m.Municipality,
    now: datetime,
    days: int | None = None,
    *,
    expected_number: int | None = None,
) -> m.Round:
    """Open a new round of applications, for the policy's number of days unless told.
    `expected_number`: the window the operator confirmed (check_open_window); None only
    where nobody was asked (the demo town, benchmarks, tests)."""
    # The town's row held until the commit: two openings at once (the office's page and
    # `admin window open`) run one after the other, and the second sees the first's window
    # (a refusal, not a clash on the window's number), as does an approval of a tranche.
    await uow.fund.lock(municipality.id)
    window = await check_open_window(uow, municipality, now, days, expected_number=expected_number)
    round_ = m.Round(
        municipality_id=municipality.id,
        number=window.number,
        opens_at=window.opens_at,
        closes_at=window.closes_at,
    )
    uow.add(round_)
    await uow.flush()
    return round_


async def check_close_window(
    uow: UnitOfWork, municipality: m.Municipality, now: datetime
) -> m.Round:
    """The window close_window would close now, or its refusal (none is open); nothing is
    written. `admin window close` names it, with its dates and applications, before its
    question, as the office's page does before its button."""
    latest = await uow.rounds.latest(municipality.id)
    if latest is not None:
        await uow.refresh(latest)  # read before close_window's lock by the caller, perhaps
    if latest is None or not latest.opens_at <= now < latest.closes_at:
        raise Conflict(Refusal.WINDOW_NOT_OPEN)
    return latest


async def close_window(
    uow: UnitOfWork,
    municipality: m.Municipality,
    now: datetime,
    *,
    expected_number: int | None = None,
) -> m.Round:
    """Close the open window now. `expected_number`: the window the page that asked to
    confirm named; refused when the open window is another one (that one was closed and
    a new one opened meanwhile)."""
    # Held as open_window holds it: two closings at once close once, the second finds the
    # window closed; a closing and an opening run one after the other.
    await uow.fund.lock(municipality.id)
    latest = await check_close_window(uow, municipality, now)
    if expected_number is not None and expected_number != latest.number:
        raise Conflict(
            Refusal.WINDOW_CHANGED, action="close", expected=expected_number, number=latest.number
        )
    latest.closes_at = now
    return latest


async def current_round(uow: UnitOfWork, municipality_id: int) -> m.Round | None:
    """The latest round, open or not (allocation works on a closed one)."""
    return await uow.rounds.latest(municipality_id)


def is_open(round_: m.Round | None, now: datetime) -> bool:
    return round_ is not None and round_.opens_at <= now < round_.closes_at


MAX_PRIVACY_URL = 300


async def set_privacy_url(uow: UnitOfWork, code: str, url: str | None) -> m.Municipality:
    """The address of the municipality's privacy notice (None or "" removes it).

    Citizens are sent to it from the consent question, so only a complete http(s) address
    that fits an SMS is taken."""
    town = await require(uow, code)
    value = (url or "").strip() or None
    if value is not None:
        parsed = urlsplit(value)
        if (
            parsed.scheme not in ("http", "https")
            or not parsed.netloc
            or len(value) > MAX_PRIVACY_URL
            or any(ch.isspace() for ch in value)
        ):
            raise Conflict(Refusal.MUNICIPALITY_BAD_PRIVACY_URL, url=value[:80])
    town.privacy_url = value
    return town


# UFFICIO's answer names the town and this: with the longest town name it still fits one SMS.
MAX_OFFICE_CONTACT = 90


def check_office_contact(text: str) -> str | None:
    """How citizens reach the office, as the office writes it ("0733 905 111, lun-ven 9-12"):
    one line an SMS carries in GSM-7 (an emoji would make every answer that names it cost
    two or three SMS), at most MAX_OFFICE_CONTACT characters; "" removes it."""
    value = " ".join(text.split())
    if not value:
        return None
    if len(value) > MAX_OFFICE_CONTACT or not gsm7.is_gsm7(value):
        raise Conflict(Refusal.MUNICIPALITY_BAD_OFFICE_CONTACT, limit=MAX_OFFICE_CONTACT)
    return value


async def all_towns(uow: UnitOfWork) -> list[m.Municipality]:
    """Every municipality served, in the order they were added."""
    return list(await uow.municipalities.all())


async def by_id(uow: UnitOfWork, municipality_id: int) -> m.Municipality | None:
    return await uow.municipalities.by_id(municipality_id)
