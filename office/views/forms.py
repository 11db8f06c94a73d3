"""Reading form fields: text as typed, trimmed; a missing field is an empty string."""

from __future__ import annotations

from aiohttp import web


async def fields(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {key: value.strip() for key, value in form.items() if isinstance(value, str)}


def see_other(request: web.Request, name: str, **parts: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(str(request.app.router[name].url_for(**parts)))


def safe_next(target: str) -> str:
    """Only a path of the office itself: never another site (an open redirect)."""
    if target.startswith("/office/") and not target.startswith("/office//"):
        return target
    return "/office/"


def back_or(request: web.Request, form: dict[str, str], name: str) -> web.HTTPSeeOther:
    """Back to the office page the form was on (its hidden `back` field: the application,
    the checks page), else to the page named `name`."""
    back = form.get("back", "")
    if back and safe_next(back) == back:
        return web.HTTPSeeOther(back)
    return see_other(request, name)
