"""A citizen the office knows without a phone (a paper application without one, or one
made on Telegram before phones were required), whose Telegram chat may be linked: the
set-up of the tests on which number such a citizen may be given, and the linked chat
applying again with the number it proved by its own contact."""

from __future__ import annotations

from sqlalchemy import update

from core.bootstrap import Core
from core.domain.identity import PhoneProof
from core.services import identity
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from tests.factories import Town, make_cf, make_town


async def holder_without_phone(core: Core, *, chat: str | None = None) -> Town:
    """make_town's two citizens, both with a balance; citizen 0 without a phone, linked to
    the Telegram chat `chat` when given."""
    town = await make_town(core, citizens=2)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[0])
            .values(phone=None, phone_proven_by=None, phone_proven_at=None, telegram_chat_id=chat)
        )
        await uow.commit()
    return town


async def apply_from_chat(
    core: Core, uow: UnitOfWork, town: Town, chat: str, phone: str
) -> tuple[m.Citizen, bool]:
    """The chat linked to citizen 0 applies again under their codice fiscale with `phone`,
    proven by its own contact (identity.claim_citizen's linked path)."""
    return await identity.claim_citizen(
        uow,
        town.municipality_id,
        town.citizen_cfs[0],
        phone=phone,
        proof=PhoneProof.TELEGRAM_CONTACT,
        now=core.now(),
        telegram_user=chat,
        channel="telegram",
    )


async def idle_without_phone(core: Core, town: Town, chat: str, index: int) -> tuple[int, str]:
    """Another citizen (codice fiscale make_cf(index)) known on paper without a phone, with
    nothing to spend and nothing coming (no application), linked to the Telegram chat
    `chat`: the chat's own contact may give them a first number (identity.money_at_stake).
    Returns their id and codice fiscale."""
    async with core.uow() as uow:
        citizen, _ = await identity.claim_citizen(
            uow,
            town.municipality_id,
            make_cf(index),
            phone=None,
            proof=PhoneProof.OFFICE,
            now=core.now(),
        )
        await uow.session.execute(
            update(m.Citizen).where(m.Citizen.id == citizen.id).values(telegram_chat_id=chat)
        )
        await uow.commit()
        return citizen.id, citizen.codice_fiscale


async def citizen_row(core: Core, citizen_id: int) -> m.Citizen:
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(citizen_id)
        assert citizen is not None
        return citizen


async def event_kinds(core: Core, citizen_id: int) -> list[str]:
    """The kinds of the citizen's identity events, oldest first."""
    async with core.uow() as uow:
        return [e.kind for e in await uow.identity_events.for_citizen(citizen_id)]
