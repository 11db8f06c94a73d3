"""A shop asks a payment: the amount checked, the customer found, a code sent to them (or a
cell of their card's grid drawn), the shop's earlier pending payment replaced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from core.domain import cards as card_domain
from core.domain.charges import (
    ChargeStatus,
    PendingCode,
    codes_again_at,
    expiry,
    new_pending_code,
)
from core.domain.errors import (
    NotAllowed,
    Refusal,
)
from core.domain.messages import Money, Reply, t, tn
from core.domain.policy import Policy
from core.services import cards, ledger
from core.services.charges.lookup import find_beneficiary, nobody_here
from core.services.charges.notices import _tell_void
from core.services.charges.person_locks import refuse_if_codes_stopped
from core.services.code_destinations import (
    shown_destination,
)
from core.services.municipalities import policy_of
from core.services.outbox import (
    notify,
    payer_of,
)
from core.services.shop_rights import (
    check_shop_can_charge,
    refuse_code_to_own_staff,
)
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


@dataclass(frozen=True)
class ChargeRequested:
    charge_id: int
    amount_cents: int
    expires_at: datetime
    sent_to: str  # masked destination, for the cashier's screen
    channel: str  # a Channel, or "card" when the holder types a code of the card's slip
    # A card with a grid of one-time codes: the position the server drew, which the till
    # asks the holder for (None: a code sent to a phone, or an old card's PIN).
    card_position: int | None = None


async def request_charge(
    uow: UnitOfWork,
    *,
    shop_id: int,
    citizen_reference: str,
    amount_cents: int,
    requested_by: str,
    now: datetime,
) -> ChargeRequested:
    """Create a pending charge and send the citizen its code. Holds no money yet.

    The amount is checked before anybody is looked up, and the balance is not checked
    here at all: a shop learns whether the balance is enough only after the citizen
    gave the code (the code message tells the citizen)."""
    shop = check_shop_can_charge(await uow.shops.by_id(shop_id), now)
    municipality = await uow.municipalities.by_id(shop.municipality_id)
    assert municipality is not None
    policy = policy_of(municipality)
    check_amount(amount_cents, policy.payment_ceiling_cents())
    citizen = await find_beneficiary(uow, shop, citizen_reference, now, till=requested_by)
    with_pin = cards.pays_with_pin(citizen, citizen_reference)
    if with_pin:
        # A card with a grid pays only while unused codes are left; an old card (only a
        # PIN, issued before the grids) pays with its PIN until the office reissues it.
        # The refusals name what the card uses: its codes, or its PIN (`slip`).
        unused = await cards.unused_positions(uow, citizen)
        slip = card_domain.SLIP_PIN if unused is None else card_domain.SLIP_GRID
        if citizen.card_blocked_at is not None:
            raise NotAllowed(Refusal.CARD_BLOCKED, slip=slip)
        # This shop typed too many wrong codes for the card: not here for now, other shops
        # still charge it (cards.shop_may_charge_from).
        until = await cards.shop_may_charge_from(uow, citizen, shop.id, now)
        if until is not None:
            raise NotAllowed(Refusal.CARD_LOCKED_AT_SHOP, until=until.isoformat(), slip=slip)
        if unused is not None and not unused:
            raise NotAllowed(Refusal.CARD_CODES_USED_UP, town=municipality.name)
        # The balance is checked after the code, at confirmation: the code is the consent.
        for earlier in await _replace_pending(uow, shop, citizen, now):
            # The citizen holds a code from it (a card charge sent none), or wrong codes
            # were typed for it: told as ANNULLA would tell them (_tell_void warns).
            if earlier.code_hash or earlier.attempts:
                await _tell_void(uow, earlier, citizen, shop, now)
        position = None
        if unused is not None:
            position = card_domain.draw_position(
                await _drawable_at(uow, shop, citizen, unused, municipality)
            )
        return await _request_with_pin(
            uow,
            shop,
            citizen,
            amount_cents,
            requested_by,
            now,
            policy.charge_ttl_minutes,
            position,
        )
    payer = await payer_of(uow, citizen)
    if payer is None:
        # Nobody to send the code to (a card holder named by codice fiscale, who pays with
        # the card's number; a holder with no phone nor chat): the same answer as for
        # nobody, the holder would never see the lookup (lookup.nobody_here).
        raise await nobody_here(uow, shop, now)
    await refuse_code_to_own_staff(uow, shop, (payer.channel, payer.address))
    # Too many wrong codes for her at several shops: no code goes to her for now.
    await refuse_if_codes_stopped(uow, citizen, now)
    await check_code_cap(partial(uow.charges.code_times_to, citizen.id), policy, shop.id, now)
    given_up = await _replace_pending(uow, shop, citizen, now)
    replaced = [x for x in given_up if x.code_hash]
    for card_charge in given_up:
        if not card_charge.code_hash and card_charge.attempts:
            # A card payment given up after wrong codes: its holder was sent no code the
            # new one's message could void, and is warned as ANNULLA would (_tell_void).
            await _tell_void(uow, card_charge, citizen, shop, now)
    # Wrong codes typed for the code this one replaces: the customer is warned in the new
    # code's message, never told a plain "the previous one is void" (as after ANNULLA:
    # cancelled_after_wrong_codes).
    wrong = sum(x.attempts for x in replaced)
    balance = await ledger.citizen_balance(uow, shop.municipality_id, citizen.id)
    pending = new_pending_code(uow.keys, now, policy.charge_ttl_minutes)
    code = pending.code
    charge = m.Charge(
        citizen_id=citizen.id, **pending_columns(shop, amount_cents, requested_by, now, pending)
    )
    uow.add(charge)
    await uow.flush()
    if wrong and balance >= amount_cents:
        # One SMS says the three: the new code, the old one void, and the wrong codes typed
        # for it (possibly someone guessing), with whom to give the code to. No room for
        # the minutes.
        text = tn(
            "{shop} asks {amount}. New code: {code}; the old one is void after {count} wrong "
            "code. Give it only to the cashier.",
            "{shop} asks {amount}. New code: {code}; the old one is void after {count} wrong "
            "codes. Give it only to the cashier.",
            wrong,
            shop=shop.name,
            amount=Money(amount_cents),
            code=code,
        )
    elif wrong:
        text = tn(
            "{shop} asks {amount}. New code: {code}; the old one is void after {count} wrong "
            "code. You only have {balance}.",
            "{shop} asks {amount}. New code: {code}; the old one is void after {count} wrong "
            "codes. You only have {balance}.",
            wrong,
            shop=shop.name,
            amount=Money(amount_cents),
            code=code,
            balance=Money(balance),
        )
    elif replaced and balance >= amount_cents:
        # One SMS says both: the new code, and that the one this shop sent before is void;
        # and, like the first code's message, how long the new one is valid.
        text = t(
            "{shop} asks {amount}. New code: {code} (the previous one is no longer valid). "
            "Tell it to the cashier only if you agree. Valid {minutes} min.",
            shop=shop.name,
            amount=Money(amount_cents),
            code=code,
            minutes=policy.charge_ttl_minutes,
        )
    elif replaced:
        # What is short, and what the person can do: pay less, which only they can say (to
        # the cashier: what to ask, never the code, which would only be refused).
        text = t(
            "{shop} asks {amount}. New code: {code}, the previous one no longer works. You "
            "only have {balance}: ask to pay less.",
            shop=shop.name,
            amount=Money(amount_cents),
            code=code,
            balance=Money(balance),
        )
    elif balance >= amount_cents:
        text = t(
            "{shop} asks {amount}. Code: {code}. Tell it to the cashier only if you agree. "
            "Valid {minutes} min.",
            shop=shop.name,
            amount=Money(amount_cents),
            code=code,
            minutes=policy.charge_ttl_minutes,
        )
    else:
        # The citizen decides what the shop may learn: the payment will be refused after
        # the code, and only the citizen is told why.
        text = (
            # What the customer tells the cashier is the amount to ask, at most the balance
            # ("dillo al cassiere" after it had read as "tell them the code").
            t(
                "{shop} asks {amount}. Code: {code}. You only have {balance}: ask the cashier "
                "to charge you at most that.",
                shop=shop.name,
                amount=Money(amount_cents),
                code=code,
                balance=Money(balance),
            )
            if balance > 0
            else t(
                "{shop} asks {amount}. Code: {code}. Your balance is {balance}: not enough, "
                "the payment will be refused.",
                shop=shop.name,
                amount=Money(amount_cents),
                code=code,
                balance=Money(balance),
            )
        )
    # The database checks the code's destination when its row is written (migration
    # 0038_code_destination_guard): a delegate or a phone the office took away since `payer`
    # was read makes this transaction a lost race, which the dialogue runs again.
    notify(
        uow,
        citizen,
        payer,
        Reply.of(text, sensitive=True),
        now,
        charge_id=charge.id,
        code=True,
        deliver_by=charge.expires_at,
        # Confirmed, cancelled or expired before it left: not sent (outbox.not_worth_sending).
        while_charge=ChargeStatus.PENDING,
    )
    channel, shown = shown_destination(citizen, payer, citizen_reference)
    return ChargeRequested(charge.id, amount_cents, charge.expires_at, shown, channel)


def pending_columns(
    shop: m.Shop, amount_cents: int, requested_by: str, now: datetime, pending: PendingCode
) -> dict[str, Any]:
    """The columns a new pending payment with a code sent starts with, the same for a buono
    spesa's charge and a community voucher's (their tables differ only in whom they charge):
    no attempts yet, the code stored only as its salt and keyed hash."""
    return {
        "municipality_id": shop.municipality_id,
        "shop_id": shop.id,
        "amount_cents": amount_cents,
        "status": ChargeStatus.PENDING.value,
        "code_salt": pending.code_salt,
        "code_hash": pending.code_hash,
        "attempts": 0,
        "requested_by": requested_by,
        "created_at": now,
        "expires_at": pending.expires_at,
    }


def check_amount(amount_cents: int, ceiling_cents: int) -> None:
    """An amount a shop may ask in one payment: more than zero and at most the town's
    ceiling (Policy.payment_ceiling_cents), checked before anybody is looked up and before
    any code is sent. The ceiling is the same for every customer: refusing above it tells
    the shop nothing about anyone's balance."""
    if amount_cents <= 0:
        raise NotAllowed(Refusal.PAYMENT_BAD_AMOUNT)
    if amount_cents > ceiling_cents:
        raise NotAllowed(Refusal.PAYMENT_ABOVE_LIMIT, limit=ceiling_cents)


class CodeTimes(Protocol):
    """When codes went to one person (or voucher holder) since a time: of every shop, or
    of one shop's payments."""

    async def __call__(
        self, since: datetime, *, shop_id: int | None = None
    ) -> Sequence[datetime]: ...


async def check_code_cap(
    codes_sent: CodeTimes, policy: Policy, shop_id: int, now: datetime
) -> None:
    """The cap on codes to one person per hour, for a buono spesa's payment and a community
    voucher's alike. Over it nothing changes: no code is sent and a code already held stays
    valid. A shop's first code to the person in the hour is never refused for the codes
    other shops sent: one shop asking and cancelling charges cannot stop the person paying
    at every other till (the flood is bounded by the cap plus one code per shop)."""
    hour_ago = now - timedelta(hours=1)
    sent = await codes_sent(hour_ago)
    cap = policy.codes_per_person_per_hour
    if len(sent) >= cap:
        by_shop = await codes_sent(hour_ago, shop_id=shop_id)
        if by_shop:
            # The shop is told from when it may ask again: when its own codes leave the
            # hour (its first code in the hour is never refused). Never from the other
            # shops' codes: the time would tell it another shop asked this person.
            again = codes_again_at(sent, by_shop, cap)
            raise NotAllowed(Refusal.PAYMENT_CODES_TOO_MANY, when=again.isoformat())


async def _replace_pending(
    uow: UnitOfWork, shop: m.Shop, citizen: m.Citizen, now: datetime
) -> list[m.Charge]:
    """A new charge from a shop replaces the one it still has pending for the same citizen:
    the earlier ones are cancelled (their codes void). Returns those it cancelled, for the
    caller to tell the citizen (in the new code's message when there is one)."""
    cancelled = []
    for earlier in await uow.charges.pending_for_citizen(citizen.id):
        if earlier.shop_id != shop.id or earlier.expires_at <= now:
            continue  # another shop's, or already dead (the sweep marks it expired)
        if await uow.charges.mark(
            earlier.id,
            ChargeStatus.PENDING,
            status=ChargeStatus.CANCELLED,
            closed_reason="replaced",
        ):
            cancelled.append(earlier)
    return cancelled


async def _drawable_at(
    uow: UnitOfWork,
    shop: m.Shop,
    citizen: m.Citizen,
    unused: list[int],
    municipality: m.Municipality,
) -> list[int]:
    """The unused cells this shop may ask for: never one its till was shown for a payment
    not made (its code may have been heard there; other shops may still draw it). A shop
    shown every cell left without a payment is refused as for a card with no codes left:
    the holder pays elsewhere, or asks the office for a new card."""
    assert citizen.card_issued_at is not None  # a grid is printed when the card is issued
    shown = await uow.charges.card_positions_shown(citizen.id, shop.id, citizen.card_issued_at)
    drawable = card_domain.drawable_at_shop(unused, shown)
    if not drawable:
        raise NotAllowed(Refusal.CARD_CODES_USED_UP, town=municipality.name)
    return drawable


async def _request_with_pin(
    uow: UnitOfWork,
    shop: m.Shop,
    citizen: m.Citizen,
    amount_cents: int,
    requested_by: str,
    now: datetime,
    ttl_minutes: int,
    position: int | None,
) -> ChargeRequested:
    """A charge on a card: nothing is sent, the holder types the code at `position` of the
    card's grid (drawn by the server and bound to the charge here: the till cannot choose
    or change it), or an old card's PIN (`position` None).

    The charge keeps no code of its own (empty hash: nothing matches it); confirmation
    checks the card as it is then, so a reissued card's old grid or PIN never works."""
    charge = m.Charge(
        municipality_id=shop.municipality_id,
        shop_id=shop.id,
        citizen_id=citizen.id,
        amount_cents=amount_cents,
        status=ChargeStatus.PENDING.value,
        code_salt="",
        code_hash="",
        consent=cards.CONSENT_CARD_PIN,
        attempts=0,
        requested_by=requested_by,
        created_at=now,
        expires_at=expiry(now, ttl_minutes),
        card_code_position=position,
    )
    uow.add(charge)
    await uow.flush()
    shown = card_domain.grouped(citizen.card_code)
    return ChargeRequested(charge.id, amount_cents, charge.expires_at, shown, "card", position)
