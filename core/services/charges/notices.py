"""What the holder of a payment's code is told when it is paid, refused, voided or cancelled
after wrong codes (every notice here goes to whoever receives the citizen's codes)."""

from __future__ import annotations

from datetime import datetime

from core.domain.messages import Money, Reply, Text, t, tn
from core.services import cards, ledger
from core.services.code_destinations import (
    office_stopped,
)
from core.services.outbox import (
    notify_payer,
)
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


def wrong_codes_warning(
    shop_name: str, amount_cents: int, *, pin: bool = False, grid: bool = False
) -> Text:
    """To the holder of a code when wrong codes typed at the till cancelled the payment
    (the last allowed one, or one that locked the shop): possibly a fraud attempt. A card
    holder has a slip of one-time codes (`grid`), or an old card's PIN (`pin`), not a code
    sent to them: the warning says which (docs/cards-and-delegates.md)."""
    if grid:
        return t(
            "Warning: {shop} typed a wrong code of your card too many times. The payment of "
            "{amount} was cancelled. Never show your code slip: give only the code asked.",
            shop=shop_name,
            amount=Money(amount_cents),
        )
    if pin:
        return t(
            "Warning: {shop} typed a wrong PIN for your card too many times. The payment of "
            "{amount} was cancelled. Never tell your PIN to anyone but the cashier.",
            shop=shop_name,
            amount=Money(amount_cents),
        )
    return t(
        "Warning: {shop} typed a wrong code too many times. The payment of {amount} "
        "was cancelled. Never give your code to anyone but the cashier.",
        shop=shop_name,
        amount=Money(amount_cents),
    )


def cancelled_after_wrong_codes(
    shop_name: str, amount_cents: int, wrong: int, *, pin: bool = False, grid: bool = False
) -> Text:
    """To the holder of a code when the shop gave up (ANNULLA, a new PAGA) a payment that
    `wrong` wrong codes had been typed for: never a plain "the shop cancelled", which
    would hide that someone may have been guessing. Worded as wrong_codes_warning."""
    if grid:
        return tn(
            "Warning: {shop} cancelled the card payment of {amount} after {count} wrong code. "
            "Never show your code slip.",
            "Warning: {shop} cancelled the card payment of {amount} after {count} wrong codes. "
            "Never show your code slip.",
            wrong,
            shop=shop_name,
            amount=Money(amount_cents),
        )
    if pin:
        return tn(
            "Warning: {shop} cancelled the card payment of {amount} after {count} wrong PIN. "
            "Tell your PIN only to the cashier.",
            "Warning: {shop} cancelled the card payment of {amount} after {count} wrong PINs. "
            "Tell your PIN only to the cashier.",
            wrong,
            shop=shop_name,
            amount=Money(amount_cents),
        )
    return tn(
        "Warning: {shop} cancelled the payment of {amount} after {count} wrong code. "
        "Give your code only to the cashier.",
        "Warning: {shop} cancelled the payment of {amount} after {count} wrong codes. "
        "Give your code only to the cashier.",
        wrong,
        shop=shop_name,
        amount=Money(amount_cents),
    )


def _paid(amount_cents: int, shop_name: str, balance_cents: int) -> Reply:
    """The receipt of a confirmed payment."""
    return Reply.of(
        t(
            "Paid {amount} at {shop}. Remaining balance: {balance}.",
            amount=Money(amount_cents),
            shop=shop_name,
            balance=Money(balance_cents),
        )
    )


async def tell_refused_for_balance(
    uow: UnitOfWork, charge_id: int, now: datetime
) -> tuple[int, int] | None:
    """The citizen gave the code but the balance no longer covers the amount (another shop
    was paid meanwhile): the citizen is told, with the balance; the shop is not (the
    cashier is told to ask the customer). Returns (messages queued, balance): none queued
    for a holder no notice reaches (a card without a phone, a chat or a delegate)."""
    # Loaded one by one, not with_parties: the payment was decided (maybe in one trip), and
    # this is only its notice, on the rare refused path.
    charge = await uow.charges.by_id(charge_id)
    if charge is None:
        return None
    citizen = await uow.citizens.by_id(charge.citizen_id)
    shop = await uow.shops.by_id(charge.shop_id)
    if citizen is None or shop is None:
        return None
    balance = await ledger.citizen_balance(uow, charge.municipality_id, citizen.id)
    told = await notify_payer(
        uow,
        citizen,
        Reply.of(
            t(
                "The payment of {amount} at {shop} was refused: your balance is {balance}.",
                amount=Money(charge.amount_cents),
                shop=shop.name,
                balance=Money(balance),
            )
        ),
        now,
        charge_id=charge.id,
    )
    return told, balance


async def _warn_wrong_codes(
    uow: UnitOfWork, charge: m.Charge, citizen: m.Citizen, shop: m.Shop, now: datetime
) -> None:
    """The holder's warning when wrong codes typed at the till cancelled the payment,
    worded for what the payment asked: a card's PIN or a code of its slip, or a code sent."""
    card = charge.consent == cards.CONSENT_CARD_PIN
    text = wrong_codes_warning(
        shop.name, charge.amount_cents, pin=card, grid=charge.card_code_position is not None
    )
    await notify_payer(uow, citizen, Reply.of(text), now, charge_id=charge.id)


async def _tell_void(
    uow: UnitOfWork,
    charge: m.Charge,
    citizen: m.Citizen,
    shop: m.Shop,
    now: datetime,
    *,
    by_office: bool = False,
) -> None:
    """The citizen holds a code (or was asked for the card's PIN) for a payment that will
    not happen: say it is void. `by_office`: the office stopped it (a revocation), not the
    shop. A shop giving up a payment its cashier typed wrong codes for is told as a warning
    with how many (cancelled_after_wrong_codes): never a plain "the shop cancelled"."""
    amount = Money(charge.amount_cents)
    card = charge.consent == cards.CONSENT_CARD_PIN
    if not by_office and charge.attempts:
        text = cancelled_after_wrong_codes(
            shop.name,
            charge.amount_cents,
            charge.attempts,
            pin=card,
            grid=card and charge.card_code_position is not None,
        )
    elif by_office and card:
        text = t(
            "The office cancelled the card payment of {amount} at {shop}: nothing was taken "
            "from your vouchers.",
            shop=shop.name,
            amount=amount,
        )
    elif by_office:
        text = office_stopped(shop, charge)
    elif card:
        text = t(
            "{shop} cancelled the card payment of {amount}: nothing was taken from your vouchers.",
            shop=shop.name,
            amount=amount,
        )
    else:
        text = t(
            "{shop} cancelled the payment of {amount}. The code is no longer valid.",
            shop=shop.name,
            amount=amount,
        )
    await notify_payer(uow, citizen, Reply.of(text), now, charge_id=charge.id)
