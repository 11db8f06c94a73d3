"""Read only: the payments that wait for a customer's code, at a till or for a citizen, and
those whose code is over (expired, paid or cancelled), for explaining a late code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import cards as card_domain
from core.domain import otp
from core.domain.channels import Channel
from core.domain.identity import mask_phone
from core.domain.keys import ServerKeys
from core.services import cards
from core.services.code_destinations import (
    shown_destination,
)
from core.services.outbox import (
    payer_of,
)
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


async def awaiting_code(
    uow: UnitOfWork, citizen_id: int, now: datetime
) -> list[tuple[m.Charge, m.Shop]]:
    """The payments asked of a citizen that wait for the code sent to them (a card's PIN
    is typed at the till, nothing was sent), still valid, oldest first, with their shop."""
    return await _with_their_shops(
        uow,
        [
            charge
            for charge in await uow.charges.pending_for_citizen(citizen_id)
            if charge.consent != cards.CONSENT_CARD_PIN and charge.expires_at > now
        ],
    )


async def _with_their_shops(
    uow: UnitOfWork, found: Sequence[m.Charge]
) -> list[tuple[m.Charge, m.Shop]]:
    """Each payment with its shop, in the same order (one whose shop is gone left out)."""
    paired = []
    for charge in found:
        shop = await uow.shops.by_id(charge.shop_id)
        if shop is not None:
            paired.append((charge, shop))
    return paired


@dataclass(frozen=True)
class WaitingCharge:
    """A payment a till asked that still waits for the customer's code (or card PIN)."""

    charge_id: int
    amount_cents: int
    sent_to: str  # as the cashier was shown it (ChargeRequested.sent_to)
    channel: str  # a Channel, or "card"
    voucher: bool  # a community voucher's payment (core.services.voucher_charges)
    code_salt: str = ""
    code_hash: str = ""  # empty for a card's PIN: no code was sent
    card_position: int | None = None  # the cell of the card's grid the holder is asked for


def code_is_for(keys: ServerKeys, waiting: WaitingCharge, typed: str) -> bool:
    """Whether a typed code is this waiting payment's own (read only: nothing counted)."""
    if not waiting.code_hash:
        return False
    return otp.code_matches(keys, typed, waiting.code_salt, waiting.code_hash)


async def waits_at_another_till(uow: UnitOfWork, *, shop_id: int, till: str, now: datetime) -> bool:
    """Whether another till of the shop (not `till`, `channel:address`) asked a payment
    that still waits for its code: a customer may read her code to the wrong cashier."""
    return await uow.charges.waits_at_another_till(shop_id, till, now)


async def waiting_at_till(
    uow: UnitOfWork, *, shop_id: int, till: str, now: datetime
) -> list[WaitingCharge]:
    """The payments of a shop that this till (`channel:address`, its `requested_by`) asked
    and that still wait for a code, newest first: what a till left by MENU, or by closing
    its chat, still holds open (the code typed afterwards confirms it)."""
    found: list[tuple[datetime, WaitingCharge]] = []
    for charge_id in await uow.charges.pending_requested_by(shop_id, till):
        charge = await uow.charges.by_id(charge_id)
        if charge is None or charge.expires_at <= now:
            continue
        citizen = await uow.citizens.by_id(charge.citizen_id)
        if citizen is None:
            continue
        if charge.consent == cards.CONSENT_CARD_PIN:
            sent_to, channel = card_domain.grouped(citizen.card_code or ""), "card"
        else:
            payer = await payer_of(uow, citizen)
            if payer is None:
                continue
            channel, sent_to = shown_destination(citizen, payer)
        found.append(
            (
                charge.created_at,
                WaitingCharge(
                    charge.id,
                    charge.amount_cents,
                    sent_to,
                    channel,
                    voucher=False,
                    code_salt=charge.code_salt,
                    code_hash=charge.code_hash,
                    card_position=charge.card_code_position,
                ),
            )
        )
    for charge_id in await uow.community.pending_charges_requested_by(shop_id, till):
        parties = await uow.community.charge_with_parties(charge_id)
        if parties is None or parties[0].expires_at <= now:
            continue
        voucher_charge, voucher = parties[0], parties[1]
        sms = voucher.holder_channel == Channel.SMS
        sent_to = mask_phone(voucher.holder_address) if sms else "Telegram"
        found.append(
            (
                voucher_charge.created_at,
                WaitingCharge(
                    voucher_charge.id,
                    voucher_charge.amount_cents,
                    sent_to,
                    voucher.holder_channel,
                    voucher=True,
                    code_salt=voucher_charge.code_salt,
                    code_hash=voucher_charge.code_hash,
                ),
            )
        )
    # Newest first; asked in the same instant, the later row first.
    found.sort(key=lambda pair: (pair[0], pair[1].charge_id), reverse=True)
    return [waiting for _, waiting in found]


async def expired_codes(
    uow: UnitOfWork, citizen_id: int, now: datetime
) -> list[tuple[m.Charge, m.Shop]]:
    """The payments asked of a citizen in the last day whose code expired unused (a card's
    PIN sends none), the newest first, with their shop: a code of theirs that comes in
    here is explained, not taken for a word nobody understands."""
    since = now - timedelta(days=1)
    return await _with_their_shops(
        uow,
        [
            charge
            for charge in await uow.charges.expired_for_citizen(citizen_id, since, now)
            if charge.consent != cards.CONSENT_CARD_PIN
        ],
    )


async def closed_codes(
    uow: UnitOfWork, citizen_id: int, now: datetime
) -> list[tuple[m.Charge, m.Shop]]:
    """The payments asked of a citizen in the last day whose code was sent and that are
    over (paid, or cancelled), the newest first, with their shop: such a code coming in
    here is explained, never taken for an answer nor counted as a wrong code."""
    closed = await uow.charges.closed_with_code_for_citizen(citizen_id, now - timedelta(days=1))
    return await _with_their_shops(uow, closed)
