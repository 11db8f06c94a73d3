"""python-telegram-bot's calls to the Bot API, carried by aiohttp instead of httpx.

python-telegram-bot leaves its HTTP client open to replacement (`telegram.request.
BaseRequest`, "can be implemented via different asyncio HTTP libraries"): it builds the
request, parses the answer and raises its own errors (RetryAfter, Forbidden, …); this
class only moves the bytes. Why not its default httpx client: the server already runs on
aiohttp, and a sendMessage to a local Bot API costs about four times less CPU through it
(`bench/bench_telegram_transport.py`: ~2 ms vs ~0.5 ms a call, the fake API's own work
included), which is most of the outbox's work for every reply, notice and broadcast.

The environment (HTTPS_PROXY and the like, ~/.netrc) is read once for each host the bot
calls, at its first call, as httpx read it once when its client was made: aiohttp's
`trust_env` reads it again at every request, in two trips to a worker thread (the netrc
file, then the proxy settings), about a quarter of the instructions of every reply the
outbox delivers (`bench/callgrind_turns.py delivery`).

Timeouts mean what they mean for python-telegram-bot's own client: `connect` to open a
connection, `read` between two reads of the answer, `pool` to wait for a free
connection. aiohttp has no write timeout of its own: the sum of all four bounds the whole
call instead, so a stalled upload ends too (a card PDF gets `media_write_timeout`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import IO

import aiohttp
from aiohttp.helpers import basicauth_from_netrc, get_env_proxy_for_url, netrc_from_env
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput  # the type in BaseRequest.do_request's signature
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded pool of connections, opened by `initialize`."""

    __slots__ = (
        "_connect_timeout",
        "_environment",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        # The defaults are python-telegram-bot's own (its ApplicationBuilder's).
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._environment: dict[tuple[str, str | None], _Environment] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Not trust_env: the environment is read once a host (`_environment_of`).
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )
            self._environment = {}

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized")
        files = request_data is not None and request_data.contains_files
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        timeout = aiohttp.ClientTimeout(
            total=_sum(pool, connect, write, read),
            connect=_sum(pool, connect),  # aiohttp's connect includes waiting for the pool
            sock_connect=_seconds(connect),
            sock_read=_seconds(read),
        )
        try:
            environment = await self._environment_of(url)
            async with session.request(
                method,
                url,
                data=_body(request_data),
                timeout=timeout,
                proxy=environment.proxy,
                proxy_auth=environment.proxy_auth,
                auth=environment.auth,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            # The class name helps where the message is empty (a dropped connection).
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error

    async def _environment_of(self, url: str) -> _Environment:
        """HTTPS_PROXY and the like, and ~/.netrc, for this URL's host: read at the first
        call to it (in a worker thread, as aiohttp's trust_env reads them), then kept."""
        parsed = URL(url)
        key = (parsed.scheme, parsed.host)
        found = self._environment.get(key)
        if found is None:
            found = await asyncio.to_thread(_read_environment, parsed)
            self._environment[key] = found
        return found


@dataclass(frozen=True, slots=True)
class _Environment:
    """What aiohttp's trust_env would take from the environment for one host."""

    proxy: URL | None = None
    proxy_auth: aiohttp.BasicAuth | None = None
    auth: aiohttp.BasicAuth | None = None


def _read_environment(url: URL) -> _Environment:
    """As aiohttp's ClientSession with trust_env=True reads it for a request to `url`."""
    auth = None
    if url.host is not None:
        try:
            auth = basicauth_from_netrc(netrc_from_env(), url.host)
        except LookupError:
            auth = None
    try:
        proxy, proxy_auth = get_env_proxy_for_url(url)
    except LookupError:
        return _Environment(auth=auth)
    return _Environment(proxy, proxy_auth, auth)


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """The parameters as a form: url-encoded, or multipart when there are files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    if not request_data.contains_files:
        return fields
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in request_data.multipart_data.items():
        payload: bytes | IO[bytes] = content
        form.add_field(name, payload, filename=filename, content_type=mime)
    return form


def _given(value: ODVInput[float], default: float | None) -> object:
    """A timeout passed for this call (None included: no limit), else the default."""
    return default if isinstance(value, DefaultValue) else value


def _seconds(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _sum(*values: object) -> float | None:
    """None (no limit) when any part has none."""
    seconds = [_seconds(value) for value in values]
    return None if any(s is None for s in seconds) else sum(s for s in seconds if s is not None)
