"""Sign in, sign out, change the password, choose the language."""

from __future__ import annotations

from aiohttp import web
from aiohttp_session import get_session

from core.domain.errors import DomainError
from core.domain.messages import t
from core.i18n import LANGUAGES
from core.services import operators
from core.services.office_sessions import Ended
from office.keys import CONFIG, CORE
from office.pages import notify, render, words_for
from office.refusals import describe
from office.security import (
    DEVICE_COOKIE_NAME,
    ENDED_KEY,
    TOKEN_KEY,
    end_session,
    operator_of,
    remember_device,
    start_session,
)
from office.views.forms import fields, safe_next, see_other

# One answer for an unknown username, a wrong password and a locked account: saying
# "locked" would tell whoever tries that the username exists. The office sees a lock with
# `admin operator list` and lifts it with `admin operator unlock` (docs/office.md). Which
# attempts a lock stops (this browser, or all browsers the operator never signed in from)
# is the service's rule; the page only hands it the device cookie and sets the renewed one.
SIGN_IN_REFUSED = t("Wrong username or password, or too many attempts: try again later.")
PASSWORDS_DIFFER = t("The two new passwords are not the same.")


async def sign_in_page(request: web.Request) -> web.Response:
    session = await get_session(request)
    ended = session.pop(ENDED_KEY, None)
    if ended == Ended.IDLE:
        minutes = request.app[CONFIG].idle_minutes
        await notify(
            request,
            t(
                "Your session expired after {minutes} minutes without activity: sign in "
                "again to go on.",
                minutes=minutes,
            ),
        )
    elif ended is not None:
        await notify(request, t("Your session has expired: sign in again to go on."))
    return await render(
        request,
        "sign_in.html",
        {"next": safe_next(request.query.get("next", "")), "username": "", "error": None},
    )


async def sign_in(request: web.Request) -> web.StreamResponse:
    form = await fields(request)
    core = request.app[CORE]
    username = form.get("username", "")
    async with core.uow() as uow:
        try:
            signed_in = await operators.sign_in(
                uow,
                username,
                form.get("password", ""),
                core.now(),
                device_cookie=request.cookies.get(DEVICE_COOKIE_NAME),
            )
        except DomainError:  # committed: the failure count and a lock survive
            words = await words_for(request)
            return await render(
                request,
                "sign_in.html",
                {
                    "next": safe_next(form.get("next", "")),
                    "username": username,
                    "error": words.text(SIGN_IN_REFUSED),
                },
                status=401,
            )
    operator = signed_in.operator
    await start_session(request, operator)
    if operator.must_change_password:
        answer = see_other(request, "password")
    else:
        answer = web.HTTPSeeOther(safe_next(form.get("next", "")))
    remember_device(request, answer, signed_in.device_cookie)
    raise answer


async def sign_out(request: web.Request) -> web.StreamResponse:
    await end_session(request)
    # Said once on the sign-in page, which otherwise looks the same as before the click.
    await notify(request, t("You signed out of the office on this browser."))
    raise see_other(request, "sign_in")


async def password_page(request: web.Request) -> web.Response:
    return await render(request, "password.html", {"error": None})


async def change_password(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    form = await fields(request)
    core = request.app[CORE]
    words = await words_for(request)
    error = None
    if form.get("new", "") != form.get("repeat", ""):
        error = words.text(PASSWORDS_DIFFER)
    else:
        async with core.uow() as uow:
            try:
                await operators.change_password(
                    uow,
                    operator.id,
                    form.get("current", ""),
                    form.get("new", ""),
                    core.now(),
                    device_cookie=request.cookies.get(DEVICE_COOKIE_NAME),
                )
            except operators.SignedOutEverywhere as refusal:
                # Every session of the operator ended, this one too: to the sign-in, which
                # says why once.
                session = await get_session(request)
                session.pop(TOKEN_KEY, None)
                await notify(request, describe(refusal))
                raise see_other(request, "sign_in") from None
            except DomainError as refusal:
                error = words.text(describe(refusal))
    if error is not None:
        return await render(request, "password.html", {"error": error}, status=400)
    # The change ended every session of the operator, this one too: a new one here.
    await start_session(request, operator)
    await notify(request, t("Password changed. You were signed out everywhere else."))
    raise see_other(request, "dashboard")


async def language(request: web.Request) -> web.StreamResponse:
    form = await fields(request)
    chosen = form.get("lang", "")
    if chosen in LANGUAGES:
        session = await get_session(request)
        session["lang"] = chosen
    raise web.HTTPSeeOther(safe_next(form.get("next", "")))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/sign-in", sign_in_page, name="sign_in")
    app.router.add_post("/sign-in", sign_in, name="sign_in_post")
    app.router.add_post("/sign-out", sign_out, name="sign_out")
    app.router.add_get("/password", password_page, name="password")
    app.router.add_post("/password", change_password, name="password_post")
    app.router.add_post("/language", language, name="language")
