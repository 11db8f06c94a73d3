"""The channels a person writes from and is written to (stored as their values)."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"
    # The operator's terminal (`buonispesa chat`): stands in for a phone.
    TERMINAL = "terminal"


# The channels whose address is a phone number: SMS, and the terminal chat that stands in
# for a phone. A shop member on either and a citizen or delegate with that number are the
# same phone (the person at the till would receive the codes of the charges they ask).
PHONE_CHANNELS: tuple[Channel, ...] = (Channel.SMS, Channel.TERMINAL)


# The channel as a shopkeeper says it, in Italian and English alike: the terminal chat
# (`buonispesa chat`) runs on a computer, and a cashier there is not an SMS.
CHANNEL_WORDS = {
    Channel.SMS.value: "SMS",
    Channel.TELEGRAM.value: "Telegram",
    Channel.TERMINAL.value: "computer",
}


def chat_label(channel: str, address: str) -> str:
    """How a chat is shown to a shop's owner and to the office: the channel it writes
    from and the last three digits of the number or chat, enough to tell cashiers apart
    without revealing them ("SMS ***050", "Telegram ***123", "computer ***001")."""
    return f"{CHANNEL_WORDS.get(channel, channel)} ***{address[-3:]}"


def chat_of_actor(actor: str) -> tuple[str, str] | None:
    """The chat (channel, address) an activity log's actor names when someone acted from a
    shop's chat ("telegram:12345", "sms:+393331234567"); None for an operator, the command
    line ("cli:anna") or a citizen's chat named by its channel only ("chat:sms")."""
    channel, colon, address = actor.partition(":")
    if not colon or not address or channel not in CHANNEL_WORDS:
        return None
    return channel, address


def chat_of(till: str) -> tuple[str, str]:
    """The chat (channel, address) of a till written "channel:address" (a payment's
    `requested_by`, the chat that typed a code)."""
    channel, _, address = till.partition(":")
    return channel, address
