"""What the office does to one application from its page: correct or withdraw a paper
application, bind a phone the person proved at the desk, register a delegate, print the
card. The same services as the command line (identity.rebind_phone for `admin citizen
phone`, delegates.add_delegate for `admin citizen delegate`, cards.issue_card for `admin
card`), with the operator's role checked and an activity-log entry in the same
transaction; like the office's other use cases, each verb commits it.

The rule for changing a paper application is the import's (core.services.paper_applications):
the office may correct or withdraw what it entered from paper until a determina of the
window has been approved. After that the lists are frozen: a false declaration is revoked
after the checks, under four eyes (acts.ActKind.REVOCATION). An application made in a chat
is the citizen's own: they change it themselves while the window is open. Either kind is
corrected after an upheld appeal by core.services.appeal_remedy, under four eyes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from core.domain.errors import Conflict, DomainError, NotAllowed, NotFound, Refusal
from core.domain.identity import mask_phone
from core.domain.messages import Reply, t
from core.services import activity, cards, delegates, phone_changes
from core.services.acts import given_reason
from core.services.applications import Answers as Answers
from core.services.back_office import PREPARERS, application_of, town_of
from core.services.operators import require_role
from core.services.outbox import notify_citizen
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

PAPER = "paper"


async def _changeable(uow: UnitOfWork, application: m.Application, *, lock: bool) -> None:
    """Refuse unless the office may still change this application (see the module).

    With `lock`, the window's row is held until the commit, as the determina's approval
    holds it: a correction and an approval at the same moment run one after the other, so
    the approval never freezes lists a correction is still changing."""
    if application.source != PAPER:
        raise NotAllowed(Refusal.APPLICATION_NOT_PAPER, protocol=application.protocol)
    if lock:
        await uow.rounds.lock(application.round_id)
        # Read again under the lock: the same withdrawal sent twice at once (a double
        # click) finds the first one's here and is refused, instead of acting twice.
        await uow.refresh(application)
    if application.withdrawn_at is not None:
        raise Conflict(Refusal.APPLICATION_WITHDRAWN, protocol=application.protocol)
    if await uow.paper_import.has_allocation(application.round_id):
        raise NotAllowed(Refusal.APPLICATION_FROZEN, protocol=application.protocol)


async def _applicant(
    uow: UnitOfWork, operator: m.Operator, protocol: str
) -> tuple[m.Citizen, m.Municipality]:
    """The citizen of the application and the town, for a preparer's request about their
    phone, delegate or card; refused, before anything is read, to any other role."""
    require_role(operator, *PREPARERS)
    _, citizen = await application_of(uow, operator, protocol)
    return citizen, await town_of(uow, operator)


async def correct(
    uow: UnitOfWork,
    operator: m.Operator,
    protocol: str,
    answers: Answers,
    reason: str,
    now: datetime,
) -> m.Application:
    """Correct the answers of a paper application (a typing error, a document brought in
    later), with the reason; logged with the values before and after."""
    require_role(operator, *PREPARERS)
    application, citizen = await application_of(uow, operator, protocol)
    why = given_reason(reason)
    await _changeable(uow, application, lock=True)
    answers.check(citizen, application, protocol)
    before, after = answers.write_to(application)
    application.updated_at = now
    await activity.by_operator(
        uow,
        operator,
        "application.correct",
        subject=protocol,
        before=before,
        after={**after, "reason": why},
        now=now,
    )
    await uow.commit()
    return application


async def withdrawable(
    uow: UnitOfWork, operator: m.Operator, protocol: str, reason: str
) -> tuple[m.Application, str]:
    """What withdrawing would refuse, checked before the office asks to confirm it: the
    application and the reason as it would be logged."""
    require_role(operator, *PREPARERS)
    application, _ = await application_of(uow, operator, protocol)
    why = given_reason(reason)
    await _changeable(uow, application, lock=False)
    return application, why


async def withdraw(
    uow: UnitOfWork,
    operator: m.Operator,
    protocol: str,
    reason: str,
    now: datetime,
    *,
    confirmed: bool,
) -> m.Application:
    """Withdraw a paper application (the applicant renounces it, or it was entered by
    mistake). The row and its protocol stay, marked withdrawn with the reason; the
    allocation leaves it out. The citizen is told when they have a channel. It cannot be
    undone, so the operator must have confirmed it on the page that says so: an unconfirmed
    request is refused and changes nothing; a second one (the first already withdrew it) is
    refused as withdrawn."""
    require_role(operator, *PREPARERS)
    if not confirmed:
        raise Conflict(Refusal.OFFICE_NOT_CONFIRMED, action="withdraw")
    application, citizen = await application_of(uow, operator, protocol)
    why = given_reason(reason)
    await _changeable(uow, application, lock=True)
    application.withdrawn_at = now
    application.withdrawal_reason = why
    application.updated_at = now
    await activity.by_operator(
        uow,
        operator,
        "application.withdraw",
        subject=protocol,
        before={"withdrawn": False},
        after={"withdrawn": True, "reason": why},
        now=now,
    )
    town = await town_of(uow, operator)
    notify_citizen(
        uow,
        citizen,
        Reply.of(
            t(
                "{town}: your grocery voucher application {protocol} was withdrawn by the "
                "office. Not you? Call the office.",
                town=town.name,
                protocol=protocol,
            )
        ),
        now,
    )
    await uow.commit()
    return application


async def bind_phone(
    uow: UnitOfWork, operator: m.Operator, protocol: str, phone: str, now: datetime
) -> phone_changes.Asked:
    """Give the applicant the phone they proved at the desk (`admin citizen phone`): at
    once, or, when they have money to spend, as a change a second operator approves
    (core.services.phone_changes). Refused when it belongs to another citizen of the
    municipality or to a shop. Written to the identity log and, masked, to the activity
    log."""
    citizen, town = await _applicant(uow, operator, protocol)
    asked = await phone_changes.request(
        uow, operator, town, citizen.codice_fiscale, phone, now, protocol=protocol
    )
    await uow.commit()
    return asked


async def approve_request(
    uow: UnitOfWork, operator: m.Operator, change_id: int, now: datetime
) -> phone_changes.Approved:
    """A manager who did not ask it approves a waiting request: a new phone or a delegate
    applies now, a card may be printed by the operator who asked it or by the approver.
    One approved already (the second click of a double click, an old tab) is not refused,
    unlike on the command line: `already`, and nothing is done or told again."""
    held = await _request_held(uow, operator, change_id)
    if held.status == phone_changes.APPROVED and held.requested_by_id != operator.id:
        require_role(operator, *phone_changes.APPROVERS)
        return phone_changes.Approved(held, already=True)
    done = await phone_changes.approve_any(uow, operator, change_id, now)
    await uow.commit()
    return done


@dataclass(frozen=True)
class Decided:
    """A request an operator checked or withdrew; `already`: it was so before this click
    (a double click, an old tab), and nothing was written or told this time."""

    change: m.PhoneChange
    already: bool


async def _request_held(uow: UnitOfWork, operator: m.Operator, change_id: int) -> m.PhoneChange:
    """The request under its row's lock: of a double click the second waits for the first's
    commit, then finds its decision. Another town's is not found (phone_changes.get)."""
    await uow.phone_changes.locked(change_id)
    return await phone_changes.get(uow, operator, change_id)


async def check_chat_request(
    uow: UnitOfWork, operator: m.Operator, change_id: int, now: datetime
) -> Decided:
    """An operator who checked the person takes up the number a Telegram chat shared: a
    manager other than them approves it (phone_changes.check_chat_request). Checked by
    this operator already (a double click): `already`."""
    held = await _request_held(uow, operator, change_id)
    if (
        held.status == phone_changes.WAITING
        and held.requested_by_chat is not None
        and held.requested_by_id == operator.id
    ):
        return Decided(held, already=True)
    change = await phone_changes.check_chat_request(uow, operator, change_id, now)
    await uow.commit()
    return Decided(change, already=False)


async def withdraw_request(
    uow: UnitOfWork, operator: m.Operator, change_id: int, reason: str, now: datetime
) -> Decided:
    """Whoever asked a waiting request takes it back, or a manager turns it down. One
    withdrawn already (a double click): `already`, nobody told again."""
    held = await _request_held(uow, operator, change_id)
    if held.status == phone_changes.WITHDRAWN:
        if held.requested_by_id != operator.id:
            require_role(operator, *phone_changes.APPROVERS)
        return Decided(held, already=True)
    change = await phone_changes.withdraw(uow, operator, change_id, reason, now)
    await uow.commit()
    return Decided(change, already=False)


async def add_delegate(
    uow: UnitOfWork, operator: m.Operator, protocol: str, phone: str, now: datetime
) -> m.PhoneChange:
    """Ask that a phone be the applicant's delegate: it receives the payment codes, so a
    manager who did not ask approves it before it does (core.services.phone_changes)."""
    citizen, town = await _applicant(uow, operator, protocol)
    change = await phone_changes.request_delegate(
        uow, operator, town, citizen.codice_fiscale, phone, now, protocol=protocol
    )
    await uow.commit()
    return change


async def removable_delegate(uow: UnitOfWork, operator: m.Operator, protocol: str) -> m.Delegate:
    """The applicant's delegate removing would remove, before the office asks to confirm
    it; the refusals removing would give (the role, another town's application, no
    delegate) are said first. Its id and start go on the confirmation form
    (remove_delegate's `seen`)."""
    citizen, _ = await _applicant(uow, operator, protocol)
    delegate = await uow.delegates.of_citizen(citizen.id)
    if delegate is None:
        raise NotFound(Refusal.DELEGATE_NONE)
    return delegate


async def remove_delegate(
    uow: UnitOfWork,
    operator: m.Operator,
    protocol: str,
    now: datetime,
    *,
    confirmed: bool,
    seen: delegates.DelegateSeen,
) -> str:
    """Remove the applicant's delegate at once (`admin citizen delegate --remove`): it
    takes power away, so one operator may; logged, and the citizen and the delegate are
    told. Returns the phone that was the delegate. The payments waiting for a code sent to
    that phone are cancelled, and a delegate comes back only through a new request and a
    manager's approval: the operator must have confirmed it on the page that says so.
    `seen`: the delegate that page showed; another one since (an old tab) is refused
    (delegate.changed) and nothing is done."""
    citizen, town = await _applicant(uow, operator, protocol)
    if not confirmed:
        raise Conflict(Refusal.OFFICE_NOT_CONFIRMED, action="remove_delegate")
    phone = await delegates.remove_delegate(uow, town, citizen.codice_fiscale, now, seen=seen)
    await activity.by_operator(
        uow,
        operator,
        "citizen.delegate_remove",
        subject=protocol,
        before={"delegate": mask_phone(phone)},
        after={"delegate": None},
        now=now,
    )
    await uow.commit()
    return phone


@dataclass(frozen=True)
class CardAsked:
    """The card request the applicant's page asked; `already`: one was waiting (or approved
    and still to print) before this click, the second of a double click or an old tab, and
    nothing was asked or logged this time."""

    change: m.PhoneChange
    already: bool


async def request_card(
    uow: UnitOfWork, operator: m.Operator, protocol: str, now: datetime, *, reissue: bool
) -> CardAsked:
    """Ask a card with a PIN for the applicant (`reissue`: replacing theirs): a manager
    who did not ask approves it, then it is printed (print_card). Unlike `admin card`, a
    card already asked is not refused: the page's button sent twice lands where the first
    landed."""
    citizen, town = await _applicant(uow, operator, protocol)
    # Under the citizen's row lock: of a double click the second waits for the first's
    # commit, then finds its request here.
    held = await uow.citizens.lock(citizen.id)
    pending = await uow.phone_changes.waiting_for(held or citizen, phone_changes.CARD)
    if pending is not None and not cards.print_expired(pending, now):
        return CardAsked(pending, already=True)
    change = await phone_changes.request_card(
        uow, operator, town, citizen.codice_fiscale, now, reissue=reissue, protocol=protocol
    )
    await uow.commit()
    return CardAsked(change, already=False)


async def print_card(
    uow: UnitOfWork,
    operator: m.Operator,
    protocol: str,
    now: datetime,
    *,
    render: Callable[[cards.CardData], bytes],
    change_id: int | None = None,
) -> tuple[cards.CardData, bytes]:
    """The approved card of the applicant (`admin card`'s card) and its page to print,
    `render(card)`, once, by the operator who asked it or the manager who approved it.
    The PIN is in these only, never in a log; the page is made before the commit, so a
    card that exists always has its printed page (and a page that failed leaves no card,
    and the approved request still waits to be printed). `change_id`, the request the
    page showed, must be this applicant's (phone_changes.print_card)."""
    citizen, town = await _applicant(uow, operator, protocol)
    issued = await phone_changes.print_card(uow, operator, town, citizen, now, change_id=change_id)
    page = render(issued)
    await uow.commit()
    return issued, page


masked_card = phone_changes.masked_card


@dataclass(frozen=True)
class Desk:
    """What the application's page offers: whether the paper application may still be
    changed (and why not), the delegate, the card, the requests under four eyes."""

    changeable: bool
    not_changeable_because: DomainError | None
    delegate_phone: str | None
    card_code: str | None  # a printed card was issued
    card_blocked: bool
    # Unused one-time codes of the card's grid; None: no card, or an old card with only a
    # PIN (issued before the grids), to reissue.
    card_codes_left: int | None
    phone_change: m.PhoneChange | None  # a new phone waiting for a second operator
    delegate_request: m.PhoneChange | None  # a delegate waiting for a second operator
    card_request: m.PhoneChange | None  # a card waiting, or approved and not yet printed


async def desk(uow: UnitOfWork, application: m.Application, citizen: m.Citizen) -> Desk:
    try:
        await _changeable(uow, application, lock=False)
        because = None
    except DomainError as refused:
        because = refused
    delegate = await uow.delegates.of_citizen(citizen.id)
    unused = await cards.unused_positions(uow, citizen) if cards.has_pin_card(citizen) else None
    return Desk(
        changeable=because is None,
        not_changeable_because=because,
        delegate_phone=delegate.phone if delegate is not None else None,
        card_code=citizen.card_code if cards.has_pin_card(citizen) else None,
        card_blocked=citizen.card_blocked_at is not None,
        card_codes_left=None if unused is None else len(unused),
        phone_change=await _pending(uow, citizen, phone_changes.PHONE),
        delegate_request=await _pending(uow, citizen, phone_changes.DELEGATE),
        card_request=await _pending(uow, citizen, phone_changes.CARD),
    )


async def _pending(uow: UnitOfWork, citizen: m.Citizen, kind: str) -> m.PhoneChange | None:
    """The citizen's pending request of `kind`: never one of somebody else shown as theirs
    (the page offers to print what it shows)."""
    change = await uow.phone_changes.waiting_for(citizen, kind)
    if change is None or change.citizen_id != citizen.id or change.kind != kind:
        return None
    return change
