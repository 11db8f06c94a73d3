"""Recording messages to deliver, in the same transaction as the change they report.

Also the rules about payment codes once the outbox has tried them (the outbox
package calls these, in its own transaction): a code that cannot be delivered
is reported to the shop, and a code that left (or never will) is forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from core.domain.channels import Channel
from core.domain.charges import ChargeStatus
from core.domain.erasure import can_act_on
from core.domain.keys import ServerKeys
from core.domain.messages import (
    Money,
    Reply,
    reply_from_json,
    reply_json_text,
    reply_to_json,
    t,
)
from core.domain.outbox import OutboxStatus
from core.domain.shops import MemberRole
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

log = logging.getLogger(__name__)

# Lanes of the outbox, claimed in this order. 0: about a payment (the code, receipts, the
# shop's notices about it); someone at a till is waiting. 1: the answer to a message just
# received; someone is looking at the chat. 2: notices the service sends on its own (a
# tranche credited to 100,000 households takes over an hour at a 20 SMS/s cap, and an
# answer to SALDO must not queue behind it).
PAYMENT_LANE, REPLY_LANE, NOTICE_LANE = 0, 1, 2
# Every code this service sends is valid at most this long (confirmation codes, and a
# payment's by default): a code still undelivered after it is not worth sending.
CODE_DELIVER_WITHIN = timedelta(minutes=10)
# The payload key of a message worth sending only while its charge has the status it names
# (a payment's code: "pending"); checked when the outbox claims the row.
WHILE_CHARGE = "while_charge"
# What the office re-queues gets this long again to be delivered.
REQUEUED_LIFETIME = timedelta(hours=72)


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
    deliver_by: datetime | None = None,
    lane: int | None = None,
    while_charge: ChargeStatus | None = None,
) -> m.OutboxMessage:
    """Queue one message. `deliver_by`: when it stops being worth sending (a code: when it
    expires; default for a code CODE_DELIVER_WITHIN; a notice: the worker's lifetime).
    `lane`: see `lane_of`. `while_charge`: the message is worth sending only while its
    charge (`charge_id`) has this status (a payment's code: pending), see `not_worth_sending`."""
    message = m.OutboxMessage(
        **outbox_row(
            uow.keys,
            municipality_id=municipality_id,
            channel=channel,
            address=address,
            language=language,
            reply=reply,
            now=now,
            charge_id=charge_id,
            deliver_by=deliver_by,
            lane=lane,
            while_charge=while_charge,
        )
    )
    uow.add(message)
    return message


# Read once: an enum member's `.value` is a Python property on 3.11 (about 1,700
# instructions), and every queued reply of a chat turn asks it.
_PENDING = OutboxStatus.PENDING.value


def outbox_row(
    keys: ServerKeys,
    *,
    municipality_id: int | None,
    channel: str,
    address: str,
    language: str,
    reply: Reply,
    now: datetime,
    charge_id: int | None = None,
    deliver_by: datetime | None = None,
    lane: int | None = None,
    while_charge: ChargeStatus | None = None,
    payload_text: bool = False,
) -> dict[str, Any]:
    """The columns of one queued message (`enqueue` adds it through the ORM; a one-trip
    plan, core/storage/turn_trip.py, inserts the same values with its own SQL).
    `payload_text`: the payload of a reply stored in clear as its JSON text, the
    characters the JSON column stores (messages.reply_json_text), for a plan's SQL."""
    if deliver_by is None and reply.sensitive:
        deliver_by = now + CODE_DELIVER_WITHIN
    payload: dict[str, Any] | str
    if payload_text and not reply.sensitive and while_charge is None:
        payload = reply_json_text(reply)
    else:
        payload = seal_payload(keys, reply_to_json(reply))
        if while_charge is not None:
            assert charge_id is not None, "while_charge needs the charge"
            payload[WHILE_CHARGE] = while_charge.value  # in clear: read at claim, never sent
    return {
        "municipality_id": municipality_id,
        "channel": channel,
        "address": address,
        "language": language,
        "payload": payload,
        "status": _PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "charge_id": charge_id,
        "lane": lane_of(charge_id, lane),
        "deliver_by": deliver_by,
    }


def lane_of(charge_id: int | None, lane: int | None = None) -> int:
    """A message about a charge is always in the payment lane; else the caller's lane (the
    dialogue's answers: REPLY_LANE; a community voucher's payment: PAYMENT_LANE), by
    default a notice."""
    if charge_id is not None:
        return PAYMENT_LANE
    return NOTICE_LANE if lane is None else lane


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
    if not can_act_on(citizen):
        return None
    if citizen.telegram_chat_id:
        return (Channel.TELEGRAM, citizen.telegram_chat_id)
    if citizen.phone:
        return (Channel.SMS, citizen.phone)
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


def notify_number(
    uow: UnitOfWork, citizen: m.Citizen, phone: str, reply: Reply, now: datetime
) -> m.OutboxMessage:
    """An SMS about the citizen's vouchers to a number other than where they are reached
    (notify_citizen): a phone being given to them or taken from them, their delegate's; in
    the citizen's language."""
    return enqueue(
        uow,
        municipality_id=citizen.municipality_id,
        channel=Channel.SMS,
        address=phone,
        language=citizen.language,
        reply=reply,
        now=now,
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
    if not can_act_on(citizen):
        return None
    delegate = await uow.delegates.of_citizen(citizen.id)
    if delegate is not None:
        conversation = await uow.conversations.find(
            citizen.municipality_id, Channel.SMS, delegate.phone
        )
        language = conversation.language if conversation else citizen.language
        return Payer(Channel.SMS, delegate.phone, language, True)
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
    deliver_by: datetime | None = None,
    while_charge: ChargeStatus | None = None,
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
        deliver_by=deliver_by,
        while_charge=while_charge,
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


async def notify_till(uow: UnitOfWork, charge: m.Charge, reply: Reply, now: datetime) -> int:
    """Tell the till that asked a payment (its `requested_by`) what became of it: the other
    cashiers of the shop have nothing to do with it. The whole shop when that chat no
    longer works there (its owner still learns it)."""
    shop = await uow.shops.by_id(charge.shop_id)
    if shop is None:
        return 0
    members = await uow.shops.members_of(shop.id)
    till = [x for x in members if f"{x.channel}:{x.address}" == charge.requested_by]
    return await notify_members(uow, shop, till or members, reply, now, charge.id)


async def notify_members(
    uow: UnitOfWork,
    shop: m.Shop,
    members: Sequence[m.ShopMember],
    reply: Reply,
    now: datetime,
    charge_id: int | None = None,
) -> int:
    """Tell these members of a shop, each in the language of their chat, through the outbox.
    The owner rows of a shop are one person (the registration's owner, reached on several
    channels: the shop's number by SMS, the terminal chat, Telegram), told once: on the
    chat they wrote from last, or, when none of them wrote yet, on the one they
    registered with. Cashiers are people of their own, each told. Returns how many were
    told."""
    chats = [
        (member, await uow.conversations.find(shop.municipality_id, member.channel, member.address))
        for member in members
    ]
    owners = [x for x in chats if x[0].role == MemberRole.OWNER.value]
    if len(owners) > 1:
        told = max(owners, key=_last_written)
        chats = [x for x in chats if x[0].role != MemberRole.OWNER.value or x is told]
    for member, conversation in chats:
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
    return len(chats)


_NEVER = datetime.min.replace(tzinfo=UTC)


def _last_written(chat: tuple[m.ShopMember, m.Conversation | None]) -> tuple[datetime, int]:
    """The chat written from last; among chats never written from, the earliest member
    (the registration's)."""
    member, conversation = chat
    return (conversation.updated_at if conversation is not None else _NEVER, -member.id)


def carries_code(row: m.OutboxMessage) -> bool:
    """A sensitive row: a payment code (sealed until sent, scrubbed after)."""
    return bool(row.payload.get("sensitive"))


def forget_code(row: m.OutboxMessage) -> None:
    """The code has left (or never will): it must not stay readable in the database."""
    if carries_code(row):
        row.payload = scrubbed(row.payload)


async def code_not_delivered(uow: UnitOfWork, row: m.OutboxMessage, now: datetime) -> bool:
    """A payment code that cannot reach the citizen would leave the cashier waiting for
    nothing: tell the shop's members while the charge is still pending. True when told."""
    if row.charge_id is None or not carries_code(row):
        return False
    charge = await uow.charges.by_id(row.charge_id)
    if charge is None or charge.status != ChargeStatus.PENDING:
        return False
    notice = Reply.of(
        t(
            "The code for the payment of {amount} could not be delivered. Ask the citizen to "
            "check the phone, or use the card.",
            amount=Money(charge.amount_cents),
        )
    )
    told = await notify_till(uow, charge, notice, now)
    log.info("payment code of charge %s undelivered; %s shop member(s) told", charge.id, told)
    return told > 0


async def requeue_failed(
    uow: UnitOfWork, municipality_id: int, since: datetime | None, now: datetime
) -> int:
    """Put the municipality's failed or undelivered notices (written since `since`) back in
    the outbox, for another REQUEUED_LIFETIME. Codes are not: they were forgotten once
    they failed, and would have expired anyway. Returns how many."""
    count = 0
    for row in await uow.outbox.failed(municipality_id, since):
        if carries_code(row):
            continue
        row.status = OutboxStatus.PENDING
        row.attempts = 0
        row.next_attempt_at = now
        row.deliver_by = now + REQUEUED_LIFETIME
        row.provider_message_id = None
        count += 1
    return count


async def not_worth_sending(
    uow: UnitOfWork, rows: Sequence[m.OutboxMessage], now: datetime
) -> dict[int, str]:
    """Of these due rows, those no longer worth sending because their charge moved on (a
    payment's code once the payment was confirmed, cancelled or expired): row id -> why,
    for the outbox to close them unsent. One query for the whole batch. Receipts and
    notices of a cancelled payment carry no WHILE_CHARGE and are always sent."""
    waiting = {
        row.id: (row.charge_id, str(row.payload[WHILE_CHARGE]))
        for row in rows
        if row.charge_id is not None and row.payload.get(WHILE_CHARGE)
    }
    if not waiting:
        return {}
    states = await uow.charges.states([charge_id for charge_id, _ in waiting.values()])
    closed: dict[int, str] = {}
    for row_id, (charge_id, wanted) in waiting.items():
        status, expires_at = states.get(charge_id, ("gone", now))
        if status == ChargeStatus.PENDING and expires_at <= now:
            status = ChargeStatus.EXPIRED.value
        if status != wanted:
            closed[row_id] = f"payment {status}"
    return closed
