"""Payment codes left behind: when a chat stops being the citizen's (the office removes
their delegate, or gives them a new phone, unlinking the Telegram chat of the old one),
the payments waiting for a code sent there are cancelled in the same transaction, their
unsent code messages closed, the shop and the citizen told. A lost or stolen phone, or a
delegate whose power was taken away, confirms nothing more and receives no late code
(docs/payments-and-codes.md). The card's slip sends nothing and is not concerned (a new
card cancels its own payments: core.services.cards.issue_card).

A PAGA running at the same moment leaves no code behind the change either: the database
refuses a code's row for a place that is no longer the citizen's, and the change waits for
a code's row not committed yet, which its sweep then sees (migration
0038_code_destination_guard; on PostgreSQL the refused PAGA is run again, its code going
where the citizen is reached now).

Also where the cashier is told a code went (shown_destination), for a payment's code and a
refund's (core.services.refund_codes).

Below core.services.charges and core.services.identity in the imports, so that
identity.rebind_phone and delegates.remove_delegate can call it.
"""

from __future__ import annotations

from datetime import datetime

from core.domain.channels import Channel
from core.domain.charges import ChargeStatus
from core.domain.erasure import can_act_on
from core.domain.identity import mask_phone, parse_reference
from core.domain.messages import Money, Reply, Text, t
from core.services.outbox import (
    Payer,
    carries_code,
    citizen_channel,
    notify_payer,
    notify_shop,
    scrubbed,
)
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# closed_reason of a payment cancelled because its code went to a chat no longer the
# citizen's.
CODE_ELSEWHERE = "code_elsewhere"


def destinations_of(citizen: m.Citizen, delegate: m.Delegate | None) -> set[tuple[str, str]]:
    """Where a payment code of the citizen may be now: their own phone and linked Telegram
    chat, and their delegate's phone (outbox.payer_of sends it to one of them)."""
    theirs: set[tuple[str, str]] = set()
    if can_act_on(citizen):
        if citizen.phone:
            theirs.add((Channel.SMS, citizen.phone))
        if citizen.telegram_chat_id:
            theirs.add((Channel.TELEGRAM, citizen.telegram_chat_id))
    if delegate is not None:
        theirs.add((Channel.SMS, delegate.phone))
    return theirs


def shown_destination(
    citizen: m.Citizen, payer: Payer, typed: str | None = None
) -> tuple[str, str]:
    """Where the cashier is told the code went: (channel, masked address, "" for none).

    A code sent to a delegate's phone is shown as the citizen's own channel would be (or,
    when the citizen has none, with the digits of the phone the cashier typed, else none):
    that the citizen has a delegate is not the shop's to learn."""
    channel, address = payer.channel, payer.address
    if payer.delegated:
        own = citizen_channel(citizen)
        if own is not None:
            channel, address = own
        else:
            kind, value = parse_reference(typed) if typed else ("", "")
            channel, address = Channel.SMS, value if kind == "phone" else ""
    if channel != Channel.SMS:
        return channel, "Telegram"
    return channel, mask_phone(address) if address else ""


async def void_codes_gone_elsewhere(uow: UnitOfWork, citizen: m.Citizen, now: datetime) -> int:
    """Cancel the citizen's payments waiting for a code that went to a chat no longer
    theirs (destinations_of, read now: call this after the change, in its transaction).

    Where a code went is its outbox row. Each such payment is cancelled by compare-and-set
    (one confirmed before stays confirmed), its code's rows not sent yet are closed unsent
    and scrubbed, and, while it was still valid, the shop's members hear that it will not
    come and the citizen, where they are reached now, that the code is void: the words of a
    payment the office stopped (charges.cancelled_by_office). Returns how many."""
    theirs = destinations_of(citizen, await uow.delegates.of_citizen(citizen.id))
    cancelled = 0
    for charge in await uow.charges.pending_for_citizen(citizen.id):
        if not charge.code_hash:
            continue  # a card's slip: no code was sent
        codes = [row for row in await uow.outbox.for_charge(charge.id) if carries_code(row)]
        if all((row.channel, row.address) in theirs for row in codes):
            continue
        if not await uow.charges.mark(
            charge.id,
            ChargeStatus.PENDING,
            status=ChargeStatus.CANCELLED,
            closed_reason=CODE_ELSEWHERE,
        ):
            continue
        cancelled += 1
        for row in codes:
            await uow.outbox.close_unsent(
                row.id, scrubbed(row.payload), "not sent: payment cancelled"
            )
        if charge.expires_at > now:
            await _tell(uow, charge, citizen, now)
    return cancelled


async def _tell(uow: UnitOfWork, charge: m.Charge, citizen: m.Citizen, now: datetime) -> None:
    shop = await uow.shops.by_id(charge.shop_id)
    if shop is None:
        return
    await notify_payer(
        uow, citizen, Reply.of(office_stopped(shop, charge)), now, charge_id=charge.id
    )
    await tell_shop_office_stopped(uow, shop, charge, now)


def office_stopped(shop: m.Shop, charge: m.Charge) -> Text:
    """What the citizen holding a payment's code hears when the office stops the payment:
    a revocation (charges.cancelled_by_office), or its code gone to a chat no longer theirs."""
    return t(
        "The office cancelled the payment of {amount} at {shop}. The code is no longer valid.",
        shop=shop.name,
        amount=Money(charge.amount_cents),
    )


async def tell_shop_office_stopped(
    uow: UnitOfWork, shop: m.Shop, charge: m.Charge, now: datetime
) -> None:
    """The shop's members hear that a payment the office stopped will not come (the
    cashier would otherwise wait for its code)."""
    await notify_shop(
        uow,
        shop.id,
        Reply.of(
            t(
                "The office cancelled the payment of {amount}: it cannot be completed, do not "
                "wait for the code.",
                amount=Money(charge.amount_cents),
            )
        ),
        now,
        charge_id=charge.id,
    )
