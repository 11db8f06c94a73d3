"""Whom a phone, a Telegram chat or the office's codice fiscale names: the citizen (an
erased one is nobody), and the towns where a number or a chat is someone."""

from __future__ import annotations

from core.domain.erasure import can_act_on
from core.domain.errors import NotFound, Refusal
from core.domain.identity import normalize_codice_fiscale
from core.services.identity.phone_checks import is_shop_phone
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


async def office_citizen(
    uow: UnitOfWork, municipality_id: int, codice_fiscale: str, *, lock: bool = False
) -> m.Citizen:
    """The citizen the office names by codice fiscale; an erased one is nobody. With
    `lock`, held until the commit and read again (CitizenRepository.lock): what another
    operator changed a moment earlier is what the caller sees, not what it overwrites."""
    cf = normalize_codice_fiscale(codice_fiscale)
    citizen = await uow.citizens.by_codice_fiscale(municipality_id, cf)
    if citizen is not None and lock:
        citizen = await uow.citizens.lock(citizen.id)
    if not can_act_on(citizen):
        raise NotFound(Refusal.CITIZEN_NOT_FOUND)
    return citizen


async def citizen_of(
    uow: UnitOfWork,
    municipality_id: int,
    *,
    phone: str | None = None,
    telegram_chat: str | None = None,
) -> m.Citizen | None:
    """The citizen a phone number or a linked Telegram chat belongs to; an erased citizen
    (privacy.erase) is nobody's any more."""
    citizen: m.Citizen | None = None
    if phone:
        citizen = await uow.citizens.by_phone(municipality_id, phone)
    elif telegram_chat:
        citizen = await uow.citizens.by_telegram_chat(municipality_id, telegram_chat)
    if not can_act_on(citizen):
        return None
    return citizen


async def towns_knowing(
    uow: UnitOfWork,
    towns: list[m.Municipality],
    *,
    phone: str | None = None,
    telegram_chat: str | None = None,
) -> list[m.Municipality]:
    """The towns where this phone or Telegram chat is someone: a citizen's (not erased), a
    delegate's phone, a shop member's (owner or cashier, whatever the shop's status). A
    chat with no number to route it by goes straight to the only one."""
    known = []
    for town in towns:
        if (
            await citizen_of(uow, town.id, phone=phone, telegram_chat=telegram_chat)
            or (phone and await uow.delegates.by_phone(town.id, phone))
            or await is_shop_phone(uow, town.id, phone=phone, telegram_user=telegram_chat)
        ):
            known.append(town)
    return known
