"""Four eyes on a citizen's phone: the phone decides who receives the payment codes, so
who can spend the citizen's vouchers.

An office operator (clerk or manager) gives a citizen a new phone. When the citizen has
money at stake (a positive balance, or a charge waiting for its code:
identity.money_at_stake) the change is only asked: it waits until a manager who is not
the one who asked approves it, and then identity.rebind_phone applies it in the same
transaction as the approval. Without money at stake it applies at once, as before.
identity.rebind_phone itself refuses a citizen with money at stake unless it is given the
approved change, so no caller skips the rule, and the table's CHECK four_eyes refuses an
approved change whose approver asked it. Each act is written to the activity log, and the
citizen is told on the number they have and on the new one (outbox, same transaction).

The functions do not commit: the caller (the office's page, the command line) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.channels import Channel
from core.domain.errors import Conflict, NotAllowed, NotFound, Refusal
from core.domain.identity import mask_phone, normalize_phone
from core.domain.messages import Reply, Text, t
from core.services import activity, identity
from core.services.acts import given_reason
from core.services.operators import Role, normalize_username, require_role
from core.services.outbox import enqueue
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

WAITING = "waiting"
APPROVED = "approved"
WITHDRAWN = "withdrawn"
ASKERS = (Role.CLERK, Role.MANAGER)
APPROVERS = (Role.MANAGER,)


@dataclass(frozen=True)
class Asked:
    """What asking for a new phone did: applied at once (`applied`), or a change that waits
    for a second operator (`waiting`)."""

    applied: identity.Rebinding | None = None
    waiting: m.PhoneChange | None = None


@dataclass(frozen=True)
class Waiting:
    change: m.PhoneChange
    citizen: m.Citizen
    requested_by: str


def _masked(phone: str | None) -> str | None:
    return mask_phone(phone) if phone else None


async def operator_named(uow: UnitOfWork, town: m.Municipality, username: str) -> m.Operator:
    """The operator of the town with this username (the command line's --by): asking and
    approving a change need an operator's role, and two different operators."""
    name = normalize_username(username)
    operator = await uow.operators.by_username(name)
    if operator is None or operator.municipality_id != town.id or operator.disabled_at:
        raise NotFound(Refusal.OPERATOR_NOT_FOUND, username=name)
    return operator


async def _subject(uow: UnitOfWork, citizen: m.Citizen, protocol: str | None) -> str:
    """What the activity log files the change under: the application it was asked from,
    else the citizen's latest, so the application's history shows it."""
    if protocol:
        return protocol
    latest = await uow.applications.latest_for_citizen(citizen.id)
    return latest.protocol if latest is not None else f"citizen #{citizen.id}"


async def request(
    uow: UnitOfWork,
    operator: m.Operator,
    town: m.Municipality,
    codice_fiscale: str,
    phone: str,
    now: datetime,
    *,
    protocol: str | None = None,
) -> Asked:
    """Give the citizen `phone` (proven at the desk): at once when nothing can be spent
    with it, else as a change waiting for a second operator. A number the office may not
    give (another citizen's, a shop's) is refused now, not at the approval."""
    require_role(operator, *ASKERS)
    citizen = await identity.office_citizen(uow, town.id, codice_fiscale)
    phone = normalize_phone(phone)
    await identity.check_new_phone(uow, citizen, phone)
    subject = await _subject(uow, citizen, protocol)
    waiting = await uow.phone_changes.waiting_for(citizen.id)
    if waiting is None and (
        phone == citizen.phone or not await identity.money_at_stake(uow, citizen, now)
    ):
        done = await identity.rebind_phone(
            uow, town, citizen.codice_fiscale, phone, operator=operator.username, now=now
        )
        await activity.by_operator(
            uow,
            operator,
            "citizen.phone",
            subject=subject,
            before={"phone": _masked(done.previous_phone)},
            after={"phone": mask_phone(done.phone), "telegram_unlinked": done.telegram_unlinked},
            now=now,
        )
        return Asked(applied=done)
    change = m.PhoneChange(
        municipality_id=town.id,
        citizen_id=citizen.id,
        subject=subject,
        phone=phone,
        phone_masked=mask_phone(phone),
        previous_masked=_masked(citizen.phone),
        status=WAITING,
        requested_by_id=operator.id,
        requested_at=now,
    )
    if waiting is not None or not await uow.phone_changes.add_waiting(change):
        # One change waits per citizen (the index holds it against a request a moment ago).
        other = waiting or await uow.phone_changes.waiting_for(citizen.id)
        raise Conflict(
            Refusal.PHONE_CHANGE_WAITING,
            change_id=other.id if other else 0,
            phone=other.phone_masked if other else "",
        )
    await activity.by_operator(
        uow,
        operator,
        "citizen.phone_request",
        subject=subject,
        before={"phone": change.previous_masked},
        after={"phone": change.phone_masked, "change": change.id},
        now=now,
    )
    # The number the vouchers use now hears of it first: a trick at the counter is noticed
    # before anybody approves it.
    if citizen.phone:
        _tell(
            uow,
            citizen,
            citizen.phone,
            t(
                "{town}: the office will move your vouchers to {phone} only once a second "
                "operator approves. Not you? Tell the office.",
                town=town.name,
                phone=change.phone_masked,
            ),
            now,
        )
    _tell(
        uow,
        citizen,
        phone,
        t(
            "{town}: the office will use this number for your grocery vouchers once a second "
            "operator approves.",
            town=town.name,
        ),
        now,
    )
    return Asked(waiting=change)


def _tell(uow: UnitOfWork, citizen: m.Citizen, phone: str, text: Text, now: datetime) -> None:
    enqueue(
        uow,
        municipality_id=citizen.municipality_id,
        channel=Channel.SMS,
        address=phone,
        language=citizen.language,
        reply=Reply.of(text),
        now=now,
    )


async def get(uow: UnitOfWork, operator: m.Operator, change_id: int) -> m.PhoneChange:
    """The change, when it belongs to the operator's municipality (else: not found)."""
    change = await uow.phone_changes.by_id(change_id)
    if change is None or change.municipality_id != operator.municipality_id:
        raise NotFound(Refusal.PHONE_CHANGE_NOT_FOUND, change_id=change_id)
    return change


async def approve(
    uow: UnitOfWork, operator: m.Operator, change_id: int, now: datetime
) -> identity.Rebinding:
    """A manager who did not ask the change approves it: the citizen's phone changes now,
    with the notices of identity.rebind_phone."""
    change = await get(uow, operator, change_id)
    require_role(operator, *APPROVERS)
    if change.requested_by_id == operator.id:
        raise NotAllowed(Refusal.PHONE_CHANGE_SAME_PERSON, change_id=change.id)
    if change.status != WAITING or change.phone is None:
        raise Conflict(Refusal.PHONE_CHANGE_NOT_WAITING, change_id=change.id)
    phone = change.phone
    citizen = await uow.citizens.by_id(change.citizen_id)
    town = await uow.municipalities.by_id(change.municipality_id)
    assert citizen is not None and town is not None
    decided = await uow.phone_changes.mark_decided(
        change.id, status=APPROVED, decided_by_id=operator.id, decided_at=now, phone=None
    )
    if not decided:
        raise Conflict(Refusal.PHONE_CHANGE_NOT_WAITING, change_id=change.id)
    await uow.refresh(change)
    done = await identity.rebind_phone(
        uow,
        town,
        citizen.codice_fiscale,
        phone,
        operator=operator.username,
        now=now,
        approved=change,
    )
    asker = await uow.operators.by_id(change.requested_by_id)
    await activity.by_operator(
        uow,
        operator,
        "citizen.phone_approve",
        subject=change.subject,
        before={
            "phone": _masked(done.previous_phone),
            "change": change.id,
            "requested_by": asker.username if asker else "",
        },
        after={"phone": mask_phone(done.phone), "telegram_unlinked": done.telegram_unlinked},
        now=now,
    )
    return done


async def withdraw(
    uow: UnitOfWork, operator: m.Operator, change_id: int, reason: str, now: datetime
) -> m.PhoneChange:
    """Whoever asked takes the change back, or a manager turns it down, with a reason; the
    citizen's number and the new one (told of the change when it was asked) both hear that
    nothing changed, as both hear of an approval."""
    change = await get(uow, operator, change_id)
    if change.requested_by_id == operator.id:
        require_role(operator, *ASKERS)
    else:
        require_role(operator, *APPROVERS)
    if change.status != WAITING:
        raise Conflict(Refusal.PHONE_CHANGE_NOT_WAITING, change_id=change.id)
    why = given_reason(reason)
    new_phone = change.phone  # the decided change forgets it
    decided = await uow.phone_changes.mark_decided(
        change.id,
        status=WITHDRAWN,
        decided_by_id=operator.id,
        decided_at=now,
        phone=None,
        reason=why,
    )
    if not decided:
        raise Conflict(Refusal.PHONE_CHANGE_NOT_WAITING, change_id=change.id)
    await uow.refresh(change)
    await activity.by_operator(
        uow,
        operator,
        "citizen.phone_withdraw",
        subject=change.subject,
        before={"phone": change.phone_masked, "change": change.id},
        after={"status": WITHDRAWN, "reason": why},
        now=now,
    )
    citizen = await uow.citizens.by_id(change.citizen_id)
    town = await uow.municipalities.by_id(change.municipality_id)
    if citizen is None or town is None:
        return change
    if citizen.phone:
        _tell(
            uow,
            citizen,
            citizen.phone,
            t(
                "{town}: your grocery vouchers keep using this number; the change to {phone} "
                "was not made.",
                town=town.name,
                phone=change.phone_masked,
            ),
            now,
        )
    if new_phone and new_phone != citizen.phone:
        _tell(
            uow,
            citizen,
            new_phone,
            t(
                "{town}: the office will not use this number for your grocery vouchers: the "
                "change was withdrawn. Questions? Ask the office.",
                town=town.name,
            ),
            now,
        )
    return change


async def waiting(uow: UnitOfWork, municipality_id: int) -> list[Waiting]:
    """The changes waiting for a second operator, oldest first."""
    names: dict[int, str] = {}
    rows = []
    for change, citizen in await uow.phone_changes.waiting(municipality_id):
        if change.requested_by_id not in names:
            asker = await uow.operators.by_id(change.requested_by_id)
            names[change.requested_by_id] = asker.username if asker else ""
        rows.append(Waiting(change, citizen, names[change.requested_by_id]))
    return rows
