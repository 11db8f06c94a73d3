"""Cards with a PIN for citizens without a phone: issue, reissue, wrong PINs, blocked cards.

The office issues the card (`admin card`); the number is the citizen's card code,
the PIN is printed once on the card and kept only as a salted hash. Every issue gives
a new number and PIN, so a lost or blocked card stops working as soon as the new one
exists. docs/cards-and-delegates.md explains the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain import cards, otp
from core.domain.charges import ChargeStatus
from core.domain.errors import Conflict, NotFound, Refusal
from core.domain.identity import normalize_codice_fiscale
from core.domain.messages import Reply, t
from core.services.identity import new_card_code
from core.services.outbox import notify_payer
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

CONSENT_CODE = "code"
CONSENT_CARD_PIN = "card_pin"


@dataclass(frozen=True)
class CardData:
    """What is printed on a card."""

    municipality: str
    card_code: str
    holder: str  # the codice fiscale, masked
    pin: str | None = None  # only on a card printed by the office, right after issuing it
    with_pin: bool = False  # payments with this card need its PIN (else a code to a phone)


@dataclass(frozen=True)
class CardStatus:
    codice_fiscale: str
    card_code: str
    issued_at: datetime | None
    failures: int
    blocked_at: datetime | None
    has_phone: bool


def _data(citizen: m.Citizen, municipality: m.Municipality, pin: str | None = None) -> CardData:
    return CardData(
        municipality.name,
        citizen.card_code,
        cards.mask_codice_fiscale(citizen.codice_fiscale),
        pin,
        has_pin_card(citizen),
    )


async def card_by_code(uow: UnitOfWork, municipality_id: int, card_code: str) -> CardData | None:
    """A card to send in a chat (no PIN: the PIN is printed only once, by the office)."""
    citizen = await uow.citizens.by_card_code(municipality_id, card_code)
    municipality = await uow.municipalities.by_id(municipality_id)
    if citizen is None or municipality is None or citizen.erased_at is not None:
        return None
    return _data(citizen, municipality)


def has_pin_card(citizen: m.Citizen) -> bool:
    return citizen.card_pin_hash is not None


def pays_with_pin(citizen: m.Citizen, reference: str) -> bool:
    """A card with a PIN, identified by its number: the PIN is the consent, no code is sent."""
    return has_pin_card(citizen) and cards.normalize_card_number(reference) == citizen.card_code


async def issue_card(
    uow: UnitOfWork,
    municipality: m.Municipality,
    codice_fiscale: str,
    now: datetime,
    *,
    reissue: bool = False,
) -> CardData:
    """A new card number and PIN for a citizen; the PIN is returned once, to be printed.

    A citizen who already holds a card gets a new one only with `reissue`: the old number
    and PIN stop working at once, and payments waiting for the old PIN are cancelled."""
    cf = normalize_codice_fiscale(codice_fiscale)
    citizen = await uow.citizens.by_codice_fiscale(municipality.id, cf)
    if citizen is None or citizen.erased_at is not None:
        raise NotFound(Refusal.CITIZEN_NOT_FOUND, codice_fiscale=cf)
    if has_pin_card(citizen) and not reissue:
        raise Conflict(Refusal.CARD_ALREADY_ISSUED, card_code=citizen.card_code)
    replaced = has_pin_card(citizen)
    for charge in await uow.charges.pending_for_citizen(citizen.id):
        if charge.consent == CONSENT_CARD_PIN:
            await uow.charges.mark(
                charge.id,
                ChargeStatus.PENDING,
                status=ChargeStatus.CANCELLED,
                closed_reason="card_reissued",
            )
    pin = cards.new_pin()
    salt = otp.new_salt()
    citizen.card_code = new_card_code()
    citizen.card_pin_salt = salt
    citizen.card_pin_hash = cards.hash_pin(uow.keys, pin, salt)
    citizen.card_pin_failures = 0
    citizen.card_issued_at = now
    citizen.card_blocked_at = None
    await uow.flush()
    if replaced:
        await notify_payer(
            uow,
            citizen,
            Reply.of(
                t("The office issued a new voucher card for you: the old card no longer works.")
            ),
            now,
        )
    return _data(citizen, municipality, pin)


async def card_statuses(
    uow: UnitOfWork, municipality_id: int, *, blocked_only: bool = False
) -> list[CardStatus]:
    return [
        CardStatus(
            citizen.codice_fiscale,
            citizen.card_code,
            citizen.card_issued_at,
            citizen.card_pin_failures,
            citizen.card_blocked_at,
            citizen.phone is not None,
        )
        for citizen in await uow.citizens.with_cards(municipality_id, blocked_only)
        if citizen.erased_at is None
    ]


async def count_wrong_pin(uow: UnitOfWork, citizen: m.Citizen, now: datetime) -> bool:
    """Count a wrong PIN; True when this one blocks the card."""
    failures = await uow.citizens.count_wrong_pin(citizen.id)
    if failures < cards.MAX_PIN_FAILURES:
        return False
    return await uow.citizens.block_card(citizen.id, now)
