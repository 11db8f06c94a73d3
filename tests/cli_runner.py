"""The command line (`buonispesa …`) run inside a test: its commands registered once, one
runner for every test module, and the SQLite file a test's commands share."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from buonispesa import runtime
from buonispesa.cli import _register, app
from core import bootstrap
from core.bootstrap import Core, utc_now
from core.storage import models as m

_register()
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    """`buonispesa ARGS…`: its exit code and what it printed."""
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new SQLite file under `tmp_path`, the database of every command the test runs
    (BUONISPESA_DATABASE_URL); its URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)
    return url


# What the commands' clock reads (steady_clock), and the test's rows and days with them.
clock: Callable[[], datetime] = utc_now


def now() -> datetime:
    """The time the commands read: the real clock, or the steady one a test installed."""
    return clock()


def steady_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[], datetime]:
    """Every command the test runs from now on reads a clock that starts at noon (Rome) of
    today and runs on at the real pace; `now()` reads it too. A day or a year the test
    computes before a command is then the one the command computes: on the real clock,
    midnight or New Year could fall between the two, and a "tomorrow" the test wrote be
    the command's today. Returns the clock."""
    start = datetime.now(ZoneInfo("Europe/Rome")).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    began = time.monotonic()

    def steady() -> datetime:
        return (start + timedelta(seconds=time.monotonic() - began)).astimezone(UTC)

    async def open_core(database_url: str, **options: Any) -> Core:
        return await bootstrap.open_core(database_url, **{**options, "clock": steady})

    monkeypatch.setattr(runtime, "open_core", open_core)
    monkeypatch.setattr(sys.modules[__name__], "clock", steady)
    return steady


def protocol_year() -> int:
    """The year in the protocols of the town the test built on the real clock (make_town
    dates its applications nine days back), read from the database of the commands: a
    year written in the test fails once the calendar turns."""

    async def first_protocol() -> str:
        core = await bootstrap.open_core(os.environ["BUONISPESA_DATABASE_URL"])
        try:
            async with core.uow() as uow:
                first = select(m.Application.protocol).order_by(m.Application.id).limit(1)
                return (await uow.session.scalars(first)).one()
        finally:
            await core.close()

    return int(asyncio.run(first_protocol()).split("-")[-2])
