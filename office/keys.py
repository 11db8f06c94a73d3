"""aiohttp.web application keys shared by the office's modules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from core.bootstrap import Core
from core.services.office_sessions import SessionRules


@dataclass(frozen=True)
class OfficeConfig:
    # Secure cookies when the office is reached over https (PUBLIC_BASE_URL).
    secure_cookies: bool
    # Hours after sign-in when the session ends, whatever the activity.
    session_hours: int = 10
    # Minutes without a request after which the session ends (BUONISPESA_OFFICE_IDLE_MINUTES).
    idle_minutes: int = 30

    @property
    def session_rules(self) -> SessionRules:
        return SessionRules(
            idle=timedelta(minutes=self.idle_minutes), lifetime=timedelta(hours=self.session_hours)
        )


CORE = web.AppKey("office_core", Core)
CONFIG = web.AppKey("office_config", OfficeConfig)
# The style sheet's version (its content's hash, as aiohttp's append_version writes it),
# computed once when the application is built: every page links office.css?v=<it>.
STYLE_VERSION = web.AppKey("office_style_version", str)
# The same for the one script (office.js), linked only by the confirmation pages.
SCRIPT_VERSION = web.AppKey("office_script_version", str)
