"""`buonispesa admin outbox retry CODE [--since]`: failed notices back in the outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from buonispesa.cli import app
from core.bootstrap import open_core
from core.domain.messages import Reply, t
from core.services.outbox import enqueue
from core.storage import models as m
from tests.cli_runner import runner, sqlite_file


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = sqlite_file(tmp_path, monkeypatch)
    assert runner.invoke(app, ["demo"]).exit_code == 0
    return url


async def failed_rows(url: str) -> dict[str, int]:
    """Three failed messages of the demo town: an old notice, a new one, a code."""
    core = await open_core(url)
    try:
        async with core.uow() as uow:
            [town] = await uow.municipalities.all()
            await uow.session.execute(delete(m.OutboxMessage))
            ids = {}
            for name, age, sensitive in (("old", 10, False), ("new", 1, False), ("code", 1, True)):
                row = enqueue(
                    uow,
                    municipality_id=town.id,
                    channel="sms",
                    address="+393331000001",
                    language="it",
                    reply=Reply.of(t("Hello {n}", n=name), sensitive=sensitive),
                    now=core.now() - timedelta(days=age),
                )
                row.status, row.attempts, row.last_error = "failed", 12, "twilio 503"
                await uow.session.flush()
                ids[name] = row.id
            await uow.commit()
        return ids
    finally:
        await core.close()


async def statuses(url: str) -> dict[int, tuple[str, int]]:
    core = await open_core(url)
    try:
        async with core.uow() as uow:
            found = await uow.session.scalars(select(m.OutboxMessage))
            return {row.id: (row.status, row.attempts) for row in found}
    finally:
        await core.close()


def test_retry_requeues_failed_notices_since_a_date(database: str) -> None:
    # Sync test: the command runs its own event loop, as it does in a terminal.
    ids = asyncio.run(failed_rows(database))
    result = runner.invoke(app, ["admin", "outbox", "retry", "BEL", "--since", "2999-01-01"])
    assert result.exit_code == 0 and "0 failed notices put back" in result.output

    day = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    result = runner.invoke(app, ["admin", "outbox", "retry", "BEL", "--since", day])
    assert result.exit_code == 0, result.output
    assert "1 failed notice put back in the outbox." in result.output
    after = asyncio.run(statuses(database))
    assert after[ids["new"]] == ("pending", 0)
    assert after[ids["old"]] == ("failed", 12)
    assert after[ids["code"]] == ("failed", 12)  # a code is never sent again

    result = runner.invoke(app, ["admin", "outbox", "retry", "BEL"])
    assert "1 failed notice put back" in result.output
    assert asyncio.run(statuses(database))[ids["old"]] == ("pending", 0)


def test_retry_refuses_bad_input(database: str) -> None:
    result = runner.invoke(app, ["admin", "outbox", "retry", "BEL", "--since", "yesterday"])
    assert result.exit_code == 2 and "--since" in result.output
    result = runner.invoke(app, ["admin", "outbox", "retry", "NOPE"])
    assert result.exit_code == 2
