"""Whose a phone may be: never a shop's (owner or cashier), never a delegate's as well as a
holder's, always one that receives SMS; and whether the citizen has money at stake, when a
new phone needs a second operator. One set of rules for the chats, the office and the
command line (docs/identity-and-consent.md, docs/cards-and-delegates.md)."""

from __future__ import annotations

from datetime import datetime

from core.domain.erasure import can_act_on
from core.domain.errors import Conflict, Refusal
from core.domain.identity import mask_phone, require_sms_phone
from core.services import asked_numbers, ledger
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


async def is_shop_phone(
    uow: UnitOfWork,
    municipality_id: int,
    *,
    phone: str | None = None,
    telegram_user: str | None = None,
) -> bool:
    """Whether this phone, or this Telegram user, charges vouchers for a shop of the
    municipality (an owner or a cashier, whatever the shop's status): a phone on any
    channel whose address is a phone (SMS, the terminal chat), or the phone a Telegram
    member shared as their own (migration 0040). One rule for a citizen's
    own phone and Telegram chat, a delegate's phone, and a member joining a shop (the
    reverse: shops.refuse_citizens_phone)."""
    return bool(
        await uow.shops.members_reached_at(
            municipality_id, phone=phone, telegram_user=telegram_user
        )
    )


async def refuse_shop_phone(uow: UnitOfWork, municipality_id: int, phone: str) -> None:
    """A phone that charges vouchers for a shop of the municipality (owner or cashier, by
    SMS, at the terminal, or on Telegram with this phone shared) is never a citizen's: that
    shop would receive the citizen's payment codes and could confirm its own charges.
    Raises Conflict(IDENTITY_PHONE_IS_SHOP)."""
    if await is_shop_phone(uow, municipality_id, phone=phone):
        raise Conflict(Refusal.IDENTITY_PHONE_IS_SHOP, phone=mask_phone(phone))


async def refuse_unreachable_phone(uow: UnitOfWork, phone: str) -> None:
    """A number typed by hand for somebody's payment codes and notices (the office's desk,
    a paper application, a delegate, a gift) must receive them by SMS: no landline nor
    service number (require_sms_phone), and no municipality's own SMS number, whose
    messages would come back to the service. The sender of an SMS and a Telegram contact
    are not typed, and are not checked here."""
    require_sms_phone(phone)
    town = await uow.municipalities.by_sms_number(phone)
    if town is not None:
        raise Conflict(Refusal.PHONE_TOWN_NUMBER, phone=mask_phone(phone), code=town.code)


async def is_own_delegates_number(uow: UnitOfWork, citizen: m.Citizen, phone: str) -> bool:
    """Whether `phone` is the number registered as this citizen's own delegate: never the
    citizen's own phone too (the delegate would receive what is meant for the holder, and
    act as the holder). The number is held until the commit before looking
    (CitizenRepository.hold_phone): a delegate registered on it meanwhile is found, or
    waits and is refused by the database (migration 0041_phone_one_person); the database
    refuses the citizen's side too (0042_citizen_not_own_delegate)."""
    await uow.citizens.hold_phone(citizen.municipality_id, phone)
    delegate = await uow.delegates.of_citizen(citizen.id)
    return delegate is not None and delegate.phone == phone


async def _another_households_delegate(uow: UnitOfWork, citizen: m.Citizen, phone: str) -> bool:
    """Whether `phone` is the delegate of a household other than `citizen` (one not erased:
    check_new_phone's rule). The caller holds the number (hold_phone)."""
    delegate = await uow.delegates.by_phone(citizen.municipality_id, phone)
    if delegate is None or delegate.citizen_id == citizen.id:
        return False
    represented = await uow.citizens.by_id(delegate.citizen_id)
    return can_act_on(represented)


async def is_delegates_number(uow: UnitOfWork, citizen: m.Citizen, phone: str) -> bool:
    """Whether `phone` is registered as a delegate: this citizen's own, or another
    household's not erased (_another_households_delegate). A chat linked to `citizen` that
    proves such a number with its own contact is the delegate's account, not the citizen's
    (link_telegram unlinks it). Holds the number first (is_own_delegates_number)."""
    return await is_own_delegates_number(uow, citizen, phone) or await _another_households_delegate(
        uow, citizen, phone
    )


async def _is_shop_chat(uow: UnitOfWork, municipality_id: int, telegram_user: str) -> bool:
    """Whether this Telegram chat acts for a shop of the municipality (owner or cashier):
    linked to a citizen it would receive the citizen's payment codes at the till."""
    return await is_shop_phone(uow, municipality_id, telegram_user=telegram_user)


async def money_at_stake(uow: UnitOfWork, citizen: m.Citizen, now: datetime) -> bool:
    """Whether the citizen has something to spend, or soon will: a positive balance, money
    an approved tranche gives them that is not credited yet (nor withdrawn), or a charge
    waiting for its code. Then the phone decides who can spend it, and a new one needs a
    second operator (core.services.phone_changes): a phone given before the credit would
    receive the money and the payment codes after it."""
    if await ledger.citizen_balance(uow, citizen.municipality_id, citizen.id) > 0:
        return True
    if await uow.allocations.to_credit_for_citizen(citizen.id) > 0:
        return True
    return any(
        charge.expires_at > now for charge in await uow.charges.pending_for_citizen(citizen.id)
    )


async def check_new_phone(uow: UnitOfWork, citizen: m.Citizen, phone: str) -> None:
    """Refuse a phone the office may not give this citizen: another citizen's, a
    delegate's (a phone speaks for one person), a shop's, one that cannot receive the
    codes by SMS, or one a waiting request names (asked_numbers).

    The number is held until the commit before looking (CitizenRepository.hold_phone):
    a delegate registered on it meanwhile waits, then is refused by the database
    (migration 0041_phone_one_person), or committed first and is found here."""
    await refuse_unreachable_phone(uow, phone)
    await uow.citizens.hold_phone(citizen.municipality_id, phone)
    holder = await uow.citizens.by_phone(citizen.municipality_id, phone)
    if holder is not None and holder.id != citizen.id:
        raise Conflict(Refusal.IDENTITY_PHONE_OF_ANOTHER, codice_fiscale=holder.codice_fiscale)
    delegate = await uow.delegates.by_phone(citizen.municipality_id, phone)
    if delegate is not None:
        represented = await uow.citizens.by_id(delegate.citizen_id)
        if can_act_on(represented):
            raise Conflict(Refusal.IDENTITY_PHONE_IS_DELEGATE, phone=mask_phone(phone))
    await refuse_shop_phone(uow, citizen.municipality_id, phone)
    # A waiting request claims the number (another household's, or this citizen's
    # delegate): refused for a phone given at once too (rebind_phone, the command line).
    await asked_numbers.refuse_asked(uow, citizen, phone, "phone")
