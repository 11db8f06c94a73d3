"""The bot's command menu (setMyCommands): Italian for everyone, English for English clients.

A command is sent to the engine as its keyword ("/saldo" reads as SALDO), so
every command here is one of the dialogue's keywords, in the menu's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats

from core.domain.messages import Text, t
from core.i18n import render_text


@dataclass(frozen=True)
class Command:
    it: str
    en: str
    description: Text


COMMANDS: tuple[Command, ...] = (
    Command("domanda", "apply", t("Apply for grocery vouchers")),
    Command("stato", "status", t("Where your application stands")),
    Command("saldo", "balance", t("Your balance and last payments")),
    Command("negozi", "shops", t("Shops that accept the vouchers")),
    Command("carta", "card", t("Your card with the QR code, to print")),
    Command("lingua", "language", t("Change language")),
    Command("aiuto", "help", t("What this bot can do")),
    Command("ufficio", "office", t("How to reach the social services")),
    Command("stop", "stop", t("Stop the messages")),
)

# Telegram menus per client language; None is the default list (Italian).
MENUS: tuple[tuple[str | None, str], ...] = ((None, "it"), ("en", "en"))


def bot_commands(language: str) -> list[BotCommand]:
    return [
        BotCommand(
            command.en if language == "en" else command.it,
            render_text(command.description, language),
        )
        for command in COMMANDS
    ]


async def publish_commands(bot: Bot) -> None:
    for language_code, language in MENUS:
        # Private chats only: the bot talks to no group (it leaves them).
        await bot.set_my_commands(
            bot_commands(language),
            scope=BotCommandScopeAllPrivateChats(),
            language_code=language_code,
        )
