"""The plain turns the engine answers in one trip to the database (core/storage/turn_trip.py).

A plain turn is SALDO (or BALANCE, a tapped Balance button, the number of the Balance
option, "vorrei il mio saldo") from an existing conversation that is not stopped and
stands at no step, routed to a town by the number written to (or the only town),
from an address that is a citizen's (their phone; their linked Telegram chat) or a
delegate's phone. Everything here is pure: the plan loads, these functions decide
with the same pieces the general path uses (commands.of_message / of_answer,
Turn.read, flows/citizen.balance_reply, state.memory_to_save, outbox.outbox_row),
and anything else is left to the engine's general path. See
docs/decisions/0007-one-trip-dialogue-turn.md.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from core.dialogue import commands
from core.dialogue.context import PHONE_CHANNELS, Turn, offered_of
from core.dialogue.flows.citizen import MOVEMENTS_SHOWN, balance_reply
from core.dialogue.inbound import Inbound
from core.dialogue.state import ChatMemory, load, memory_to_save
from core.domain.channels import Channel
from core.domain.errors import InvalidIdentifier
from core.domain.identity import normalize_phone
from core.domain.keys import ServerKeys
from core.domain.ledger import PostingKind
from core.services.movements import Movement
from core.services.outbox import REPLY_LANE, outbox_row
from core.storage.turn_trip import (
    ConversationRow,
    Holder,
    Lookup,
    TownRow,
    TurnOutcome,
    TurnWrite,
    turn_transaction,
)
from core.storage.uow import UnitOfWork

# A longer address is nobody to answer (the engine's general path records it and stays silent).
MAX_ADDRESS = 64
_PLAIN_CHANNELS = PHONE_CHANNELS | {Channel.TELEGRAM.value}
_BALANCE = ("balance", "")


class Numbered(Protocol):
    @property
    def sms_number(self) -> str | None: ...


N = TypeVar("N", bound=Numbered)


def town_by_number(towns: Sequence[N], to: str | None) -> N | None:
    """The town whose SMS number the message was sent to."""
    if not to:
        return None
    by_number = {town.sms_number: town for town in towns if town.sms_number}
    if to in by_number:
        return by_number[to]
    try:
        return by_number.get(normalize_phone(to))
    except InvalidIdentifier:
        return None


def routed(towns: Sequence[N], to: str | None) -> N | None:
    """The town of a message: by the number written to, else the only town (None: the
    person has to pick one, or no town uses that number)."""
    town = town_by_number(towns, to)
    if town is None and len(towns) == 1:
        town = towns[0]
    return town


@dataclass(frozen=True, slots=True)
class _Asking:
    """A plain balance request, as classified before the sender is looked up."""

    town: TownRow
    conversation: ConversationRow
    memory: ChatMemory


class PlainTurn:
    """The decisions of the one-trip path for one inbound message."""

    def __init__(self, inbound: Inbound, now: datetime, keys: ServerKeys) -> None:
        self.inbound = inbound
        self.now = now
        self.keys = keys

    @staticmethod
    def candidate(inbound: Inbound) -> bool:
        """Whether the message may be a plain turn (cheap, before any database trip):
        text or a tapped option only, and SALDO or what may turn out to mean it (a
        number picking an option, a sentence with the keyword)."""
        if (
            not inbound.address
            or len(inbound.address) > MAX_ADDRESS
            or inbound.channel.value not in _PLAIN_CHANNELS
            or inbound.payment is not None
            or inbound.location is not None
            or inbound.contact is not None
            or inbound.start_parameter
        ):
            return False
        command = commands.of_message(inbound)
        if command is not None:
            return command == _BALANCE
        text = (inbound.text or "").strip()
        return text.isdigit() or commands.in_sentence(text) == _BALANCE

    # The callbacks of core/storage/turn_trip.turn_plan ------------------------------------

    def route(self, towns: list[TownRow]) -> TownRow | None:
        return routed(towns, self.inbound.to)

    def classify(self, town: TownRow, conversation: ConversationRow) -> Lookup[_Asking] | None:
        """A balance request from a conversation standing at no step and not stopped."""
        if conversation.stopped or conversation.flow is not None or conversation.step is not None:
            return None
        memory = load(ChatMemory, conversation.data) or ChatMemory()
        inbound = self.inbound
        inp = Turn.read(inbound, list(memory.options))
        command = commands.of_answer(commands.of_message(inbound), inp, inbound.text, asked=False)
        if command != _BALANCE:
            return None
        asking = _Asking(town, conversation, memory)
        if inbound.channel.value in PHONE_CHANNELS:
            phone = _phone(inbound.address)
            return Lookup(asking, citizen_phone=phone, delegate_phone=phone)
        # Telegram: the linked chat, else the phone shared here as a contact.
        return Lookup(asking, citizen_chat=inbound.address, delegate_phone=memory.phone or None)

    def decide(self, asking: _Asking, holder: Holder) -> TurnWrite:
        """What flows/citizen.show_balance answers, and the state the engine saves."""
        inbound = self.inbound
        language = asking.conversation.language
        moves = [
            Movement(PostingKind(p.kind), p.amount_cents, p.at, p.shop_name, p.charge_id)
            for p in holder.postings
        ]
        reply = balance_reply(
            holder.balance_cents,
            moves,
            asking.town.timezone,
            holder=holder.codice_fiscale if holder.by_delegate else None,
            language=language,
            sms=inbound.channel is Channel.SMS,
        )
        # show_balance finishes (no step, nothing offered) and says the reply.
        data = memory_to_save(asking.memory, offered_of(reply.options), None)
        row = outbox_row(
            self.keys,
            municipality_id=asking.town.id,
            channel=inbound.channel.value,
            address=inbound.address,
            language=language,
            reply=reply,
            now=self.now,
            lane=REPLY_LANE,
        )
        return TurnWrite(asking.town.id, language, asking.conversation.stopped, data, [row])

    # Running it -----------------------------------------------------------------------------

    async def in_unit_of_work(self, uow: UnitOfWork) -> TurnOutcome | None:
        """The turn on the unit of work's own connection (PostgreSQL), not committed."""
        inbound = self.inbound
        return await uow.conversations.turn_in_one_trip(
            inbound.channel.value,
            inbound.address,
            inbound.provider_message_id,
            self.now,
            route=self.route,
            classify=self.classify,
            decide=self.decide,
            postings_shown=MOVEMENTS_SHOWN,
        )

    def transaction(self) -> Callable[[sqlite3.Connection], TurnOutcome | None]:
        """The turn for SQLite's group commit."""
        inbound = self.inbound
        return turn_transaction(
            inbound.channel.value,
            inbound.address,
            inbound.provider_message_id,
            self.now,
            route=self.route,
            classify=self.classify,
            decide=self.decide,
            postings_shown=MOVEMENTS_SHOWN,
        )


def _phone(address: str) -> str | None:
    try:
        return normalize_phone(address)
    except InvalidIdentifier:
        return None
