"""Recording messages to deliver, in the same transaction as the change they report."""

from __future__ import annotations

from datetime import datetime

from core.domain.messages import Reply, reply_to_json
from core.storage import models as m
from core.storage.uow import UnitOfWork


def enqueue(
    uow: UnitOfWork,
    *,
    municipality_id: int | None,
    channel: str,
    address: str,
    language: str,
    reply: Reply,
    now: datetime,
    charge_id: int | None = None,
) -> m.OutboxMessage:
    message = m.OutboxMessage(
        municipality_id=municipality_id,
        channel=channel,
        address=address,
        language=language,
        payload=reply_to_json(reply),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        charge_id=charge_id,
    )
    uow.session.add(message)
    return message


def citizen_channel(citizen: m.Citizen) -> tuple[str, str] | None:
    """Where a citizen is reached: their linked Telegram chat, else their phone by SMS."""
    if citizen.erased_at is not None:
        return None
    if citizen.telegram_chat_id:
        return ("telegram", citizen.telegram_chat_id)
    if citizen.phone:
        return ("sms", citizen.phone)
    return None


def notify_citizen(
    uow: UnitOfWork, citizen: m.Citizen, reply: Reply, now: datetime, charge_id: int | None = None
) -> m.OutboxMessage | None:
    destination = citizen_channel(citizen)
    if destination is None:
        return None
    channel, address = destination
    return enqueue(
        uow,
        municipality_id=citizen.municipality_id,
        channel=channel,
        address=address,
        language=citizen.language,
        reply=reply,
        now=now,
        charge_id=charge_id,
    )


async def payer_channel(uow: UnitOfWork, citizen: m.Citizen) -> tuple[str, str] | None:
    """Where payment codes for a citizen go: their delegate's phone when the office
    registered one (docs/cards-and-delegates.md), else the citizen's own channel."""
    if citizen.erased_at is not None:
        return None
    delegate = await uow.delegates.of_citizen(citizen.id)
    if delegate is not None:
        return ("sms", delegate.phone)
    return citizen_channel(citizen)


async def notify_payer(
    uow: UnitOfWork,
    citizen: m.Citizen,
    reply: Reply,
    now: datetime,
    charge_id: int | None = None,
    *,
    code: bool = False,
) -> int:
    """A payment message: to the delegate when there is one, else to the citizen.

    A code goes to one place only; receipts and warnings go to the delegate and also to
    the citizen's own channel, so that a citizen sees what is spent in their name.
    Returns how many messages were queued."""
    if citizen.erased_at is not None:
        return 0
    delegate = await uow.delegates.of_citizen(citizen.id)
    if delegate is None:
        return 1 if notify_citizen(uow, citizen, reply, now, charge_id) is not None else 0
    conversation = await uow.conversations.find(citizen.municipality_id, "sms", delegate.phone)
    enqueue(
        uow,
        municipality_id=citizen.municipality_id,
        channel="sms",
        address=delegate.phone,
        language=conversation.language if conversation else citizen.language,
        reply=reply,
        now=now,
        charge_id=charge_id,
    )
    if code:
        return 1
    return 2 if notify_citizen(uow, citizen, reply, now, charge_id) is not None else 1


async def notify_shop(
    uow: UnitOfWork, shop_id: int, reply: Reply, now: datetime, charge_id: int | None = None
) -> int:
    """Tell every member of a shop (owner and cashiers). Returns how many were told."""
    shop = await uow.shops.by_id(shop_id)
    if shop is None:
        return 0
    members = await uow.shops.members_of(shop_id)
    for member in members:
        conversation = await uow.conversations.find(
            shop.municipality_id, member.channel, member.address
        )
        enqueue(
            uow,
            municipality_id=shop.municipality_id,
            channel=member.channel,
            address=member.address,
            language=conversation.language if conversation else "it",
            reply=reply,
            now=now,
            charge_id=charge_id,
        )
    return len(members)
