"""What the HTTP benchmarks share: a server on a free loopback port, and counting arrivals."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


def free_socket() -> socket.socket:
    """A listening address on loopback, known before the server starts (for signed URLs)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serving(app: web.Application, sock: socket.socket) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    host, port = sock.getsockname()
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def busiest_second(arrivals: list[float]) -> int:
    """The most arrivals (sorted times in seconds) in any half-open window [a, a + 1 s)."""
    busiest, first = 0, 0
    for last, at in enumerate(arrivals):
        while at - arrivals[first] >= 1.0:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest
