"""Who a cashier means: the voucher holder behind a codice fiscale, a phone or a card,
counted against the till and the shop so that nobody fishes for holders."""

from __future__ import annotations

from datetime import datetime

from core.domain import cards as card_domain
from core.domain.erasure import can_act_on
from core.domain.errors import (
    InvalidIdentifier,
    NotFound,
    Refusal,
)
from core.domain.identity import parse_reference, receives_sms
from core.services import ledger, security
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# Lookups (of a person or a voucher) per till per hour, before "try later": whoever they
# find, so that the limit itself never tells a shop who holds vouchers. One a minute on
# average, above what a till serves in an hour, far below what fishing needs. A whole
# shop, however many cashiers it has, at most LOOKUPS_PER_SHOP_PER_HOUR.
LOOKUPS_PER_HOUR = 60


LOOKUPS_PER_SHOP_PER_HOUR = 4 * LOOKUPS_PER_HOUR


async def find_citizen(uow: UnitOfWork, municipality_id: int, reference: str) -> m.Citizen:
    """The citizen a cashier means: a codice fiscale, a phone number or a card code."""
    kind, value = parse_reference(reference)
    citizen: m.Citizen | None
    if kind == "cf":
        citizen = await uow.citizens.by_codice_fiscale(municipality_id, value)
    elif kind == "phone":
        citizen = await uow.citizens.by_phone(municipality_id, value)
    else:
        citizen = await uow.citizens.by_card_code(
            municipality_id, card_domain.normalize_card_number(value)
        )
    if not can_act_on(citizen):
        raise NotFound(Refusal.CITIZEN_NOT_FOUND)
    return citizen


async def find_beneficiary(
    uow: UnitOfWork, shop: m.Shop, reference: str, now: datetime, *, till: str
) -> m.Citizen:
    """The voucher holder a shop means, telling the shop nothing more than "not here".

    Somebody unknown and an applicant who never received vouchers get the same answer
    (a shop must not learn who applied). Every lookup counts against the shop, found or
    not, and after LOOKUPS_PER_HOUR in an hour at one till (`till`: who asks) the till
    is told to try later; a miss is also recorded for the office (`admin shops
    lookups`), which the shop never hears of.

    A number no SMS reaches (a landline, a toll-free number) is refused before anything is
    looked up or counted (`payer.no_sms`), the same whoever has it: the customer's code
    could never arrive there, and the customer pays with a codice fiscale, a mobile or a
    card (the till says so from the words alone, flows/charge_request.py)."""
    try:
        kind, value = parse_reference(reference)
    except InvalidIdentifier:
        kind, value = "", ""  # said by find_citizen, after the lookup is counted, as ever
    if kind == "phone" and not receives_sms(value):
        raise InvalidIdentifier("payer", reference, "no_sms")
    await security.count_lookup(
        uow, shop, now, till=till, limit=LOOKUPS_PER_HOUR, shop_limit=LOOKUPS_PER_SHOP_PER_HOUR
    )
    try:
        citizen = await find_citizen(uow, shop.municipality_id, reference)
    except NotFound:
        citizen = None
    if citizen is None or not await ledger.is_beneficiary(uow, shop.municipality_id, citizen.id):
        raise await nobody_here(uow, shop, now)
    return citizen


async def nobody_here(uow: UnitOfWork, shop: m.Shop, now: datetime) -> NotFound:
    """The till's "No voucher holder found", the miss recorded for the office (which the
    shop never hears of). Also for a holder whom no code reaches by what the cashier
    typed (charges.request_charge): a card holder without a phone named by their codice
    fiscale, a holder with no phone, chat nor card. Told apart, they were the one lookup
    a shop could make of a holder without the holder seeing it (no code is sent), and a
    codice fiscale is computed from a name, a birth date and a town."""
    await security.record(
        uow,
        security.LOOKUP_MISS,
        now,
        municipality_id=shop.municipality_id,
        shop_id=shop.id,
    )
    return NotFound(Refusal.CITIZEN_NOT_FOUND)
