"""0047_chat_requests_four_eyes on a database holding a Telegram chat's number approved by one
manager (0044's rule), a chat's number waiting and an operator's request approved, on SQLite
and PostgreSQL: up, the one-manager approval goes (nobody can be named its second operator;
the logs keep it), the others stay, and the database refuses an approval without an
operator requester; down and up again keep a checked chat request as the chat's."""

from __future__ import annotations

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.domain.errors import Conflict, Refusal
from core.services import identity, municipalities, operators, phone_changes
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.linked_chat import holder_without_phone
from tests.integration.migrating import migrate_to, migrated_core
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)

BEFORE = "0046_chat_request_needs_its_chat"
CHAT = "990095"
CHAT_PHONE = "+393471230095"
OTHER_CHAT = "990096"
OTHER_PHONE = "+393471230096"
ASKED_PHONE = "+393471230097"


async def _ids(core: Core) -> list[int]:
    async with core.uow() as uow:
        return list(await uow.session.scalars(text("SELECT id FROM phone_changes ORDER BY id")))


async def test_up_drops_one_manager_approvals_and_the_rule_holds_after(
    empty_url: str,  # noqa: F811
) -> None:
    clock = FakeClock()
    async with migrated_core(empty_url, clock, BEFORE) as core:
        town = await holder_without_phone(core, chat=CHAT)
        async with core.uow() as uow:  # citizen 1: no phone either, its own older chat
            await uow.session.execute(
                update(m.Citizen)
                .where(m.Citizen.id == town.citizen_ids[1])
                .values(phone=None, phone_proven_by=None, telegram_chat_id=OTHER_CHAT)
            )
            municipality = await municipalities.require(uow, town.code)
            team = {}
            for name, role in (("clerk", "clerk"), ("manager", "manager")):
                team[name], _ = await operators.add_operator(
                    uow, municipality, f"tst.{name}", role, core.now(), password="x" * 12
                )
            await uow.commit()
        refused = {}
        for chat, phone in ((CHAT, CHAT_PHONE), (OTHER_CHAT, OTHER_PHONE)):
            async with core.uow() as uow:
                with pytest.raises(identity.FirstNumberNeedsOffice) as found:
                    await identity.link_telegram(uow, town.municipality_id, chat, phone, core.now())
                await uow.commit()
            assert found.value.change is not None
            refused[chat] = found.value.change.id
        async with core.uow() as uow:  # one manager alone, as 0044 allowed
            await uow.session.execute(
                update(m.PhoneChange)
                .where(m.PhoneChange.id == refused[CHAT])
                .values(
                    status="approved",
                    phone=None,
                    decided_by_id=team["manager"].id,
                    decided_at=core.now(),
                )
            )
            asked = await phone_changes.request(
                uow, team["clerk"], municipality, town.citizen_cfs[0], ASKED_PHONE, core.now()
            )
            await uow.commit()
        assert asked.waiting is not None

    async with migrated_core(empty_url, clock) as core:
        assert await _ids(core) == [refused[OTHER_CHAT], asked.waiting.id]
        # An approval with no operator requester is refused by the database.
        with pytest.raises(IntegrityError):
            async with core.uow() as uow:
                await uow.phone_changes.mark_decided(
                    refused[OTHER_CHAT],
                    status="approved",
                    decided_by_id=team["manager"].id,
                    decided_at=core.now(),
                    phone=None,
                )
                await uow.flush()
        async with core.uow() as uow:
            await phone_changes.check_chat_request(
                uow, team["clerk"], refused[OTHER_CHAT], core.now()
            )
            await uow.commit()

    # Down: the checked chat request is the chat's alone again; up again, the rule holds.
    await migrate_to(empty_url, BEFORE, down=True)
    async with migrated_core(empty_url, clock) as core:
        async with core.uow() as uow:
            waiting = await phone_changes.waiting(uow, town.municipality_id)
        assert [(w.change.id, w.by_chat, w.checked) for w in waiting] == [
            (refused[OTHER_CHAT], True, False),
            (asked.waiting.id, False, True),
        ]
        # SQLite's triggers of 0043 survive the rebuild: no number bound while one waits.
        with pytest.raises(Conflict) as bound:
            async with core.uow() as uow:
                await uow.session.execute(
                    update(m.Citizen)
                    .where(m.Citizen.id == town.citizen_ids[1])
                    .values(phone="+393471230098")
                )
        assert bound.value.code == Refusal.IDENTITY_PHONE_CHANGE_WAITING
