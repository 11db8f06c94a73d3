"""A paper import gives a phone to a citizen the office knows without one, and the citizen's
own chat binds a number between the import's read and its write. The import's statement
binds only an empty phone, so the chat's number stays; the identity log then says only what
happened (no `phone_bound` by the office), and the row is refused by its line and column
like any other, nothing of the file imported (docs/identity-and-consent.md §7).

The import holds the citizens it would give a number since it read them (lock_citizens), so
the chat normally waits for it (PostgreSQL) or cannot begin (SQLite's one writer): the race
is played here without that hold, to pin what the writing statement itself reports. On
PostgreSQL the chat is a rival connection that commits; on SQLite, whose one writer is the
import itself, the import's own connection fills the phone before the statement runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.bootstrap import Core
from core.domain.identity import PhoneProof
from core.services import applications, identity
from core.services.paper_applications import ImportRefused
from core.storage import models as m
from core.storage.paper_import import PaperImportRepository
from tests.integration.test_paper_import import open_town, person

CHAT = "990081"
CHAT_PHONE = "+393471230081"
PAPER_PHONE = "+393471230082"


async def _known_without_phone(core: Core, town: m.Municipality, index: int) -> int:
    """A citizen the office knows without a phone (nothing to spend), linked to CHAT."""
    async with core.uow() as uow:
        citizen, _ = await identity.claim_citizen(
            uow,
            town.id,
            person(index).codice_fiscale,
            phone=None,
            proof=PhoneProof.OFFICE,
            now=core.now(),
        )
        await uow.session.execute(
            update(m.Citizen).where(m.Citizen.id == citizen.id).values(telegram_chat_id=CHAT)
        )
        await uow.commit()
        return citizen.id


async def _events(core: Core, citizen_id: int) -> list[tuple[str, str]]:
    async with core.uow() as uow:
        return [(e.kind, e.actor) for e in await uow.identity_events.for_citizen(citizen_id)]


async def test_a_phone_a_chat_bound_meanwhile_is_neither_logged_nor_imported(
    core: Core, rival: Core, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    town = await open_town(core)
    citizen_id = await _known_without_phone(core, town, 81)
    before = await _events(core, citizen_id)
    real_bind = PaperImportRepository.bind_phones

    async def not_held(self: PaperImportRepository, citizen_ids: Sequence[int]) -> None:
        return None

    async def chat_first(self: PaperImportRepository, rows: Sequence[dict[str, Any]]) -> set[int]:
        if database_url.startswith("postgresql"):
            async with rival.uow() as other:
                await identity.link_telegram(other, town.id, CHAT, CHAT_PHONE, rival.now())
                await other.commit()
        else:
            await self.session.execute(
                update(m.Citizen).where(m.Citizen.id == citizen_id).values(phone=CHAT_PHONE)
            )
        return await real_bind(self, rows)

    monkeypatch.setattr(PaperImportRepository, "lock_citizens", not_held)
    monkeypatch.setattr(PaperImportRepository, "bind_phones", chat_first)
    rows = [(person(80), core.now()), (person(81, phone=PAPER_PHONE), core.now())]
    async with core.uow() as uow:
        with pytest.raises(ImportRefused) as refused:
            await applications.import_applications(uow, town, rows, core.now())
        # The office never gave that number: the log the import wrote says nothing of it.
        events = await uow.identity_events.for_citizen(citizen_id)
        assert [(e.kind, e.actor) for e in events if e.actor == "office"] == []
    assert [(p.index, p.column, p.error.code) for p in refused.value.problems] == [
        (1, "phone", "application.phone_bound_meanwhile")
    ]
    async with core.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(m.Application)) == 0
        citizen = await uow.citizens.by_id(citizen_id)
        assert citizen is not None
    if database_url.startswith("postgresql"):
        # The chat's number stays, as the chat's log says; nothing of the office's.
        assert citizen.phone == CHAT_PHONE
        assert await _events(core, citizen_id) == [*before, ("phone_bound", "chat:telegram")]
    else:
        assert await _events(core, citizen_id) == before
