"""The office's aiohttp application, mounted by `buonispesa serve` under /office/."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import setup as setup_sessions
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from core.bootstrap import Core
from office import views
from office.keys import CONFIG, CORE, SCRIPT_VERSION, STYLE_VERSION, OfficeConfig
from office.pages import SCRIPT, STYLE_SHEET, VERSION_KEY, not_found, refusals
from office.security import (
    COOKIE_NAME,
    MAX_FORM_BYTES,
    MAX_UPLOAD_BYTES,
    body_limit,
    csrf_guard,
    security_headers,
    signed_in_guard,
)

PREFIX = "/office"
STATIC = Path(__file__).parent / "static"
__all__ = ["MAX_FORM_BYTES", "MAX_UPLOAD_BYTES", "PREFIX", "build_office"]
COOKIE_GRACE_HOURS = 12


def build_office(core: Core, config: OfficeConfig) -> web.Application:
    # The root application's client_max_size is what aiohttp reads a body with (this one's
    # would be ignored): the office's forms get their own limits from body_limit(), first of
    # the middlewares (before the session's).
    office = web.Application()
    office[CORE] = core
    office[CONFIG] = config
    setup_sessions(
        office,
        EncryptedCookieStorage(
            core.keys.derive("office-session"),
            cookie_name=COOKIE_NAME,
            path=PREFIX,
            httponly=True,
            samesite="Strict",
            secure=config.secure_cookies,
            # Outlives the session's lifetime (kept in the database) by COOKIE_GRACE_HOURS,
            # so that the next page after it can still tell the operator it ended; past it
            # the cookie signs nobody in anyway.
            max_age=(config.session_hours + COOKIE_GRACE_HOURS) * 3600,
        ),
    )
    # Order: headers on every answer; refusals become pages; CSRF before anything acts;
    # then who is signed in.
    office.middlewares.insert(0, body_limit())
    office.middlewares.extend([security_headers(), refusals(), csrf_guard, signed_in_guard()])
    aiohttp_jinja2.setup(
        office,
        loader=jinja2.PackageLoader("office", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    # Every link to a static file carries its content's hash (`office.css?v=…`, aiohttp's
    # append_version): after an upgrade the browser fetches the new style sheet instead of
    # the one it kept. The hash is computed here, once per process (an upgrade restarts
    # it), not by every page that links the file (office.pages.render).
    static = office.router.add_static("/static/", STATIC, name="static", append_version=True)
    office[STYLE_VERSION] = static.url_for(filename=STYLE_SHEET).query[VERSION_KEY]
    office[SCRIPT_VERSION] = static.url_for(filename=SCRIPT).query[VERSION_KEY]
    views.add_routes(office)
    # Last: whatever no route matched (a malformed id) is the office's own not-found page.
    office.router.add_route("*", "/{tail:.*}", not_found, name="not_found")
    return office
