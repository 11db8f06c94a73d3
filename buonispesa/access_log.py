"""The server's access log, without personal data.

aiohttp's default access log writes the request line as received (with its query string:
an office search `?q=` is a codice fiscale or a phone number), the client's address, the
Referer (the previous page's address, query string included) and the User-Agent. The
server log is kept outside the database, where `privacy erase` cannot reach it, so it
must never hold those. This logger writes the method, the path without the query string
(a path typed by hand with a codice fiscale or a phone number in it is masked, whatever
separates its characters), the status, the size and the time taken.

aiohttp's server log (`aiohttp.server`) writes a request its parser refuses (too long, a
bad method or header) with the raw bytes of the line; PrivateServerLog keeps only the kind
of refusal.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, unquote

from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

# Between the characters of an identifier typed by hand: spaces, dashes, dots, slashes…
_SEPARATOR = r"[\s./_+()-]"
_GAP = rf"{_SEPARATOR}{{0,3}}"
_DIGIT = r"[0-9LMNPQRSTUV]"  # a digit of a codice fiscale, or its omocodia letter
# A codice fiscale's shape (python-stdnum's rules: omocodia letters, the month's letter);
# the check letter is not asked for, since a code with a typo is still a person's.
_SHAPE = [*["[A-Z]"] * 6, _DIGIT, _DIGIT, "[ABCDEHLMPRST]", _DIGIT, _DIGIT, "[A-Z]"]
_SHAPE += [_DIGIT] * 3 + ["[A-Z]"]
# Typed with separators, it must stand alone: words joined by dashes or slashes can take
# its shape across their letters (omocodia letters are common ones).
_SPACED = rf"(?<![A-Z0-9]){_GAP.join(_SHAPE)}(?![A-Z0-9])"
# The office's own protocols (BEL-2026-000007) stay: their digits are no phone.
_PROTOCOL = r"(?<![A-Z0-9])[A-Z][A-Z0-9]*-\d{4}-\d{6}(?!\d)"
_DIGITS = rf"\+?\(?\d+(?:{_SEPARATOR}{{1,3}}\d+)*"
_PERSONAL = re.compile(
    rf"(?P<protocol>{_PROTOCOL})|(?P<cf>{''.join(_SHAPE)}|{_SPACED})|(?P<digits>{_DIGITS})",
    re.IGNORECASE,
)
MASK = "***"


def _mask(found: re.Match[str]) -> str:
    if found["protocol"]:
        return found["protocol"]
    if found["cf"]:
        return MASK
    groups = re.findall(r"\d+", found["digits"])
    # A phone number, whatever its separators: 9 digits or more in all (a landline has 9 at
    # least with its prefix, a mobile 10), or 7 together. The routes' own numbers are
    # shorter: row ids stay far below a million in one town, dates have 8 digits.
    if sum(map(len, groups)) >= 9 or max(map(len, groups)) >= 7:
        return MASK
    return found["digits"]


def loggable_path(path: str) -> str:
    """The path as the log may hold it: no query string, identifiers of people masked."""
    path = path.split("?", 1)[0]
    # Read as the person typed it: %20 a space, %2B a plus, even when encoded twice.
    for _ in range(3):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    masked = _PERSONAL.sub(_mask, path)
    # A decoded line feed must not start a forged line of the log.
    return "".join(c if c.isprintable() else quote(c, safe="") for c in masked)


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
