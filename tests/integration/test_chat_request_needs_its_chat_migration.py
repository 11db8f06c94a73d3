"""0046_chat_request_needs_its_chat down and up again, on SQLite and PostgreSQL, on a database
holding a chat's request whose chat was unlinked since: down, its trigger is gone and an
approval written straight to the row goes through; up again, the trigger is back and refuses
it with the service's code (phone_change.chat_unlinked)."""

from __future__ import annotations

import pytest
from sqlalchemy import text, update

from core.bootstrap import Core
from core.domain.errors import Conflict, Refusal
from core.storage import models as m
from core.storage.engine import make_engine
from tests.conftest import FakeClock
from tests.integration.migrating import core_on, migrate_to, migrated_core
from tests.integration.test_chat_request_of_an_unlinked_chat import _asked
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)

BEFORE = "0045_economia"
# The trigger's name in the migration (a test does not import a migration's module).
TRIGGER = "phone_changes_chat_request_needs_its_chat"


async def _has_trigger(url: str) -> bool:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            query = (
                "SELECT count(*) FROM pg_trigger WHERE tgname = :name"
                if connection.dialect.name == "postgresql"
                else "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = :name"
            )
            return bool(await connection.scalar(text(query), {"name": TRIGGER}))
    finally:
        await engine.dispose()


async def _approve_straight(core: Core, change_id: int, manager_id: int) -> None:
    """The approval written to the row as a script would, then rolled back (never
    committed): the request waits as before for the next try."""
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.PhoneChange)
            .where(m.PhoneChange.id == change_id)
            .values(status="approved", decided_by_id=manager_id, decided_at=core.now(), phone=None)
        )


async def test_down_drops_the_trigger_and_up_again_it_refuses_again(
    empty_url: str,  # noqa: F811
) -> None:
    clock = FakeClock()
    async with migrated_core(empty_url, clock) as core:
        town, manager, change_id = await _asked(core)
        async with core.uow() as uow:
            await uow.session.execute(
                update(m.Citizen)
                .where(m.Citizen.id == town.citizen_ids[0])
                .values(telegram_chat_id=None)
            )
            await uow.commit()
        with pytest.raises(Conflict) as refused:
            await _approve_straight(core, change_id, manager.id)
        assert refused.value.code == Refusal.PHONE_CHANGE_CHAT_UNLINKED
    assert await _has_trigger(empty_url)

    await migrate_to(empty_url, BEFORE, down=True)
    assert not await _has_trigger(empty_url)
    async with core_on(empty_url, clock) as core:
        await _approve_straight(core, change_id, manager.id)  # nothing refuses it

    await migrate_to(empty_url, "head")
    assert await _has_trigger(empty_url)
    async with core_on(empty_url, clock) as core:
        with pytest.raises(Conflict) as again:
            await _approve_straight(core, change_id, manager.id)
        assert again.value.code == Refusal.PHONE_CHANGE_CHAT_UNLINKED
        async with core.uow() as uow:
            change = await uow.phone_changes.by_id(change_id)
            assert change is not None and change.status == "waiting"
