"""`buonispesa admin card CODE CODICE_FISCALE --out FILE.pdf`: a card to print for a citizen.

For households without a smartphone: the office prints the card, the cashier
scans its QR code (the bot's deep link for the card) or types the card code.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from telegram import Bot
from telegram.error import TelegramError

from bot.card import CardData, card_by_codice_fiscale, card_pdf, deep_link, qr_png
from bot.plugin import DEFAULT_API_BASE_URL
from buonispesa.cli.admin import admin, out, run_with_core
from buonispesa.cli.common import fail, settings_or_exit
from core.bootstrap import Core
from core.domain.errors import InvalidIdentifier
from core.domain.identity import normalize_codice_fiscale
from core.i18n import LANGUAGES
from core.services import municipalities

FORMATS = (".pdf", ".png")


@admin.command("card")
def card(
    code: Annotated[str, typer.Argument(help="Municipality code, e.g. BEL")],
    codice_fiscale: Annotated[str, typer.Argument(help="The card holder's codice fiscale")],
    out_file: Annotated[
        Path,
        typer.Option("--out", help="Where to write: .pdf (card to print) or .png (QR code only)"),
    ],
    language: Annotated[str, typer.Option("--lang", help="Language of the card: it or en")] = "it",
    bot_username: Annotated[
        str | None,
        typer.Option(help="The bot's @username; asked to Telegram (getMe) when not given"),
    ] = None,
) -> None:
    """Write a citizen's voucher card with a QR code that opens the bot on the card."""
    if out_file.suffix.lower() not in FORMATS:
        fail(f"--out: use a .pdf or .png file name, not {out_file.name!r}")
    if language not in LANGUAGES:
        fail(f"--lang: one of {', '.join(LANGUAGES)}")
    try:
        cf = normalize_codice_fiscale(codice_fiscale)
    except InvalidIdentifier as error:
        fail(f"'{codice_fiscale}' is not a valid codice fiscale ({error.reason})")
    username = (bot_username or "").lstrip("@") or asyncio.run(_ask_username())

    async def work(core: Core) -> CardData | None:
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
            return await card_by_codice_fiscale(uow, town, cf)

    holder = run_with_core(work)
    if holder is None:
        fail(f"no citizen with codice fiscale {cf} in {code.upper()}")
    try:
        link = deep_link(username, holder.card_code)
    except ValueError as error:
        fail(str(error))
    content = (
        card_pdf(holder, link, language) if out_file.suffix.lower() == ".pdf" else qr_png(link)
    )
    try:
        out_file.write_bytes(content)
    except OSError as error:
        fail(f"{out_file}: {error.strerror}")
    out.print(f"Card {holder.card_code} ({holder.holder}) written to {out_file}")


async def _ask_username() -> str:
    settings = settings_or_exit()
    if not settings.telegram_bot_token:
        fail("the QR code needs the bot's username: set TELEGRAM_BOT_TOKEN or pass --bot-username")
    bot = Bot(
        settings.telegram_bot_token,
        base_url=settings.telegram_api_base_url or DEFAULT_API_BASE_URL,
    )
    try:
        async with bot:
            return str(bot.username)
    except TelegramError as error:
        fail(f"could not ask Telegram for the bot's username ({error}); pass --bot-username")
