"""Configuration from the environment (and a .env file), validated at start."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.storage.engine import DEFAULT_DATABASE_URL
from core.storage.secret_file import SecretKeyError, decode_secret


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(DEFAULT_DATABASE_URL, alias="BUONISPESA_DATABASE_URL")
    host: str = Field("127.0.0.1", alias="BUONISPESA_HOST")
    # 0: a free port picked at start (`serve` prints it).
    port: int = Field(8080, alias="BUONISPESA_PORT", ge=0, le=65535)
    public_base_url: str | None = Field(None, alias="PUBLIC_BASE_URL")

    telegram_bot_token: str | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: str | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_base_url: str | None = Field(None, alias="TELEGRAM_API_BASE_URL")
    # From @BotFather (Payments): community vouchers and donations are paid with it.
    telegram_payment_provider_token: str | None = Field(
        None, alias="TELEGRAM_PAYMENT_PROVIDER_TOKEN"
    )

    twilio_account_sid: str | None = Field(None, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str | None = Field(None, alias="TWILIO_AUTH_TOKEN")
    twilio_from_number: str | None = Field(None, alias="TWILIO_FROM_NUMBER")
    twilio_api_base_url: str | None = Field(None, alias="TWILIO_API_BASE_URL")
    sms_rate_per_second: float = Field(1.0, alias="BUONISPESA_SMS_RATE_PER_SECOND", gt=0)
    # How long a message being sent stays claimed by a process that stopped renewing it
    # (it died): the others take it over after this.
    outbox_lease_seconds: float = Field(15.0, alias="BUONISPESA_OUTBOX_LEASE_SECONDS", ge=3, le=300)
    # The office's session ends after this many minutes without a request (and 10 hours
    # after the sign-in in any case).
    office_idle_minutes: int = Field(30, alias="BUONISPESA_OFFICE_IDLE_MINUTES", ge=1, le=600)
    # Hashes codes and seals the outbox; unset: generated into the data folder on first start.
    secret_key: SecretStr | None = Field(None, alias="BUONISPESA_SECRET_KEY")

    @field_validator("public_base_url", "telegram_api_base_url", "twilio_api_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if not value.endswith("/bot") else value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must be sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB"
            )
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            decode_secret(value.get_secret_value(), "BUONISPESA_SECRET_KEY")
        except SecretKeyError as error:
            raise ValueError(str(error).removeprefix("BUONISPESA_SECRET_KEY: ")) from error
        return value

    def secret_bytes(self) -> bytes | None:
        if self.secret_key is None:
            return None
        return decode_secret(self.secret_key.get_secret_value(), "BUONISPESA_SECRET_KEY")


def error_names(error: ValidationError) -> list[str]:
    """The variable each problem is about, as `describe_errors` names it."""
    return [".".join(str(part) for part in item["loc"]) for item in error.errors()]


def describe_errors(error: ValidationError, options: Mapping[str, str] | None = None) -> list[str]:
    """One line per bad variable, naming it, for the start-up message. `options`: the
    command-line option that gave a variable's value, named instead of the variable."""
    renamed = options or {}
    return [
        f"{renamed.get(name, name)}: {item['msg']}"
        for name, item in zip(error_names(error), error.errors(), strict=True)
    ]


def load_settings(database_url: str | None = None) -> Settings:
    """The settings of the environment and .env; `database_url`, one a command was given
    (`chat --database-url`), in place of the environment's and checked as it is."""
    if database_url is None:
        return Settings()
    return Settings(BUONISPESA_DATABASE_URL=database_url)


# Read outside Settings: by the commands (who acts, the office's language), the tests and
# the benchmarks.
OTHER_VARIABLES = frozenset(
    {
        "BUONISPESA_OPERATOR",
        "BUONISPESA_LANGUAGE",
        "BUONISPESA_TEST_POSTGRES_URL",
        "BUONISPESA_BENCH_POSTGRES_URL",
        "BUONISPESA_UPDATE_SCREENSHOT",
    }
)
# Other programs read TWILIO_* and TELEGRAM_* too (the Twilio library its TWILIO_REGION):
# there only a near miss of one of ours is a typo; every BUONISPESA_* is ours.
_OURS = "BUONISPESA_"
_SHARED = ("TWILIO_", "TELEGRAM_")


def unknown_variables(names: Iterable[str]) -> list[tuple[str, str | None]]:
    """Variables that look like ours and are not, each with the known name it is closest
    to: a misspelt BUONISPESA_DATABASE_ULR would otherwise leave the server on an empty
    SQLite database without a word."""
    known = {field.alias for field in Settings.model_fields.values() if field.alias}
    known |= OTHER_VARIABLES
    found = []
    for name in sorted(set(names) - known):
        prefix = next((p for p in (_OURS, *_SHARED) if name.startswith(p)), None)
        if prefix is None:
            continue
        # Compared after the prefix they share, which would make any two names look alike.
        rest = {other.removeprefix(prefix): other for other in known if other.startswith(prefix)}
        close = difflib.get_close_matches(name.removeprefix(prefix), sorted(rest), n=1, cutoff=0.75)
        meant = rest[close[0]] if close else None
        if prefix == _OURS or meant is not None:
            found.append((name, meant))
    return found


def variables_given(env_file: str | None = ".env") -> set[str]:
    """The names set in the environment and in the .env file that Settings reads."""
    names = set(os.environ)
    if env_file and Path(env_file).is_file():
        names |= set(dotenv_values(env_file))
    return names
