"""`buonispesa serve`: the HTTP server (webhooks, health, metrics) and the outbox workers."""

from __future__ import annotations

import logging
import os
import secrets
import shlex
import socket
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from buonispesa.cli import app
from buonispesa.cli.common import (
    configuration_refused,
    err,
    fail,
    past_ctrl_c,
    program,
    say,
    settings_or_exit,
)
from buonispesa.cli.work import opening_refused
from buonispesa.listening import bind_free_port, bound_port
from core.domain.messages import t

if TYPE_CHECKING:
    # aiohttp, Twilio and the server are imported only when `serve` runs, so that
    # `buonispesa --help` and the office's commands start without them.
    from aiohttp import web

    from buonispesa.settings import Settings
    from core.bootstrap import Core
    from sms.plugin import SmsConfig

console = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Interface to listen on [BUONISPESA_HOST]")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=0,
            max=65535,
            help="Port to listen on; 0: a free one, printed at start [BUONISPESA_PORT]",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Server processes sharing the port (SO_REUSEPORT); one delivers the outbox",
        ),
    ] = 1,
    process_index: Annotated[int | None, typer.Option(hidden=True)] = None,
    made_up_token: Annotated[bool, typer.Option(hidden=True)] = False,
) -> None:
    """Run the HTTP server: SMS and Telegram webhooks, /healthz, /metrics, outbox delivery."""
    settings = settings_or_exit()
    from aiohttp import web

    from buonispesa.access_log import PrivateAccessLogger, PrivateServerLog
    from buonispesa.adapters import sms_problems, telegram_problems
    from outbox.channels import ChannelStartError

    problems = sms_problems(settings) + telegram_problems(settings)
    # Two workers are fine and so is the token: the option and the variables together not.
    workers_refused = workers > 1 and settings.telegram_bot_token and not settings.public_base_url
    if workers_refused:
        problems.append(
            t(
                "--workers needs PUBLIC_BASE_URL with TELEGRAM_BOT_TOKEN: "
                "long polling runs in one process only"
            )
        )
    if problems:
        configuration_refused(
            [say(problem) for problem in problems],
            options=bool(workers_refused),
            variables=True,
        )
    listen_host = host or settings.host
    listen_port = settings.port if port is None else port
    supervising = workers > 1 and process_index is None
    # Port 0: bound here on a port the kernel picks, and held, so that no other process
    # takes it before the server listens; the banner shows that port.
    held: list[socket.socket] = []
    if listen_port == 0:
        try:
            held = bind_free_port(listen_host, reuse_port=supervising)
        except OSError as exc:
            _cannot_listen(listen_host, listen_port, exc)
        listen_port = bound_port(held)
    if supervising:
        from buonispesa.processes import refuse_if_taken, supervise

        # The children bind with SO_REUSEPORT, which would let them join another group
        # already serving the port (two outbox senders, the rate limit broken): the parent
        # makes sure the port is free first, and refuses as a single process would. A port
        # it picked is free, and held until the children stop.
        if not held:
            try:
                refuse_if_taken(listen_host, listen_port)
            except OSError as exc:
                _cannot_listen(listen_host, listen_port, exc)
        try:
            with opening_refused(settings.database_url):
                code = supervise(settings, listen_host, listen_port, workers)
        finally:
            for sock in held:
                sock.close()
        if code == 0:  # the children stopped on the signal forwarded to them
            _stopped()
        raise typer.Exit(code)
    # One process, or child `process_index` of `--workers N`: child 0 alone delivers the outbox.
    child = process_index is not None
    elected = process_index in (None, 0)
    process = f"[{process_index}] %(process)d " if child else ""
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {process}%(levelname)s %(name)s: %(message)s"
    )
    # Alembic announces each of its plugins at INFO on every start: noise in a server log.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # A request aiohttp's parser refuses is logged with its raw bytes (the query string too).
    logging.getLogger("aiohttp.server").addFilter(PrivateServerLog())
    banner: list[Line] = []

    def announce(running_on: str) -> None:
        # aiohttp calls this once every socket is bound: a second `serve` on a port in use
        # is refused without having claimed to serve it.
        for text, soft_wrap in banner:
            console.print(text, soft_wrap=soft_wrap)
        console.print(escape(running_on.strip()))

    try:
        # The database's refusals first: "Cannot listen on …" would blame the wrong address.
        with opening_refused(settings.database_url):
            web.run_app(
                _app(settings, listen_host, listen_port, process_index, made_up_token, banner),
                # The held sockets when the port was picked here, else host and port.
                host=None if held else listen_host,
                port=None if held else listen_port,
                sock=held or None,
                reuse_port=child,
                # Never the query string (office searches), the client or its Referer.
                access_log_class=PrivateAccessLogger,
                print=announce if elected else None,
                # Handlers in flight get this long to finish; then the outbox batch in hand.
                shutdown_timeout=30,
            )
    except ChannelStartError as exc:
        fail(exc.text)
    except OSError as exc:
        _cannot_listen(listen_host, listen_port, exc)
    # run_app returns once Ctrl-C or SIGTERM has stopped it (the handlers in flight had
    # shutdown_timeout to finish); a child of --workers leaves the line to its parent.
    if not child:
        _stopped()


def _stopped() -> None:
    past_ctrl_c()
    err.print(say(t("The server has stopped.")), markup=False)


def _cannot_listen(host: str, port: int, exc: OSError) -> NoReturn:
    # The system's own reason as it is (asyncio's and the kernel's words, in English).
    fail(
        t(
            "Cannot listen on {host}:{port}: {problem}",
            host=host,
            port=str(port),
            problem=exc.strerror or str(exc),
        )
    )


# A line of the start banner: rich markup, and whether it may run past the terminal's width.
Line = tuple[str, bool]


async def _app(
    settings: Settings,
    host: str,
    port: int,
    process_index: int | None,
    made_up_token: bool,
    banner: list[Line],
) -> web.Application:
    from buonispesa.processes import stop_when_orphaned
    from buonispesa.runtime import core_from_settings
    from buonispesa.server import SMS_CONFIG, build_app, freeze_startup_heap

    # Migrates to the newest schema first; under `--workers N` the parent did it already.
    core = await core_from_settings(settings, run_migrations=process_index is None)

    async def close_core(_: web.Application) -> None:
        await core.close()

    elected = process_index in (None, 0)
    application = await build_app(
        core, settings, host=host, port=port, console=_print_sms, deliver=elected
    )
    # Appended after build_app's cleanup context: runs once the workers have stopped.
    application.on_cleanup.append(close_core)
    # After the workers' start, which imports the channels' clients.
    application.on_startup.append(freeze_startup_heap)
    if process_index is not None:
        stop_when_orphaned(application)
        console.print(f"process {process_index} (pid {os.getpid()}) serving")
    if elected:
        sms = application[SMS_CONFIG]
        made_up = sms.generated_token or made_up_token
        banner.extend(await _explain(core, replace(sms, generated_token=made_up), host, port))
    return application


def _print_sms(text: str) -> None:
    console.print(f"[cyan]{escape(text)}[/cyan]")


async def _explain(core: Core, sms: SmsConfig, host: str, port: int) -> list[Line]:
    """What the elected process prints once it holds the port."""
    from sms.plugin import DEVELOPMENT_BESIDE_A_BOT, INBOUND_PATH

    lines: list[Line] = []

    def line(text: str, soft_wrap: bool = False) -> None:
        lines.append((text, soft_wrap))

    base = f"http://{host}:{port}"
    line(f"[bold]buonispesa[/bold] on {base}  (health: {base}/healthz, metrics: {base}/metrics)")
    # Not folded: the command is pasted from it.
    line(
        "Talk to the service in a terminal, as a citizen or a shop: "
        f"[bold]{escape(program())} chat[/bold]",
        True,
    )
    if sms.mode == "twilio":
        line(
            f"SMS: Twilio account {sms.account_sid}; set the messaging webhook of your Twilio "
            f"number to {sms.public_base_url}{INBOUND_PATH} (HTTP POST)."
        )
        return lines
    if sms.mode == "disabled":
        line(
            "SMS: [yellow]disabled[/yellow] (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_FROM_NUMBER are not set): inbound SMS are refused with 403."
        )
        return lines
    assert sms.auth_token is not None
    if sms.generated_token and sms.mask_codes:
        # Beside a real bot this log may be read by others: the token signs forged SMS.
        signed_with = "with an auth token made up for this run and not printed"
    elif sms.generated_token:
        signed_with = f"with the auth token made up for this run: {escape(sms.auth_token)}"
    else:
        # The operator's own secret is never printed.
        signed_with = "with TWILIO_AUTH_TOKEN"
    line(
        "SMS: [yellow]development mode[/yellow] (no Twilio account): replies are printed here, "
        f"not sent. Inbound SMS must still be signed, {signed_with}."
    )
    if sms.mask_codes:
        line(f"[bold red]{escape(DEVELOPMENT_BESIDE_A_BOT)}[/bold red]")
        if sms.generated_token:
            return lines  # a signed curl would carry the unprinted token
    sender, to = await _example_numbers(core)
    keep = (
        " Set TWILIO_AUTH_TOKEN to keep the same token across restarts."
        if sms.generated_token
        else ""
    )
    line(
        "Try the SMS webhook (a citizen asks for the balance; the reply is printed here). "
        "Pasting it twice shows a retried delivery: answered, processed once." + keep
    )
    line(escape(signed_curl(sms.public_base_url, sms.auth_token, sender, to, "SALDO")), True)
    return lines


async def _example_numbers(core: Core) -> tuple[str, str]:
    """A demo citizen writing to the demo town's number, when the demo is seeded."""
    from buonispesa.demo import DEMO_CITIZENS, DEMO_CODE

    async with core.uow() as uow:
        town = await uow.municipalities.by_code(DEMO_CODE)
        if town is None:
            towns = await uow.municipalities.all()
            town = towns[0] if towns else None
    to = town.sms_number if town is not None and town.sms_number else "+390000000000"
    sender = (
        DEMO_CITIZENS[0].phone if town is not None and town.code == DEMO_CODE else "+393330000000"
    )
    return sender, to


def signed_curl(public_base_url: str, token: str, sender: str, to: str, body: str) -> str:
    """A curl command for POST /sms/twilio, signed as Twilio signs (a new MessageSid each time)."""
    from twilio.request_validator import RequestValidator

    from sms.plugin import INBOUND_PATH

    url = public_base_url.rstrip("/") + INBOUND_PATH
    fields = {"From": sender, "To": to, "Body": body, "MessageSid": "SM" + secrets.token_hex(16)}
    signature = RequestValidator(token).compute_signature(url, fields)
    parts = ["curl", "-sS", url, "-H", f"X-Twilio-Signature: {signature}"]
    for name, value in fields.items():
        parts += ["--data-urlencode", f"{name}={value}"]
    return shlex.join(parts)
