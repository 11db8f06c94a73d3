"""The office gives a citizen a new phone (rebind_phone): on one operator's word while no
money is at stake, otherwise only through a change a second operator approved
(core.services.phone_changes, checked here by check_approval and approves)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.channels import Channel
from core.domain.errors import Conflict, NotAllowed, Refusal
from core.domain.identity import PhoneProof, mask_phone, normalize_phone
from core.domain.messages import Reply, t
from core.services import code_destinations, refund_codes
from core.services.identity.log import _log
from core.services.identity.lookups import office_citizen
from core.services.identity.phone_checks import check_new_phone, money_at_stake
from core.services.outbox import notify_citizen, notify_number
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


@dataclass(frozen=True)
class Rebinding:
    citizen_id: int
    previous_phone: str | None
    phone: str
    telegram_unlinked: bool


def check_approval(change: m.PhoneChange | None, citizen: m.Citizen) -> None:
    """Refuse an approved request given for a citizen it was not asked for: applying it
    would give someone the phone, delegate or card two operators vouched for somebody
    else (and a log naming the wrong person)."""
    if change is not None and (
        change.citizen_id != citizen.id or change.municipality_id != citizen.municipality_id
    ):
        raise NotAllowed(Refusal.REQUEST_OTHER_CITIZEN, change_id=change.id)


def approves(change: m.PhoneChange | None, citizen: m.Citizen, kind: str = "phone") -> bool:
    """Whether `change` is this citizen's request of `kind` (core.services.phone_changes:
    phone, delegate, card), approved by a second operator: a Telegram chat's number too was
    checked by one operator (requested_by_id) and approved by another."""
    return (
        change is not None
        and change.citizen_id == citizen.id
        and change.kind == kind
        and change.status == "approved"
        and change.decided_by_id is not None
        and change.requested_by_id is not None
        and change.decided_by_id != change.requested_by_id
    )


async def rebind_phone(
    uow: UnitOfWork,
    municipality: m.Municipality,
    codice_fiscale: str,
    phone: str,
    *,
    operator: str,
    now: datetime,
    approved: m.PhoneChange | None = None,
) -> Rebinding:
    """The office binds a citizen to a new phone (the person came in with a document).

    A citizen with money at stake (money_at_stake) gets a new number only through a change
    another operator `approved` (core.services.phone_changes): otherwise this refuses
    (PHONE_CHANGE_NEEDS_APPROVAL), whoever calls it; and while a change waits, no other
    number is bound. The Telegram user linked through the old phone is unlinked (the
    person shares the new contact to link a chat again). Payments waiting for a code
    sent to the old phone or the unlinked chat are cancelled
    (code_destinations.void_codes_gone_elsewhere). The old and the new number are told.

    The citizen's row is held until the commit: of two operators at once the second sees
    the first's number, and its change applies on top of it (the notice to the old number
    goes to the first's), or is refused when it is the same number, already recorded by
    the office (IDENTITY_PHONE_ALREADY: nothing to do, nobody told twice). A number
    another citizen took a moment earlier is refused as when it was taken before."""
    citizen = await office_citizen(uow, municipality.id, codice_fiscale, lock=True)
    check_approval(approved, citizen)
    phone = normalize_phone(phone)
    await check_new_phone(uow, citizen, phone)
    previous = citizen.phone
    if (
        previous == phone
        and citizen.phone_proven_by == PhoneProof.OFFICE.value
        and not approves(approved, citizen)
    ):
        raise Conflict(Refusal.IDENTITY_PHONE_ALREADY, phone=mask_phone(phone))
    if previous != phone and not approves(approved, citizen):
        waiting = await uow.phone_changes.waiting_for(citizen, "phone")
        if waiting is not None:
            raise Conflict(
                Refusal.PHONE_CHANGE_WAITING, change_id=waiting.id, phone=waiting.phone_masked
            )
        if await money_at_stake(uow, citizen, now):
            raise NotAllowed(
                Refusal.PHONE_CHANGE_NEEDS_APPROVAL, codice_fiscale=citizen.codice_fiscale
            )
    actor = f"office:{operator}"
    # A change the citizen's own Telegram chat asked (its contact proved the number:
    # FirstNumberNeedsOffice) keeps that chat: the number is the chat's own. Proven by the
    # contact, the office approving it.
    by_own_chat = (
        approves(approved, citizen)
        and approved is not None
        and approved.requested_by_chat is not None
        and approved.requested_by_chat == citizen.telegram_chat_id
    )
    proof = PhoneProof.TELEGRAM_CONTACT if by_own_chat else PhoneProof.OFFICE
    unlinked = False
    if previous != phone and citizen.telegram_chat_id is not None and not by_own_chat:
        citizen.telegram_chat_id = None
        unlinked = True
        await _log(uow, citizen, "telegram_unbound", now, actor=actor, channel=Channel.TELEGRAM)
    if not await uow.citizens.set_phone(citizen, phone):
        # The savepoint rolled back expired the citizen: nothing of it is read again.
        holder = await uow.citizens.by_phone(municipality.id, phone)
        raise Conflict(
            Refusal.IDENTITY_PHONE_OF_ANOTHER,
            codice_fiscale=holder.codice_fiscale if holder is not None else "",
        )
    citizen.phone_proven_by, citizen.phone_proven_at = proof.value, now
    await _log(
        uow,
        citizen,
        "phone_rebound",
        now,
        actor=actor,
        proof=proof,
        phone=phone,
        previous_phone=previous,
    )
    await uow.flush()
    if previous != phone and by_own_chat:
        # The chat asked with its contact and waits for the answer there: told there, where
        # it asked (the chat is where the citizen is reached now, outbox.citizen_channel).
        # The number is the chat's own account's (Telegram verified it): an SMS to it
        # would tell the same person twice.
        notify_citizen(
            uow,
            citizen,
            Reply.of(
                t(
                    "{town}: the office approved the number {phone} you shared: your grocery "
                    "vouchers now use it.",
                    town=municipality.name,
                    phone=mask_phone(phone),
                )
            ),
            now,
        )
    elif previous != phone:
        notify_number(
            uow,
            citizen,
            phone,
            Reply.of(
                t(
                    "The office of {town} registered this number for your grocery vouchers.",
                    town=municipality.name,
                )
            ),
            now,
        )
    if previous != phone:
        if previous:
            notify_number(
                uow,
                citizen,
                previous,
                Reply.of(
                    t(
                        "Your grocery vouchers now use the number {phone}, as the office "
                        "recorded. If you did not ask, tell the office.",
                        phone=mask_phone(phone),
                    )
                ),
                now,
            )
        # A code sent to the old phone (or the unlinked chat), lost or stolen perhaps,
        # confirms nothing more: the shop starts the payment again, its code to the new one.
        await code_destinations.void_codes_gone_elsewhere(uow, citizen, now)
        # So does a refund's code sent there: a cashier's refund waits for it no more.
        await refund_codes.void_refund_codes_gone_elsewhere(uow, citizen, now)
    return Rebinding(citizen.id, previous, phone, unlinked)
