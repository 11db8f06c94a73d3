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
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from types import FrameType

from aiohttp import web

from buonispesa.adapters import sms_config
from buonispesa.runtime import core_from_settings
from buonispesa.settings import Settings

PARENT_CHECK_SECONDS = 1.0


async def prepare(settings: Settings) -> None:
    """Migrate and create the secret once, before the children open the database."""
    core = await core_from_settings(settings)
    await core.close()


def supervise(settings: Settings, host: str, port: int, workers: int) -> int:
    """Run `workers` children on host:port until a signal or a child's exit; their exit code."""
    asyncio.run(prepare(settings))
    environment = dict(os.environ)
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
