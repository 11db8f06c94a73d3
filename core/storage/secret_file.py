"""Where the server secret lives when the environment does not give one.

The secret is generated on first start into the data folder, next to the SQLite
file (for PostgreSQL: the default data folder), readable by the service's user
only (mode 0600). A copy of the database alone then does not give codes away.
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


def load_or_create_secret(database_url: str) -> bytes:
    """The secret file of this database's data folder, created (0600) when missing."""
    folder = data_folder(database_url)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return decode_secret(path.read_text(encoding="ascii"), str(path))
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(base64.urlsafe_b64encode(new_secret()).decode() + "\n")
    return decode_secret(path.read_text(encoding="ascii"), str(path))
