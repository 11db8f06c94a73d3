"""What a conversation remembers between two messages, as typed records.

The engine stores a `ChatMemory` as JSON in `conversations.data`; the current
flow's answers sit in its `state` key as that flow's own `FlowState`. Every field
is named after the JSON key written before these records existed, so a
conversation stored by an older release loads unchanged (a deploy does not cut a
citizen off in the middle of an application). Unknown keys are ignored, missing
ones take their defaults, and defaults are not written back, so the stored JSON
stays as small as before. pydantic's TypeAdapter does the checking and the JSON
conversion of these plain dataclasses; a memory of nothing but a menu's options and plain
values (most chats between two messages) is read and written by hand into the same
records and the same JSON, a few thousand instructions cheaper (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypeVar

from pydantic import TypeAdapter, ValidationError

from core.domain.shops import ShopCategory

log = logging.getLogger(__name__)

T = TypeVar("T")


# --- pieces ------------------------------------------------------------------------------


@dataclass
class Offered:
    """An option offered by the last question: its key and its label folded in every
    language, so that a typed "saldo" or "balance" picks it as well as "1" does."""

    k: str
    w: list[str] = field(default_factory=list)


@dataclass
class PendingCode:
    """A one-time code sent to the sender's own address, kept only as a salted hash, with
    the digest of what it was sent to confirm (core.services.security.content_digest; ""
    for a code kept before codes knew their content: it confirms nothing)."""

    salt: str
    hash: str
    expires: datetime
    content: str = ""


@dataclass
class CustomerCode:
    """The code sent to the customer to consent to a cashier's refund, the wrong tries, and
    the digest of the refund it was sent for (core.services.security.content_digest; ""
    for a code kept before codes knew their content: it confirms nothing)."""

    salt: str
    hash: str
    tries: int = 0
    content: str = ""


@dataclass
class Draft:
    """An application or registration left half-way: its step and its answers (the JSON
    of the flow's state, loaded by that flow when the draft is resumed)."""

    step: str
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class TillSession:
    """A till on SMS confirmed its number with a code: it may charge until `until`."""

    shop_id: int
    until: datetime
    # Wrong payment codes (or PINs) typed in this session: the second ends it (ChargeFlow).
    wrong_codes: int = 0


@dataclass
class MorePage:
    """The shop list an SMS could not hold: ALTRI shows it from `offset`."""

    query: str
    offset: int = 0


# --- the conversation ----------------------------------------------------------------------


@dataclass
class ChatMemory:
    """Everything one chat remembers beyond the current step."""

    # The current flow's answers, as JSON; the flow turns them into its FlowState.
    state: dict[str, Any] = field(default_factory=dict)
    drafts: dict[str, Draft] = field(default_factory=dict)
    # The options of the last question (bot/offers.py reads them to know a keyboard is open).
    options: list[Offered] = field(default_factory=list)
    language_chosen: bool = False
    # A phone number shared as a Telegram contact (on SMS the address is the phone).
    phone: str | None = None
    # The shop a person working for several shops acts for now.
    shop_id: int | None = None
    till: TillSession | None = None
    more: MorePage | None = None
    # What the shop list the last reply gave was searched for ("" for NEGOZI alone): a
    # town or a street written right after it is a search too (shop_finder.after_list),
    # not "not understood". Every other message forgets it.
    listed: str | None = None
    # The day an SMS to an unused number was answered (once a day).
    notice_on: date | None = None
    # The shop whose owner (or the office) removed this chat's cashier: PAGA then says so.
    removed_from: int | None = None
    # Telegram's id of the last message read from this chat (a tapped button: the message
    # that carried it): an edit of it made soon after is read as a new message
    # (engine.EDIT_WINDOW), a second tap on it is a double tap (menus.button_acts).
    last_message: str | None = None


# --- each flow's answers -------------------------------------------------------------------


@dataclass
class FlowState:
    """What every flow may hold: a draft offered to resume, a confirmation code pending."""

    draft: Draft | None = None
    otp: PendingCode | None = None
    otp_attempts: int = 0


@dataclass
class NoState(FlowState):
    """A flow that asks one question and keeps nothing (shops, shopkeeper)."""


@dataclass
class ApplyState(FlowState):
    mode: Literal["new", "edit"] = "new"
    protocol: str | None = None  # the application already made (to change it)
    consent: bool = False
    cf: str | None = None
    members: int | None = None
    work: bool | None = None
    pension: bool | None = None
    liquidity: int | None = None  # cents, like every amount below
    support: int | None = None
    rent: int | None = None
    back: Literal["summary"] | None = None  # changing one answer from the summary
    language_misses: int = 0  # answers to the language question not understood
    # The amount question (liquidity, support, rent) whose last answer was no amount, and
    # a lone small number written there next, asked back before it is taken (cents).
    amount_miss: str | None = None
    doubt: int | None = None


@dataclass
class ChargeState(FlowState):
    shop_id: int | None = None
    then: str = ""  # "PAGA <who> <amount>" typed before the till was confirmed
    who: str | None = None
    charge_id: int | None = None
    amount: int | None = None
    where: str | None = None  # where the payment code went, as the cashier may see it
    pin: bool = False  # a card: the holder types a code of its slip (or an old card's PIN)
    position: int | None = None  # the cell of the card's grid the server drew for this payment
    voucher: bool = False  # a community voucher number, charged by core.services.voucher_charges


@dataclass
class RefundState(FlowState):
    shop_id: int | None = None
    cashier: bool = False
    charge_id: int | None = None
    amount: int | None = None
    receipt: int | None = None  # the number on the payment's receipt (counted per shop)
    customer: CustomerCode | None = None
    where: str | None = None
    then: str = ""  # the receipt written with STORNO before the member shared their phone


@dataclass
class RegisterState(FlowState):
    name: str | None = None
    vat: str | None = None
    category: ShopCategory | None = None
    address: str | None = None
    town: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None
    iban: str | None = None
    back: Literal["summary"] | None = None
    phone: str | None = None  # on Telegram: the owner's own, from the contact shared


@dataclass
class ShopState(FlowState):
    """A flow acting for one shop (statement, a new cashier code)."""

    shop_id: int | None = None


@dataclass
class CashiersState(FlowState):
    """The owner removing a cashier (CASSIERI), or a cashier leaving (ESCI)."""

    shop_id: int | None = None
    member_id: int | None = None
    who: str | None = None  # the cashier as shown ("SMS ***050"); leaving: the shop's name
    # When that member joined (isoformat): on SQLite a removed member's id goes to the next
    # cashier, and the request removes the one the owner chose, never whoever has the id.
    member_since: str | None = None


@dataclass
class JoinState(FlowState):
    code: str | None = None
    phone: str | None = None  # on Telegram: the cashier's own, from the contact shared


@dataclass
class IdentifyState(FlowState):
    # What was asked before the contact: balance, status, card, card:<code>, appeal.
    then: str = "balance"
    # What came with it: the appeal's reason ("RICORSO siamo in quattro").
    argument: str = ""


@dataclass
class AppealState(FlowState):
    protocol: str | None = None  # the application whose decision is appealed
    reason: str | None = None  # the citizen's words


# --- JSON ----------------------------------------------------------------------------------


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    # Building an adapter compiles a validator: once per record type.
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def load(kind: type[T], raw: object) -> T | None:
    """The record stored as `raw`, or None when it no longer fits (it is then dropped)."""
    try:
        value: T = _adapter(kind).validate_python(raw if isinstance(raw, dict) else {})
    except ValidationError as error:
        log.warning("stored %s dropped: %s", kind.__name__, error.errors(include_input=False))
        return None
    return value


def load_memory(raw: object) -> ChatMemory:
    """A chat's memory as stored in `conversations.data` (all defaults when it no longer
    fits). Nothing stored ({}: most SMS chats between two requests) is all defaults without
    pydantic's validation, about 20,000 instructions a turn."""
    if not raw:
        return ChatMemory()
    plain = _plain_memory(raw)
    if plain is not None:
        return plain
    return load(ChatMemory, raw) or ChatMemory()


# The memory's keys whose JSON is a plain str, bool or int (the pieces with records,
# dates or the flow's answers go through pydantic), with the one type each may hold.
_PLAIN_KEYS: dict[str, type] = {
    "language_chosen": bool,
    "phone": str,
    "shop_id": int,
    "removed_from": int,
    "last_message": str,
    "listed": str,
}


_NO_WORDS: list[str] = []  # read, never changed


def _plain_options(raw: object) -> list[Offered] | None:
    """A remembered menu's options, when each is exactly {"k": str, "w": [str, ...]} (or
    without "w"): what pydantic's validation makes of them; None for anything else."""
    if type(raw) is not list:
        return None
    options = []
    for item in raw:
        if type(item) is not dict:
            return None
        key, words = item.get("k"), item.get("w", _NO_WORDS)
        if type(key) is not str or type(words) is not list or len(item) != 1 + ("w" in item):
            return None
        for word in words:  # a loop, not any() over a generator: half the instructions
            if type(word) is not str:
                return None
        options.append(Offered(key, words[:]))
    return options


def _plain_memory(raw: object) -> ChatMemory | None:
    """The memory of a chat that remembers only options and plain values (a Telegram chat
    between two commands: a menu's options and the last message's id), built as pydantic
    would, without its validation (about 30,000 instructions at every /menu); None when
    anything else is stored, left to pydantic."""
    if type(raw) is not dict:
        return None
    memory = ChatMemory()
    for key, value in raw.items():
        if key == "options":
            options = _plain_options(value)
            if options is None:
                return None
            memory.options = options
        elif type(value) is _PLAIN_KEYS.get(key):
            setattr(memory, key, value)
        else:
            return None
    return memory


def memory_to_save(
    memory: ChatMemory, offered: list[Offered] | None, state: FlowState | None
) -> dict[str, Any]:
    """The JSON a turn leaves in `conversations.data`: the memory with the options this
    turn offered (None: the previous ones still stand) and the current flow's answers
    (None: no flow). The engine and the one-trip plain turn both save through this."""
    if offered is not None:
        memory.options = offered
    memory.state = dump(state) if state is not None else {}
    plain = _plain_memory_json(memory)
    if plain is not None:
        return plain  # what dump writes, without pydantic's serializer
    return dump(memory)


def _plain_memory_json(memory: ChatMemory) -> dict[str, Any] | None:
    """What `dump` writes of a memory holding only options and plain values, key by key in
    the fields' order without the defaults ({} for nothing remembered); None when anything
    else is held (a flow's answers, a draft, a till, a day), left to pydantic."""
    if memory.state or memory.drafts or memory.till or memory.more or memory.notice_on:
        return None
    result: dict[str, Any] = {}
    if memory.options:
        options: list[dict[str, Any]] = []
        for option in memory.options:
            key, words = option.k, option.w
            if type(option) is not Offered or type(key) is not str:
                return None
            for word in words:
                if type(word) is not str:
                    return None
            options.append({"k": key, "w": words[:]} if words else {"k": key})
        result["options"] = options
    for key, kind in _PLAIN_KEYS.items():
        value = getattr(memory, key)
        if value is None or (key == "language_chosen" and value is False):
            continue  # the default
        if type(value) is not kind:
            return None
        result[key] = value
    return result


def dump(value: object) -> dict[str, Any]:
    """The JSON of a record, without the fields that hold their default."""
    result: dict[str, Any] = _adapter(type(value)).dump_python(
        value, mode="json", exclude_defaults=True
    )
    return result


@dataclass
class BuyState(FlowState):
    shop_id: int | None = None  # the shop whose voucher is bought


@dataclass
class GiveState(FlowState):
    code: str | None = None  # the voucher handed over


@dataclass
class VouchersState(FlowState):
    shop_id: int | None = None  # the owner's shop
    code: str | None = None  # the voucher being refunded
