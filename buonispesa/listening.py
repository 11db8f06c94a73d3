"""`serve --port 0`: a free port, bound before the server starts and held until it stops.

Asking for a free port and then starting on it leaves a window in which another
process takes it. Here the sockets are bound at once on a port the kernel picks, and
kept: a single process serves on them; the parent of `--workers N` holds them (with
SO_REUSEPORT) while its children bind the same port with SO_REUSEPORT beside them.
"""

from __future__ import annotations

import errno
import socket

# Attempts at finding one port free on every address the host names (a port the kernel
# gives for the first address may be taken on the second, e.g. "localhost": ::1, 127.0.0.1).
ATTEMPTS = 20


def bind_free_port(host: str, *, reuse_port: bool = False) -> list[socket.socket]:
    """Sockets bound (not listening) to one free port on each address `host` names.

    The addresses are those aiohttp would listen on for `host` ("" is every interface);
    options as asyncio's create_server sets them. OSError when `host` cannot be bound."""
    infos = socket.getaddrinfo(host or None, 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    addresses = list(dict.fromkeys(infos))
    for attempt in range(ATTEMPTS):
        bound: list[socket.socket] = []
        port = 0  # the kernel picks it for the first address; the others take the same
        try:
            for family, kind, proto, _, address in addresses:
                sock = socket.socket(family, kind, proto)
                bound.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if reuse_port:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind((address[0], port, *address[2:]))
                port = sock.getsockname()[1]
        except OSError as exc:
            for sock in bound:
                sock.close()
            if exc.errno != errno.EADDRINUSE or attempt == ATTEMPTS - 1:
                raise
            continue
        return bound
    raise AssertionError("unreachable")  # pragma: no cover


def bound_port(sockets: list[socket.socket]) -> int:
    """The port the sockets of bind_free_port share."""
    return int(sockets[0].getsockname()[1])
