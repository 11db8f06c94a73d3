"""Delegates (disciplinare art. 6.3): a relative or caregiver's phone acting for a citizen.

The office registers the delegate, under four eyes (core.services.phone_changes: one
operator asks, a manager who did not ask approves). From then on payment codes and
receipts go to the delegate's phone (receipts to the citizen's own channel too), and
SALDO from that phone answers with the citizen's balance. A phone acts for one person per
municipality: it is nobody's own number there, the delegate of one citizen at most, no
shop's, and named by no waiting request of another kind or household (asked_numbers),
whoever registers it: a manager's approval or the command line at once.
docs/cards-and-delegates.md explains the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from core.domain import cards
from core.domain.erasure import can_act_on
from core.domain.errors import Conflict, NotAllowed, NotFound, Refusal
from core.domain.identity import mask_phone, normalize_codice_fiscale, normalize_phone
from core.domain.messages import Reply, t
from core.services import asked_numbers, code_destinations, identity, refund_codes
from core.services.outbox import notify_citizen, notify_number
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


async def _citizen(uow: UnitOfWork, municipality: m.Municipality, codice_fiscale: str) -> m.Citizen:
    cf = normalize_codice_fiscale(codice_fiscale)
    citizen = await uow.citizens.by_codice_fiscale(municipality.id, cf)
    if not can_act_on(citizen):
        raise NotFound(Refusal.CITIZEN_NOT_FOUND, codice_fiscale=cf)
    return citizen


async def check_delegate(
    uow: UnitOfWork, municipality: m.Municipality, citizen: m.Citizen, phone: str
) -> str:
    """The delegate's number, normalised, once it may be the citizen's delegate (the rules
    of the module, and no waiting request naming it: asked_numbers); a refusal otherwise.
    Checked when a delegate is asked and again when it is registered, by a manager's
    approval or directly (add_delegate), whoever calls it.

    The number is held until the commit before looking (CitizenRepository.hold_phone): a
    phone change giving it to a citizen at the same moment goes first or after, never
    beside; the database holds the same rule for the delegate's row (migration
    0041_phone_one_person), whatever writes it."""
    number = normalize_phone(phone)
    await identity.refuse_unreachable_phone(uow, number)
    await uow.citizens.hold_phone(municipality.id, number)
    # Read after the hold: the citizen's own number may have changed while it waited.
    owner = await uow.citizens.by_phone(municipality.id, number)
    if citizen.phone == number or (owner is not None and owner.id == citizen.id):
        raise Conflict(Refusal.DELEGATE_OWN_PHONE, phone=mask_phone(number))
    current = await uow.delegates.of_citizen(citizen.id)
    if current is not None:
        raise Conflict(Refusal.DELEGATE_ALREADY, phone=mask_phone(current.phone))
    if await uow.delegates.by_phone(municipality.id, number) is not None:
        raise Conflict(Refusal.DELEGATE_PHONE_TAKEN, phone=mask_phone(number))
    if can_act_on(owner):
        raise Conflict(Refusal.DELEGATE_PHONE_IS_CITIZEN, phone=mask_phone(number))
    if await identity.is_shop_phone(uow, municipality.id, phone=number):
        raise Conflict(Refusal.DELEGATE_PHONE_IS_SHOP, phone=mask_phone(number))
    # A waiting request claims the number already (another household's, or this citizen's
    # new phone): refused here, so that the office's direct registration (add_delegate
    # without a request) leaves no request bound to fail at its approval either.
    await asked_numbers.refuse_asked(uow, citizen, number, "delegate")
    return number


async def add_delegate(
    uow: UnitOfWork,
    municipality: m.Municipality,
    codice_fiscale: str,
    phone: str,
    now: datetime,
    *,
    approved: m.PhoneChange | None = None,
) -> m.Delegate:
    """Register `phone` as the citizen's delegate; the citizen and the delegate are told.

    The delegate receives the payment codes, so who can spend: a citizen with money at
    stake (identity.money_at_stake) gets one only through a request another operator
    `approved` (core.services.phone_changes, kind delegate), whoever calls this, and
    while such a request waits no other delegate is registered. The office always asks."""
    citizen = await _citizen(uow, municipality, codice_fiscale)
    identity.check_approval(approved, citizen)
    number = await check_delegate(uow, municipality, citizen, phone)
    if not identity.approves(approved, citizen, "delegate"):
        waiting = await uow.phone_changes.waiting_for(citizen, "delegate")
        if waiting is not None:
            raise Conflict(
                Refusal.DELEGATE_REQUEST_WAITING,
                change_id=waiting.id,
                phone=waiting.phone_masked or "",
            )
        if await identity.money_at_stake(uow, citizen, now):
            raise NotAllowed(Refusal.DELEGATE_NEEDS_APPROVAL, codice_fiscale=citizen.codice_fiscale)
    delegate = m.Delegate(
        municipality_id=municipality.id, citizen_id=citizen.id, phone=number, created_at=now
    )
    uow.add(delegate)
    try:
        await uow.flush()
    except IntegrityError as error:  # registered at the same moment by another operator
        raise Conflict(Refusal.DELEGATE_PHONE_TAKEN, phone=mask_phone(number)) from error
    notify_citizen(
        uow,
        citizen,
        Reply.of(
            t(
                "The office registered {phone} as your delegate: it receives your payment "
                "codes. Not you? Call the office.",
                phone=mask_phone(number),
            )
        ),
        now,
    )
    notify_number(
        uow,
        citizen,
        number,
        Reply.of(
            t(
                "You are now the delegate of {holder} for the vouchers: payment codes come to "
                "this number. SALDO shows the balance.",
                holder=cards.mask_codice_fiscale_gsm(citizen.codice_fiscale),
            )
        ),
        now,
    )
    return delegate


@dataclass(frozen=True)
class DelegateSeen:
    """The delegate an operator saw when they chose to remove one: the delegation's id and
    when it began (the office's page), or the delegate's number (the command line). What
    is None is not compared."""

    delegate_id: int | None = None
    since: datetime | None = None
    phone: str | None = None


def _is_the_one_seen(delegate: m.Delegate, seen: DelegateSeen) -> bool:
    if seen.delegate_id is not None and delegate.id != seen.delegate_id:
        return False
    if seen.since is not None and delegate.created_at != seen.since:
        return False
    return seen.phone is None or normalize_phone(seen.phone) == delegate.phone


async def remove_delegate(
    uow: UnitOfWork,
    municipality: m.Municipality,
    codice_fiscale: str,
    now: datetime,
    *,
    seen: DelegateSeen | None = None,
) -> str:
    """Remove the citizen's delegate; returns the phone that was the delegate.

    `seen`: the delegate the operator meant. A delegate replaced between the page (or the
    look) and the removal is another person: the removal is refused (delegate.changed,
    naming the delegate now, masked) and nothing changes; on SQLite a new delegation may
    even take the old one's id, hence its start too. Read under a lock: a replacement
    committing meanwhile goes first or after.

    The payments waiting for a code sent to that phone are cancelled in the same
    transaction, and their codes not sent yet never leave
    (code_destinations.void_codes_gone_elsewhere): the shop and the citizen are told, and
    the former delegate that the codes it received no longer work."""
    citizen = await _citizen(uow, municipality, codice_fiscale)
    delegate = await uow.delegates.of_citizen(citizen.id, lock=True)
    if delegate is None:
        raise NotFound(Refusal.DELEGATE_NONE)
    if seen is not None and not _is_the_one_seen(delegate, seen):
        raise Conflict(
            Refusal.DELEGATE_CHANGED,
            phone=mask_phone(delegate.phone),
            delegate_id=delegate.id,
            since=delegate.created_at.isoformat(),
        )
    phone = delegate.phone
    await uow.delegates.remove(delegate)
    voided = await code_destinations.void_codes_gone_elsewhere(uow, citizen, now)
    voided += await refund_codes.void_refund_codes_gone_elsewhere(uow, citizen, now)
    notify_citizen(
        uow,
        citizen,
        Reply.of(
            t(
                "The office removed {phone} as your delegate: payment codes come to you again.",
                phone=mask_phone(phone),
            )
        ),
        now,
    )
    holder = cards.mask_codice_fiscale_gsm(citizen.codice_fiscale)
    notify_number(
        uow,
        citizen,
        phone,
        Reply.of(
            t(
                "You are no longer the delegate of {holder} for the vouchers: the payment "
                "codes you received no longer work.",
                holder=holder,
            )
            if voided
            else t("You are no longer the delegate of {holder} for the vouchers.", holder=holder)
        ),
        now,
    )
    return phone


async def represented_by(uow: UnitOfWork, municipality_id: int, phone: str) -> m.Citizen | None:
    """The citizen this phone is the delegate of, if any; none when the phone is a voucher
    holder's own: a delegate who applied for their own household from it sees their own
    vouchers (docs/cards-and-delegates.md), from an SMS and from a Telegram chat that proved
    the number alike. The one-trip turn reads the same rule (core/storage/turn_trip.py)."""
    if await identity.citizen_of(uow, municipality_id, phone=phone) is not None:
        return None
    delegate = await uow.delegates.by_phone(municipality_id, phone)
    if delegate is None:
        return None
    citizen = await uow.citizens.by_id(delegate.citizen_id)
    return citizen if can_act_on(citizen) else None
