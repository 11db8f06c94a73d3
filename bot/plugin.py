"""The Telegram channel inside `serve`: webhook or long polling in, outbox rows out.

With PUBLIC_BASE_URL set, Telegram POSTs updates to /telegram/webhook on the
`serve` app and the plugin only registers that URL (setWebhook) at start;
without it the plugin long-polls getUpdates, for development. Either way an
update is translated by bot.updates and handed to the dialogue engine, whose
replies reach the outbox; the outbox worker delivers them through the sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
from dataclasses import dataclass, field

from aiohttp import web
from telegram import Update
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.callbacks import CallbackSigner
from bot.commands import publish_commands
from bot.offers import chat_language, current_keyboard, last_read
from bot.sender import TelegramSender
from bot.throttle import Limits, TelegramLimiter
from bot.transport import AiohttpRequest
from bot.updates import (
    ALLOWED_UPDATES,
    CheckoutJudge,
    UpdateHandler,
    private_text,
    update_json,
)
from core.bootstrap import Core
from core.dialogue.inbound import HandleResult, InboundHandler
from core.domain.channels import Channel
from core.domain.messages import Text, t
from core.i18n import render_text
from outbox.channels import ChannelStartError, OutboxWake, no_wake

log = logging.getLogger(__name__)
# httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
logging.getLogger("httpx").setLevel(logging.WARNING)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
# Telegram's rule for secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Start-up retries when the Bot API is unreachable: 1 s, 2 s, 4 s … at most a minute.
_MAX_BACKOFF = 60.0


class TelegramConfigError(ValueError):
    """A setting that makes the Telegram channel unsafe or unusable; `serve` refuses to start
    and says `text` in the office's language. str() is the sentence in English."""

    def __init__(self, text: Text) -> None:
        super().__init__(render_text(text, "en"))
        self.text = text


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    api_base_url: str = DEFAULT_API_BASE_URL
    webhook_url: str | None = None  # None: long polling
    webhook_secret: str | None = None
    poll_timeout: float = 10.0
    limits: Limits = field(default_factory=Limits)
    payment_provider_token: str | None = None

    def check(self) -> None:
        if self.webhook_url is None:
            return
        if self.api_base_url == DEFAULT_API_BASE_URL and not self.webhook_url.startswith(
            "https://"
        ):
            raise TelegramConfigError(
                t(
                    "PUBLIC_BASE_URL must start with https:// (Telegram delivers webhooks "
                    "only to https addresses)"
                )
            )
        # Without the secret anyone could POST updates: forge a shared contact, tap
        # buttons for others. A webhook without it is refused, not merely warned about.
        if not self.webhook_secret:
            raise TelegramConfigError(
                t("TELEGRAM_WEBHOOK_SECRET must be set when PUBLIC_BASE_URL is (webhook mode)")
            )
        if not _SECRET.fullmatch(self.webhook_secret):
            raise TelegramConfigError(
                t("TELEGRAM_WEBHOOK_SECRET: 1-256 characters among A-Z, a-z, 0-9, _ and -")
            )


class TelegramPlugin:
    name = Channel.TELEGRAM.value

    def __init__(
        self,
        core: Core,
        config: TelegramConfig,
        dialogue: InboundHandler,
        wake: OutboxWake = no_wake,
    ) -> None:
        self.config = config
        self._wake = wake
        builder = (
            Application.builder()
            .token(config.token)
            .base_url(config.api_base_url)
            .request(AiohttpRequest())
            # Long polling holds its one connection for the whole wait (as PTB's default).
            .get_updates_request(AiohttpRequest(connection_pool_size=1))
        )
        if config.webhook_url is not None:
            builder = builder.updater(None)  # updates come in through our own aiohttp route
        self.application = builder.build()
        self.bot = self.application.bot
        self.limiter = TelegramLimiter(config.limits)
        signer = CallbackSigner.from_bot_token(config.token)
        self.handler = UpdateHandler(
            dialogue,
            self.bot,
            signer,
            self.limiter,
            self._is_current,
            self._language_of,
            judge=dialogue if isinstance(dialogue, CheckoutJudge) else None,
            last_read=self._last_read,
        )
        self._core = core
        self._sender = TelegramSender(
            self.bot,
            core,
            signer,
            self.limiter,
            self.ready,
            payment_provider_token=config.payment_provider_token,
        )
        self._init_lock = asyncio.Lock()
        self._initialized = False
        self._retry_task: asyncio.Task[None] | None = None
        self._polling = False
        self.application.add_handler(TypeHandler(Update, self._on_polled_update))
        self.application.add_error_handler(self._on_polling_error)

    @property
    def webhook_mode(self) -> bool:
        return self.config.webhook_url is not None

    # ChannelPlugin ---------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        # In polling mode there is no webhook: a POST there is a 404 and writes nothing.
        return [web.post(WEBHOOK_PATH, self.webhook)] if self.webhook_mode else []

    def sender(self) -> TelegramSender:
        return self._sender

    async def start(self) -> None:
        try:
            await self._bootstrap()
        except (InvalidToken, BadRequest, Forbidden) as error:
            # Refused, not unreachable: retrying cannot help, and `serve` must not pretend.
            raise ChannelStartError(self._refusal(error)) from error
        except TelegramError as error:
            log.warning("Telegram Bot API unreachable at start (%s); retrying in background", error)
            self._retry_task = asyncio.create_task(self._bootstrap_until_done())

    def _refusal(self, error: TelegramError) -> Text:
        """What the Bot API refused, said for the operator (the API's own reason as it is)."""
        if isinstance(error, InvalidToken):
            # Not error.message: it repeats the token, which is a secret.
            return t(
                "Telegram refused the bot token (TELEGRAM_BOT_TOKEN): check it with @BotFather"
            )
        if self.webhook_mode:
            return t(
                "Telegram refused the webhook {url}: {problem}. Check PUBLIC_BASE_URL (a "
                "public https address) and TELEGRAM_WEBHOOK_SECRET",
                url=self.config.webhook_url or "",
                problem=error.message,
            )
        return t("Telegram refused the bot's start-up: {problem}", problem=error.message)

    async def stop(self) -> None:
        if self._retry_task is not None:
            self._retry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry_task
        if self._polling:
            self._polling = False
            updater = self.application.updater
            if updater is not None and updater.running:
                await updater.stop()
            if self.application.running:
                await self.application.stop()
        await self.handler.drain()
        # The webhook stays registered: other `serve` processes may still be answering,
        # and Telegram keeps updates for us while none is.
        await self.application.shutdown()
        self._initialized = False

    # Start-up ----------------------------------------------------------------------

    async def ready(self) -> None:
        """getMe done (the bot's username is known). Raises TelegramError while unreachable."""
        if self._initialized:
            return
        async with self._init_lock:
            await self.application.initialize()  # idempotent; a failure leaves it retryable
            self._initialized = True

    async def _bootstrap(self) -> None:
        await self.ready()
        if self.webhook_mode:
            await self.bot.set_webhook(
                url=self.config.webhook_url,  # type: ignore[arg-type]
                secret_token=self.config.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        await publish_commands(self.bot)
        if not self.webhook_mode and not self._polling:
            updater = self.application.updater
            assert updater is not None, "polling mode is built with an updater"
            # start_polling deletes any webhook first: getUpdates is refused while one is set.
            await updater.start_polling(
                timeout=int(self.config.poll_timeout), allowed_updates=list(ALLOWED_UPDATES)
            )
            await self.application.start()
            self._polling = True
        log.info(
            "Telegram bot @%s ready (%s)",
            self.bot.username,
            f"webhook {self.config.webhook_url}" if self.webhook_mode else "long polling",
        )

    async def _bootstrap_until_done(self) -> None:
        delay = 1.0
        while True:
            await asyncio.sleep(delay)
            try:
                await self._bootstrap()
                return
            except (InvalidToken, BadRequest, Forbidden) as error:
                log.error(
                    "%s; Telegram stays off until serve is restarted",
                    render_text(self._refusal(error), "en"),
                )
                return
            except TelegramError as error:
                log.warning("Telegram Bot API still unreachable: %s", error)
                delay = min(delay * 2, _MAX_BACKOFF)

    # Updates -----------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        expected = self.config.webhook_secret or ""
        given = request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return web.Response(status=403)
        try:
            await self.ready()
        except TelegramError:
            return web.Response(status=503)  # Telegram retries later
        try:
            data = update_json(await request.read())
        except ValueError:
            return web.Response(status=400)
        # Most updates are text in a private chat: read from the JSON at once, without
        # python-telegram-bot's objects; anything else is parsed by it.
        text = private_text(data)
        update: Update | None = None
        if text is None:
            try:
                update = Update.de_json(data, self.bot) if isinstance(data, dict) else None
            except (ValueError, KeyError, TypeError, AttributeError):
                update = None
            if update is None:
                return web.Response(status=400)
        try:
            result: HandleResult | None
            if update is not None:
                result = await self.handler.handle(update)
            else:
                assert text is not None
                result = await self.handler.handle_text(text)
        except Exception:
            # 500 makes Telegram deliver the update again; the engine's dedupe on
            # update_id keeps a retry from acting twice.
            log.exception("Telegram update %s failed", data.get("update_id"))
            return web.Response(status=500)
        if result is not None and result.outbox_ids:
            self._wake(payments=result.payments)
        return web.Response(status=200)

    async def _is_current(self, chat_id: str, message_id: int) -> bool:
        return await current_keyboard(self._core, chat_id) == str(message_id)

    async def _last_read(self, chat_id: str) -> str | None:
        return await last_read(self._core, chat_id)

    async def _language_of(self, chat_id: str) -> str | None:
        return await chat_language(self._core, chat_id)

    async def _on_polled_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        result = await self.handler.handle(update)
        if result is not None and result.outbox_ids:
            self._wake(payments=result.payments)

    async def _on_polling_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error(
            "Telegram update failed in polling mode: %s", context.error, exc_info=context.error
        )
