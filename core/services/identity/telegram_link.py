"""Linking a Telegram chat: the contact a user shared (a number Telegram verified) links the
chat and the phone to one citizen, or is refused and logged; a chat that proves a
delegate's number becomes that delegate's."""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from core.domain.channels import Channel
from core.domain.errors import Conflict
from core.domain.identity import PhoneProof, normalize_phone
from core.services import code_destinations, refund_codes
from core.services.identity.first_number import _refuse_first_number, withdraw_chat_request
from core.services.identity.log import _log
from core.services.identity.phone_checks import (
    _another_households_delegate,
    _is_shop_chat,
    is_delegates_number,
    is_own_delegates_number,
    refuse_shop_phone,
)
from core.services.identity.refusals import LINK_REFUSED, DelegateNumber, IdentityRefused
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


async def link_telegram(
    uow: UnitOfWork, municipality_id: int, telegram_user: str, phone: str, now: datetime
) -> m.Citizen | None:
    """A Telegram user shared their own contact (Telegram verified the number): link the
    chat and the phone to one citizen, or refuse (IdentityRefused, logged) when they
    belong to different citizens, or when the chat, or the number it would bind, is a
    shop's (owner or cashier): the shop would receive the citizen's payment codes. A chat
    linked to a citizen (with a phone of their own or without) that proves a delegate's
    number (theirs, or another household's that cannot become theirs) is unlinked and
    refused (DelegateNumber): it acts as that delegate, never as them; a phone change it
    asked stops waiting (withdraw_chat_request). None: nobody has either yet."""
    phone = normalize_phone(phone)
    by_chat = await uow.citizens.by_telegram_chat(municipality_id, telegram_user)
    if by_chat is not None and by_chat.phone is None:
        # Held until the commit and read again, as the office's phone change holds it
        # (phone_changes.request, rebind_phone): a change asked at this moment is seen
        # below, or sees the number bound here. Then the number is held too, before its
        # owner is read (is_own_delegates_number holds it as well): a chat, an operator or
        # a delegate's registration binding it at this moment is seen, or waits for us.
        by_chat = await uow.citizens.lock(by_chat.id)
        await uow.citizens.hold_phone(municipality_id, phone)
    by_phone = await uow.citizens.by_phone(municipality_id, phone)
    actor, proof = "chat:telegram", PhoneProof.TELEGRAM_CONTACT

    async def refused(citizen: m.Citizen) -> None:
        # Every refusal below is logged alike on the citizen it concerns.
        await _log(
            uow, citizen, LINK_REFUSED, now, actor=actor, channel=Channel.TELEGRAM, phone=phone
        )

    async def as_delegate(citizen: m.Citizen) -> NoReturn:
        # The chat proved the number of the delegate of `citizen`, whom it is linked to: it
        # is unlinked and from now on acts as that delegate's number does (DelegateNumber).
        citizen.telegram_chat_id = None
        await _log(uow, citizen, "telegram_unbound", now, actor=actor, channel=Channel.TELEGRAM)
        await refused(citizen)
        await uow.flush()
        # A number this chat asked for the citizen stops waiting: the chat is not theirs.
        await withdraw_chat_request(uow, citizen, telegram_user, now)
        # A code sent to the chat while it was the holder's confirms nothing more.
        await code_destinations.void_codes_gone_elsewhere(uow, citizen, now)
        await refund_codes.void_refund_codes_gone_elsewhere(uow, citizen, now)
        raise DelegateNumber()

    if await _is_shop_chat(uow, municipality_id, telegram_user):
        # The reverse of shops.member_is_citizen, checked before anything else: a shop's
        # chat is nobody's, whoever the number belongs to.
        logged_on = by_phone or by_chat
        if logged_on is not None:
            await refused(logged_on)
        raise IdentityRefused("telegram_is_shop")
    if by_chat is not None:
        if by_chat.phone == phone:
            return by_chat
        if by_chat.phone is None and by_phone is None:
            try:
                await refuse_shop_phone(uow, municipality_id, phone)
            except Conflict:
                # A shop's phone would receive this citizen's payment codes.
                await refused(by_chat)
                raise IdentityRefused("phone_is_shop") from None
            if await is_own_delegates_number(uow, by_chat, phone):
                # Telegram says this account is the delegate's: linked to the holder (an
                # application made before phones were required) it would act as the holder,
                # and bound, their delegate's number would be their own. It now acts for
                # them as that number does (SALDO), and the office gives the holder a phone.
                await as_delegate(by_chat)
            try:
                await _refuse_first_number(uow, by_chat, phone, now, telegram_user=telegram_user)
            except IdentityRefused:
                if await _another_households_delegate(uow, by_chat, phone):
                    # Another household's delegate's number, which cannot become this
                    # citizen's (money at stake, PHONE_OF_A_DELEGATE, or a change waiting):
                    # the account is that delegate's, no more this citizen's than their own
                    # delegate's would be. It acts as that number does.
                    await as_delegate(by_chat)
                # The office's change (or request, or four eyes for a citizen with money to
                # spend) decides the number: the office sees the attempt, the chat stays the
                # citizen's, nothing is bound.
                await refused(by_chat)
                raise
            if not await uow.citizens.set_phone(by_chat, phone):
                # A new citizen took the number at this very moment, written by a caller
                # that did not hold it (claim_citizen holds it, _refuse_asked_for_new): the
                # unique index decided, as if it had been taken before; the refusal is the
                # chat's usual one.
                await uow.refresh(by_chat)
                await refused(by_chat)
                raise IdentityRefused("concurrent_claim")
            by_chat.phone_proven_by, by_chat.phone_proven_at = proof.value, now
            await _log(uow, by_chat, "phone_bound", now, actor=actor, proof=proof, phone=phone)
            return by_chat
        if by_phone is None and by_chat.phone is not None:
            # The chat's citizen has a phone of their own, and the account proves a delegate's
            # number (theirs, or another household's): the account is the delegate's
            # (Telegram verified it), never this citizen's, so it
            # stops acting as the holder (their card, their status, their payment codes in
            # this chat) exactly as for a holder without a phone; the holder's own phone
            # stays, and their own account links again by sharing it. Held and read again
            # first, as the office's change holds the row (is_own_delegates_number holds
            # the number).
            held = await uow.citizens.lock(by_chat.id)
            if (
                held is not None
                and held.telegram_chat_id == telegram_user
                and held.phone not in (None, phone)
                and await is_delegates_number(uow, held, phone)
            ):
                await as_delegate(held)
        # The chat is one citizen's, the number another's (or a new one): the office decides.
        await refused(by_chat)
        raise IdentityRefused("telegram_bound")
    if by_phone is None:
        return None
    if by_phone.telegram_chat_id is None:
        by_phone.telegram_chat_id = telegram_user
        await _log(uow, by_phone, "telegram_bound", now, actor=actor, channel=Channel.TELEGRAM)
        await uow.flush()
        return by_phone
    await refused(by_phone)
    raise IdentityRefused("telegram_differs")
