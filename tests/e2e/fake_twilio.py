"""A small local fake of Twilio's Messages API, for end-to-end tests and the benchmark.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP Basic auth
(account sid, auth token) and form fields To, From, Body, StatusCallback, as
twilio-python sends them. Answers 201 with a message resource like Twilio's, or
the error queued with `fail_next` (Twilio's JSON error body: code, message,
more_info, status). Every request is recorded with its arrival time.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate

from aiohttp import web


@dataclass(frozen=True)
class Recorded:
    to: str
    from_: str
    body: str
    status_callback: str | None
    at: float  # time.monotonic() on arrival
    answered: int  # the HTTP status the fake answered with
    sid: str | None  # the message sid when accepted


@dataclass
class _Failure:
    status: int
    code: int
    message: str


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "0123456789abcdef" * 2
    auth_token: str = "fake-twilio-auth-token"
    requests: list[Recorded] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Condition | None = None
    base_url: str = ""
    # Seconds between accepting a message and answering: a slow provider, whose client
    # can die holding a message Twilio has already taken.
    answer_after: float = 0.0

    def fail_next(self, status: int, code: int, message: str = "error", times: int = 1) -> None:
        """Answer the next `times` requests with this error instead of accepting them."""
        self._failures.extend(_Failure(status, code, message) for _ in range(times))

    @property
    def accepted(self) -> list[Recorded]:
        return [r for r in self.requests if r.sid is not None]

    def to(self, number: str) -> list[Recorded]:
        return [r for r in self.accepted if r.to == number]

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(self._runner, sock)
        await site.start()
        self._arrived = asyncio.Condition()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_until(self, ready: Callable[[], bool], within: float = 60.0) -> None:
        """Wait until `ready()` holds, checked on each request (TimeoutError otherwise)."""
        assert self._arrived is not None
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(ready)

    async def wait_for(self, count: int, within: float = 60.0) -> list[Recorded]:
        """Wait until `count` requests were accepted in all."""
        await self.wait_until(lambda: len(self.accepted) >= count, within)
        return self.accepted

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return secrets.compare_digest(header, f"Basic {expected}")

    async def _create(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        uri = request.path
        if not self._authorized(request) or request.match_info["sid"] != self.account_sid:
            return _error(401, 20003, "Authenticate")
        form = await request.post()
        to, from_, body = (
            str(form.get("To", "")),
            str(form.get("From", "")),
            str(form.get("Body", "")),
        )
        callback = form.get("StatusCallback")
        if self._failures:
            failure = self._failures.pop(0)
            await self._record(
                Recorded(to, from_, body, _str(callback), arrived, failure.status, None)
            )
            return _error(failure.status, failure.code, failure.message)
        if not to or not from_ or not body:
            await self._record(Recorded(to, from_, body, _str(callback), arrived, 400, None))
            return _error(400, 21604, "A 'To' phone number, 'From' and 'Body' are required.")
        sid = "SM" + secrets.token_hex(16)
        await self._record(Recorded(to, from_, body, _str(callback), arrived, 201, sid))
        if self.answer_after:
            await asyncio.sleep(self.answer_after)
        now = formatdate(usegmt=True)
        return web.json_response(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": to,
                "from": from_,
                "body": body,
                "status": "queued",
                "direction": "outbound-api",
                "num_segments": "1",
                "num_media": "0",
                "date_created": now,
                "date_updated": now,
                "date_sent": None,
                "error_code": None,
                "error_message": None,
                "price": None,
                "price_unit": "USD",
                "api_version": "2010-04-01",
                "uri": f"{uri[: -len('.json')]}/{sid}.json",
                "subresource_uris": {},
            },
            status=201,
        )

    async def _record(self, item: Recorded) -> None:
        self.requests.append(item)
        assert self._arrived is not None
        async with self._arrived:
            self._arrived.notify_all()


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )
