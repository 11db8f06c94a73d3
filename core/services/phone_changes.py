"""Four eyes on who receives a citizen's payment codes: a new phone, a delegate, a card.

The phone decides who receives the payment codes, so who can spend the citizen's
vouchers; a delegate's phone receives them too, and a card's PIN is the consent itself.
Each of the three is a request (a row of `phone_changes`, by `kind`) that one office
operator (clerk or manager) asks and a manager who did not ask approves:

- a new phone (`request`): when the citizen has money at stake (a positive balance, money an
  approved tranche gives them not credited yet, or a charge waiting for its code:
  identity.money_at_stake) it waits until a manager who is
  not the one who asked approves it, and then identity.rebind_phone applies it in the same
  transaction as the approval. Without money at stake it applies at once, as before;
- a delegate (`request_delegate`) and a card with a PIN (`request_card`, a first one or a
  replacement) always wait: registered before the credit, they would receive the money
  after it. An approved delegate is registered at once (delegates.add_delegate); an
  approved card is made when the operator who asked it, or the one who approved it,
  prints it (`print_card`): its PIN exists in clear only in that page, once. It must be
  printed within CARD_PRINT_DAYS of the approval (`print_by`); afterwards printing is
  refused, and asking a new card marks the old request expired. A phone and a delegate
  apply at their approval: nothing of theirs waits afterwards, nothing expires.

A fourth way in: a Telegram chat linked to a citizen without a phone who has money to
spend proves a number with its own contact (identity.FirstNumberNeedsOffice). That number
waits as a phone request asked by the chat, not by an operator (`requested_by_chat`,
`requested_by_id` empty). The contact proves only that the chat holds the number, and the
office cannot tell whose the chat is: an operator's own (a manager's Telegram linked to the
citizen by an older application) would make one person both eyes. So an operator (clerk
or manager) who checked the person (a call, a document) takes it up (`check_chat_request`,
which writes them as `requested_by_id`), and from then it is approved as an operator's
request, by a manager other than that operator; a manager may withdraw it at any time.
Approved, the chat stays linked (identity.rebind_phone): it proved the very number.

The services that apply them (identity.rebind_phone, delegates.add_delegate,
cards.issue_card) refuse a citizen with money at stake unless given the approved request,
so no caller skips the rule, and the table's CHECK four_eyes refuses an approved request
whose approver asked it. Each act is written to the activity log, and the citizen is told
(outbox, same transaction).

The functions do not commit: the caller (the office's page, the command line) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.channels import Channel
from core.domain.erasure import can_act_on
from core.domain.errors import Conflict, NotAllowed, NotFound, Refusal
from core.domain.identity import mask_phone, normalize_phone
from core.domain.messages import Reply, t
from core.services import activity, asked_numbers, cards, delegates, identity
from core.services.acts import given_reason
from core.services.operators import Role, normalize_username, require_role
from core.services.outbox import enqueue, notify_citizen, notify_number
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

WAITING = "waiting"
APPROVED = "approved"
WITHDRAWN = "withdrawn"
EXPIRED = "expired"  # an approved card not printed by its deadline
CARD_PRINT_DAYS = cards.CARD_PRINT_DAYS
PHONE = "phone"
DELEGATE = "delegate"
CARD = "card"
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
    # The operator's username: who asked, or who checked a chat's number; else (a chat's
    # number nobody checked yet) identity.CHAT_ACTOR.
    requested_by: str

    @property
    def by_chat(self) -> bool:
        """Asked by the citizen's Telegram chat (its contact proved the number), not by an
        operator (identity.FirstNumberNeedsOffice): an operator checks the person, then a
        manager other than them approves it (check_chat_request)."""
        return self.change.requested_by_chat is not None

    @property
    def checked(self) -> bool:
        """A chat's number an operator has checked (`requested_by`), or an operator's
        request: a manager other than `requested_by` may approve it."""
        return self.change.requested_by_id is not None


@dataclass(frozen=True)
class Approved:
    """What an approval did: a phone changed (`rebinding`), a delegate registered
    (`delegate`), or neither: a card that may now be printed (print_card)."""

    change: m.PhoneChange
    rebinding: identity.Rebinding | None = None
    delegate: m.Delegate | None = None
    # Approved before this approval (a double click): nothing was done this time.
    already: bool = False


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
    # Held until the commit: two operators asking at once for one citizen go one after the
    # other, and the second decides on what the first did (identity.rebind_phone).
    citizen = await identity.office_citizen(uow, town.id, codice_fiscale, lock=True)
    phone = normalize_phone(phone)
    # With no waiting request naming the number (identity.check_new_phone asks it).
    await identity.check_new_phone(uow, citizen, phone)
    subject = await _subject(uow, citizen, protocol)
    waiting = await uow.phone_changes.waiting_for(citizen, PHONE)
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
    change = await _request(
        uow,
        operator,
        citizen,
        subject,
        PHONE,
        now,
        pending=waiting,
        phone=phone,
        previous_masked=_masked(citizen.phone),
        refused=Refusal.PHONE_CHANGE_WAITING,
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
        notify_number(
            uow,
            citizen,
            citizen.phone,
            Reply.of(
                t(
                    "{town}: the office will move your vouchers to {phone} only once a second "
                    "operator approves. Not you? Tell the office.",
                    town=town.name,
                    phone=mask_phone(phone),
                )
            ),
            now,
        )
    notify_number(
        uow,
        citizen,
        phone,
        Reply.of(
            t(
                "{town}: the office will use this number for your grocery vouchers once a second "
                "operator approves.",
                town=town.name,
            )
        ),
        now,
    )
    return Asked(waiting=change)


def _refusals(kind: str) -> tuple[Refusal, Refusal, Refusal]:
    """Not found, not waiting, same person: in the words of a phone change, or of any
    request."""
    if kind == PHONE:
        return (
            Refusal.PHONE_CHANGE_NOT_FOUND,
            Refusal.PHONE_CHANGE_NOT_WAITING,
            Refusal.PHONE_CHANGE_SAME_PERSON,
        )
    return Refusal.REQUEST_NOT_FOUND, Refusal.REQUEST_NOT_WAITING, Refusal.REQUEST_SAME_PERSON


async def get(
    uow: UnitOfWork, operator: m.Operator, change_id: int, kind: str | None = None
) -> m.PhoneChange:
    """The request, when it belongs to the operator's municipality (and is of `kind`, when
    given); else: not found."""
    change = await uow.phone_changes.by_id(change_id)
    if (
        change is None
        or change.municipality_id != operator.municipality_id
        or (kind is not None and change.kind != kind)
    ):
        raise NotFound(_refusals(kind or PHONE)[0], change_id=change_id)
    return change


async def _request(
    uow: UnitOfWork,
    operator: m.Operator,
    citizen: m.Citizen,
    subject: str,
    kind: str,
    now: datetime,
    *,
    pending: m.PhoneChange | None,
    phone: str | None = None,
    previous_masked: str | None = None,
    reissue: bool = False,
    refused: Refusal,
) -> m.PhoneChange:
    """Store a waiting request of `kind`; `refused` when one of that kind is pending
    (`pending`, the one the caller found waiting, else one another operator asked a moment
    ago)."""
    change = m.PhoneChange(
        municipality_id=citizen.municipality_id,
        citizen_id=citizen.id,
        kind=kind,
        subject=subject,
        phone=phone,
        phone_masked=mask_phone(phone) if phone else None,
        previous_masked=previous_masked,
        reissue=reissue,
        status=WAITING,
        requested_by_id=operator.id,
        requested_at=now,
    )
    if pending is not None or not await uow.phone_changes.add_waiting(change):
        # One request of a kind per citizen, and one request names a number (the indexes
        # hold both against a request another operator asked a moment ago): said as if it
        # had been found before.
        if pending is None and phone is not None:
            await asked_numbers.refuse_asked(uow, citizen, phone, kind)
        other = pending or await uow.phone_changes.waiting_for(citizen, kind)
        raise Conflict(
            refused,
            change_id=other.id if other else 0,
            phone=(other.phone_masked or "") if other else "",
        )
    return change


async def request_delegate(
    uow: UnitOfWork,
    operator: m.Operator,
    town: m.Municipality,
    codice_fiscale: str,
    phone: str,
    now: datetime,
    *,
    protocol: str | None = None,
) -> m.PhoneChange:
    """Ask that `phone` be the citizen's delegate: it waits for a manager who did not ask.
    A number that may not be a delegate (the rules of core.services.delegates) is refused
    now, and checked again at the approval. The citizen hears of it at once."""
    require_role(operator, *ASKERS)
    citizen = await identity.office_citizen(uow, town.id, codice_fiscale)
    # With no waiting request naming the number (delegates.check_delegate asks it).
    number = await delegates.check_delegate(uow, town, citizen, phone)
    subject = await _subject(uow, citizen, protocol)
    change = await _request(
        uow,
        operator,
        citizen,
        subject,
        DELEGATE,
        now,
        pending=await uow.phone_changes.waiting_for(citizen, DELEGATE),
        phone=number,
        refused=Refusal.DELEGATE_REQUEST_WAITING,
    )
    await activity.by_operator(
        uow,
        operator,
        "citizen.delegate_request",
        subject=subject,
        after={"delegate": change.phone_masked, "change": change.id},
        now=now,
    )
    notify_citizen(
        uow,
        citizen,
        Reply.of(
            t(
                "{town}: the office will send your payment codes to {phone} once a second "
                "operator approves. Not you? Tell the office.",
                town=town.name,
                phone=change.phone_masked or "",
            )
        ),
        now,
    )
    return change


async def request_card(
    uow: UnitOfWork,
    operator: m.Operator,
    town: m.Municipality,
    codice_fiscale: str,
    now: datetime,
    *,
    reissue: bool,
    protocol: str | None = None,
) -> m.PhoneChange:
    """Ask a card with a PIN for the citizen (`reissue`: a new one replacing theirs): it
    waits for a manager who did not ask; nothing changes until it is printed."""
    require_role(operator, *ASKERS)
    citizen = await identity.office_citizen(uow, town.id, codice_fiscale)
    if cards.has_pin_card(citizen) and not reissue:
        raise Conflict(Refusal.CARD_ALREADY_ISSUED, card_code=citizen.card_code)
    subject = await _subject(uow, citizen, protocol)
    replaces = reissue and cards.has_pin_card(citizen)
    await expire_card(uow, operator, citizen, now)
    change = await _request(
        uow,
        operator,
        citizen,
        subject,
        CARD,
        now,
        pending=await uow.phone_changes.waiting_for(citizen, CARD),
        reissue=replaces,
        refused=Refusal.CARD_REQUEST_WAITING,
    )
    await activity.by_operator(
        uow,
        operator,
        "card.request",
        subject=subject,
        before={"card": masked_card(citizen.card_code)} if replaces else None,
        after={"reissue": replaces, "change": change.id},
        now=now,
    )
    return change


def masked_card(card_code: str) -> str:
    """A card number as the log and a viewer see it: its last four characters (enough to
    tell two cards apart, not to type one at a till)."""
    return "******" + card_code[-4:]


async def _decide(
    uow: UnitOfWork, operator: m.Operator, change_id: int, now: datetime, kind: str | None
) -> tuple[m.PhoneChange, m.Citizen, m.Municipality, str | None]:
    """Mark a waiting request approved by `operator`, a manager who did not ask it; the
    request, its citizen and town, and the full number it held (which the row forgets)."""
    change = await get(uow, operator, change_id, kind)
    _, not_waiting, same_person = _refusals(change.kind)
    require_role(operator, *APPROVERS)
    if change.requested_by_id == operator.id:
        raise NotAllowed(same_person, change_id=change.id)
    if change.status != WAITING or (change.kind != CARD and change.phone is None):
        raise Conflict(not_waiting, change_id=change.id)
    if change.requested_by_id is None:
        # A Telegram chat's number no operator has checked: the chat is not a pair of eyes
        # (check_chat_request). The table's CHECK four_eyes refuses it too.
        raise NotAllowed(Refusal.PHONE_CHANGE_NOT_CHECKED, change_id=change.id)
    phone = change.phone
    citizen = await uow.citizens.by_id(change.citizen_id)
    town = await uow.municipalities.by_id(change.municipality_id)
    assert citizen is not None and town is not None
    if change.requested_by_chat is not None:
        # Asked by a chat's contact: only while that chat is still the citizen's (held and
        # read again, as unlinking it holds the row: identity.withdraw_chat_request).
        held = await uow.citizens.lock(citizen.id)
        if held is None or held.telegram_chat_id != change.requested_by_chat:
            raise Conflict(Refusal.PHONE_CHANGE_CHAT_UNLINKED, change_id=change.id)
        citizen = held
    deadline = now + timedelta(days=CARD_PRINT_DAYS) if change.kind == CARD else None
    await _close(uow, change, operator, now, status=APPROVED, print_by=deadline)
    return change, citizen, town, phone


async def check_chat_request(
    uow: UnitOfWork, operator: m.Operator, change_id: int, now: datetime
) -> m.PhoneChange:
    """An operator (clerk or manager) who checked the person (a call to the number, the
    person at the desk with a document) takes up a number a Telegram chat asked: the first
    pair of eyes, written as the request's `requested_by_id`; a manager other than them
    approves it (_decide), and they may withdraw it as whoever asked may. The chat keeps
    hearing the answer (`requested_by_chat` stays). Once only: refused when another operator
    checked it a moment earlier (compare-and-set), or when it was decided."""
    change = await get(uow, operator, change_id, PHONE)
    require_role(operator, *ASKERS)
    if change.status != WAITING:
        raise Conflict(Refusal.PHONE_CHANGE_NOT_WAITING, change_id=change.id)
    if change.requested_by_chat is None or change.requested_by_id is not None:
        raise Conflict(Refusal.PHONE_CHANGE_CHECKED, change_id=change.id)
    if not await uow.phone_changes.mark_checked(change.id, operator.id):
        await uow.refresh(change)
        if change.status != WAITING:
            raise Conflict(Refusal.PHONE_CHANGE_NOT_WAITING, change_id=change.id)
        raise Conflict(Refusal.PHONE_CHANGE_CHECKED, change_id=change.id)
    await uow.refresh(change)
    await activity.by_operator(
        uow,
        operator,
        "citizen.phone_check",
        subject=change.subject,
        before={"change": change.id, "requested_by": identity.CHAT_ACTOR},
        after={"phone": change.phone_masked, "requested_by": operator.username},
        now=now,
    )
    return change


async def _close(
    uow: UnitOfWork,
    change: m.PhoneChange,
    operator: m.Operator,
    now: datetime,
    *,
    status_was: str = WAITING,
    **values: object,
) -> None:
    """Close the request (`values`: its new status and what goes with it) as `operator`'s
    decision, the full number it held forgotten, by compare-and-set: refused as no longer
    waiting when another operator closed it a moment earlier; the row read again."""
    closed = await uow.phone_changes.mark_decided(
        change.id,
        status_was=status_was,
        decided_by_id=operator.id,
        decided_at=now,
        phone=None,
        **values,
    )
    if not closed:
        raise Conflict(_refusals(change.kind)[1], change_id=change.id)
    await uow.refresh(change)


async def _asker(uow: UnitOfWork, change: m.PhoneChange) -> str:
    """Who asked: the operator's username, or identity.CHAT_ACTOR for a number the
    citizen's Telegram chat proved (no operator asked it)."""
    if change.requested_by_id is None:
        return identity.CHAT_ACTOR if change.requested_by_chat else ""
    asker = await uow.operators.by_id(change.requested_by_id)
    return asker.username if asker else ""


async def approve(
    uow: UnitOfWork, operator: m.Operator, change_id: int, now: datetime
) -> identity.Rebinding:
    """A manager who did not ask the change approves it: the citizen's phone changes now,
    with the notices of identity.rebind_phone."""
    approved = await _approve(uow, operator, change_id, now, PHONE)
    assert approved.rebinding is not None
    return approved.rebinding


async def approve_any(
    uow: UnitOfWork, operator: m.Operator, change_id: int, now: datetime
) -> Approved:
    """A manager who did not ask approves a waiting request of any kind."""
    return await _approve(uow, operator, change_id, now, None)


async def _approve(
    uow: UnitOfWork, operator: m.Operator, change_id: int, now: datetime, kind: str | None
) -> Approved:
    change, citizen, town, phone = await _decide(uow, operator, change_id, now, kind)
    asker = await _asker(uow, change)
    if change.kind == PHONE:
        assert phone is not None
        done = await identity.rebind_phone(
            uow,
            town,
            citizen.codice_fiscale,
            phone,
            operator=operator.username,
            now=now,
            approved=change,
        )
        await activity.by_operator(
            uow,
            operator,
            "citizen.phone_approve",
            subject=change.subject,
            before={
                "phone": _masked(done.previous_phone),
                "change": change.id,
                "requested_by": asker,
            },
            after={"phone": mask_phone(done.phone), "telegram_unlinked": done.telegram_unlinked},
            now=now,
        )
        return Approved(change, rebinding=done)
    if change.kind == DELEGATE:
        assert phone is not None
        delegate = await delegates.add_delegate(
            uow, town, citizen.codice_fiscale, phone, now, approved=change
        )
        await activity.by_operator(
            uow,
            operator,
            "citizen.delegate_approve",
            subject=change.subject,
            before={"change": change.id, "requested_by": asker},
            after={"delegate": mask_phone(delegate.phone)},
            now=now,
        )
        return Approved(change, delegate=delegate)
    await activity.by_operator(
        uow,
        operator,
        "card.approve",
        subject=change.subject,
        before={"change": change.id, "requested_by": asker},
        after={"reissue": change.reissue},
        now=now,
    )
    return Approved(change)


async def approved_card(uow: UnitOfWork, citizen: m.Citizen) -> m.PhoneChange | None:
    """The citizen's approved card request not yet printed, if any (its deadline passed or
    not)."""
    pending = await uow.phone_changes.waiting_for(citizen, CARD)
    return pending if pending is not None and pending.status == APPROVED else None


async def printable_card(
    uow: UnitOfWork, citizen: m.Citizen, now: datetime
) -> m.PhoneChange | None:
    """The citizen's approved card request that may still be printed now, if any."""
    change = await approved_card(uow, citizen)
    return None if change is None or cards.print_expired(change, now) else change


async def expire_card(
    uow: UnitOfWork, operator: m.Operator, citizen: m.Citizen, now: datetime
) -> m.PhoneChange | None:
    """Mark the citizen's approved card not printed by its deadline expired (logged, by the
    operator whose request found it), so that a new one may be asked; the request, if
    there was one."""
    change = await approved_card(uow, citizen)
    if change is None or not cards.print_expired(change, now):
        return None
    if not await uow.phone_changes.mark_expired(change.id, now):
        return None  # printed or withdrawn a moment ago
    await uow.refresh(change)
    await activity.by_operator(
        uow,
        operator,
        "card.expired",
        subject=change.subject,
        before={
            "change": change.id,
            "status": APPROVED,
            "print_by": change.print_by.isoformat() if change.print_by else None,
        },
        after={"status": EXPIRED},
        now=now,
    )
    return change


def may_print(operator: m.Operator, change: m.PhoneChange) -> bool:
    """Who hands the card over: the operator who asked it or the manager who approved it
    (the two who vouched for the person), while they still work at the office's desk."""
    return operator.role in {role.value for role in ASKERS} and operator.id in (
        change.requested_by_id,
        change.decided_by_id,
    )


def _check_card_of(
    change: m.PhoneChange, operator: m.Operator, town: m.Municipality, citizen: m.Citizen
) -> None:
    """A card is printed only for the citizen it was asked for, in the town of the
    operator who prints it: else refused, nothing made (whatever found the request)."""
    if change.kind != CARD or change.citizen_id != citizen.id:
        raise NotAllowed(Refusal.REQUEST_OTHER_CITIZEN, change_id=change.id)
    if not (
        change.municipality_id == citizen.municipality_id == town.id == operator.municipality_id
    ):
        raise NotFound(Refusal.REQUEST_NOT_FOUND, change_id=change.id)


async def print_card(
    uow: UnitOfWork,
    operator: m.Operator,
    town: m.Municipality,
    citizen: m.Citizen,
    now: datetime,
    *,
    change_id: int | None = None,
) -> cards.CardData:
    """Make the approved card (a new number and PIN; a replaced card stops working) to be
    printed now, once: the PIN is in the returned data only. Only the operator who asked it
    or the one who approved it, before its deadline (`print_by`: CARD_PRINT_DAYS after the
    approval); logged with who printed it. Whoever receives the citizen's notices is told
    (cards.issue_card).

    `change_id`, the request the page showed: refused unless it is this citizen's approved
    card of the operator's town. Whatever the lookup found, a request of another citizen
    or town is never printed (_check_card_of), and only its own citizen is marked handed."""
    require_role(operator, *ASKERS)
    if change_id is not None:
        _check_card_of(await get(uow, operator, change_id, CARD), operator, town, citizen)
    change = await approved_card(uow, citizen)
    if change is None or (change_id is not None and change.id != change_id):
        asked = await uow.phone_changes.waiting_for(citizen, CARD)
        if asked is not None and asked.status == WAITING and change_id in (None, asked.id):
            # Not printed nor withdrawn: it waits for the second operator.
            raise Conflict(Refusal.CARD_NOT_APPROVED, change_id=asked.id)
        raise Conflict(Refusal.CARD_ALREADY_PRINTED, codice_fiscale=citizen.codice_fiscale)
    _check_card_of(change, operator, town, citizen)
    if not may_print(operator, change):
        raise NotAllowed(Refusal.CARD_PRINT_NOT_YOURS, change_id=change.id)
    if cards.print_expired(change, now):
        assert change.print_by is not None
        raise Conflict(
            Refusal.CARD_PRINT_EXPIRED, change_id=change.id, print_by=change.print_by.isoformat()
        )
    before = citizen.card_code if cards.has_pin_card(citizen) else None
    if not await uow.phone_changes.mark_handed(change.id, citizen, operator.id, now):
        raise Conflict(Refusal.CARD_ALREADY_PRINTED, codice_fiscale=citizen.codice_fiscale)
    issued = await cards.issue_card(
        uow, town, citizen.codice_fiscale, now, reissue=change.reissue, approved=change
    )
    await uow.refresh(change)
    approver = await uow.operators.by_id(change.decided_by_id) if change.decided_by_id else None
    await activity.by_operator(
        uow,
        operator,
        "card.reissue" if before else "card.issue",
        subject=change.subject,
        before={"card": masked_card(before)} if before else None,
        after={
            "card": masked_card(issued.card_code),
            "change": change.id,
            "requested_by": await _asker(uow, change),
            "approved_by": approver.username if approver else "",
        },
        now=now,
    )
    return issued


async def withdraw(
    uow: UnitOfWork, operator: m.Operator, change_id: int, reason: str, now: datetime
) -> m.PhoneChange:
    """Whoever asked takes the request back, or a manager turns it down, with a reason; an
    approved card not yet printed may be withdrawn too. For a phone, the citizen's number
    and the new one (told of the change when it was asked) both hear that nothing changed,
    as both hear of an approval; a number a Telegram chat asked with its contact is answered
    in that chat only (_tell_asking_chat), never by SMS to the number; for a delegate, the
    citizen (told when it was asked)."""
    change = await get(uow, operator, change_id)
    _, not_waiting, _ = _refusals(change.kind)
    if change.requested_by_id == operator.id:
        require_role(operator, *ASKERS)
    else:
        require_role(operator, *APPROVERS)
    printable = change.kind == CARD and change.status == APPROVED and change.handed_at is None
    if change.status != WAITING and not printable:
        raise Conflict(not_waiting, change_id=change.id)
    why = given_reason(reason)
    new_phone = change.phone  # the decided change forgets it
    await _close(uow, change, operator, now, status_was=change.status, status=WITHDRAWN, reason=why)
    action = {PHONE: "citizen.phone_withdraw", DELEGATE: "citizen.delegate_withdraw"}
    await activity.by_operator(
        uow,
        operator,
        action.get(change.kind, "card.withdraw"),
        subject=change.subject,
        before={"phone": change.phone_masked, "change": change.id}
        if change.phone_masked
        else {"change": change.id, "approved": printable},
        after={"status": WITHDRAWN, "reason": why},
        now=now,
    )
    citizen = await uow.citizens.by_id(change.citizen_id)
    town = await uow.municipalities.by_id(change.municipality_id)
    if citizen is None or town is None or change.kind == CARD:
        return change
    if change.kind == DELEGATE:
        notify_citizen(
            uow,
            citizen,
            Reply.of(
                t(
                    "{town}: {phone} will not be your delegate: the request was withdrawn. "
                    "Your payment codes keep coming to you.",
                    town=town.name,
                    phone=change.phone_masked or "",
                )
            ),
            now,
        )
        return change
    if citizen.phone:
        notify_number(
            uow,
            citizen,
            citizen.phone,
            Reply.of(
                t(
                    "{town}: your grocery vouchers keep using this number; the change to {phone} "
                    "was not made.",
                    town=town.name,
                    phone=change.phone_masked or "",
                )
            ),
            now,
        )
    if change.requested_by_chat is not None:
        # Asked by a Telegram chat with its contact (identity.FirstNumberNeedsOffice): the
        # one who asked hears it where they asked, and only there. The number proved to be
        # the chat's, never the citizen's: it gets no news of a citizen who may not be its
        # holder's (and was told nothing when the chat asked).
        _tell_asking_chat(
            uow,
            citizen,
            change,
            Reply.of(
                t(
                    "{town}: the office did not approve the number {phone} you shared: the "
                    "request was withdrawn. Questions? Ask the office.",
                    town=town.name,
                    phone=change.phone_masked or "",
                )
            ),
            now,
        )
        return change
    if new_phone and new_phone != citizen.phone:
        notify_number(
            uow,
            citizen,
            new_phone,
            Reply.of(
                t(
                    "{town}: the office will not use this number for your grocery vouchers: the "
                    "change was withdrawn. Questions? Ask the office.",
                    town=town.name,
                )
            ),
            now,
        )
    return change


def _tell_asking_chat(
    uow: UnitOfWork, citizen: m.Citizen, change: m.PhoneChange, reply: Reply, now: datetime
) -> None:
    """Tell the Telegram chat that asked `change` (its contact proved the number) what the
    office decided, in the citizen's language: in that chat, where the person waits for
    the answer, whether or not it is still linked to the citizen (the sentence says nothing
    of them). Nobody is told of an erased citizen."""
    asker = change.requested_by_chat
    if asker is None or not can_act_on(citizen):
        return
    enqueue(
        uow,
        municipality_id=citizen.municipality_id,
        channel=Channel.TELEGRAM,
        address=asker,
        language=citizen.language,
        reply=reply,
        now=now,
    )


async def waiting(uow: UnitOfWork, municipality_id: int, kind: str | None = None) -> list[Waiting]:
    """The requests waiting for a second operator (of `kind`, when given), oldest first."""
    names: dict[int | None, str] = {}
    rows = []
    for change, citizen in await uow.phone_changes.waiting(municipality_id):
        if kind is not None and change.kind != kind:
            continue
        if change.requested_by_id not in names:
            names[change.requested_by_id] = await _asker(uow, change)
        rows.append(Waiting(change, citizen, names[change.requested_by_id]))
    return rows
