"""Recording messages to deliver, in the same transaction as the change they report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from core.domain.keys import ServerKeys
from core.domain.messages import Reply, reply_from_json, reply_to_json
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
        payload=seal_payload(uow.keys, reply_to_json(reply)),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        charge_id=charge_id,
    )
    uow.session.add(message)
    return message


def scrubbed(payload: dict[str, Any]) -> dict[str, Any]:
    """A sensitive reply without its parameters (the code): kept only as msgids."""
    texts = [{"msgid": text.get("msgid", ""), "params": {}} for text in payload.get("texts", [])]
    return {"texts": texts, "sensitive": True, "scrubbed": True}


def seal_payload(keys: ServerKeys, payload: dict[str, Any]) -> dict[str, Any]:
    """A sensitive reply (it carries a code) is stored encrypted with the outbox key: the
    row keeps only its msgids in clear, the parameters travel in `sealed` until delivery."""
    if not payload.get("sensitive"):
        return payload
    return {
        "texts": scrubbed(payload)["texts"],
        "sensitive": True,
        "sealed": keys.seal(payload),
    }


def open_payload(keys: ServerKeys, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload to deliver: a sealed one decrypted (only at sending)."""
    sealed = payload.get("sealed")
    if isinstance(sealed, str):
        return keys.unseal(sealed)
    return dict(payload)


def reply_of(keys: ServerKeys, row: m.OutboxMessage) -> Reply:
    return reply_from_json(open_payload(keys, row.payload))


class Reachable(Protocol):
    """What says where a citizen is reached (a Citizen, or a row of a bulk query)."""

    @property
    def erased_at(self) -> datetime | None: ...
    @property
    def telegram_chat_id(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...


def citizen_channel(citizen: Reachable) -> tuple[str, str] | None:
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


@dataclass(frozen=True)
class Payer:
    """Where payment messages for a citizen go: their delegate's phone when the office
    registered one (docs/cards-and-delegates.md), else the citizen's own channel."""

    channel: str
    address: str
    language: str
    delegated: bool


async def payer_of(uow: UnitOfWork, citizen: m.Citizen) -> Payer | None:
    if citizen.erased_at is not None:
        return None
    delegate = await uow.delegates.of_citizen(citizen.id)
    if delegate is not None:
        conversation = await uow.conversations.find(citizen.municipality_id, "sms", delegate.phone)
        language = conversation.language if conversation else citizen.language
        return Payer("sms", delegate.phone, language, True)
    own = citizen_channel(citizen)
    return None if own is None else Payer(own[0], own[1], citizen.language, False)


def notify(
    uow: UnitOfWork,
    citizen: m.Citizen,
    payer: Payer | None,
    reply: Reply,
    now: datetime,
    charge_id: int | None = None,
    *,
    code: bool = False,
) -> int:
    """A payment message to the payer. A code goes to one place only; receipts and
    warnings sent to a delegate also go to the citizen's own channel, so that a citizen
    sees what is spent in their name. Returns how many messages were queued."""
    if payer is None:
        return 0
    enqueue(
        uow,
        municipality_id=citizen.municipality_id,
        channel=payer.channel,
        address=payer.address,
        language=payer.language,
        reply=reply,
        now=now,
        charge_id=charge_id,
    )
    if code or not payer.delegated:
        return 1
    return 2 if notify_citizen(uow, citizen, reply, now, charge_id) is not None else 1


async def notify_payer(
    uow: UnitOfWork,
    citizen: m.Citizen,
    reply: Reply,
    now: datetime,
    charge_id: int | None = None,
) -> int:
    """A receipt or a warning about a payment: see `notify`."""
    return notify(uow, citizen, await payer_of(uow, citizen), reply, now, charge_id)


async def notify_shop(
    uow: UnitOfWork, shop_id: int, reply: Reply, now: datetime, charge_id: int | None = None
) -> int:
    """Tell every member of a shop (owner and cashiers). Returns how many were told."""
    shop = await uow.shops.by_id(shop_id)
    if shop is None:
        return 0
    return await notify_members(
        uow, shop, await uow.shops.members_of(shop_id), reply, now, charge_id
    )


async def notify_members(
    uow: UnitOfWork,
    shop: m.Shop,
    members: Sequence[m.ShopMember],
    reply: Reply,
    now: datetime,
    charge_id: int | None = None,
) -> int:
    """Tell these members of a shop, each in the language of their chat, through the outbox."""
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
