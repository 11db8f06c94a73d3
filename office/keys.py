"""aiohttp.web application keys shared by the office's modules."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from core.bootstrap import Core


@dataclass(frozen=True)
class OfficeConfig:
    # Secure cookies when the office is reached over https (PUBLIC_BASE_URL).
    secure_cookies: bool
    # Hours after sign-in when the session ends, whatever the activity.
    session_hours: int = 10


CORE = web.AppKey("office_core", Core)
CONFIG = web.AppKey("office_config", OfficeConfig)
