"""Telegram Update -> dialogue Inbound, and the handling of one update.

This module decides only what a Telegram update means (a text, a command, a
tapped button, a shared contact or location, a deep link, an edit); what happens next is
the dialogue engine's business. Private chats only: in a private chat the chat
id is the user id, which is what identifies a person to the engine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Protocol, runtime_checkable

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Message, PreCheckoutQuery, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.callbacks import CallbackSigner
from bot.chatlocks import ChatLocks
from bot.throttle import TelegramLimiter
from core.dialogue.inbound import (
    Channel,
    Checkout,
    Edited,
    HandleResult,
    Inbound,
    InboundHandler,
    PaymentDone,
    SharedContact,
    SharedLocation,
)
from core.dialogue.menus import button_acts
from core.domain.messages import t
from core.i18n import render_text, supported

log = logging.getLogger(__name__)

# The update kinds the bot asks Telegram for (setWebhook / getUpdates).
# An edited message is a person correcting what they wrote: the engine reads it as a new
# message when it is the chat's latest, and says to send it again otherwise.
ALLOWED_UPDATES: Sequence[str] = (
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.PRE_CHECKOUT_QUERY,
)

BUTTON_EXPIRED = t("This button is no longer valid. Please use the latest message.")
PAYMENTS_OFF = t("Payments are not possible in this chat. Nothing was charged.")
PRIVATE_ONLY = t(
    "I answer only in private chats, to keep your data private. Write to me here: {link}"
)


@runtime_checkable
class CheckoutJudge(Protocol):
    """Who says whether a payment may go ahead (the dialogue engine does)."""

    async def pre_checkout(self, checkout: Checkout) -> str | None: ...


@dataclass(frozen=True)
class Translation:
    """What an update amounts to. `inbound` None: nothing for the engine."""

    inbound: Inbound | None
    callback: CallbackQuery | None = None
    refused: bool = False  # a callback that must not act (forged, foreign, expired)
    group: Message | None = None  # a message in a group chat: answered once, then left
    checkout: PreCheckoutQuery | None = None  # answered at once, outside the conversation


def translate(update: Update, signer: CallbackSigner) -> Translation:
    if update.pre_checkout_query is not None:
        return Translation(None, checkout=update.pre_checkout_query)
    if update.callback_query is not None:
        return _callback(update, update.callback_query, signer)
    message, edited = update.message, None
    if message is None and update.edited_message is not None:
        message = update.edited_message
        if message.chat.type != ChatType.PRIVATE or message.location is not None:
            # A group's edit (the bot left it at its first message), or a live location
            # moving on the map: no message of a person's.
            return Translation(None)
        sent, changed = message.date, message.edit_date
        edited = Edited(changed - sent if changed is not None else timedelta.max)
    if message is None or message.from_user is None:
        return Translation(None)
    if message.chat.type != ChatType.PRIVATE:
        # Groups and channels: nobody's vouchers are discussed in front of others.
        return Translation(None, group=message)
    inbound = partial(_inbound, update, message, edited)

    if message.successful_payment is not None:
        paid = message.successful_payment
        done = PaymentDone(
            payload=paid.invoice_payload,
            currency=paid.currency,
            total_amount=paid.total_amount,
            telegram_payment_charge_id=paid.telegram_payment_charge_id,
            provider_payment_charge_id=paid.provider_payment_charge_id,
        )
        return Translation(inbound(payment=done))
    if message.contact is not None:
        contact = message.contact
        # Only the sender's own contact links a chat to a phone number: anyone can
        # share someone else's contact card, whose user_id then differs (or is absent).
        own = contact.user_id is not None and contact.user_id == message.from_user.id
        return Translation(inbound(contact=SharedContact(_e164(contact.phone_number), own)))
    if message.location is not None:
        point = message.location
        try:
            latitude, longitude = float(point.latitude), float(point.longitude)
        except (TypeError, ValueError):
            # Not numbers: a position nowhere, which the engine refuses as not valid.
            latitude = longitude = math.nan
        return Translation(inbound(location=SharedLocation(latitude, longitude)))
    text, entities, attachment = message.text, message.entities, False
    if text is None:
        # Photos, files, stickers, voice: not read. The words written under a photo or a
        # file (its caption) are read as a typed message would be (the reason of an
        # appeal under the photo of a document); without any, the message is empty.
        text, entities, attachment = message.caption or "", message.caption_entities, True
    # Something to listen to: the engine says it cannot be, rather than "not understood".
    voice = any(x is not None for x in (message.voice, message.audio, message.video_note))
    entity = entities[0] if entities else None
    first = (entity.type, entity.offset, entity.length) if entity is not None else None
    reading, start_parameter = _read_text(text, first)
    return Translation(
        inbound(text=reading, start_parameter=start_parameter, attachment=attachment, voice=voice)
    )


# The keys of the commonest update (a person writes text in a private chat), read
# straight from its JSON by private_text: any other key takes python-telegram-bot's parsing.
_UPDATE_KEYS = frozenset({"update_id", "message"})
_MESSAGE_KEYS = frozenset({"message_id", "from", "chat", "date", "text", "entities"})


# The scanner json.loads ends in, called directly: json.loads(bytes) first guesses the
# bytes' encoding and goes through the decoder's Python wrappers (two whitespace matches,
# a frame each), about 14,000 of the 48,000 instructions an update's JSON costs.
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_JSON_WHITESPACE = " \t\n\r"


def update_json(body: bytes) -> Any:
    """The JSON document a webhook's body holds, as json.loads reads UTF-8 bytes (a BOM
    ahead of it skipped); ValueError when it is not one. Telegram posts UTF-8."""
    text = body.decode("utf-8-sig")  # UnicodeDecodeError is a ValueError
    start = len(text) - len(text.lstrip(_JSON_WHITESPACE))
    try:
        value, end = _scan_json(text, start)
    except StopIteration as nothing:
        raise ValueError("not a JSON document") from nothing
    if text[end:].strip(_JSON_WHITESPACE):
        raise ValueError("more than one JSON document")
    return value


def private_text(data: Any) -> Inbound | None:
    """The Inbound of a text message in a private chat, read from the update's JSON without
    building python-telegram-bot's objects (they cost more than the rest of the webhook);
    exactly what translate() makes of `Update.de_json(data)`. None for any other update,
    and for one whose fields are missing or of another type (PTB's parsing then decides,
    as before, what it is or that it is malformed)."""
    if not isinstance(data, dict) or data.keys() != _UPDATE_KEYS:
        return None
    update_id, message = data["update_id"], data["message"]
    if type(update_id) is not int or not isinstance(message, dict):
        return None
    if not _MESSAGE_KEYS.issuperset(message.keys()):
        return None
    chat, user, text = message.get("chat"), message.get("from"), message.get("text")
    if (
        type(message.get("message_id")) is not int
        or type(message.get("date")) is not int
        or not isinstance(text, str)
        or not isinstance(chat, dict)
        or chat.get("type") != ChatType.PRIVATE
        or type(chat.get("id")) is not int
        or not isinstance(user, dict)
        or type(user.get("id")) is not int
        or type(user.get("is_bot")) is not bool
        or not isinstance(user.get("first_name"), str)
    ):
        return None
    language = user.get("language_code")
    if language is not None and not isinstance(language, str):
        return None
    first: tuple[str, int, int] | None = None
    entities = message.get("entities")
    if entities is not None:
        if not isinstance(entities, list) or not all(
            isinstance(entity, dict)
            and isinstance(entity.get("type"), str)
            and type(entity.get("offset")) is int
            and type(entity.get("length")) is int
            for entity in entities
        ):
            return None
        if entities:
            head = entities[0]
            first = (head["type"], head["offset"], head["length"])
    reading, start_parameter = _read_text(text, first)
    return Inbound(
        channel=Channel.TELEGRAM,
        address=str(chat["id"]),
        text=reading,
        start_parameter=start_parameter,
        provider_message_id=str(update_id),
        language_hint=language,
        message_id=str(message["message_id"]),
    )


def _read_text(text: str, entity: tuple[str, int, int] | None) -> tuple[str | None, str | None]:
    """(text, start parameter) of a text message as the engine reads it, from the text and
    its first entity (type, offset, length): commands lose the bot's name, and /start with
    a payload is a deep link."""
    command, argument = _command(text, entity)
    if command == "start" and argument:
        # A deep link t.me/<bot>?start=<payload>, e.g. the QR code of a printed card.
        return None, argument
    if command is not None:
        # "/saldo@bot 12" -> "/saldo 12": the engine reads commands as keywords.
        return f"/{command} {argument}".strip(), None
    return text, None


def _inbound(
    update: Update,
    message: Message,
    edited: Edited | None,
    *,
    text: str | None = None,
    location: SharedLocation | None = None,
    contact: SharedContact | None = None,
    start_parameter: str | None = None,
    payment: PaymentDone | None = None,
    attachment: bool = False,
    voice: bool = False,
) -> Inbound:
    user = message.from_user
    return Inbound(
        channel=Channel.TELEGRAM,
        address=str(message.chat.id),
        text=text,
        location=location,
        contact=contact,
        start_parameter=start_parameter,
        payment=payment,
        provider_message_id=str(update.update_id),
        language_hint=user.language_code if user else None,
        attachment=attachment,
        voice=voice,
        message_id=str(message.message_id),
        edited=edited,
    )


def _callback(update: Update, query: CallbackQuery, signer: CallbackSigner) -> Translation:
    message = query.message
    if not isinstance(message, Message) or message.chat.type != ChatType.PRIVATE:
        # Inline-mode or inaccessible messages: not buttons this bot offers.
        return Translation(None, query, refused=True)
    chat_id = str(message.chat.id)
    # In a private chat only its user can press its buttons; anything else is forged.
    if str(query.from_user.id) != chat_id:
        return Translation(None, query, refused=True)
    key = signer.verify(chat_id, query.data)
    if key is None:
        return Translation(None, query, refused=True)
    inbound = Inbound(
        channel=Channel.TELEGRAM,
        address=chat_id,
        option=key,
        provider_message_id=str(update.update_id),
        language_hint=query.from_user.language_code,
        message_id=str(message.message_id),
    )
    return Translation(inbound, query)


def _command(text: str, entity: tuple[str, int, int] | None) -> tuple[str | None, str]:
    if entity is None:
        return None, text
    kind, offset, length = entity
    if kind != "bot_command" or offset != 0:
        return None, text
    name = text[1:length].split("@", 1)[0].lower()
    return name, text[length:].strip()


def _e164(phone: str) -> str:
    """Telegram sends the international number, sometimes without the leading +."""
    digits = phone.strip().replace(" ", "")
    return digits if digits.startswith("+") else "+" + digits


# Whether a chat's message (chat id, message id) carries the buttons currently open.
KeyboardCheck = Callable[[str, int], Awaitable[bool]]
# The language a chat chose in the bot (None: not known yet).
ChatLanguage = Callable[[str], Awaitable[str | None]]
# The id of the last message the engine read from a chat (a tapped button: the message
# that carried it), None if none.
LastRead = Callable[[str], Awaitable[str | None]]


async def _unknown_language(_chat_id: str) -> str | None:
    return None


async def _nothing_read(_chat_id: str) -> str | None:
    return None


class UpdateHandler:
    """One update: acknowledge a button at once, feed the engine, tidy the old keyboard."""

    def __init__(
        self,
        dialogue: InboundHandler,
        bot: Bot,
        signer: CallbackSigner,
        limiter: TelegramLimiter,
        is_current: KeyboardCheck,
        language_of: ChatLanguage = _unknown_language,
        *,
        judge: CheckoutJudge | None = None,
        last_read: LastRead = _nothing_read,
    ) -> None:
        self._dialogue = dialogue
        self._judge = judge
        self._language_of = language_of
        self._bot = bot
        self._signer = signer
        self._limiter = limiter
        self._is_current = is_current
        self._last_read = last_read
        self._chats = ChatLocks()
        self._edits: set[asyncio.Task[None]] = set()

    async def handle(self, update: Update) -> HandleResult | None:
        """Raises when the engine fails, so that a webhook answers 500 and Telegram retries."""
        translation = translate(update, self._signer)
        if translation.group is not None:
            await self._leave_group(translation.group)
            return None
        if translation.checkout is not None:
            await self._answer_checkout(translation.checkout)
            return None
        if translation.inbound is None:
            if translation.callback is not None:
                await self._answer(translation.callback, translation.refused)
            else:
                log.debug("update %s ignored: not a private message or button", update.update_id)
            return None
        # One update of a chat at a time: a double tap's second callback then finds the
        # question already answered instead of racing the first one through the engine.
        async with self._chats.hold(translation.inbound.address):
            return await self._handle(translation.inbound, translation.callback)

    async def handle_text(self, inbound: Inbound) -> HandleResult | None:
        """A private text message already read from JSON (private_text): what handle()
        does with it once translated."""
        async with self._chats.hold(inbound.address):
            return await self._handle(inbound, None)

    async def _handle(self, inbound: Inbound, query: CallbackQuery | None) -> HandleResult | None:
        if query is not None:
            message = query.message
            assert isinstance(message, Message)  # translate() accepts no other callbacks
            # A button of an earlier question would answer the one asked now; one that means
            # the same from any message (Saldo, Negozi, a language) runs from an older one.
            latest = await self._is_current(inbound.address, message.message_id)
            again = not latest and await self._last_read(inbound.address) == str(message.message_id)
            acts = button_acts(inbound.option or "", latest=latest, tapped_just_before=again)
            await self._answer(query, refused=not acts)
            if not acts:
                return None
        result = await self._dialogue.handle(inbound)
        if query is not None and not result.duplicate:
            # In the background: the edit waits for a slot under Telegram's limits (behind a
            # broadcast, perhaps), and neither the webhook's answer nor the chat's next
            # update should wait for it.
            edit = asyncio.create_task(self._mark_chosen(query))
            self._edits.add(edit)
            edit.add_done_callback(self._edits.discard)
        return result

    async def drain(self) -> None:
        """Wait for the keyboard edits still in flight (before shutting the bot down)."""
        while self._edits:
            await asyncio.gather(*self._edits, return_exceptions=True)

    async def _answer(self, query: CallbackQuery, refused: bool) -> None:
        # Every callback query is answered, or the button keeps spinning on the phone.
        # Best effort: an answer that fails (query too old) must not lose the update.
        text = None
        if refused:
            # In the language chosen in the bot, else the one of the Telegram app.
            message = query.message
            chosen = None
            if isinstance(message, Message) and str(message.chat.id) == str(query.from_user.id):
                chosen = await self._language_of(str(message.chat.id))
            language = supported(chosen or query.from_user.language_code)
            text = render_text(BUTTON_EXPIRED, language)
            log.info("refused callback query from user %s", query.from_user.id)
        try:
            # A refusal as an alert the person closes with OK (show_alert): a toast fades
            # in two seconds, and a user trial found an elderly user saw no reaction at all.
            await self._bot.answer_callback_query(
                query.id, text=text, show_alert=True if refused else None
            )
        except TelegramError as error:
            log.info("could not answer callback query %s: %s", query.id, error)

    async def _answer_checkout(self, query: PreCheckoutQuery) -> None:
        """Yes or no to the provider within its 10 seconds: the engine checks that the shop
        still sells and the amount is valid; a refusal is shown to the payer."""
        checkout = Checkout(
            channel=Channel.TELEGRAM,
            address=str(query.from_user.id),
            payload=query.invoice_payload,
            currency=query.currency,
            total_amount=query.total_amount,
            language_hint=query.from_user.language_code,
        )
        if self._judge is None:
            refusal: str | None = render_text(
                PAYMENTS_OFF, supported(query.from_user.language_code)
            )
        else:
            refusal = await self._judge.pre_checkout(checkout)
        try:
            if refusal is None:
                await self._bot.answer_pre_checkout_query(query.id, ok=True)
            else:
                await self._bot.answer_pre_checkout_query(query.id, ok=False, error_message=refusal)
        except TelegramError as error:
            log.info("could not answer pre-checkout query %s: %s", query.id, error)

    async def _leave_group(self, message: Message) -> None:
        """Say once where to write (a deep link to the private chat), then leave the group."""
        user = message.from_user
        language = supported(user.language_code if user else None)
        link = f"https://t.me/{self._bot.username}"
        chat_id = str(message.chat.id)
        log.info("leaving %s chat %s", message.chat.type, chat_id)
        try:
            await self._limiter.acquire(chat_id)
            await self._bot.send_message(
                chat_id, render_text(t(PRIVATE_ONLY.msgid, link=link), language)
            )
        except TelegramError as error:
            log.info("could not write to chat %s: %s", chat_id, error)
        try:
            await self._bot.leave_chat(chat_id)
        except TelegramError as error:
            log.info("could not leave chat %s: %s", chat_id, error)

    async def _mark_chosen(self, query: CallbackQuery) -> None:
        """Replace the buttons of the answered question by the choice, so the chat reads
        as a transcript and an old button cannot be tapped twice."""
        message = query.message
        if not isinstance(message, Message) or not message.text:
            return
        label = _label_of(message.reply_markup, query.data)
        text = f"{message.text}\n\n» {label}" if label else message.text
        chat_id = str(message.chat.id)
        try:
            await self._limiter.acquire(chat_id)
            await self._bot.edit_message_text(text, chat_id=chat_id, message_id=message.message_id)
        except TelegramError as error:
            log.info("could not edit message %s: %s", message.message_id, error)


def _label_of(markup: InlineKeyboardMarkup | None, data: str | None) -> str | None:
    if markup is None or data is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None
