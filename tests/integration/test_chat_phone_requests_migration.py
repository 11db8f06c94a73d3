"""0044_chat_phone_requests down and up again on a database holding a chat's request and an
operator's, on SQLite and PostgreSQL: down, the chat's request goes (an operator names every
request then), the operator's stays, the column and its check go; up again, the chat asks
again and the rules hold (exactly one requester, SQLite's triggers of 0030 and 0043 kept)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text, update

from core.bootstrap import Core
from core.domain.errors import Conflict, NotAllowed, Refusal
from core.services import identity, municipalities, operators, phone_changes
from core.storage import models as m
from core.storage.engine import make_engine
from tests.conftest import FakeClock
from tests.integration.linked_chat import holder_without_phone
from tests.integration.migrating import core_on, migrate_to, migrated_core
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)

BEFORE = "0043_no_phone_while_change_waits"
CHAT = "990091"
CHAT_PHONE = "+393471230091"
ASKED_PHONE = "+393471230092"


async def _columns_and_revision(url: str) -> tuple[set[str], str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("phone_changes")}
            )
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    return columns, str(revision)


async def _share(core: Core, municipality_id: int) -> identity.IdentityRefused:
    async with core.uow() as uow:
        with pytest.raises(identity.IdentityRefused) as refused:
            await identity.link_telegram(uow, municipality_id, CHAT, CHAT_PHONE, core.now())
        await uow.commit()
    return refused.value


async def test_down_drops_the_chats_requests_and_up_again_it_asks_again(
    empty_url: str,  # noqa: F811
) -> None:
    clock = FakeClock()
    async with migrated_core(empty_url, clock) as core:
        town = await holder_without_phone(core, chat=CHAT)
        async with core.uow() as uow:
            municipality = await municipalities.require(uow, town.code)
            clerk, _ = await operators.add_operator(
                uow, municipality, "tst.clerk", "clerk", core.now(), password="x" * 12
            )
            asked = await phone_changes.request(
                uow, clerk, municipality, town.citizen_cfs[1], ASKED_PHONE, core.now()
            )
            await uow.commit()
        assert asked.waiting is not None
        refused = await _share(core, town.municipality_id)
        assert isinstance(refused, identity.FirstNumberNeedsOffice) and refused.change

    columns, _ = await _columns_and_revision(empty_url)
    assert "requested_by_chat" in columns
    await migrate_to(empty_url, BEFORE, down=True)
    columns, revision = await _columns_and_revision(empty_url)
    assert "requested_by_chat" not in columns and revision == BEFORE
    async with core_on(empty_url, clock) as core, core.uow() as uow:
        ids = await uow.session.scalars(text("SELECT id FROM phone_changes ORDER BY id"))
        assert list(ids) == [asked.waiting.id]

    async with migrated_core(empty_url, clock) as core:
        again = await _share(core, town.municipality_id)
        assert isinstance(again, identity.FirstNumberNeedsOffice) and again.change
        async with core.uow() as uow:
            waiting = await phone_changes.waiting(uow, town.municipality_id)
        assert [(w.change.id, w.by_chat) for w in waiting] == [
            (asked.waiting.id, False),
            (again.change.id, True),
        ]
        # The rules of 0043 and 0030 still hold after SQLite's rebuild of the table: no
        # number bound while a change waits, a card names only its holder's request.
        with pytest.raises(Conflict) as bound:
            async with core.uow() as uow:
                await uow.session.execute(
                    update(m.Citizen)
                    .where(m.Citizen.id == town.citizen_ids[0])
                    .values(phone="+393471230093")
                )
        assert bound.value.code == Refusal.IDENTITY_PHONE_CHANGE_WAITING
        with pytest.raises(NotAllowed) as other:
            async with core.uow() as uow:
                await uow.session.execute(
                    update(m.Citizen)
                    .where(m.Citizen.id == town.citizen_ids[0])
                    .values(card_change_id=asked.waiting.id)
                )
        assert other.value.code == Refusal.REQUEST_OTHER_CITIZEN
