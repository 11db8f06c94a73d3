"""What a channel hands to the dialogue engine: one message from one person."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.channels import Channel

__all__ = ["Channel", "Inbound", "SharedContact", "SharedLocation"]


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
class Inbound:
    """Exactly one of text / option / location / contact is set.

    `address` is the sender on its channel (E.164 phone for SMS, chat id for
    Telegram). `to` is the number or bot the message was sent to, which picks the
    municipality when an installation serves several. `provider_message_id`
    (Twilio MessageSid, Telegram update_id) makes a retried delivery a no-op.
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
