"""Reading form fields: text as typed, trimmed; a missing field is an empty string."""

from __future__ import annotations

from aiohttp import web


async def fields(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {key: value.strip() for key, value in form.items() if isinstance(value, str)}


def see_other(request: web.Request, name: str, **parts: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(str(request.app.router[name].url_for(**parts)))
