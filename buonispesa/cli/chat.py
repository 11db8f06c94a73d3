"""`buonispesa chat`: talk to the dialogue in a terminal, as an SMS user would.

The terminal is one more channel: each line goes to the same engine as SMS and
Telegram, and the replies are read back from the outbox (and marked sent) with
their options as numbers. Messages the engine sends to other people meanwhile
(the payment code a customer receives when a shop charges, a receipt) are shown
too, without being marked sent, so that one person can try a whole payment.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from buonispesa.cli import app
from buonispesa.cli.common import fail, office_language, settings_or_exit
from buonispesa.cli.work import opening_refused
from core.domain.errors import InvalidIdentifier
from core.domain.messages import Text, t
from core.i18n import LANGUAGES, render_text

# The engine, the database and the demo's data are imported when a chat starts:
# `buonispesa --help` builds this command too and must start fast.
if TYPE_CHECKING:
    from buonispesa.settings import Settings
    from core.bootstrap import Core
    from core.dialogue.inbound import Inbound

console = Console(highlight=False)

LOCATION_COMMAND = "/location"
# Leaving the program: words no conversation uses ("esci" is a shop's cashier leaving the
# shop, ESCI, and must reach the engine like any other word). Ctrl-D leaves too.
QUIT_WORDS = ("/quit", "/exit")


class Role(StrEnum):
    CITIZEN = "citizen"
    SHOP = "shop"


def default_phone(role: Role) -> str:
    """The first demo citizen's phone, or the first demo shop's."""
    from buonispesa.demo import DEMO_CITIZENS, DEMO_SHOPS

    return DEMO_CITIZENS[0].phone if role is Role.CITIZEN else DEMO_SHOPS[0][6]


@app.command()
def chat(
    role: Annotated[
        Role, typer.Option("--as", help="Whom to play: a citizen or a shop's cashier.")
    ] = Role.CITIZEN,
    phone: Annotated[
        str | None,
        typer.Option(
            "--phone",
            help="Your phone number in the chat (default: the first demo citizen, or the first "
            "demo shop with --as shop).",
        ),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of the conversation: it or en.")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Database to use (default: BUONISPESA_DATABASE_URL)."),
    ] = None,
    others: Annotated[
        bool,
        typer.Option(
            "--others/--no-others",
            help="Also show what the engine sends to other people (the customer's payment code, "
            "receipts), as '(SMS to ...: ...)'.",
        ),
    ] = True,
) -> None:
    """Chat with the service in the terminal, as by SMS: options are numbered, reply "1", "2"...

    Try a whole payment alone: `buonispesa demo`, then `buonispesa chat --as shop`
    and write `PAGA <codice fiscale> 12,50` with a demo citizen's code (shown at the
    start). The code the customer receives by SMS is printed as "(SMS to ...: ...)";
    type it back as the cashier. Write `/location 43.164,13.238` to share a position,
    AIUTO (HELP with --lang en) for help, and Ctrl-D or "/quit" to leave (ESCI is the
    cashier's word to leave a shop, sent like any other). Opened again in the middle of a
    request (a payment waiting for its code), the chat goes on where it was.
    """
    from core.domain.identity import normalize_phone

    settings = settings_or_exit(database_url)
    try:
        address = normalize_phone(phone or default_phone(role))
    except InvalidIdentifier:
        fail(t("{phone} is not a phone number (e.g. +393331234567).", phone=repr(phone)))
    if lang is not None and lang not in LANGUAGES:
        fail(t("--lang: one of {languages}.", languages=", ".join(LANGUAGES)))
    # A database that cannot be opened is one sentence, its password hidden, as for every
    # other command: not a traceback that prints the address whole.
    with opening_refused(settings.database_url):
        asyncio.run(_session(settings, role, address, lang, others))


async def _session(
    settings: Settings, role: Role, address: str, lang: str | None, others: bool
) -> None:
    from buonispesa.runtime import core_from_settings

    core = await core_from_settings(settings)
    try:
        session = TerminalChat(core, address, lang, others)
        await session.intro(role)
        if lang:
            # In the middle of a request LINGUA asks its question again, in that language.
            await session.send(f"LINGUA {lang}")
        elif not await session.resume():
            # MENU would leave a request open in this chat: only sent when none is.
            await session.send("MENU")
        read_line = await read_lines()
        while True:
            try:
                line = await read_line("> ")
            except EOFError:
                console.print()
                return
            if line.strip().lower() in QUIT_WORDS:
                return
            await session.send(line)
    finally:
        await core.close()


class TerminalLines:
    """The lines typed, read from the terminal's file descriptor by a thread that does not
    hold the exit. Ctrl-C cancels the chat while that thread still waits for a line: input()
    in asyncio.to_thread's pool would be joined on the way out (the program hangs until the
    next Enter), and input() in a thread left behind holds stdin's lock, which the
    interpreter's shutdown then aborts on. os.read holds no lock of Python's."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self.fd = sys.stdin.fileno()
        threading.Thread(target=self._read, name="chat-input", daemon=True).start()

    def _read(self) -> None:
        decoder = codecs.getincrementaldecoder(sys.stdin.encoding or "utf-8")(errors="replace")
        pending = ""
        while True:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                chunk = b""
            pending += decoder.decode(chunk, final=not chunk)
            *complete, pending = pending.split("\n")
            for line in complete:
                self._put(line.removesuffix("\r"))
            if not chunk:  # end of input (Ctrl-D)
                if pending:
                    self._put(pending)
                self._put(None)
                return

    def _put(self, line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the chat has ended
            self.loop.call_soon_threadsafe(self.lines.put_nowait, line)

    async def read(self, prompt: str) -> str:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line = await self.lines.get()
        if line is None:
            raise EOFError
        return line


async def read_lines() -> Callable[[str], Awaitable[str]]:
    """How the chat reads a line: from the terminal's descriptor (TerminalLines), or with
    input() when stdin has none (a test's)."""
    try:
        sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return lambda prompt: asyncio.to_thread(input, prompt)
    return TerminalLines().read


class TerminalChat:
    """One terminal user: sends lines to the engine and prints what the outbox holds for them."""

    def __init__(self, core: Core, address: str, lang: str | None, others: bool) -> None:
        from core.dialogue.engine import DialogueEngine

        self.core = core
        self.engine = DialogueEngine(core)
        self.address = address
        self.lang = lang
        self.others = others
        # The program's own lines: in the chat's language, else the office's.
        self.own_language = lang or office_language()
        self.since_id = 0
        self.shown: set[int] = set()

    async def intro(self, role: Role) -> None:
        from buonispesa.demo import DEMO_CITIZENS, DEMO_CODE

        async with self.core.uow() as uow:
            self.since_id = await uow.outbox.last_id()
            demo = await uow.municipalities.by_code(DEMO_CODE)
        self._say(
            t("buonispesa chat as a shop, phone {phone}.", phone=self.address)
            if role is Role.SHOP
            else t("buonispesa chat as a citizen, phone {phone}.", phone=self.address)
        )
        # The keywords of the language chosen with --lang: an English chat says PAY, HELP.
        english = self.lang == "en"
        if demo is not None and role is Role.SHOP:
            citizen = DEMO_CITIZENS[0]
            charge = "PAY" if english else "PAGA"
            amount = "12.50" if english else "12,50"
            self._say(
                t(
                    "Demo: write {command}, then type the code that {phone} receives.",
                    command=f"{charge} {citizen.codice_fiscale} {amount}",
                    phone=citizen.phone,
                )
            )
        self._say(
            t(
                'Options are numbered: reply "1", "2"... {help} for help, Ctrl-D or "/quit" '
                "to leave.",
                help="HELP" if english else "AIUTO",
            )
        )
        console.print()

    def _say(self, text: Text) -> None:
        console.print(render_text(text, self.own_language), markup=False)

    async def resume(self) -> bool:
        """A chat opened again in the middle of a request (a payment waiting for the
        customer's code, a question of the application): the question it stands at is
        asked again by the engine, as after a message that is no answer (the last message
        may be an error without it), and nothing is sent, since MENU would leave the
        request. Where asking would do more than ask (a code step sends a new code), its
        last message is shown again instead. False when no request is open here."""
        from core.dialogue.inbound import Channel
        from core.dialogue.render import render_plain
        from core.services.outbox import reply_of

        body = ""
        async with self.core.uow() as uow:
            conversation = await uow.conversations.latest(Channel.TERMINAL.value, self.address)
            if conversation is None or conversation.flow is None or conversation.step is None:
                return False
            rows = await uow.outbox.for_address(Channel.TERMINAL.value, self.address)
            # The last message that still has its words (a code's message is scrubbed).
            last = next((row for row in reversed(rows) if not row.payload.get("sensitive")), None)
            if last is not None:
                body = render_plain(reply_of(uow.keys, last), last.language, sms=True)
        self._say(t("(Back where you left off: answer, or write MENU or CANCEL.)"))
        if await self.engine.ask_pending(Channel.TERMINAL, self.address):
            await self._show()
            return True
        if body:
            console.print(body, markup=False)
        console.print()
        return True

    async def send(self, line: str) -> None:
        inbound = self._inbound(line)
        if inbound is None:
            self._say(
                t(
                    "Write {command} LATITUDE,LONGITUDE, e.g. {example}",
                    command=LOCATION_COMMAND,
                    example=f"{LOCATION_COMMAND} 43.164,13.238",
                )
            )
            return
        await self.engine.handle(inbound)
        await self._show()

    def _inbound(self, line: str) -> Inbound | None:
        from core.dialogue.inbound import Channel, Inbound, SharedLocation

        if line.strip().lower().startswith(LOCATION_COMMAND):
            raw = line.strip()[len(LOCATION_COMMAND) :].replace(" ", "")
            try:
                latitude, longitude = (float(part) for part in raw.split(","))
            except ValueError:
                return None
            return Inbound(
                Channel.TERMINAL,
                self.address,
                location=SharedLocation(latitude, longitude),
                language_hint=self.lang,
            )
        return Inbound(Channel.TERMINAL, self.address, text=line, language_hint=self.lang)

    async def _show(self) -> None:
        from core.dialogue.inbound import Channel
        from core.dialogue.render import render_plain
        from core.domain.outbox import OutboxStatus
        from core.services.outbox import reply_of, scrubbed

        async with self.core.uow() as uow:
            rows = await uow.outbox.pending_after(self.since_id)
            for row in rows:
                if row.id in self.shown:
                    continue
                body = render_plain(reply_of(uow.keys, row), row.language, sms=True)
                mine = (row.channel, row.address) == (Channel.TERMINAL.value, self.address)
                if mine:
                    console.print(body, markup=False)
                    console.print()
                    # Delivered: this terminal is the channel.
                    row.status = OutboxStatus.SENT
                    row.sent_at = self.core.now()
                    if row.payload.get("sensitive"):
                        row.payload = scrubbed(row.payload)
                elif self.others:
                    # Someone else's message stays pending for its own channel to deliver.
                    label = "SMS" if row.channel == Channel.SMS.value else row.channel.capitalize()
                    trace = t(
                        "({channel} to {address}: {body})",
                        channel=label,
                        address=row.address,
                        body=body,
                    )
                    console.print(render_text(trace, self.own_language), style="dim", markup=False)
                    console.print()
                self.shown.add(row.id)
            await uow.commit()
