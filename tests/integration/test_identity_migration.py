"""Migration 0002_identity on a database that already breaks the new rules.

Installations upgraded from before it may hold two citizens with one phone, or one
Telegram chat linked to two citizens (the defects it closes). The unique indexes
can only be built once those are resolved, and each resolution is logged.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from buonispesa.cli import _register, app
from core.domain.errors import Conflict
from core.storage import models as m
from core.storage.engine import make_engine
from tests.conftest import PG_ADMIN_URL, _pg_execute, _pg_url
from tests.integration.migrating import migrate_to

_register()
STAMP = datetime(2026, 4, 1, 9, 0)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
        return
    request.getfixturevalue("postgres_template")  # skips, with the reason, without a server
    name = f"bsp_mig_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_execute(PG_ADMIN_URL, f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    asyncio.run(_pg_execute(PG_ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_duplicates_are_resolved_and_logged(empty_url: str) -> None:
    await migrate_to(empty_url, "0001")
    engine = make_engine(empty_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO municipalities (id, code, name, policy_toml, timezone, "
                    "created_at) VALUES (1, 'OLD', 'Oldtown', '', 'Europe/Rome', :t)"
                ),
                {"t": STAMP},
            )
            await connection.execute(
                text(
                    "INSERT INTO rounds (id, municipality_id, number, opens_at, closes_at) "
                    "VALUES (1, 1, 1, :t, :t)"
                ),
                {"t": STAMP},
            )
            people = [
                (1, "+393330000001", None),  # first with this phone: keeps it
                (2, "+393330000001", None),  # same phone: loses it
                (3, None, "4242"),  # one chat linked to two citizens: both unlinked
                (4, "+393330000004", "4242"),
                (5, "+393330000005", "5555"),  # nothing wrong
            ]
            for citizen_id, phone, chat in people:
                await connection.execute(
                    text(
                        "INSERT INTO citizens (id, municipality_id, codice_fiscale, phone, "
                        "telegram_chat_id, language, card_code, created_at) VALUES "
                        "(:id, 1, :cf, :phone, :chat, 'it', :card, :t)"
                    ),
                    {
                        "id": citizen_id,
                        "cf": f"CF{citizen_id}",
                        "phone": phone,
                        "chat": chat,
                        "card": f"CARD{citizen_id}",
                        "t": STAMP,
                    },
                )
            await connection.execute(
                text(
                    "INSERT INTO applications (id, municipality_id, round_id, citizen_id, "
                    "protocol, household_size, has_work_income, has_pension, liquidity_cents, "
                    "public_support_monthly_cents, rent_monthly_cents, source, submitted_at, "
                    "updated_at, recover_cents) VALUES (1, 1, 1, 5, 'OLD-1', 1, false, false, "
                    "0, 0, 0, 'sms', :t, :t, 0)"
                ),
                {"t": STAMP},
            )
    finally:
        await engine.dispose()

    await migrate_to(empty_url, "head")

    engine = make_engine(empty_url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(
                        m.Citizen.id,
                        m.Citizen.phone,
                        m.Citizen.telegram_chat_id,
                        m.Citizen.phone_proven_by,
                    ).order_by(m.Citizen.id)
                )
            ).all()
            log = (
                await connection.execute(
                    select(
                        m.IdentityEvent.citizen_id, m.IdentityEvent.kind, m.IdentityEvent.actor
                    ).order_by(m.IdentityEvent.citizen_id, m.IdentityEvent.kind)
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "+393330000001", None, "office"),
        (2, None, None, None),
        (3, None, None, None),
        (4, "+393330000004", None, "office"),
        (5, "+393330000005", "5555", "sms_code"),
    ]
    assert [tuple(r) for r in log] == [
        (2, "phone_unbound", "migration"),
        (3, "telegram_unbound", "migration"),
        (4, "telegram_unbound", "migration"),
    ]


async def _write(url: str, statement: str) -> str | None:
    """Run one raw statement and commit; the refusal's code when a trigger refuses it."""
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement), {"t": STAMP})
    except Conflict as refused:
        return refused.code
    finally:
        await engine.dispose()
    return None


SHOP_PHONE = "+393339999999"
DELEGATE_ROW = (
    "INSERT INTO delegates (municipality_id, citizen_id, phone, created_at) "
    f"VALUES (1, 2, '{SHOP_PHONE}', :t)"
)


def test_buonispesa_migrate_adds_the_shop_phone_guard_and_it_downgrades(
    empty_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """0015_shop_phone_guard on a database that already breaks the rule: the upgrade keeps
    the row (the office decides which phone goes), refuses new ones, and lets the old row
    be written without changing its phone; downgrading removes the triggers, and
    `buonispesa migrate` puts them back."""
    asyncio.run(migrate_to(empty_url, "0014_activity_subject"))
    for statement in (
        "INSERT INTO municipalities (id, code, name, policy_toml, timezone, created_at) "
        "VALUES (1, 'OLD', 'Oldtown', '', 'Europe/Rome', :t)",
        "INSERT INTO shops (id, municipality_id, name, vat_number, category, address, town, "
        "postcode, iban, status, created_at) VALUES (1, 1, 'Shop', '01234567890', 'grocery', "
        "'Via Roma 1', 'Oldtown', '62020', 'IT40S0542811101000000123456', 'approved', :t)",
        "INSERT INTO shop_members (shop_id, channel, address, role, created_at) "
        f"VALUES (1, 'sms', '{SHOP_PHONE}', 'owner', :t)",
        # Both are the shop's phone: from before the rule.
        "INSERT INTO citizens (id, municipality_id, codice_fiscale, phone, language, "
        f"card_code, created_at) VALUES (1, 1, 'CF1', '{SHOP_PHONE}', 'it', 'CARD1', :t)",
        "INSERT INTO citizens (id, municipality_id, codice_fiscale, language, card_code, "
        "created_at) VALUES (2, 1, 'CF2', 'it', 'CARD2', :t)",
    ):
        assert asyncio.run(_write(empty_url, statement)) is None

    monkeypatch.setenv("BUONISPESA_DATABASE_URL", empty_url)
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.chdir(tmp_path)  # the server secret is made in ./data
    result = CliRunner().invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output

    # The row breaks two rules since 0041_phone_one_person: citizen 1's own number too,
    # said first, as delegates.check_delegate says it.
    assert asyncio.run(_write(empty_url, DELEGATE_ROW)) == "delegate.phone_is_citizen"
    legacy = "UPDATE citizens SET language = 'en', phone = '{phone}' WHERE id = 1"
    assert asyncio.run(_write(empty_url, legacy.format(phone=SHOP_PHONE))) is None
    assert asyncio.run(_write(empty_url, "UPDATE citizens SET phone = NULL WHERE id = 1")) is None
    assert asyncio.run(_write(empty_url, DELEGATE_ROW)) == "delegate.phone_is_shop"
    assert (
        asyncio.run(_write(empty_url, legacy.format(phone=SHOP_PHONE))) == "identity.phone_is_shop"
    )

    asyncio.run(migrate_to(empty_url, "0014_activity_subject", down=True))
    assert asyncio.run(_write(empty_url, DELEGATE_ROW)) is None
    assert asyncio.run(_write(empty_url, "DELETE FROM delegates")) is None
    result = CliRunner().invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert asyncio.run(_write(empty_url, DELEGATE_ROW)) == "delegate.phone_is_shop"
