"""The server's log holds no codice fiscale, phone number or raw request line."""

from __future__ import annotations

import logging
import socket
import sys

import aiohttp
import pytest
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, BadHttpMethod, LineTooLong

from buonispesa.access_log import PrivateServerLog

CODICE_FISCALE = "RSSMRA85T10A562S"


def _record(error: BaseException) -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        "aiohttp.server",
        logging.ERROR,
        __file__,
        1,
        "Error handling request from %s",  # as aiohttp's handle_error writes it
        ("203.0.113.7",),
        exc_info,
    )


def _written(record: logging.LogRecord) -> str:
    assert PrivateServerLog().filter(record)
    return logging.Formatter("%(levelname)s %(name)s: %(message)s").format(record)


@pytest.mark.parametrize(
    "error",
    [
        LineTooLong(f"/office/applications?q={CODICE_FISCALE}+xxxx...".encode(), 8190),
        BadHttpMethod(f"G@T /office/applications?q={CODICE_FISCALE} HTTP/1.1"),
        BadHttpMessage(f"Invalid header token:\n\n    b'Ho st: {CODICE_FISCALE}'\n        ^"),
    ],
)
def test_a_bad_request_is_logged_without_its_bytes(error: BaseException) -> None:
    written = _written(_record(error))
    assert written.startswith(f"ERROR aiohttp.server: bad HTTP request: {type(error).__name__}")
    assert CODICE_FISCALE not in written and "Traceback" not in written, written
    assert "203.0.113.7" not in written


def test_a_bad_request_says_how_long_a_line_was_refused() -> None:
    written = _written(_record(LineTooLong(b"/x?q=...", 8190)))
    assert written.endswith("bad HTTP request: LineTooLong, a line over 8190 bytes")


async def test_a_handler_error_keeps_its_traceback_and_no_query_string(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("the database went away")

    app = web.Application()
    app.router.add_get("/office/broken", broken)
    server_log = logging.getLogger("aiohttp.server")
    private = PrivateServerLog()
    server_log.addFilter(private)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    try:
        url = "http://{}:{}/office/broken".format(*sock.getsockname())
        with caplog.at_level(logging.INFO, logger="aiohttp.server"):
            async with (
                aiohttp.ClientSession() as http,
                http.get(url, params={"q": CODICE_FISCALE}) as response,
            ):
                assert response.status == 500
    finally:
        await runner.cleanup()
        server_log.removeFilter(private)
    # What operators debug with: the traceback, down to the handler's own line.
    assert "Traceback" in caplog.text and "RuntimeError: the database went away" in caplog.text
    assert 'raise RuntimeError("the database went away")' in caplog.text
    assert CODICE_FISCALE not in caplog.text and "127.0.0.1" not in caplog.text, caplog.text
