"""Start-up shared by the CLI and the server: settings -> a migrated Core."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from buonispesa.settings import Settings
from core.bootstrap import Core, open_core


class DatabaseUnavailable(Exception):
    """The database could not be opened or migrated: where (password hidden) and why, for a
    sentence instead of a traceback of hundreds of lines."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem


def safe_url(url: str) -> str:
    """The database address as it may be printed or logged: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


async def core_from_settings(settings: Settings, run_migrations: bool = True) -> Core:
    try:
        return await open_core(
            settings.database_url, run_migrations=run_migrations, secret=settings.secret_bytes()
        )
    except DBAPIError as error:
        # The driver's own words ('database "x" does not exist'), without SQLAlchemy's
        # statement and link around them.
        raise DatabaseUnavailable(safe_url(settings.database_url), str(error.orig)) from error
    except OSError as error:
        # Connection refused, an unknown host, a folder that cannot be written.
        problem = error.strerror or str(error)
        if error.filename:
            problem = f"{problem}: {error.filename}"
        raise DatabaseUnavailable(safe_url(settings.database_url), problem) from error
