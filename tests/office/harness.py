"""The office over HTTP: the whole `serve` application behind aiohttp's test client.

`OfficeBrowser` keeps the session cookie like a browser and reads the CSRF token from the
last page, so tests post forms the way a person does; `post(..., csrf=False)` leaves it out.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from buonispesa.server import build_app
from buonispesa.settings import Settings
from core.bootstrap import Core
from office.keys import OfficeConfig

# For tests that move the clock by hours or days while operators stay signed in (a round
# closed, a tranche approved the next day): their sessions outlast it. The session rules
# themselves are tested with the office as `serve` sets it up (tests/office/test_sessions.py).
LASTING_SESSIONS = OfficeConfig(
    secure_cookies=False, session_hours=24 * 365, idle_minutes=24 * 60 * 365
)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Page:
    status: int
    url: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class OfficeBrowser:
    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.csrf: str | None = None
        # The page on screen, sent as Referer with the next request as a browser does
        # under the office's same-origin Referrer-Policy.
        self.on_screen: str | None = None

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Referer": self.on_screen} if self.on_screen else {}
        return {**headers, **(extra or {})}

    async def _page(self, response: ClientResponse) -> Page:
        body = await response.read()
        kind = response.headers.get("Content-Type", "")
        text = body.decode("utf-8") if kind.startswith(("text/", "application/json")) else ""
        found = CSRF.search(text)
        if found:
            self.csrf = found.group(1)
        if kind.startswith("text/html"):
            self.on_screen = str(response.url)
        return Page(response.status, str(response.url.path_qs), text, dict(response.headers), body)

    async def get(
        self, path: str, *, follow: bool = True, headers: dict[str, str] | None = None
    ) -> Page:
        async with self.client.get(
            path, allow_redirects=follow, headers=self._headers(headers)
        ) as response:
            return await self._page(response)

    async def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        csrf: bool = True,
        follow: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Page:
        form = dict(data or {})
        if csrf:
            if self.csrf is None:
                await self.get("/office/sign-in")
            form["csrf_token"] = self.csrf
        async with self.client.post(
            path, data=form, allow_redirects=follow, headers=self._headers(headers)
        ) as response:
            return await self._page(response)

    async def sign_in(self, username: str, password: str) -> Page:
        await self.get("/office/sign-in")
        return await self.post("/office/sign-in", {"username": username, "password": password})


class OfficeServer:
    """The serve application on a local port; each browser() has its own cookies."""

    def __init__(self, server: TestServer) -> None:
        self.server = server
        self._clients: list[TestClient[Any, Any]] = []

    async def browser(self) -> OfficeBrowser:
        client: TestClient[Any, Any] = TestClient(self.server)
        await client.start_server()
        self._clients.append(client)
        return OfficeBrowser(client)

    async def close(self) -> None:
        for client in self._clients:
            await client.close()
        await self.server.close()


@asynccontextmanager
async def office_server(
    core: Core,
    database_url: str,
    public_base_url: str | None = None,
    office_config: OfficeConfig | None = None,
) -> AsyncIterator[OfficeServer]:
    """`office_config` None: the office as `serve` sets it up (sessions end idle after 30
    minutes of the test's clock, 10 hours after the sign-in)."""
    settings = Settings(
        _env_file=None, BUONISPESA_DATABASE_URL=database_url, PUBLIC_BASE_URL=public_base_url
    )
    app = await build_app(
        core,
        settings,
        host="127.0.0.1",
        port=8080,
        with_telegram=False,
        office_config=office_config,
    )
    server = OfficeServer(TestServer(app))
    await server.server.start_server()
    try:
        yield server
    finally:
        await server.close()
