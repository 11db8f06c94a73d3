"""The server's access log, without personal data.

aiohttp's default access log writes the request line as received (with its query string:
an office search `?q=` is a codice fiscale or a phone number), the client's address, the
Referer (the previous page's address, query string included) and the User-Agent. The
server log is kept outside the database, where `privacy erase` cannot reach it, so it
must never hold those. This logger writes the method, the path without the query string
(a path typed by hand with a codice fiscale or a phone number in it is masked), the
status, the size and the time taken.

aiohttp's server log (`aiohttp.server`) writes a request its parser refuses (too long, a
bad method or header) with the raw bytes of the line; PrivateServerLog keeps only the kind
of refusal.
"""

from __future__ import annotations

import logging
import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

# What a person's identifier looks like in a path: a codice fiscale (omocodia letters
# included), or a run of 7 digits or more (a phone number, with or without +39). The
# routes' own identifiers are shorter: protocols (MAC1-2026-000001), and row ids, which stay
# far below a million in one town.
_PERSONAL = re.compile(
    r"[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}"
    r"[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]"
    r"|\+?\d{7,}"
)
MASK = "***"


def loggable_path(path: str) -> str:
    """The path as the log may hold it: no query string, identifiers of people masked."""
    return _PERSONAL.sub(MASK, path.split("?", 1)[0])


class PrivateServerLog(logging.Filter):
    """On `aiohttp.server`: a request its parser refused is logged with the start of the
    offending line (the query string with it) and a traceback repeating it; what is kept is
    that a bad request came, and its kind. An error of a handler keeps its traceback (it
    holds code, not the request) but not the client's address."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.msg, record.args = "bad HTTP request: %s", (type(error).__name__,)
            if isinstance(error, LineTooLong) and len(error.args) > 1:
                # args: the line's start, then the limit it went over.
                record.msg = "bad HTTP request: %s, a line over %s bytes"
                record.args = (type(error).__name__, error.args[1])
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        elif record.msg == "Error handling request from %s":
            record.msg, record.args = "Error handling a request", ()
        return True


class PrivateAccessLogger(AbstractAccessLogger):
    """`serve`'s access log (every process of `--workers N` too): method, path without
    query string, status, size, seconds. No client address, Referer or User-Agent."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            '"%s %s" %s %s %.3fs',
            request.method,
            loggable_path(request.path),
            response.status,
            response.body_length,
            time,
        )

    @property
    def enabled(self) -> bool:
        # aiohttp skips the call (and the timing) when nothing would be written.
        return self.logger.isEnabledFor(logging.INFO)
