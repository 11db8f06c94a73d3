"""Rendering pages: the template, the operator, the language, the CSRF token, notices."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp.web_urldispatcher import StaticResource
from aiohttp_session import get_session
from yarl import URL

from core.domain.errors import DomainError
from core.domain.messages import Text, t
from core.storage import models as m
from office import personal
from office.keys import SCRIPT_VERSION, STYLE_VERSION
from office.refusals import describe, status_of
from office.security import OPERATOR, TOWN_NAME, UPLOADS, Handler, csrf_token
from office.words import LANGUAGE_NAMES, ROLE_NAMES, Words, language_of

NOTICE_KEY = "notice"
# A form refused beside its field, kept for the page it came from (refused_again).
REFUSED_KEY = "refused"
# What was typed is kept up to this many characters a field, and only while the whole fits
# in this many bytes of JSON: the session is a cookie, and a browser drops a cookie above
# 4096 bytes, signing the operator out.
TYPED_MAX_CHARS = 300
REFUSED_MAX_BYTES = 2000
# The office's style sheet, linked by every page with its version (keys.STYLE_VERSION)
# under aiohttp's name for it.
STYLE_SHEET = "office.css"
# The office's one script, linked the same way by the confirmation pages only: Escape there
# follows the way back. Every page works without it.
SCRIPT = "office.js"
VERSION_KEY = "v"
# The sections in the navigation, in this order (only those the application routes).
NAV = (
    ("dashboard", t("Dashboard")),
    ("applications", t("Applications")),
    ("round", t("The round")),
    ("fund", t("Fund")),
    ("shops", t("Shops")),
    ("reimbursement", t("Reimbursement")),
    ("audit", t("Checks")),
    ("appeals", t("Appeals")),
    ("transparency", t("Transparency")),
    ("documents", t("Documents")),
    ("activity", t("Activity log")),
)


def section_of(request: web.Request) -> str | None:
    """The section a page belongs to: its own route, or the section whose address the page's
    is under (one application's page is under "Applications", closing the window under "The
    round"), so that the bar and the phone's menu say where the operator is."""
    name = request.match_info.route.name
    router = request.app.router
    if name in dict(NAV):
        return name
    for section, _label in NAV:
        if (
            section != "dashboard"
            and section in router
            and request.path.startswith(str(router[section].url_for()) + "/")
        ):
            return section
    return name


async def words_for(request: web.Request) -> Words:
    session = await get_session(request)
    language = session.get("lang")
    return Words(language_of(request, language if isinstance(language, str) else None))


async def notify(request: web.Request, text: Text) -> None:
    """A sentence shown once on the next page (after a redirect)."""
    words = await words_for(request)
    session = await get_session(request)
    session[NOTICE_KEY] = words.text(text)


async def refused_again(
    request: web.Request,
    name: str,
    typed: Mapping[str, str],
    said: Mapping[str, str | int],
    status: int,
    **parts: str,
) -> web.HTTPSeeOther:
    """Post/Redirect/Get after a form refused beside its field: the page named `name` is
    shown again by a GET (so that reloading it never sends the form again), once, with what
    was typed (`typed`), what the page says of it (`said`) and the refusal's status. The
    handler raises what this returns."""
    page = str(request.app.router[name].url_for(**parts))
    # A hand-made form's pages of text: the refusal is said, the text is not.
    kept = _fitting(typed, said) or {}
    session = await get_session(request)
    session[REFUSED_KEY] = {"page": page, "status": status, "typed": {**kept, **said}}
    return web.HTTPSeeOther(page)


def _fitting(typed: Mapping[str, str], said: Mapping[str, str | int]) -> dict[str, str] | None:
    """What was typed, each field cut to TYPED_MAX_CHARS, when it fits the session cookie
    beside what the page says of it; None when it does not."""
    kept = {key: value[:TYPED_MAX_CHARS] for key, value in typed.items()}
    size = len(json.dumps(kept)) + (len(json.dumps(dict(said))) if said else 0)
    return kept if size <= REFUSED_MAX_BYTES else None


async def kept_for_the_way_back(
    request: web.Request, name: str, typed: Mapping[str, str], **parts: str
) -> None:
    """A confirmation page was just rendered for a form of the page named `name`: what was
    typed there waits for that page, so that "No, go back" shows the form as it was left
    (read once by refused_here, with status 200 and nothing refused). Called after render,
    which drops what a page did not read."""
    page = str(request.app.router[name].url_for(**parts))
    kept = _fitting(typed, {})
    if kept is None:
        return  # a hand-made form's pages of text: not kept, the cookie must stay small
    session = await get_session(request)
    session[REFUSED_KEY] = {"page": page, "status": 200, "typed": kept}


async def forget_the_way_back(request: web.Request) -> None:
    """The confirmed form was carried out: what kept_for_the_way_back kept is not shown on
    the page it lands on (a form filled with what was just done invites doing it twice)."""
    session = await get_session(request)
    session.pop(REFUSED_KEY, None)


async def refused_here(request: web.Request) -> tuple[dict[str, Any], int] | None:
    """The form refused on this page just before (refused_again): what was typed and said,
    and the status; None on any other visit. Read once: a reload shows the page as it is."""
    session = await get_session(request)
    kept = session.pop(REFUSED_KEY, None)
    if (
        isinstance(kept, dict)
        and kept.get("page") == request.path
        and isinstance(kept.get("typed"), dict)
        and isinstance(kept.get("status"), int)
    ):
        return dict(kept["typed"]), kept["status"]
    return None


async def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    session = await get_session(request)
    words = await words_for(request)
    operator = request.get(OPERATOR)
    notice = session.pop(NOTICE_KEY, None)
    # A refused form not read by its page (the operator went elsewhere) is not said later.
    session.pop(REFUSED_KEY, None)
    full: dict[str, Any] = {
        **words.template_globals(),
        "csrf_token": csrf_token(session),
        "operator": operator if isinstance(operator, m.Operator) else None,
        "town_name": request.get(TOWN_NAME, ""),
        "role_name": (
            words.text(ROLE_NAMES[operator.role]) if isinstance(operator, m.Operator) else ""
        ),
        "languages": LANGUAGE_NAMES,
        "notice": notice,
        "path": request.rel_url.path_qs,
        "nav_items": [
            (name, words.text(label)) for name, label in NAV if name in request.app.router
        ],
        "section": section_of(request),
        "url": lambda name, **parts: str(request.app.router[name].url_for(**parts)),
        # A shop's IBAN in groups of four, masked for a viewer (office.personal).
        "iban": lambda value: (
            personal.iban_shown(operator, value) if isinstance(operator, m.Operator) else ""
        ),
        "style_sheet": style_sheet(request),
        "script": static_address(request, SCRIPT, request.app[SCRIPT_VERSION]),
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, full, status=status)
    response.headers["Content-Language"] = words.language
    return response


def style_sheet(request: web.Request) -> str:
    """The style sheet's address with its version, computed when the application was built
    (office.app): a page never reads nor hashes the file."""
    return static_address(request, STYLE_SHEET, request.app[STYLE_VERSION])


def static_address(request: web.Request, filename: str, version: str) -> str:
    """A static file's address with the version office.app computed for it."""
    static = request.app.router["static"]
    assert isinstance(static, StaticResource)  # office.app adds it
    url = static.url_for(filename=filename, append_version=False)
    return str(url.with_query({VERSION_KEY: version}))


def page_before(request: web.Request) -> str | None:
    """The office page the refused form or link was on, to go back to and correct it.

    Browsers send it as Referer (the office's Referrer-Policy is same-origin). Only a path
    under /office/ on this host is kept, and only its path and query: the link can never
    lead off the office, and a page that refuses itself on reload gets no loop back to it.
    """
    referer = request.headers.get("Referer")
    if not referer:
        return None
    try:
        url = URL(referer)
    except ValueError:
        return None
    if url.host is None or url.raw_authority != request.host:
        return None
    if not url.path.startswith("/office/") or url.path_qs == request.rel_url.path_qs:
        return None
    return url.path_qs


NOTHING_CHANGED = t("Nothing was changed.")
# A refusal that already says what was not done ("Nothing was opened.", "nothing was
# paid", "Nothing was recorded: …"): read in its msgid, the same in every language.
_SAYS_NOTHING_WAS_DONE = re.compile(r"\b[Nn]othing (?:more )?(?:was|changed)\b")


def says_nothing_changed(words: Words, text: Text) -> str:
    """A refusal said on the page it came from (not the refusal page), in the operator's
    language, with "Nothing was changed." after it unless its own words already say so."""
    message = words.text(text)
    if _SAYS_NOTHING_WAS_DONE.search(text.msgid):
        return message
    return f"{message} {words.text(NOTHING_CHANGED)}"


async def problem(
    request: web.Request, text: Text, status: int, *, reassure: bool = True
) -> web.Response:
    words = await words_for(request)
    message = words.text(text)
    # Said after a refused form, once: many refusals already say it in their own words
    # ("Non è stato aperto nulla. Nulla è stato modificato." said it twice), and a page
    # that was only looked at (GET) changed nothing anyway.
    reassure = (
        reassure and request.method != "GET" and not _SAYS_NOTHING_WAS_DONE.search(text.msgid)
    )
    return await render(
        request,
        "problem.html",
        {"message": message, "back": page_before(request), "unchanged": reassure},
        status=status,
    )


_log = logging.getLogger(__name__)

# A bug, a database gone away: what the operator reads instead of aiohttp's English page.
UNEXPECTED = t(
    "Unexpected error in the program: it was recorded for the technician. What you were "
    "doing may not have been carried out: look at the page before doing it again."
)

# An address under /office/ that names no page: a malformed id, a typo, a file that is gone.
PAGE_NOT_FOUND = t("This page does not exist in the office: check the address.")
# The address of a button's action reloaded or pasted (a card's PDF after its download).
BUTTON_ADDRESS = t(
    "This address belongs to a button and does not open on its own: go back to the page "
    "and press the button."
)


async def too_large(request: web.Request) -> web.Response:
    """A body above the limit the request is read with (office.security.body_limit):
    the limit in megabytes, and that nothing was done, on the office's own page."""
    limit = max(1, request.client_max_size // (1024 * 1024))
    if request.match_info.route.name in UPLOADS:
        text = t(
            "The file is too large: the office imports files of at most {limit} MB. Nothing "
            "was imported: save the applications in smaller files and import each of them.",
            limit=str(limit),
        )
        return await problem(request, text, 413, reassure=False)
    text = t("What the form sent is too large: at most {limit} MB.", limit=str(limit))
    return await problem(request, text, 413)


async def not_found(request: web.Request) -> web.StreamResponse:
    """The office's last route: any address under /office/ that no other route matches
    (`/appeals/abc/decide`) is the office's own not-found page, in the operator's language,
    behind the same guards as every page. An address that exists for another method is a
    405, which `refusals` turns into a page."""
    own = request.match_info.route.resource
    for resource in request.app.router.resources():
        if resource is own:
            continue
        _match, allowed = await resource.resolve(request)
        if allowed:
            raise web.HTTPMethodNotAllowed(request.method, allowed)
    return await problem(request, PAGE_NOT_FOUND, 404)


def refusals() -> Middleware:
    """A refusal from the core becomes a page that says it, with the matching status
        (404 for what is not found in the operator's municipality, 403 for a role or the four-
        eyes rule, 409 for a state conflict, 400 for bad input). Nothing was changed: the
        handler's unit of work rolled back. A page a handler does not find (web.HTTPNotFound)
        is the office's not-found page too, an action's address opened as a page (405) says
    what to do in the operator's language, a body above the limit (413) says the limit, and
    any other error (a bug) is logged and said on the office's page with its way back (500)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except DomainError as error:
            return await problem(request, describe(error), status_of(error))
        except web.HTTPNotFound:
            return await problem(request, PAGE_NOT_FOUND, 404)
        except web.HTTPRequestEntityTooLarge:
            return await too_large(request)
        except web.HTTPMethodNotAllowed as error:
            page = await problem(request, BUTTON_ADDRESS, 405)
            page.headers["Allow"] = ",".join(sorted(error.allowed_methods))
            return page
        except web.HTTPException:
            raise  # a redirect, a 403 of the guards: as they are
        except Exception as error:
            # Logged with its traceback, as aiohttp would; the page says it in the office's
            # words, with the way back. If the page itself fails, aiohttp's 500 it is.
            _log.exception("office: %s %s failed", request.method, request.path)
            try:
                return await problem(request, UNEXPECTED, 500, reassure=False)
            except Exception:
                raise error from None

    return middleware
