"""Each channel adapter's configuration, built from the settings.

The composition root is the only place that reads Settings: sms/ and bot/ get
plain config objects, so an adapter never imports the root.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from typing import TYPE_CHECKING

from buonispesa.settings import Settings
from core.bootstrap import Core
from core.dialogue.inbound import InboundHandler
from core.domain.errors import InvalidIdentifier
from core.domain.identity import normalize_phone
from core.domain.messages import Text, t
from outbox.channels import ChannelPlugin, OutboxWake
from sms.plugin import SmsConfig

if TYPE_CHECKING:
    from bot.plugin import TelegramConfig

log = logging.getLogger(__name__)

_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sms_problems(settings: Settings) -> list[Text]:
    """One sentence per Twilio variable that is missing or malformed (empty when usable)."""
    problems: list[Text] = []
    account = settings.twilio_account_sid
    if account or settings.twilio_from_number:
        for name, value in (
            ("TWILIO_ACCOUNT_SID", account),
            ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
            ("TWILIO_FROM_NUMBER", settings.twilio_from_number),
        ):
            if not value:
                problems.append(
                    t(
                        "{name}: missing (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                        "TWILIO_FROM_NUMBER go together)",
                        name=name,
                    )
                )
    if account and not _ACCOUNT_SID.match(account):
        problems.append(t("TWILIO_ACCOUNT_SID: expected AC followed by 32 hexadecimal characters"))
    if settings.twilio_from_number:
        try:
            normalize_phone(settings.twilio_from_number)
        except InvalidIdentifier:
            problems.append(t("TWILIO_FROM_NUMBER: not a valid phone number (e.g. +390733905000)"))
    return problems


def sms_config(settings: Settings, host: str, port: int) -> SmsConfig:
    """Twilio when its three variables are set; else development on a loopback address
    without PUBLIC_BASE_URL; else disabled (see sms.plugin)."""
    public = settings.public_base_url or f"http://{host}:{port}"
    rate = settings.sms_rate_per_second
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number:
        return SmsConfig(
            mode="twilio",
            auth_token=settings.twilio_auth_token,
            public_base_url=public,
            account_sid=settings.twilio_account_sid,
            from_number=normalize_phone(settings.twilio_from_number),
            api_base_url=settings.twilio_api_base_url,
            rate_per_second=rate,
        )
    if settings.public_base_url is None and is_loopback(host):
        token = settings.twilio_auth_token
        return SmsConfig(
            mode="development",
            auth_token=token or secrets.token_urlsafe(24),
            public_base_url=public,
            rate_per_second=rate,
            generated_token=token is None,
            mask_codes=bool(settings.telegram_bot_token),
        )
    return SmsConfig(mode="disabled", auth_token=None, public_base_url=public, rate_per_second=rate)


def telegram_config(settings: Settings) -> TelegramConfig:
    """The Telegram channel's configuration; TelegramConfigError when it is unusable."""
    # Imported here: python-telegram-bot is slow to import and `serve --help` need not wait.
    from bot.plugin import DEFAULT_API_BASE_URL, WEBHOOK_PATH, TelegramConfig, TelegramConfigError

    if not settings.telegram_bot_token:
        raise TelegramConfigError(t("TELEGRAM_BOT_TOKEN is not set"))
    webhook_url = None
    if settings.public_base_url:
        webhook_url = settings.public_base_url.rstrip("/") + WEBHOOK_PATH
    config = TelegramConfig(
        token=settings.telegram_bot_token,
        api_base_url=settings.telegram_api_base_url or DEFAULT_API_BASE_URL,
        webhook_url=webhook_url,
        webhook_secret=settings.telegram_webhook_secret,
        payment_provider_token=settings.telegram_payment_provider_token or None,
    )
    config.check()
    return config


def telegram_problems(settings: Settings) -> list[Text]:
    """Telegram settings that would stop the plugin from starting, worded for the operator."""
    if not settings.telegram_bot_token:
        return []
    from bot.plugin import TelegramConfigError

    try:
        telegram_config(settings)
    except TelegramConfigError as error:
        return [error.text]
    return []


def telegram_plugin(
    core: Core, settings: Settings, engine: InboundHandler, wake: OutboxWake
) -> ChannelPlugin | None:
    """The Telegram plugin for `serve`, or None (said once in the log) without a token."""
    if not settings.telegram_bot_token:
        log.warning("Telegram disabled: TELEGRAM_BOT_TOKEN not set")
        return None
    from bot.plugin import TelegramPlugin

    return TelegramPlugin(core, telegram_config(settings), engine, wake)
