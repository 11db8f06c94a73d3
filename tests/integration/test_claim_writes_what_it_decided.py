"""identity.claim_citizen decides on the citizen check_claim read; a chat may bind that
citizen a number before the claim writes. The claim holds the row and reads it again before
writing: the chat's number is never overwritten, the claim is refused (`concurrent_claim`)
and the identity log has no `phone_bound` for a number that was not given. An office claim
(a paper application giving a first number: proof OFFICE) is the case played here: it held
nothing before writing, so it overwrote the chat's number and logged a first binding.

On PostgreSQL the chat is a rival connection that commits between the read and the write;
on SQLite, whose one writer is the claim itself, its own connection fills the phone there
(without the ORM seeing it, as another writer's row would be unseen)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Table, update

from core.bootstrap import Core
from core.domain.identity import PhoneProof
from core.services import identity
from core.storage import models as m
from tests.integration.linked_chat import holder_without_phone, idle_without_phone

CHAT = "990091"
CHAT_PHONE = "+393471230091"
PAPER_PHONE = "+393471230092"


async def test_an_office_claim_never_overwrites_a_number_a_chat_bound_meanwhile(
    core: Core, rival: Core, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    town = await holder_without_phone(core)
    citizen_id, code = await idle_without_phone(core, town, CHAT, 91)
    async with core.uow() as uow:
        before = [e.kind for e in await uow.identity_events.for_citizen(citizen_id)]
    read = identity.check_claim

    async def chat_binds_after_the_read(uow: Any, *args: Any, **kwargs: Any) -> Any:
        claim = await read(uow, *args, **kwargs)
        if database_url.startswith("postgresql"):
            async with rival.uow() as other:
                await identity.link_telegram(
                    other, town.municipality_id, CHAT, CHAT_PHONE, rival.now()
                )
                await other.commit()
        else:
            table = m.Citizen.__table__
            assert isinstance(table, Table)
            connection = await uow.session.connection()
            await connection.execute(
                update(table).where(table.c.id == citizen_id).values(phone=CHAT_PHONE)
            )
        return claim

    monkeypatch.setattr(identity, "check_claim", chat_binds_after_the_read)
    async with core.uow() as uow:
        with pytest.raises(identity.IdentityRefused) as refused:
            await identity.claim_citizen(
                uow,
                town.municipality_id,
                code,
                phone=PAPER_PHONE,
                proof=PhoneProof.OFFICE,
                now=core.now(),
            )
        assert refused.value.reason == "concurrent_claim"
        # Only the chat's binding (on PostgreSQL, where it committed): none by the office.
        events = await uow.identity_events.for_citizen(citizen_id)
        assert [(e.kind, e.actor) for e in events][len(before) :] == (
            [("phone_bound", "chat:telegram")] if database_url.startswith("postgresql") else []
        )
        citizen = await uow.citizens.by_id(citizen_id)
        assert citizen is not None and citizen.phone == CHAT_PHONE
