""" "Perché non posso pagare?", "il negozio dice che non ho soldi", "mi hanno rifiutato il
buono": why this person's vouchers did not pay, from her own state, to her own chat only
(the phone or chat her vouchers are found by, as SALDO; a number holding none is told
only that). What the services already say is read, nothing is stored: a payment waiting
for her code, her application's status, whether anything was ever credited, the card
blocked, the last payment of the day refused (short of balance, its code late, the shop
or her card locked at that shop), the balance. Every answer is one SMS and
names UFFICIO for a person where a person can help."""

from __future__ import annotations

from datetime import timedelta

from core.dialogue import stray_codes
from core.dialogue.context import Turn
from core.dialogue.flows import citizen as citizen_requests
from core.domain.cards import mask_codice_fiscale_gsm
from core.domain.charges import ShopLock, shop_lock_now
from core.domain.messages import Moment, Money, Text, t
from core.services import cards, ledger
from core.services.applications import ApplicationStatus, status_of
from core.services.charges.waiting import closed_codes, expired_codes
from core.storage import models as m

# A code told late, or wrong too many times: each code pays once, for a few minutes.
CODE_TOO_LATE = t(
    "Your last payment was not made: its code was told too late or wrong. Ask the cashier "
    "to write PAGA again: a new code comes to you."
)
NOT_YET_ASSESSED = t(
    "You cannot pay yet: your application is still being assessed, and the vouchers work "
    "once they are credited. For a person, write UFFICIO."
)
NOT_YET_CREDITED = t(
    "You cannot pay yet: no vouchers have been credited to you. STATO says how your "
    "application stands; for a person, write UFFICIO."
)
CARD_BLOCKED = t(
    "Your voucher card is blocked: too many wrong PINs. The office gives you a new one: "
    "write UFFICIO. Your phone still pays: give the cashier your codice fiscale."
)


def _holders_card_blocked(holder: m.Citizen) -> Text:
    """To the holder's delegate, CARD_BLOCKED of the holder's card, named by the masked
    codice fiscale as SALDO names the holder there (the card's warnings reach the delegate
    already); a delegate pays without the card."""
    return t(
        "The card of {holder} is blocked: too many wrong PINs. A new one: write UFFICIO. "
        "You can still pay for them: give the cashier their codice fiscale.",
        holder=mask_codice_fiscale_gsm(holder.codice_fiscale),
    )


def _holders_not_credited(holder: m.Citizen) -> Text:
    """To the holder's delegate, NOT_YET_CREDITED of the holder's vouchers, named by the
    masked codice fiscale as SALDO names the holder there; not pointed to STATO, which
    tells the application only to the holder's own phone."""
    return t(
        "You cannot pay for {holder} yet: no vouchers have been credited to them. For a "
        "person, write UFFICIO.",
        holder=mask_codice_fiscale_gsm(holder.codice_fiscale),
    )


# The shop's lock is the shop's own affair: she hears only that it cannot take them now.
SHOP_LOCKED = t(
    "Your last payment was not made: that shop cannot take vouchers right now. Pay at "
    "another shop of the list: write NEGOZI."
)
# Why a payment was refused after her code, as the payment records it (charges.outcomes).
_SHORT = "insufficient_funds"
_TOO_LATE = frozenset({"expired", "too_many_attempts"})


async def say_why_refused(turn: Turn) -> None:
    """Why her vouchers did not pay: the first of her reasons that holds."""
    if await stray_codes.on_words_while_paying(turn):
        return  # a payment waits for her code now: which, and how to agree or refuse
    holder = await citizen_requests.represented(turn)
    citizen = holder or await citizen_requests.identified(turn, "balance")
    if citizen is None:
        return  # nobody's vouchers here: said so (or how to find them), nothing else
    turn.finish()
    if not await ledger.is_beneficiary(turn.uow, turn.town.id, citizen.id):
        # A delegate hears the holder's application's state from nobody but the holder.
        turn.say(
            _holders_not_credited(holder) if holder is not None else await _unpaid(turn, citizen)
        )
        return
    if citizen.card_blocked_at is not None:
        turn.say(CARD_BLOCKED if holder is None else _holders_card_blocked(holder))
        return
    locked = await _refused_for_a_lock(turn, citizen, by_delegate=holder is not None)
    if locked is not None:
        turn.say(locked)
        return
    balance = await ledger.citizen_balance(turn.uow, turn.town.id, citizen.id)
    refused = await _last_refused(turn, citizen)
    if refused is not None and refused[0].closed_reason == _SHORT:
        charge, shop = refused
        if holder is not None:
            # "Your balance" to the delegate would be hers: the holder's, named as SALDO does.
            turn.say(
                t(
                    "Payment of {amount} at {shop} refused: the balance of {holder} is "
                    "{balance}. Pay less, or write UFFICIO.",
                    amount=Money(charge.amount_cents),
                    shop=shop.name,
                    holder=mask_codice_fiscale_gsm(holder.codice_fiscale),
                    balance=Money(balance),
                )
            )
            return
        turn.say(
            t(
                "Payment of {amount} at {shop} refused: your balance is {balance}. Ask to "
                "pay less, or write UFFICIO.",
                amount=Money(charge.amount_cents),
                shop=shop.name,
                balance=Money(balance),
            )
        )
        return
    if refused is not None:
        turn.say(CODE_TOO_LATE)
        return
    if balance <= 0 and holder is not None:
        turn.say(
            t(
                "The balance of {holder} is {balance}: the vouchers are spent. SALDO shows the "
                "payments; for a person, write UFFICIO.",
                holder=mask_codice_fiscale_gsm(holder.codice_fiscale),
                balance=Money(balance),
            )
        )
        return
    if balance <= 0:
        turn.say(
            t(
                "Your balance is {balance}: the vouchers are spent, so no shop can take "
                "them. SALDO shows your payments; for a person, write UFFICIO.",
                balance=Money(balance),
            )
        )
        return
    # Money left: a shop outside the scheme, or an amount above the balance.
    if holder is not None:
        # "Your balance" to the delegate would be hers: the holder's, named as SALDO does.
        turn.say(
            t(
                "The balance of {holder} is {balance}. Only the shops NEGOZI lists take the "
                "vouchers, up to the balance. If one of them refused them, write UFFICIO.",
                holder=mask_codice_fiscale_gsm(holder.codice_fiscale),
                balance=Money(balance),
            )
        )
        return
    turn.say(
        t(
            "Your balance is {balance}. Only the shops NEGOZI lists take the vouchers, up "
            "to your balance. If one of them refused them, write UFFICIO.",
            balance=Money(balance),
        )
    )


async def _unpaid(turn: Turn, citizen: m.Citizen) -> Text:
    """Why someone never credited cannot pay: no application, one being assessed, its
    outcome (excluded, revoked, withdrawn: STATO's own words), else nothing credited yet."""
    status: ApplicationStatus | None = await status_of(turn.uow, citizen, turn.now)
    if status is None:
        return t("We found no application of yours. To apply, write DOMANDA.")
    if status.revoked or status.withdrawn_at is not None or status.assignment == "excluded":
        return citizen_requests.status_text(status)
    if status.assignment is None:
        return NOT_YET_ASSESSED
    return NOT_YET_CREDITED


async def _last_refused(turn: Turn, citizen: m.Citizen) -> tuple[m.Charge, m.Shop] | None:
    """Her latest payment of the last day, when it failed after its code was sent (short of
    balance, the code late or wrong); None when the latest was paid, or refused by her, or
    there was none."""
    closed = (await closed_codes(turn.uow, citizen.id, turn.now))[:1]
    # Still pending past its time, or marked expired: its code came too late either way.
    expired = (await expired_codes(turn.uow, citizen.id, turn.now))[:1]
    latest = max([*closed, *expired], key=lambda pair: pair[0].id, default=None)
    if latest is None:
        return None
    reason = latest[0].closed_reason
    if latest in expired or reason == _SHORT or reason in _TOO_LATE:
        return latest
    return None


async def _refused_for_a_lock(turn: Turn, citizen: m.Citizen, *, by_delegate: bool) -> Text | None:
    """When her latest payment of the last day was refused because the shop was locked, or
    her card locked at that shop after wrong PINs, and the lock still holds: what to do
    instead (`by_delegate`: told to her delegate, her card named by her masked codice
    fiscale). None otherwise (the lock gone, the payment refused for another reason)."""
    latest = await turn.uow.charges.latest_for_citizen(citizen.id, turn.now - timedelta(days=1))
    if latest is None or latest.closed_reason not in ("shop_locked", "card_locked_at_shop"):
        return None
    shop = await turn.uow.shops.by_id(latest.shop_id)
    if shop is None:
        return None
    if latest.closed_reason == "shop_locked":
        locked = shop_lock_now(shop.blocked_at, shop.locked_until, turn.now)
        return SHOP_LOCKED if locked is not ShopLock.NONE else None
    again = await cards.shop_may_charge_from(turn.uow, citizen, shop.id, turn.now)
    if again is None:
        return None
    if by_delegate:
        return t(
            "Card of {holder}: no payments at that shop until {until}, too many wrong PINs there. "
            "Other shops take it; for a person, write UFFICIO.",
            holder=mask_codice_fiscale_gsm(citizen.codice_fiscale),
            until=Moment(again),
        )
    return t(
        "Your card cannot pay at that shop until {until}: too many wrong PINs there. It pays "
        "at the other shops; for a person, write UFFICIO.",
        until=Moment(again),
    )
