"""The plain turns the engine answers in one trip to the database (core/storage/turn_trip.py).

A plain turn comes from an existing conversation that stands at no step, routed to a
town by the number written to (or the only town), and is one of:

- SALDO (or BALANCE, a tapped Balance button, the number of the Balance option,
  "vorrei il mio saldo") in a conversation not stopped: the balance to a citizen (their
  phone; their linked Telegram chat) or a delegate's phone, else, to a Telegram chat that
  is nobody's and never shared its contact, the request for the contact (the chat then
  stands at the contact step, where a SALDO written again is plain too); nobody's phone,
  and a chat whose shared number is nobody's yet, are left to the general path (whether
  DOMANDA is suggested depends on the application window);
- MENU, AIUTO (HELP, only on Telegram: see below) and START (without a deep link's
  payload) in a conversation not stopped, from anybody: their answer depends only on the
  shops the address works for and the town. The help names first a payment waiting for
  the code sent to this chat (commands.run): the plan looks for one asked of the
  citizen linked to the Telegram chat, and leaves the help to the general path when
  there is one (rare, and the general path knows where the code went). By SMS and at
  the terminal the general path answers the help (which help it is depends, by SMS, on
  the one said before: see menus.say_help).

Everything here is pure: the plan loads, these functions decide with the same pieces
the general path uses (commands.of_message / of_answer, Turn.read,
flows/citizen.balance_reply, menus.menu_replies / help_of / welcome_of,
state.memory_to_save, outbox.outbox_row), and anything else is left to the engine's
general path. See docs/decisions/0007-one-trip-dialogue-turn.md.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from core.dialogue import commands, questions
from core.dialogue.context import PHONE_CHANNELS, Turn, offered_by, offered_of
from core.dialogue.flows.citizen import IDENTIFY, MOVEMENTS_SHOWN, balance_reply, nobody_reply
from core.dialogue.inbound import Inbound
from core.dialogue.languages import written_in
from core.dialogue.menus import (
    MenuShop,
    community_available,
    help_of,
    help_offered,
    help_way,
    menu_replies,
    welcome_of,
)
from core.dialogue.state import ChatMemory, IdentifyState, Offered, load_memory, memory_to_save
from core.domain.channels import Channel
from core.domain.identity import phone_or_none
from core.domain.keys import ServerKeys
from core.domain.ledger import PostingKind
from core.domain.messages import Reply
from core.domain.shops import MemberRole, ShopStatus
from core.services.movements import Movement
from core.services.outbox import REPLY_LANE, outbox_row
from core.storage.turn_trip import (
    ConversationRow,
    Found,
    Lookup,
    TownRow,
    TurnAsk,
    TurnOutcome,
    TurnWrite,
    turn_transaction,
)
from core.storage.uow import UnitOfWork

# A longer address is nobody to answer (the engine's general path records it and stays silent).
MAX_ADDRESS = 64
_PLAIN_CHANNELS = PHONE_CHANNELS | {Channel.TELEGRAM.value}
_BALANCE = ("balance", "")
_START = ("start", "")
_HELP = ("help", "")
# A posting's kind by its stored value: a dict look-up, where PostingKind(value) goes
# through the enum's metaclass call (about 5,000 instructions, three a balance).
_POSTING_KINDS = {kind.value: kind for kind in PostingKind}
# The commands a plain turn answers (without an argument: "START <card>" is a deep link).
_PLAIN = frozenset({_BALANCE, ("menu", ""), _HELP, _START})


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
    number = phone_or_none(to)
    return by_number.get(number) if number else None


def routed(towns: Sequence[N], to: str | None) -> N | None:
    """The town of a message: by the number written to, else the only town (None: the
    person has to pick one, or no town uses that number)."""
    town = town_by_number(towns, to)
    if town is None and len(towns) == 1:
        town = towns[0]
    return town


@dataclass(frozen=True, slots=True)
class _Asking:
    """A plain request, as classified before the sender is looked up."""

    command: str  # balance, menu, help or start
    town: TownRow
    conversation: ConversationRow
    memory: ChatMemory


class PlainTurn:
    """The decisions of the one-trip path for one inbound message."""

    def __init__(
        self, inbound: Inbound, now: datetime, keys: ServerKeys, *, payments: bool = False
    ) -> None:
        self.inbound = inbound
        # The channel's name, read once: an enum member's `.value` is a Python property on
        # 3.11 (about 1,700 instructions), and a turn asked it four times.
        self.channel = inbound.channel.value
        self.now = now
        self.keys = keys
        # Telegram Payments configured: the menu and the help may offer community vouchers.
        self.payments = payments

    @staticmethod
    def candidate(inbound: Inbound) -> bool:
        """Whether the message may be a plain turn (cheap, before any database trip):
        text or a tapped option only, and a plain command or what may turn out to mean
        one (a number picking an option, a sentence with the keyword)."""
        if (
            not inbound.address
            or len(inbound.address) > MAX_ADDRESS
            or inbound.channel.value not in _PLAIN_CHANNELS
            or inbound.payment is not None
            or inbound.location is not None
            or inbound.contact is not None
            or inbound.start_parameter
            or inbound.edited is not None
        ):
            # (An edit: whether it is read at all is the general path's question.)
            return False
        command = commands.of_message(inbound)
        if command is not None:
            return command in _PLAIN
        text = (inbound.text or "").strip()
        return text.isdigit() or questions.unasked(text) in _PLAIN

    # The callbacks of core/storage/turn_trip.turn_plan ------------------------------------

    def route(self, towns: list[TownRow]) -> TownRow | None:
        return routed(towns, self.inbound.to)

    def classify(self, town: TownRow, conversation: ConversationRow) -> Lookup[_Asking] | None:
        """A plain command from a conversation standing at no step and not stopped (the
        engine answers a stopped one first: START says notices are on again). A
        Telegram chat asked for its contact (IDENTIFY) takes only SALDO again: that step
        keeps no draft, so the general path leaves it and asks again, as here."""
        at = (conversation.flow, conversation.step)
        identifying = at == IDENTIFY
        if at != (None, None) and not identifying:
            return None
        if conversation.stopped:
            return None
        inbound = self.inbound
        written = commands.of_message(inbound)
        memory = load_memory(conversation.data)
        # The message read now, as the general path records it (an edit of it may follow).
        memory.last_message = inbound.message_id
        # Whatever this turn answers, it is no longer right after a shop list.
        memory.listed = None
        command = written
        if command is None:
            # Only a message that is no command is read against the options offered
            # (of_answer returns a written command as it is): a /menu or SALDO is spared
            # folding its words against every option remembered.
            inp = Turn.read(inbound, list(memory.options))
            command = commands.of_answer(None, inp, inbound.text, asked=identifying)
        if command not in _PLAIN or (identifying and command != _BALANCE):
            return None
        if command == _HELP and inbound.channel is not Channel.TELEGRAM:
            # By SMS (and at the terminal, which stands in for a phone) the help names a
            # payment waiting for this person's code first, looked up by phone and by
            # delegate, and by SMS which help it is depends on the one said before
            # (menus.say_help): the general path answers it.
            return None
        written_language = written_in(inbound.text)
        if (
            inbound.channel is Channel.SMS
            and written_language is not None
            and conversation.language != written_language
        ):
            # "Balance please" to an Italian chat ("saldo" to an English one): the answer
            # ends with the way to English (Italian) when it fits (commands.hint_english),
            # which the general path says.
            return None
        assert command is not None
        asking = _Asking(command[0], town, conversation, memory)
        if command == _HELP:
            # The help depends on the shops the address works for and, for anybody else,
            # on a payment waiting for the code sent to this chat (see _menu).
            return Lookup(asking, shops=True, waiting_chat=inbound.address)
        if command != _BALANCE:
            # The menu depends on the shops the address works for, nobody else.
            return Lookup(asking, shops=True)
        if self.channel in PHONE_CHANNELS:
            phone = phone_or_none(inbound.address)
            return Lookup(asking, citizen_phone=phone, delegate_phone=phone)
        # Telegram: the linked chat, else the phone shared here as a contact.
        return Lookup(
            asking,
            citizen_chat=inbound.address,
            delegate_phone=memory.phone or None,
            shops_if_nobody=True,
        )

    def decide(self, asking: _Asking, found: Found) -> TurnWrite | None:
        """What the general path answers (commands.run), and the state the engine saves."""
        if asking.command == _BALANCE[0]:
            return self._balance(asking, found)
        return self._menu(asking, found)

    def _balance(self, asking: _Asking, found: Found) -> TurnWrite | None:
        """What flows/citizen.show_balance answers to a citizen or a delegate."""
        holder = found.holder
        inbound = self.inbound
        if holder is None:
            if inbound.channel is not Channel.TELEGRAM:
                # By SMS the answer depends on whether applications are open (DOMANDA is
                # suggested only then): the general path, which reads the window, answers.
                return None
            if found.shops:
                # A shop's chat: identified() says it holds no vouchers.
                return None
            if asking.memory.phone:
                # The chat shared its own contact already: identified() answers by that
                # number (linking the chat to its citizen, or saying it holds nothing).
                return None
            # identified(): nobody's chat. The contact is asked for, and the chat stands
            # at IDENTIFY (its state all defaults: then="balance").
            data = memory_to_save(asking.memory, [], IdentifyState())
            flow, step = IDENTIFY
            return self._write(asking, [nobody_reply()], data=data, flow=flow, step=step)
        language = asking.conversation.language
        moves = [
            Movement(_POSTING_KINDS[p.kind], p.amount_cents, p.at, p.shop_name, p.charge_id)
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
        return self._write(
            asking, [reply], data=memory_to_save(asking.memory, offered_of(reply.options), None)
        )

    def _menu(self, asking: _Asking, found: Found) -> TurnWrite | None:
        """MENU (menus.show_menu), START (the same after the welcome) and AIUTO
        (menus.say_help), as commands.run answers them outside a request. A help to
        somebody a payment is asked of, waiting for its code, is the general path's:
        it names the payment when its code came to this chat."""
        if asking.command == _HELP[0] and found.payment_waiting:
            return None
        inbound = self.inbound
        town = asking.town
        community = community_available(self.channel, self.payments, town.community_enabled)
        shops = [
            MenuShop(
                row.id,
                row.name,
                approved=row.status == ShopStatus.APPROVED,
                owner=row.role == MemberRole.OWNER.value,
                refused=row.status == ShopStatus.REFUSED,
            )
            for row in found.shops
        ]
        offered: list[Offered] | None
        if asking.command == "help":
            texts, keys = help_of(shop=bool(shops), community=community)
            # On Telegram only (the general path answers the help by SMS): asked in the
            # other language, the way to it ends the help (menus.say_help).
            way = help_way(inbound.text, asking.conversation.language)
            replies = [Reply(texts=(*texts, *((way,) if way is not None else ())))]
            offered = help_offered(keys)
        else:
            replies = menu_replies(
                [welcome_of(town.name)] if asking.command == _START[0] else [],
                shops,
                asking.memory.shop_id,
                community=community,
                language=asking.conversation.language,
                sms=inbound.channel is Channel.SMS,
            )
            offered = offered_by(replies)
        return self._write(asking, replies, data=memory_to_save(asking.memory, offered, None))

    def _write(
        self,
        asking: _Asking,
        replies: list[Reply],
        *,
        data: dict[str, Any],
        flow: str | None = None,
        step: str | None = None,
    ) -> TurnWrite:
        """The conversation left at `flow`/`step` (None: no step) with `data` (made by
        state.memory_to_save), the replies queued."""
        inbound = self.inbound
        language = asking.conversation.language
        rows = [
            outbox_row(
                self.keys,
                municipality_id=asking.town.id,
                channel=self.channel,
                address=inbound.address,
                language=language,
                reply=reply,
                now=self.now,
                lane=REPLY_LANE,
                # Stored by the plan's SQL as it is: no dict of each text and parameter
                # walked by json's encoder (a balance by SMS: about 60,000 instructions).
                payload_text=True,
            )
            for reply in replies
        ]
        return TurnWrite(asking.town.id, language, False, data, rows, flow, step)

    # Running it -----------------------------------------------------------------------------

    def ask(self) -> TurnAsk[_Asking]:
        """This turn as the one-trip plan takes it, on either database."""
        inbound = self.inbound
        return TurnAsk(
            self.channel,
            inbound.address,
            inbound.provider_message_id,
            self.now,
            self.route,
            self.classify,
            self.decide,
            MOVEMENTS_SHOWN,
        )

    async def in_unit_of_work(self, uow: UnitOfWork) -> TurnOutcome | None:
        """The turn on the unit of work's own connection (PostgreSQL), not committed."""
        return await uow.conversations.turn_in_one_trip(self.ask())

    def transaction(self) -> Callable[[sqlite3.Connection], TurnOutcome | None]:
        """The turn for SQLite's group commit."""
        return turn_transaction(self.ask())
