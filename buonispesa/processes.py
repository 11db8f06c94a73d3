"""`serve --workers N`: N server processes answering on one port.

Each child is `buonispesa serve` itself, started with a hidden `--process-index`; it
binds the port with SO_REUSEPORT, so the kernel spreads new connections over the
children and a busy event loop in one of them does not hold up the others.

The parent migrates the database and creates the server secret once, before any child
starts (N children racing to migrate or to write the secret file would collide), then
only supervises: SIGINT or SIGTERM is passed on to every child, which finishes the
requests in hand; if a child exits on its own, the parent stops the others and exits
with that child's code, so that the service manager restarts the whole group.

Child 0 is the elected sender: only it runs the outbox workers, so the rate limits of
the SMS number and of the Telegram bot are those of one process, i.e. global. The other
children write outbox rows as usual (in the same transaction as the state change); the
sender finds them at its next poll, within a second.

Children run in their own process group, so Ctrl+C in a terminal reaches only the
parent, which forwards it once; a child whose parent disappeared stops by itself.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from types import FrameType

from aiohttp import web

from buonispesa.adapters import sms_config
from buonispesa.runtime import core_from_settings
from buonispesa.settings import Settings
from core.metrics import METRICS_DIR_VARIABLE

PARENT_CHECK_SECONDS = 1.0


async def prepare(settings: Settings) -> None:
    """Migrate and create the secret once, before the children open the database."""
    core = await core_from_settings(settings)
    await core.close()


def refuse_if_taken(host: str, port: int) -> None:
    """Raise OSError (EADDRINUSE) when any socket holds host:port, as binding it would.

    The children bind with SO_REUSEPORT, and so does a child of another `serve --workers`
    group: the kernel would let them share the port. This probe binds each address the
    server will listen on without SO_REUSEPORT, which fails while any other socket listens
    there, reuse_port or not; it is closed before the children start. (Another group
    starting in that instant could still slip in: the window is the children's start-up.)
    The error reads as asyncio's own, so the refusal is the one a single process prints."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    probes: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            probe = socket.socket(family, kind, proto)
            probes.append(probe)
            # As asyncio's create_server sets them: a port left in TIME_WAIT is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise OSError(
                    exc.errno,
                    f"error while attempting to bind on address {address!r}: "
                    f"{(exc.strerror or str(exc)).lower()}",
                ) from None
    finally:
        for probe in probes:
            probe.close()


def supervise(settings: Settings, host: str, port: int, workers: int) -> int:
    """Run `workers` children on host:port until a signal or a child's exit; their exit code."""
    asyncio.run(prepare(settings))
    environment = dict(os.environ)
    # The children's counters in files of one folder, so that /metrics sums the group
    # (core/metrics.py); an operator's own folder is kept, ours removed at the end.
    own_metrics = METRICS_DIR_VARIABLE not in environment
    if own_metrics:
        environment[METRICS_DIR_VARIABLE] = tempfile.mkdtemp(prefix="buonispesa-metrics-")
    arguments = ["serve", "--host", host, "--port", str(port), "--workers", str(workers)]
    sms = sms_config(settings, host, port)
    if sms.generated_token and sms.auth_token is not None:
        # Made up once here: every child must check signatures with the same token.
        environment["TWILIO_AUTH_TOKEN"] = sms.auth_token
        arguments.append("--made-up-token")
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "buonispesa.cli", *arguments, "--process-index", str(index)],
            env=environment,
            start_new_session=True,
        )
        for index in range(workers)
    ]
    stopping = False

    def forward(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = _wait_for_first_exit(children)
        if not stopping:
            # A child stopped on its own: stop the group, report its code.
            forward(signal.SIGTERM, None)
        for child in children:
            child_code = child.wait()
            code = code or child_code
        return code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if own_metrics:
            shutil.rmtree(environment[METRICS_DIR_VARIABLE], ignore_errors=True)


def _wait_for_first_exit(children: list[subprocess.Popen[bytes]]) -> int:
    while True:
        for child in children:
            code = child.poll()
            if code is not None:
                return code
        time.sleep(0.2)


def stop_when_orphaned(app: web.Application) -> None:
    """A child whose parent died (SIGKILL, crash) shuts down instead of serving alone."""
    parent = os.getppid()

    async def watch(_: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while os.getppid() == parent:  # noqa: ASYNC110 (no event tells us, only polling)
                await asyncio.sleep(PARENT_CHECK_SECONDS)
            os.kill(os.getpid(), signal.SIGTERM)

        task = asyncio.create_task(loop())
        yield
        task.cancel()

    app.cleanup_ctx.append(watch)
