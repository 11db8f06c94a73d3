"""Where the server secret lives when the environment does not give one.

The secret is generated on first start into the data folder, next to the SQLite
file (for PostgreSQL: the default data folder, relative to the current folder),
readable by the service's user only (mode 0600). A copy of the database alone then
does not give codes away. The database remembers the secret's fingerprint
(core/bootstrap.py): a file missing, or another one, is refused, never replaced.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from core.domain.keys import MIN_SECRET_BYTES, new_secret
from core.storage.engine import DEFAULT_DATABASE_URL

SECRET_FILE = "secret.key"


class SecretKeyError(ValueError):
    """The secret given or found cannot be used (the message names where it came from)."""


ENVIRONMENT_ORIGIN = "BUONISPESA_SECRET_KEY"


class WrongServerSecret(Exception):
    """The database was set up with another server secret than the one found (`origin`: the
    file's path, or ENVIRONMENT_ORIGIN), or the secret file (`origin`) is missing
    (`missing`) while the database has one: starting would void every card grid, pending
    code and cashier code. The entry points say so in a sentence (buonispesa/cli/common.py)."""

    def __init__(self, origin: str, missing: bool = False) -> None:
        state = "missing" if missing else "not the database's secret"
        super().__init__(f"{origin}: {state}")
        self.origin = origin
        self.missing = missing


def data_folder(database_url: str) -> Path:
    """The folder of the SQLite file; for a server database, the default data folder."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return Path(make_url(DEFAULT_DATABASE_URL).database or "data").resolve().parent


def decode_secret(text: str, origin: str) -> bytes:
    """A secret written as URL-safe base64 (as generated) or as hex, at least 16 bytes."""
    value = text.strip()
    raw: bytes | None = None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) < MIN_SECRET_BYTES:
        raise SecretKeyError(
            f"{origin}: must be at least {MIN_SECRET_BYTES} random bytes, written in hex or "
            "base64 (e.g. the output of: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return raw


def secret_path(database_url: str) -> Path:
    """Where this database's secret file is looked for (an absolute path)."""
    return data_folder(database_url) / SECRET_FILE


def read_secret(path: Path) -> bytes | None:
    """The secret in `path`; None when there is no such file."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    return decode_secret(text, str(path))


def create_secret(path: Path) -> bytes:
    """A new secret written to `path` (0600); if another process wrote it first, that one.
    Only for a database that has no secret yet (core/bootstrap.py checks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return decode_secret(path.read_text(encoding="ascii"), str(path))
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(base64.urlsafe_b64encode(new_secret()).decode() + "\n")
    return decode_secret(path.read_text(encoding="ascii"), str(path))
