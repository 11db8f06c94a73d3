"""A first number for a citizen known without one: refused while the office changes their
phone, while a waiting request names the number, or, when the citizen has money to spend,
left waiting for the office's four eyes as a phone change the chat asked (withdrawn when
the chat stops being the citizen's). Both the claim and the Telegram link apply these."""

from __future__ import annotations

from datetime import datetime

from core.domain.channels import Channel
from core.domain.errors import Conflict, NotAllowed, Refusal
from core.domain.identity import PhoneProof, mask_phone
from core.domain.messages import Reply, t
from core.services import activity, asked_numbers
from core.services.identity.phone_checks import _another_households_delegate, money_at_stake
from core.services.identity.refusals import (
    NUMBER_ASKED,
    PHONE_OF_A_DELEGATE,
    FirstNumberNeedsOffice,
    IdentityRefused,
    PhoneChangeWaiting,
)
from core.services.outbox import enqueue
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# Who asked a phone change a Telegram chat's contact proved (FirstNumberNeedsOffice), in the
# office's activity log and in its lists of waiting changes.
CHAT_ACTOR = "chat:telegram"
# Why a phone change a chat asked was withdrawn without an operator: the chat stopped being
# the citizen's (withdraw_chat_request), in the request's row and the office's activity log.
CHAT_UNLINKED = "chat_unlinked"


async def _refuse_first_number(
    uow: UnitOfWork, citizen: m.Citizen, phone: str, now: datetime, *, telegram_user: str | None
) -> None:
    """Refuse binding `phone`, proven by the Telegram chat `telegram_user` linked to
    `citizen` (who has none), while the office changes the citizen's phone
    (PhoneChangeWaiting: the change waiting for its approval decides the number), while a
    waiting request names the number (IdentityRefused NUMBER_ASKED: another household's new
    phone or delegate, or this citizen's delegate), or while the citizen has money to spend
    (FirstNumberNeedsOffice: no first number without the office, money_at_stake; another
    household's delegate's number then is refused at once, IdentityRefused
    PHONE_OF_A_DELEGATE, as the office's approval would refuse it). The last one leaves a
    phone change asked by the chat, waiting for the office (_ask_office); the same chat
    sharing the same number again finds it and asks nothing more, and another number,
    while it waits, is refused as any waiting change refuses it (the office decides the one
    asked first, or withdraws it). The office's rule (rebind_phone,
    phone_changes.request) for the chat: the caller holds the citizen's row
    (CitizenRepository.lock, as the office's change does) and the number (hold_phone)
    until the commit, so a request asked at that moment is found here, or finds the bound
    number (or the chat's request) and is refused."""
    waiting = await uow.phone_changes.waiting_for(citizen, "phone")
    if waiting is not None:
        if telegram_user and (waiting.requested_by_chat, waiting.phone) == (telegram_user, phone):
            raise FirstNumberNeedsOffice(waiting)  # asked already: the office has it
        raise PhoneChangeWaiting()
    try:
        await asked_numbers.refuse_asked(uow, citizen, phone, "phone")
    except Conflict:
        raise IdentityRefused(NUMBER_ASKED) from None
    if await money_at_stake(uow, citizen, now):
        if await _another_households_delegate(uow, citizen, phone):
            # The office's approval would refuse it (rebind_phone's check_new_phone): not
            # left waiting for a manager, doomed, with the number held meanwhile.
            raise IdentityRefused(PHONE_OF_A_DELEGATE)
        if not telegram_user:
            raise FirstNumberNeedsOffice()
        raise FirstNumberNeedsOffice(await _ask_office(uow, citizen, phone, telegram_user, now))


async def withdraw_chat_request(
    uow: UnitOfWork, citizen: m.Citizen, telegram_user: str, now: datetime
) -> m.PhoneChange | None:
    """The chat `telegram_user` stopped being `citizen`'s: the phone change it asked
    (FirstNumberNeedsOffice), if it still waits, is withdrawn in the same transaction, with
    no operator and the reason CHAT_UNLINKED, in the office's activity log (actor
    chat:telegram); the chat is told there, the number is not (as when the office withdraws
    it: core.services.phone_changes.withdraw). Approved afterwards it would bind, on one
    manager's word, the number of an account that is not the citizen's. The caller holds
    the citizen's row, as the approval does. The request, when one was withdrawn."""
    waiting = await uow.phone_changes.waiting_for(citizen, "phone")
    if waiting is None or waiting.requested_by_chat != telegram_user:
        return None
    closed = await uow.phone_changes.mark_decided(
        waiting.id,
        status="withdrawn",
        decided_by_id=None,
        decided_at=now,
        phone=None,
        reason=CHAT_UNLINKED,
    )
    if not closed:
        return None  # decided a moment ago
    await uow.refresh(waiting)
    await activity.record(
        uow,
        citizen.municipality_id,
        CHAT_ACTOR,
        "citizen.phone_withdraw",
        now=now,
        subject=waiting.subject,
        before={"phone": waiting.phone_masked, "change": waiting.id},
        after={"status": "withdrawn", "outcome": CHAT_UNLINKED},
    )
    town = await uow.municipalities.by_id(citizen.municipality_id)
    if town is not None:
        enqueue(
            uow,
            municipality_id=citizen.municipality_id,
            channel=Channel.TELEGRAM,
            address=telegram_user,
            language=citizen.language,
            reply=Reply.of(
                t(
                    "{town}: the number {phone} you shared will not be used: this chat no "
                    "longer speaks for the vouchers' holder. Request withdrawn.",
                    town=town.name,
                    phone=waiting.phone_masked or "",
                )
            ),
            now=now,
        )
    return waiting


async def _refuse_office_first_number(
    uow: UnitOfWork, citizen: m.Citizen, phone: str, now: datetime
) -> None:
    """Refuse a first number given on paper (proof OFFICE: an application typed in or
    imported, one operator alone) to a citizen the office knows without one, as the paper
    import refuses its row (core.services.paper_applications): while a new phone of theirs
    waits for its second operator (APPLICATION_PHONE_CHANGE_WAITING), when a waiting request
    names the number (asked_numbers), and when the citizen has money at stake
    (APPLICATION_PHONE_NEEDS_APPROVAL, money_at_stake: the one clerk would choose alone the
    phone that receives the payment codes; rebind_phone's rule). The paper goes in without
    the phone; the number is then asked on the application's page, and a manager who did
    not ask approves it. The caller holds the citizen's row and the number."""
    waiting = await uow.phone_changes.waiting_for(citizen, "phone")
    if waiting is not None:
        raise Conflict(
            Refusal.APPLICATION_PHONE_CHANGE_WAITING,
            change_id=waiting.id,
            phone=waiting.phone_masked or "",
        )
    await asked_numbers.refuse_asked(uow, citizen, phone, "phone")
    if await money_at_stake(uow, citizen, now):
        raise NotAllowed(
            Refusal.APPLICATION_PHONE_NEEDS_APPROVAL, codice_fiscale=citizen.codice_fiscale
        )


async def _refuse_asked_for_new(
    uow: UnitOfWork, municipality_id: int, phone: str, proof: PhoneProof
) -> None:
    """Refuse `phone` for a citizen not known yet when a waiting request names it: for the
    office as _refuse_office_first_number and the paper import refuse it
    (REQUEST_NUMBER_ASKED), for a chat as _refuse_first_number does (NUMBER_ASKED, the
    neutral sentence). The number is held first (hold_phone), as a request holds it."""
    await uow.citizens.hold_phone(municipality_id, phone)
    for change in await uow.phone_changes.waiting_with_phone(municipality_id, phone):
        refusal = asked_numbers.asked_refusal(change, None, "phone")
        if refusal is None:
            continue
        if proof is PhoneProof.OFFICE:
            raise refusal
        raise IdentityRefused(NUMBER_ASKED)


async def _ask_office(
    uow: UnitOfWork, citizen: m.Citizen, phone: str, telegram_user: str, now: datetime
) -> m.PhoneChange:
    """The chat's proven number as a phone change waiting for the office, asked by the chat
    (requested_by_chat; no operator), filed under the citizen's latest application and
    written to the office's activity log (actor chat:telegram). The caller holds the
    citizen's row and the number: a request stored a moment ago by another transaction
    (uq_phone_changes_waiting, uq_phone_changes_waiting_phone) is found as if it had been
    there before."""
    latest = await uow.applications.latest_for_citizen(citizen.id)
    subject = latest.protocol if latest is not None else f"citizen #{citizen.id}"
    change = m.PhoneChange(
        municipality_id=citizen.municipality_id,
        citizen_id=citizen.id,
        kind="phone",
        subject=subject,
        phone=phone,
        phone_masked=mask_phone(phone),
        previous_masked=None,
        reissue=False,
        status="waiting",
        requested_by_id=None,
        requested_by_chat=telegram_user,
        requested_at=now,
    )
    if not await uow.phone_changes.add_waiting(change):
        if await uow.phone_changes.waiting_for(citizen, "phone") is not None:
            raise PhoneChangeWaiting()
        raise IdentityRefused(NUMBER_ASKED)
    await activity.record(
        uow,
        citizen.municipality_id,
        CHAT_ACTOR,
        "citizen.phone_request",
        now=now,
        subject=subject,
        before={"phone": None},
        after={"phone": change.phone_masked, "change": change.id, "requested_by": CHAT_ACTOR},
    )
    return change
