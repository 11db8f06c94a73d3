"""The server's log holds no codice fiscale, phone number or raw request line."""

from __future__ import annotations

import logging
import re
import socket
import sys

import aiohttp
import pytest
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, BadHttpMethod, LineTooLong
from stdnum.it import codicefiscale

from buonispesa.access_log import MASK, PrivateServerLog, loggable_path
from office.views import add_routes

CODICE_FISCALE = "RSSMRA85T10A562S"
# Omocodia: the digits replaced by letters (LMNPQRSTUV), as the Agenzia does for a second
# person with the same code.
OMOCODICO = "RSSMRAURTMLARSNL"


def test_the_codici_fiscali_of_these_tests_are_valid() -> None:
    assert codicefiscale.is_valid(CODICE_FISCALE) and codicefiscale.is_valid(OMOCODICO)


@pytest.mark.parametrize(
    "typed",
    [
        CODICE_FISCALE,
        CODICE_FISCALE.lower(),
        OMOCODICO,
        "RSSMRA 85T10 A562S",
        "RSSMRA%2085T10%20A562S",
        "RSSMRA%252085T10%2520A562S",  # encoded twice
        "RSS-MRA-85T10-A562S",
        "rss.mra.85t10.a562s",
        "RSS MRA 85 T 10 A 562 S",
        "RSS_MRA/85T10/A562S",
        "RSS%2FMRA%2F85T10%2FA562S",
        "RSSMRA - 85T10 - A562S",
        "RSSMRA+85T10+A562S",
        "RSS MRA UR TML ARS NL",
    ],
)
def test_a_codice_fiscale_is_masked_whatever_its_separators(typed: str) -> None:
    assert loggable_path(f"/office/applications/{typed}") == f"/office/applications/{MASK}"
    assert loggable_path(f"/office/applications/{typed}/x") == f"/office/applications/{MASK}/x"


@pytest.mark.parametrize(
    "typed",
    [
        "3331000001",
        "333 100 0001",
        "333%20100%200001",
        "333-100-0001",
        "333.100.0001",
        "333/100/0001",
        "+39 333-100-0001",
        "+393331000001",
        "%2B39%20333%201000001",
        "%2B393331000001",
        "0039 333 100 0001",
        "(0733) 905 000",
        "0733 90 50 00",
        "1234567",  # seven digits together, as before
    ],
)
def test_a_phone_number_is_masked_whatever_its_separators(typed: str) -> None:
    assert loggable_path(f"/office/applications/{typed}") == f"/office/applications/{MASK}"
    assert loggable_path(f"/office/x{typed}/y") == f"/office/x{MASK}/y"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/healthz",
        "/metrics",
        "/sms/twilio",
        "/sms/twilio/status",
        "/telegram/webhook",
        "/office/acts/12/sepa.xml",
        "/office/acts/123456/sepa.xml",
        "/office/static/office.css",
        "/office/applications/BEL-2026-000007",
        "/office/applications/MAC1-2026-000001/receipt.pdf",
        "/office/applications/bel-2026-000007",
        "/office/documents/tranche-3.csv",
        "/office/activity.xlsx",
        "/office/documents/paper-letters.pdf",
        "/office/applications/import/template.csv",
        "/office/transparency/BEL/2026-12-05.csv",
        "/office/shops/12/members/345/remove",
    ],
)
def test_the_office_addresses_stay_as_they_are(path: str) -> None:
    assert loggable_path(path) == path


def test_no_route_of_the_office_is_masked() -> None:
    app = web.Application()
    add_routes(app)
    samples = {"protocol": "BEL-2026-000007", "format": "csv", "code": "BEL"}
    for resource in app.router.resources():
        path = re.sub(
            r"\{(\w+)(?::[^}]*)?\}",
            lambda m: samples.get(m.group(1), "123456"),
            resource.canonical,
        )
        assert loggable_path(f"/office{path}") == f"/office{path}", resource


def test_the_query_string_is_never_kept() -> None:
    assert loggable_path("/office/applications?q=RSSMRA85T10A562S") == "/office/applications"
    assert loggable_path("/healthz?from=x") == "/healthz"


def test_a_control_character_cannot_forge_a_log_line() -> None:
    forged = loggable_path('/x\n2026-12-05 00:00:00 INFO aiohttp.access: "GET /" 200')
    assert "\n" not in forged and forged.startswith("/x%0A")


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
