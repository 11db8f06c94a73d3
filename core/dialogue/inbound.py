"""What a channel hands to the dialogue engine: one message from one person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple, Protocol

from core.domain.channels import Channel

__all__ = [
    "Channel",
    "Edited",
    "HandleResult",
    "Inbound",
    "InboundHandler",
    "SharedContact",
    "SharedLocation",
]


@dataclass(frozen=True, slots=True)
class SharedLocation:
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class SharedContact:
    phone: str
    # Telegram: the user id the contact belongs to; the adapter has already checked
    # that it is the sender's own (a contact of someone else is refused there).
    is_own: bool


@dataclass(frozen=True, slots=True)
class PaymentDone:
    """The payment provider took the money (Telegram's successful_payment)."""

    payload: str
    currency: str
    total_amount: int  # in the currency's smallest unit: cents for EUR
    telegram_payment_charge_id: str
    provider_payment_charge_id: str


@dataclass(frozen=True, slots=True)
class Checkout:
    """The provider asks whether a payment may go ahead (Telegram's pre_checkout_query);
    the answer is due within seconds, so it is not a message of the conversation."""

    channel: Channel
    address: str
    payload: str
    currency: str
    total_amount: int
    language_hint: str | None = None


@dataclass(frozen=True, slots=True)
class Edited:
    """The message is a correction of one sent before (Telegram's edited_message): its
    `Inbound.message_id` is the one edited, its text the new one."""

    after: timedelta  # how long after it was sent it was edited (Telegram's dates)


# A NamedTuple rather than a frozen dataclass: as immutable, but built by C's tuple. A frozen
# dataclass sets each of its 15 fields through object.__setattr__, about 26,000 instructions
# an Inbound, where this takes 7,000; every message of every channel makes one.
class Inbound(NamedTuple):
    """Exactly one of text / option / location / contact is set.

    `address` is the sender on its channel (E.164 phone for SMS, chat id for
    Telegram). `attachment`: the message carried a photo, a file, a voice message or a
    sticker (Telegram), which is not read; the words written under it (its caption) are
    `text`, empty without any; `voice` marks one to listen to (a voice message, an audio,
    a video note), which nobody can. `to` is the number or bot the message was sent to,
    which picks the municipality when an installation serves several. `provider_message_id`
    (Twilio MessageSid, Telegram update_id) makes a retried delivery a no-op;
    `message_id` is the message's own id in the chat (Telegram's message_id; for a tapped
    button the id of the message that carried it; None off Telegram), which an edit of it
    names again (`edited`).
    """

    channel: Channel
    address: str
    text: str | None = None
    option: str | None = None
    location: SharedLocation | None = None
    contact: SharedContact | None = None
    provider_message_id: str | None = None
    to: str | None = None
    # Telegram deep link payload (/start <code>) or similar start parameter.
    start_parameter: str | None = None
    language_hint: str | None = None
    payment: PaymentDone | None = None
    attachment: bool = False
    voice: bool = False
    message_id: str | None = None
    edited: Edited | None = None


class HandleResult(Protocol):
    """What the engine answers a channel for one inbound message, as an adapter reads it
    (core.dialogue.engine.HandleResult)."""

    @property
    def duplicate(self) -> bool: ...

    @property
    def outbox_ids(self) -> list[int]: ...

    @property
    def payments(self) -> bool: ...


class InboundHandler(Protocol):
    """The dialogue engine as every channel adapter needs it (Telegram, SMS): one port, so
    that an adapter depends on no more of the engine (core.dialogue.engine.DialogueEngine)."""

    async def handle(self, inbound: Inbound) -> HandleResult: ...
