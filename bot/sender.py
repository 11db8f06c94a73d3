"""Delivering outbox rows to Telegram: paced to the API limits, 429 respected.

One outbox row is one Reply, which may take several API calls (a text, a map
pin, a card). The row is delivered when all of them are; calls already made for
a row are remembered in memory, so a retry after a transient failure resumes
where it stopped instead of sending the text twice.

The outbox worker sends a batch concurrently. Rows of one chat still go out in
the order the worker handed them over (its claim is ordered by id): each chat
has a FIFO lock (bot.chatlocks), taken before the first await of `send`.
"""

from __future__ import annotations

import datetime as dtm
import logging
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardMarkup, InputFile, LabeledPrice, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.callbacks import CallbackSigner
from bot.chatlocks import ChatLocks
from bot.render import SendDocument, SendInvoice, SendPin, SendText, Step, plan
from bot.throttle import TelegramLimiter
from core.bootstrap import Core
from core.documents.card import card_pdf, deep_link
from core.domain.channels import Channel
from core.domain.messages import reply_from_json
from core.services.cards import card_by_code
from outbox.channels import OutgoingMessage, SendResult, SendStatus

log = logging.getLogger(__name__)

# A row that would wait longer than this for its slot (after a 429, typically) is
# handed back to the outbox worker with a retry time instead of holding it.
MAX_WAIT_SECONDS = 5.0
# Rows partly delivered and waiting for a retry; more than this means something is
# badly wrong, and forgetting the oldest only risks a repeated message.
_MAX_PARTIAL = 10_000


@dataclass
class Progress:
    """How far a row got: calls made, the last message id, the one with the buttons."""

    done: int = 0
    last: str | None = None
    keyboard: str | None = None


class CardUnavailable(Exception):
    """The card of a DocumentRef no longer exists (citizen erased): never retried."""


class InvoiceUnavailable(Exception):
    """An invoice without TELEGRAM_PAYMENT_PROVIDER_TOKEN: never retried."""


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that the int form is going away; both forms are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


class TelegramSender:
    channel = Channel.TELEGRAM.value

    def __init__(
        self,
        bot: Bot,
        core: Core,
        signer: CallbackSigner,
        limiter: TelegramLimiter,
        ready: Callable[[], Awaitable[None]],
        *,
        max_wait: float = MAX_WAIT_SECONDS,
        payment_provider_token: str | None = None,
    ) -> None:
        self._bot = bot
        self._provider_token = payment_provider_token
        self._core = core
        self._signer = signer
        self._limiter = limiter
        self._ready = ready
        self._max_wait = max_wait
        self._progress: OrderedDict[int, Progress] = OrderedDict()  # rows partly sent
        self._chats = ChatLocks()
        # Rows the worker claims at once: about two seconds of sending at the overall
        # rate, so that its per-batch database work is a small fraction of the time.
        self.batch_size = max(1, min(60, int(limiter.limits.overall_per_second * 2)))

    async def send(self, message: OutgoingMessage) -> SendResult:
        async with self._chats.hold(message.address):
            return await self._send(message)

    async def _send(self, message: OutgoingMessage) -> SendResult:
        try:
            reply = reply_from_json(message.payload)
            steps = plan(reply, message.address, message.language, self._signer)
        except (KeyError, TypeError, ValueError) as error:
            return SendResult(SendStatus.FAILED, error=f"unrenderable reply: {error}")
        if not steps:
            return SendResult(SendStatus.FAILED, error="empty reply")
        try:
            await self._ready()
        except TelegramError as error:
            return SendResult(SendStatus.RETRY, error=f"Telegram not ready: {error}")
        progress = self._progress.pop(message.id, None) or Progress()
        for index in range(progress.done, len(steps)):
            step = steps[index]
            wait = self._limiter.wait_hint(message.address, message.priority)
            if wait > self._max_wait:
                return self._retry(message.id, progress, "throttled", wait, held_back=True)
            await self._limiter.acquire(message.address, message.priority)
            try:
                sent = await self._call(step, message)
            except RetryAfter as error:
                seconds = retry_after_seconds(error)
                self._limiter.pause(seconds)
                return self._retry(message.id, progress, str(error), seconds)
            except (Forbidden, ChatMigrated, CardUnavailable, InvoiceUnavailable) as error:
                # Blocked by the user, a group chat, an erased card: retrying cannot help.
                return self._failed(message.id, str(error) or type(error).__name__)
            except BadRequest as error:
                # "chat not found" and malformed requests are permanent too.
                return self._failed(message.id, f"bad request: {error}")
            except (InvalidToken, NetworkError) as error:
                # Timeouts, 5xx, a token being rotated: try again later.
                return self._retry(message.id, progress, str(error) or type(error).__name__)
            except TelegramError as error:
                return self._retry(message.id, progress, str(error) or type(error).__name__)
            progress.done = index + 1
            progress.last = str(sent.message_id)
            if _has_buttons(step):
                progress.keyboard = progress.last
        # The id recorded for the row is the message holding its buttons (bot.offers), else
        # the last one sent.
        return SendResult(SendStatus.SENT, provider_message_id=progress.keyboard or progress.last)

    async def _call(self, step: Step, message: OutgoingMessage) -> Message:
        chat_id = message.address
        if isinstance(step, SendText):
            return await self._bot.send_message(
                chat_id, step.text, reply_markup=step.markup, protect_content=step.protect or None
            )
        if isinstance(step, SendPin):
            if step.title and step.address:
                return await self._bot.send_venue(
                    chat_id, step.latitude, step.longitude, step.title, step.address
                )
            return await self._bot.send_location(chat_id, step.latitude, step.longitude)
        if isinstance(step, SendDocument):
            name, content = await self._document(step, message)
            return await self._bot.send_document(chat_id, InputFile(content, filename=name))
        if isinstance(step, SendInvoice):
            if not self._provider_token:
                raise InvoiceUnavailable("TELEGRAM_PAYMENT_PROVIDER_TOKEN is not set")
            return await self._bot.send_invoice(
                chat_id,
                step.title,
                step.description,
                step.payload,
                step.currency,
                [LabeledPrice(step.label, step.amount)],
                provider_token=self._provider_token,
            )
        raise TypeError(f"unknown step {step!r}")

    async def _document(self, step: SendDocument, message: OutgoingMessage) -> tuple[str, bytes]:
        if step.kind != "card" or message.municipality_id is None:
            raise CardUnavailable(f"no document {step.kind}:{step.ref}")
        async with self._core.uow() as uow:
            card = await card_by_code(uow, message.municipality_id, step.ref)
        if card is None:
            raise CardUnavailable(f"card {step.ref} not found")
        link = deep_link(self._bot.username, card.card_code)
        return f"card-{card.card_code}.pdf", card_pdf(card, message.language, link)

    def _retry(
        self,
        outbox_id: int,
        progress: Progress,
        error: str,
        seconds: float | None = None,
        *,
        held_back: bool = False,
    ) -> SendResult:
        if progress.done:
            self._progress[outbox_id] = progress
            while len(self._progress) > _MAX_PARTIAL:
                self._progress.popitem(last=False)
        return SendResult(
            SendStatus.RETRY, error=error, retry_after_seconds=seconds, held_back=held_back
        )

    def _failed(self, outbox_id: int, error: str) -> SendResult:
        log.info("telegram outbox %s failed for good: %s", outbox_id, error)
        return SendResult(SendStatus.FAILED, error=error)


def _has_buttons(step: Step) -> bool:
    return isinstance(step, SendText) and isinstance(step.markup, InlineKeyboardMarkup)
