"""Cards for citizens without a phone: issue, reissue, one-time codes, wrong codes, blocks.

The office issues the card (the application's page, under four eyes: core.services.
phone_changes; `admin card`); the number is the citizen's card code, and a grid of
GRID_SIZE numbered one-time codes is printed once, on a slip apart from the card, and
kept only as salted hashes (`card_codes`). At the till the server draws an unused
position and binds it to the payment (core.services.charges); the code at that position
confirms it once. Every issue gives a new number and grid (the old grid is voided), so a
lost or blocked card stops working as soon as the new one exists. A card issued before
the grids has only a static PIN: it keeps working with it until the office reissues it
(`admin cards --pin-only`). A wrong code (or PIN) is a wrong payment code of the shop
that typed it (a `security_events` row naming the card): too many at one shop stop that
shop charging the card for a while, too many at several shops block the card.
docs/cards-and-delegates.md explains the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain import cards, otp
from core.domain.charges import ChargeStatus
from core.domain.erasure import can_act_on
from core.domain.errors import Conflict, NotAllowed, NotFound, Refusal
from core.domain.identity import normalize_codice_fiscale
from core.domain.messages import Reply, t
from core.services import security
from core.services.identity import approves, check_approval, money_at_stake, new_card_code
from core.services.outbox import notify_payer
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# An approved card with a PIN is printed within this many days of its approval, or it
# expires: no PIN is made long after two operators vouched for the person at the desk, and
# a new request is asked (core.services.phone_changes; docs/cards-and-delegates.md).
CARD_PRINT_DAYS = 7


def print_expired(change: m.PhoneChange, now: datetime) -> bool:
    """An approved card not printed whose deadline (`print_by`) has passed."""
    return (
        change.kind == "card"
        and change.status == "approved"
        and change.handed_at is None
        and change.print_by is not None
        and change.print_by <= now
    )


CONSENT_CODE = "code"
CONSENT_CARD_PIN = "card_pin"


@dataclass(frozen=True)
class CardData:
    """What is printed on a card."""

    municipality: str
    card_code: str
    holder: str  # the codice fiscale, masked
    pin: str | None = None  # a card's PIN: issued before the grids, never printed again
    with_pin: bool = False  # payments with this card need its slip (else a code to a phone)
    # The one-time codes, position 1 first: only on the slip the office prints right after
    # issuing the card (they exist nowhere else in clear).
    codes: tuple[str, ...] = ()
    grid: bool = False  # payments need a one-time code of the card's grid (else its old PIN)


@dataclass(frozen=True)
class CardStatus:
    codice_fiscale: str
    card_code: str
    issued_at: datetime | None
    failures: int  # wrong PINs that count against the card (cards.wrong_pins)
    blocked_at: datetime | None
    has_phone: bool
    # Unused one-time codes of the card's grid; None: a card with only a PIN, issued before
    # the grids, to reissue.
    codes_left: int | None = None


def _data(
    citizen: m.Citizen,
    municipality: m.Municipality,
    codes: tuple[str, ...] = (),
    *,
    grid: bool = False,
) -> CardData:
    return CardData(
        municipality.name,
        citizen.card_code,
        cards.mask_codice_fiscale(citizen.codice_fiscale),
        None,
        has_pin_card(citizen),
        codes,
        grid or bool(codes),
    )


async def card_by_code(uow: UnitOfWork, municipality_id: int, card_code: str) -> CardData | None:
    """A card to send in a chat (no PIN: the PIN is printed only once, by the office)."""
    citizen = await uow.citizens.by_card_code(municipality_id, card_code)
    municipality = await uow.municipalities.by_id(municipality_id)
    if municipality is None or not can_act_on(citizen):
        return None
    return _data(citizen, municipality, grid=await unused_positions(uow, citizen) is not None)


def has_pin_card(citizen: m.Citizen) -> bool:
    """A printed card whose slip is the consent (a grid of codes, or an old card's PIN)."""
    return citizen.card_pin_hash is not None


async def unused_positions(uow: UnitOfWork, citizen: m.Citizen) -> list[int] | None:
    """The unused positions of the card's grid; None: a card with only a PIN (issued before
    the grids), which pays with its PIN until the office reissues it."""
    grid = await uow.citizens.card_grid(citizen.id, citizen.card_code)
    if not grid:
        return None
    return [code.position for code in grid if code.used_at is None]


def pays_with_pin(citizen: m.Citizen, reference: str) -> bool:
    """A card identified by its number: its slip (a one-time code of the grid, or an old
    card's PIN) is the consent, no code is sent."""
    return has_pin_card(citizen) and cards.normalize_card_number(reference) == citizen.card_code


async def issue_card(
    uow: UnitOfWork,
    municipality: m.Municipality,
    codice_fiscale: str,
    now: datetime,
    *,
    reissue: bool = False,
    approved: m.PhoneChange | None = None,
) -> CardData:
    """A new card number and grid of one-time codes for a citizen; the codes are returned
    once, to be printed.

    A citizen who already holds a card gets a new one only with `reissue`: the old number,
    grid (voided) and PIN stop working at once, and payments waiting for them are cancelled.

    The card's slip is the consent to spend: a citizen with money at stake
    (identity.money_at_stake) gets a card only through a request another operator
    `approved` (core.services.phone_changes, kind card), whoever calls this, and not while
    such a request is pending. A request asked for somebody else is refused, never
    treated as no request (identity.check_approval), and the card names the request it
    was printed for (`card_change_id`), which the database accepts only of this citizen.
    The office always asks. Whoever receives the citizen's notices (their phone or chat,
    their delegate) is told of every card, with the office's name: a card they did not
    ask for is noticed."""
    cf = normalize_codice_fiscale(codice_fiscale)
    citizen = await uow.citizens.by_codice_fiscale(municipality.id, cf)
    if not can_act_on(citizen):
        raise NotFound(Refusal.CITIZEN_NOT_FOUND, codice_fiscale=cf)
    check_approval(approved, citizen)
    if has_pin_card(citizen) and not reissue:
        raise Conflict(Refusal.CARD_ALREADY_ISSUED, card_code=citizen.card_code)
    if not approves(approved, citizen, "card"):
        pending = await uow.phone_changes.waiting_for(citizen, "card")
        if pending is not None and not print_expired(pending, now):
            raise Conflict(Refusal.CARD_REQUEST_WAITING, change_id=pending.id)
        if await money_at_stake(uow, citizen, now):
            raise NotAllowed(Refusal.CARD_NEEDS_APPROVAL, codice_fiscale=citizen.codice_fiscale)
    replaced = has_pin_card(citizen)
    for charge in await uow.charges.pending_for_citizen(citizen.id):
        if charge.consent == CONSENT_CARD_PIN:
            await uow.charges.mark(
                charge.id,
                ChargeStatus.PENDING,
                status=ChargeStatus.CANCELLED,
                closed_reason="card_reissued",
            )
    # The card's PIN field stays the mark of a card that pays with its slip; since the
    # grids its value is random and never shown: no payment asks for it.
    salt = otp.new_salt()
    citizen.card_code = new_card_code()
    citizen.card_pin_salt = salt
    citizen.card_pin_hash = cards.hash_pin(uow.keys, cards.new_pin(), salt)
    await uow.citizens.void_card_codes(citizen.id, now)
    codes = cards.new_grid()
    for position, code in enumerate(codes, start=1):
        code_salt = otp.new_salt()
        uow.add(
            m.CardCode(
                citizen_id=citizen.id,
                card_code=citizen.card_code,
                position=position,
                code_salt=code_salt,
                code_hash=otp.hash_code(uow.keys, code, code_salt),
                created_at=now,
            )
        )
    citizen.card_issued_at = now  # wrong PINs are counted from here: a new card starts afresh
    citizen.card_blocked_at = None
    # The request the card is printed for: the database refuses one of another citizen
    # (fk_citizens_card_change_id_phone_changes), whatever the checks above missed.
    citizen.card_change_id = (
        approved.id if approved is not None and approved.kind == "card" else None
    )
    await uow.flush()
    notice = (
        t(
            "{town}: the office issued a new voucher card for you; the old one no longer "
            "works. Not you? Call the office.",
            town=municipality.name,
        )
        if replaced
        else t(
            "{town}: the office issued a voucher card for you, with a slip of codes to pay. "
            "Not you? Call the office.",
            town=municipality.name,
        )
    )
    await notify_payer(uow, citizen, Reply.of(notice), now)
    return _data(citizen, municipality, codes)


async def card_statuses(
    uow: UnitOfWork, municipality_id: int, now: datetime, *, blocked_only: bool = False
) -> list[CardStatus]:
    return [
        CardStatus(
            citizen.codice_fiscale,
            citizen.card_code,
            citizen.card_issued_at,
            await wrong_pins(uow, citizen, now),
            citizen.card_blocked_at,
            citizen.phone is not None,
            None if left is None else len(left),
        )
        for citizen in await uow.citizens.with_cards(municipality_id, blocked_only)
        if can_act_on(citizen)
        for left in [await unused_positions(uow, citizen)]
    ]


def wrong_pin_detail(citizen: m.Citizen) -> str:
    """What names the card in a wrong payment code's row (`security_events.detail`)."""
    return f"card:{citizen.id}"


async def _counted_from(
    uow: UnitOfWork, citizen: m.Citizen, now: datetime, shop_id: int | None
) -> datetime:
    """Wrong PINs count for 24 hours, only those typed for the card issued last, and only
    since the card's last payment with the right PIN (at this shop, for `shop_id`): only the
    holder knows the PIN, so their payment starts the count again. A shop's own count
    starts no later than the card's (it restarts only at that shop), so one shop adds at
    most PIN_FAILURES_PER_SHOP to the card's count: blocking the card takes several."""
    starts = [now - cards.PIN_FAILURE_WINDOW]
    if citizen.card_issued_at is not None:
        starts.append(citizen.card_issued_at)
    paid = await uow.charges.last_card_payment(citizen.id, shop_id)
    if paid is not None:
        starts.append(paid)
    return max(starts)


async def wrong_pins(uow: UnitOfWork, citizen: m.Citizen, now: datetime) -> int:
    """The card's wrong PINs that count, at every shop."""
    return await security.count(
        uow,
        security.WRONG_PAYMENT_CODE,
        await _counted_from(uow, citizen, now, None),
        detail=wrong_pin_detail(citizen),
    )


async def shop_may_charge_from(
    uow: UnitOfWork, citizen: m.Citizen, shop_id: int, now: datetime
) -> datetime | None:
    """When this shop may charge this card again after its wrong PINs; None: it may now."""
    typed = await uow.security.times(
        security.WRONG_PAYMENT_CODE,
        await _counted_from(uow, citizen, now, shop_id),
        shop_id=shop_id,
        detail=wrong_pin_detail(citizen),
    )
    return cards.shop_may_charge_from(typed)


async def block_after_wrong_pins(uow: UnitOfWork, citizen: m.Citizen, now: datetime) -> bool:
    """After a wrong PIN was recorded (charges.count_wrong_code): block the card when the
    shops together typed too many. True when this call blocked it."""
    if not cards.blocks_card(await wrong_pins(uow, citizen, now)):
        return False
    return await uow.citizens.block_card(citizen.id, now)
