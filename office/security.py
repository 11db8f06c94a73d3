"""Sessions, sign-in guard and CSRF for the office.

The session lives in an encrypted and signed cookie (aiohttp-session's Fernet storage, key
derived from the server secret): HttpOnly, SameSite=Strict, Secure behind https, limited
to /office. Every unsafe request must carry the session's CSRF token (form field
`csrf_token`, or the X-CSRF-Token header) or it is refused with 403 before any handler
runs. Pages other than the sign-in need a signed-in operator; an operator with a one-time
password is sent to change it first. A successful sign-in also leaves a device cookie
(same care, kept for DEVICE_COOKIE_DAYS): the sign-in counts its wrong passwords apart.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_session import Session, get_session, new_session

from core.domain.errors import NotAllowed
from core.services import operators
from core.storage import models as m
from office.keys import CONFIG, CORE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

COOKIE_NAME = "buonispesa_office"
# The device cookie (core.domain.device_cookies): kept across sessions, renewed at each
# sign-in, so that this browser's wrong passwords are counted apart from strangers'.
DEVICE_COOKIE_NAME = "buonispesa_office_device"
DEVICE_COOKIE_DAYS = 180
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
OPERATOR_KEY = "operator_id"
STARTED_KEY = "started"
OPERATOR = web.RequestKey("operator", m.Operator)  # request[OPERATOR]: who is signed in

# Reachable without a session (the sign-in itself, the style sheet, open data).
PUBLIC = frozenset({"sign_in", "sign_in_post", "static", "language", "open_report", "open_shops"})
# Reachable with a one-time password still to change.
BEFORE_PASSWORD = frozenset({"password", "password_post", "sign_out", "language"})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfRefused(NotAllowed):
    """An unsafe request without this session's token: another site's form, or an old page."""

    code = "office.csrf"


def csrf_token(session: Session) -> str:
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


async def start_session(request: web.Request, operator: m.Operator) -> None:
    """A new session for a fresh sign-in: nothing from before survives (session fixation)."""
    old = await get_session(request)
    language = old.get("lang")
    session = await new_session(request)
    session[OPERATOR_KEY] = operator.id
    session[STARTED_KEY] = int(time.time())
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    if language:
        session["lang"] = language


def remember_device(request: web.Request, answer: web.StreamResponse, cookie: str) -> None:
    """Hand the browser its renewed device cookie, with the session cookie's care."""
    answer.set_cookie(
        DEVICE_COOKIE_NAME,
        cookie,
        path="/office",
        httponly=True,
        samesite="Strict",
        secure=request.app[CONFIG].secure_cookies,
        max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
    )


def _route_name(request: web.Request) -> str | None:
    return request.match_info.route.name


def sign_in_url(request: web.Request) -> str:
    return str(request.app.router["sign_in"].url_for())


@web.middleware
async def csrf_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in UNSAFE:
        session = await get_session(request)
        expected = session.get(CSRF_FIELD)
        given = request.headers.get(CSRF_HEADER)
        if given is None:
            form = await request.post()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
        if (
            not isinstance(expected, str)
            or given is None
            or not hmac.compare_digest(expected.encode(), given.encode())
        ):
            raise CsrfRefused()
    return await handler(request)


def signed_in_guard() -> Middleware:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        name = _route_name(request)
        if name in PUBLIC:
            return await handler(request)
        session = await get_session(request)
        operator_id = session.get(OPERATOR_KEY)
        started = session.get(STARTED_KEY)
        hours = request.app[CONFIG].session_hours
        operator = None
        if (
            isinstance(operator_id, int)
            and isinstance(started, int)
            and time.time() - started < hours * 3600
        ):
            async with request.app[CORE].uow() as uow:
                operator = await operators.get(uow, operator_id)
        if operator is None:
            session.pop(OPERATOR_KEY, None)
            if request.method in UNSAFE:
                raise web.HTTPSeeOther(sign_in_url(request))
            target = request.rel_url.path_qs
            raise web.HTTPSeeOther(request.app.router["sign_in"].url_for().with_query(next=target))
        if operator.must_change_password and name not in BEFORE_PASSWORD:
            raise web.HTTPSeeOther(request.app.router["password"].url_for())
        request[OPERATOR] = operator
        return await handler(request)

    return guard


def security_headers() -> Middleware:
    @web.middleware
    async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        if response.content_type == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return headers


def operator_of(request: web.Request) -> m.Operator:
    operator = request.get(OPERATOR)
    assert isinstance(operator, m.Operator)
    return operator
