"""link_telegram holds the chat's citizen and the number before it reads whose the number
is, and writes the number through CitizenRepository.set_phone: a citizen created with that
number at the same moment (an SMS claim holds it too) is the chat's usual refusal, logged,
never an error of the unique index. On SQLite and PostgreSQL (where the chat waits at the
write for the other's commit)."""

from __future__ import annotations

from typing import Any

from core.bootstrap import Core
from core.domain.identity import PhoneProof
from core.services import identity
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from tests.factories import make_cf
from tests.integration.linked_chat import holder_without_phone, idle_without_phone
from tests.integration.test_identity_races import first_then_second

IDLE_CHAT = "990083"
IDLE_PHONE = "+393471230083"


async def test_a_citizen_created_with_the_number_meanwhile_is_the_usual_refusal(
    core: Core, database_url: str
) -> None:
    """An SMS application creates a citizen with the number while the chat linked to a
    citizen without a phone (nothing to spend) shares it: the chat holds its citizen and
    the number before it reads the number's owner, and on PostgreSQL waits at the write for
    the other's commit; either way it hears the refusal, logged, nothing bound, no error."""
    town = await holder_without_phone(core)
    citizen_id, _ = await idle_without_phone(core, town, IDLE_CHAT, 84)

    async def link() -> Any:
        async with core.uow() as uow:
            try:
                await identity.link_telegram(
                    uow, town.municipality_id, IDLE_CHAT, IDLE_PHONE, core.now()
                )
            except identity.IdentityRefused as refused:
                await uow.commit()
                return refused
            await uow.commit()
            return None

    async def claim(uow: UnitOfWork) -> m.Citizen:
        # A new citizen by SMS (the code typed back) with the number.
        citizen, created = await identity.claim_citizen(
            uow,
            town.municipality_id,
            make_cf(85),
            phone=IDLE_PHONE,
            proof=PhoneProof.SMS_CODE,
            now=core.now(),
            channel="sms",
        )
        assert created
        return citizen

    created, late = await first_then_second(core, database_url, claim, link)
    refused = await late
    assert isinstance(refused, identity.IdentityRefused)
    assert refused.reason in {"concurrent_claim", "telegram_bound"}
    async with core.uow() as uow:
        idle = await uow.citizens.by_id(citizen_id)
        assert idle is not None and (idle.phone, idle.telegram_chat_id) == (None, IDLE_CHAT)
        holder = await uow.citizens.by_phone(town.municipality_id, IDLE_PHONE)
        assert holder is not None and holder.id == created.id
        kinds = [e.kind for e in await uow.identity_events.for_citizen(citizen_id)]
    assert kinds[-1] == "link_refused"
