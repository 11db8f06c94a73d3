"""`serve --port 0`'s sockets: one free port, held, on every address the host names."""

from __future__ import annotations

import socket

import pytest

from buonispesa.listening import bind_free_port, bound_port


def test_a_picked_port_is_held_until_closed() -> None:
    held = bind_free_port("127.0.0.1")
    port = bound_port(held)
    try:
        assert port != 0
        with socket.socket() as other, pytest.raises(OSError):
            other.bind(("127.0.0.1", port))  # nobody else takes it meanwhile
    finally:
        for sock in held:
            sock.close()


def test_every_address_of_the_host_gets_the_same_port() -> None:
    addresses = {info[4][0] for info in socket.getaddrinfo("localhost", 0, type=socket.SOCK_STREAM)}
    held = bind_free_port("localhost")
    try:
        assert {sock.getsockname()[0] for sock in held} == addresses
        assert {sock.getsockname()[1] for sock in held} == {bound_port(held)}
    finally:
        for sock in held:
            sock.close()


def test_with_reuse_port_the_workers_can_bind_beside_the_parent() -> None:
    held = bind_free_port("127.0.0.1", reuse_port=True)
    try:
        with socket.socket() as child:
            child.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            child.bind(("127.0.0.1", bound_port(held)))
            child.listen()
    finally:
        for sock in held:
            sock.close()
