"""Sessions, sign-in guard and CSRF for the office.

The session cookie is encrypted and signed (aiohttp-session's Fernet storage, key derived
from the server secret): HttpOnly, SameSite=Strict, Secure behind https, limited to
/office. It carries the CSRF token, the language and, once signed in, a random token whose
SHA-256 names a row of `operator_sessions` (core.services.office_sessions): the database
says whether the session is still on, so signing out, a password change and disabling the
operator end it for good, even for a copy of the cookie, and it ends after the idle
timeout or its lifetime. A page asked with a session that ended sends to the sign-in,
which says so and then goes back to that page (for a form, to the page the form was on:
what it sent is not done). Every unsafe request must carry the session's CSRF token (form
field `csrf_token`, or the X-CSRF-Token header) or it is refused with 403 before any
handler runs. Pages other than the sign-in need a signed-in operator; an operator with a
one-time password is sent to change it first. A successful sign-in also leaves a device
cookie (same care, kept for DEVICE_COOKIE_DAYS): the sign-in counts its wrong passwords
apart.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_session import Session, get_session, new_session
from yarl import URL

from core.domain.errors import NotAllowed
from core.services import office_sessions
from core.services.office_sessions import Ended
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
# The session's token (its SHA-256 is the row of operator_sessions).
TOKEN_KEY = "session"
# Why the session ended, for the sign-in page to say it once (an Ended value).
ENDED_KEY = "ended"
OPERATOR = web.RequestKey("operator", m.Operator)  # request[OPERATOR]: who is signed in
# request[TOWN_NAME]: the signed-in operator's municipality, named in every page's header.
TOWN_NAME = web.RequestKey("town_name", str)

# Reachable without a session (the sign-in itself, the style sheet, open data).
PUBLIC = frozenset({"sign_in", "sign_in_post", "static", "language", "open_report", "open_shops"})
# Reachable with a one-time password still to change.
BEFORE_PASSWORD = frozenset({"password", "password_post", "sign_out", "language"})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A CSV of paper applications can be a few megabytes.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# Every other form of the office (a reason, an amount, a search): far more than a person
# types, far less than a file.
MAX_FORM_BYTES = 1024 * 1024
# The forms that send a file, read up to MAX_UPLOAD_BYTES; every other form up to
# MAX_FORM_BYTES.
UPLOADS = frozenset({"import_post"})


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
    """A new session for a fresh sign-in: nothing from before survives (session fixation).
    The operator's session row is written (and committed) here."""
    core = request.app[CORE]
    async with core.uow() as uow:
        token = await office_sessions.start(
            uow, operator.id, core.now(), request.app[CONFIG].session_rules
        )
        await uow.commit()
    old = await get_session(request)
    language = old.get("lang")
    session = await new_session(request)
    session[TOKEN_KEY] = token
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    if language:
        session["lang"] = language


async def end_session(request: web.Request) -> None:
    """Sign-out: this browser's session ends in the database, and its cookie is emptied."""
    session = await get_session(request)
    token = session.get(TOKEN_KEY)
    if isinstance(token, str):
        async with request.app[CORE].uow() as uow:
            await office_sessions.end(uow, token)
    session.invalidate()


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


def body_limit() -> Middleware:
    """Every form the office reads has the office's own limit: MAX_UPLOAD_BYTES for a form
    that sends a file, MAX_FORM_BYTES for any other. aiohttp reads a body with the limit of
    the request, which the root application made (client_max_size is per application, and
    a sub-application's is never used): whatever `serve` gives its webhooks, the office's
    forms are read through a copy of the request with the office's limit, and a body above
    it gets the office's page that says so (office.pages.too_large). First of the office's
    middlewares, so that every other one (the session's above all, which saves what the
    handler changed in the request it was given) sees that copy."""

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method in UNSAFE:
            most = MAX_UPLOAD_BYTES if _route_name(request) in UPLOADS else MAX_FORM_BYTES
            request = request.clone(client_max_size=most)
        return await handler(request)

    return limit


@web.middleware
async def csrf_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in UNSAFE:
        size = request.content_length
        if size is not None and size > request.client_max_size:
            # Announced larger than the limit: refused before it is read (office.pages says
            # so, as for a body found too large while reading it).
            raise web.HTTPRequestEntityTooLarge(request.client_max_size, size)
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


def _form_page(request: web.Request) -> str | None:
    """The office page a form was sent from (its Referer: same host, under /office/)."""
    try:
        url = URL(request.headers.get("Referer", ""))
    except ValueError:
        return None
    if url.host is None or url.raw_authority != request.host:
        return None
    if not url.path.startswith("/office/") or url.path.startswith("/office//"):
        return None
    return url.path_qs


def signed_in_guard() -> Middleware:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        name = _route_name(request)
        if name in PUBLIC:
            return await handler(request)
        session = await get_session(request)
        token = session.get(TOKEN_KEY)
        found: m.Operator | Ended | None = None
        town: m.Municipality | None = None
        if isinstance(token, str):
            core = request.app[CORE]
            async with core.uow() as uow:
                found = await office_sessions.resume(
                    uow, token, core.now(), request.app[CONFIG].session_rules
                )
                if isinstance(found, m.Operator):
                    # Read here, once, so that every page names the town, a confirmation
                    # or a refusal as well as the pages that read the town themselves.
                    town = await uow.municipalities.by_id(found.municipality_id)
        if not isinstance(found, m.Operator):
            session.pop(TOKEN_KEY, None)
            if found is not None:
                session[ENDED_KEY] = found.value
            # Back to this page after signing in; for a form, to the page it was on.
            target = _form_page(request) if request.method in UNSAFE else request.rel_url.path_qs
            url = request.app.router["sign_in"].url_for()
            raise web.HTTPSeeOther(url.with_query(next=target) if target else url)
        operator = found
        if operator.must_change_password and name not in BEFORE_PASSWORD:
            raise web.HTTPSeeOther(request.app.router["password"].url_for())
        request[OPERATOR] = operator
        if town is not None:
            request[TOWN_NAME] = town.name
        return await handler(request)

    return guard


def security_headers() -> Middleware:
    def add(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        # Nothing of the office is kept by the browser (a shared office PC): pages, and files
        # with people's data (CSV, .xlsx, PDF, the SEPA file), redirects and refusals. Only
        # the style sheet and the other static files may be cached.
        if _route_name(request) != "static":
            response.headers["Cache-Control"] = "no-store"
        elif request.query.get("v") and response.status == 200:
            # A versioned address (the pages link the file with its content's hash) never
            # changes its content: kept a year; the next version has another address.
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"

    @web.middleware
    async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as raised:  # a redirect, or a status no page was made for
            add(request, raised)
            raise
        add(request, response)
        return response

    return headers


def operator_of(request: web.Request) -> m.Operator:
    operator = request.get(OPERATOR)
    assert isinstance(operator, m.Operator)
    return operator
