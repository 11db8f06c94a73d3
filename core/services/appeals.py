"""Appeals (ricorso): a citizen asks the office to review the decision on their application.

A citizen writes RICORSO (or APPEAL) in the chat, with their reason, within the policy's
`appeal_days` after the decision was notified to them: the credit of a tranche that decided
on the application, or its revocation (or the undoing of one). An appeal changes nothing
about money: it is a request in the office's queue. The office upholds or rejects it with a
reason, which goes back to the citizen through the outbox in their language, on the channel
the appeal came from. One open appeal per application (uq_appeals_open), and one appeal per
decision: a later decision (another tranche, a revocation) may be appealed again.

Who may appeal is the citizen the chat proves: the linked Telegram chat, or on SMS the
citizen's own proven phone, confirmed with a code sent to it (core.dialogue.flows.appeal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.domain.channels import Channel
from core.domain.erasure import can_act_on
from core.domain.errors import Conflict, NotFound, Refusal
from core.domain.messages import Reply, t
from core.services import activity
from core.services.activity import Actor
from core.services.municipalities import policy_of
from core.services.operators import Role, require_role
from core.services.outbox import enqueue, notify_citizen
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

MAX_REASON = 500  # the citizen's reason: one long message
# How much of the reason a code message, the receipt and the decision quote, "..." included:
# enough for the citizen to recognise their own words (or see they are not), within one SMS.
QUOTED = 30
MAX_DECISION_REASON = 300  # the office's reason, as for its acts


class AppealStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Appealable:
    """An application whose decision may be appealed now, and until when."""

    application: m.Application
    decision_at: datetime
    until: datetime


def last_day(decided: datetime, days: int, timezone: str) -> date:
    """The last day to appeal, in the town's calendar: the day of the decision does not
    count, and the whole of the last day does (what a notice prints is what is allowed)."""
    return (decided + timedelta(days=days)).astimezone(ZoneInfo(timezone)).date()


def appeal_until(decided: datetime, days: int, timezone: str) -> datetime:
    """The end of the last day to appeal (midnight after it, in the town's time zone)."""
    after = last_day(decided, days, timezone) + timedelta(days=1)
    return datetime.combine(after, time(0), tzinfo=ZoneInfo(timezone))


async def decision_moment(uow: UnitOfWork, application: m.Application) -> datetime | None:
    """When the latest decision on the application was notified: the credit of a tranche
    that paid it (its credit notice), the notice of a decision that paid nothing (queued
    once, by the first credit run that decided so), its revocation or the undoing of one.
    None: nothing decided yet."""
    moments = [when for when in await uow.appeals.paid_credits(application.id) if when]
    if application.decision_notified_at is not None:
        moments.append(application.decision_notified_at)
    for revocation in await uow.audit.revocations_of(application.id):
        moments.append(revocation.revoked_at)
        if revocation.undone_at is not None:
            moments.append(revocation.undone_at)
    return max(moments) if moments else None


async def check_appealable(
    uow: UnitOfWork, town: m.Municipality, citizen: m.Citizen, now: datetime
) -> Appealable:
    """The citizen's latest application here, if its decision may be appealed now; else the
    refusal that says why (nothing decided, too late, already appealed). While the latest
    waits for its decision (applied again in a new window), the decision on the one before
    it may still be appealed until its day: applying again does not give that right up."""
    mine = [
        a for a in await uow.applications.of_citizen(citizen.id) if a.municipality_id == town.id
    ]
    if not mine:
        raise NotFound(Refusal.APPEAL_NO_APPLICATION)
    latest = mine[-1]
    decided = await decision_moment(uow, latest)
    if decided is None and len(mine) > 1:
        earlier = mine[-2]
        try:
            return await _appealable(uow, town, earlier, await decision_moment(uow, earlier), now)
        except Conflict as refused:
            if refused.code == Refusal.APPEAL_ALREADY_OPEN:
                raise  # "your appeal is being reviewed" says more than "not decided yet"
            # Nothing left to appeal there: the answer is about the application waiting.
            raise Conflict(Refusal.APPEAL_NO_DECISION, protocol=latest.protocol) from None
    return await _appealable(uow, town, latest, decided, now)


async def _appealable(
    uow: UnitOfWork,
    town: m.Municipality,
    application: m.Application,
    decided: datetime | None,
    now: datetime,
) -> Appealable:
    """`application`, decided at `decided` (decision_moment, read by the caller), if it may
    be appealed now; else the refusal that says why."""
    if decided is None:
        raise Conflict(Refusal.APPEAL_NO_DECISION, protocol=application.protocol)
    days = policy_of(town).appeal_days
    until = appeal_until(decided, days, town.timezone)
    for earlier in await uow.appeals.of_application(application.id):
        if earlier.status == AppealStatus.OPEN:
            raise Conflict(Refusal.APPEAL_ALREADY_OPEN, protocol=application.protocol)
        if earlier.decision_at >= decided:
            raise Conflict(Refusal.APPEAL_ALREADY_DECIDED, protocol=application.protocol)
    if now >= until:
        raise Conflict(
            Refusal.APPEAL_TOO_LATE,
            protocol=application.protocol,
            days=days,
            until=until.isoformat(),
        )
    return Appealable(application, decided, until)


@dataclass(frozen=True)
class OpenAppeal:
    """An appeal of the citizen's that the office has not decided yet."""

    number: int
    protocol: str


async def open_appeal(
    uow: UnitOfWork, town: m.Municipality, citizen: m.Citizen
) -> OpenAppeal | None:
    """The citizen's appeal waiting for the office here, if any. Its reason is what the
    office decides on, as filed: nothing can be added to it from the chat (the citizen
    who has more to say turns to the office), and no second appeal is filed on the same
    decision while it waits (uq_appeals_open)."""
    for appeal in reversed(await uow.appeals.of_citizen(citizen.id)):
        if appeal.municipality_id != town.id or appeal.status != AppealStatus.OPEN:
            continue
        application = await uow.appeals.application(appeal.application_id)
        assert application is not None  # a foreign key
        return OpenAppeal(appeal.id, application.protocol)
    return None


@dataclass(frozen=True)
class AppealWindow:
    """What STATO says about appealing the latest decision: an appeal is being reviewed
    (`under_review`), or one may be filed until `by_day` (the day the decision's notice
    names, see last_day), or neither (nothing decided, too late, this decision's appeal
    already decided)."""

    under_review: bool = False
    by_day: date | None = None


async def appeal_window(
    uow: UnitOfWork, town: m.Municipality, application: m.Application, now: datetime
) -> AppealWindow:
    earlier = await uow.appeals.of_application(application.id)
    if any(appeal.status == AppealStatus.OPEN for appeal in earlier):
        return AppealWindow(under_review=True)
    decided = await decision_moment(uow, application)
    if decided is None or any(appeal.decision_at >= decided for appeal in earlier):
        return AppealWindow()
    days = policy_of(town).appeal_days
    if now >= appeal_until(decided, days, town.timezone):
        return AppealWindow()
    return AppealWindow(by_day=last_day(decided, days, town.timezone))


def reason_start(reason: str, limit: int = QUOTED) -> str:
    """The start of an appeal's reason as quoted back to the citizen: at most `limit`
    characters, cut at a word with "..." when longer."""
    words = " ".join(reason.split()).replace('"', "'")
    if len(words) <= limit:
        return words
    cut = words[: limit - 3]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "..."


def _citizen_reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason:
        raise Conflict(Refusal.APPEAL_REASON_MISSING)
    if len(reason) > MAX_REASON:
        raise Conflict(Refusal.APPEAL_REASON_TOO_LONG, limit=MAX_REASON)
    return reason


async def file_appeal(
    uow: UnitOfWork,
    town: m.Municipality,
    citizen: m.Citizen,
    reason: str,
    channel: str,
    now: datetime,
) -> m.Appeal:
    """Record the citizen's appeal (the caller commits). The activity log names the
    application and the channel, not the citizen's words (a viewer reads the log)."""
    text = _citizen_reason(reason)
    appealable = await check_appealable(uow, town, citizen, now)
    application = appealable.application
    appeal = m.Appeal(
        municipality_id=town.id,
        application_id=application.id,
        citizen_id=citizen.id,
        channel=channel,
        reason=text,
        decision_at=appealable.decision_at,
        created_at=now,
        status=AppealStatus.OPEN.value,
    )
    if not await uow.appeals.add_open(appeal):
        # Another message of the same citizen filed one a moment earlier.
        raise Conflict(Refusal.APPEAL_ALREADY_OPEN, protocol=application.protocol)
    await activity.record(
        uow,
        town.id,
        f"chat:{channel}",
        "appeal.file",
        subject=application.protocol,
        after={"appeal": appeal.id, "status": AppealStatus.OPEN.value, "channel": channel},
        now=now,
    )
    return appeal


@dataclass(frozen=True)
class QueuedAppeal:
    appeal: m.Appeal
    protocol: str
    citizen: m.Citizen


async def appeals_of(
    uow: UnitOfWork, town: m.Municipality, status: AppealStatus | None = None
) -> list[QueuedAppeal]:
    """The town's appeals, oldest first (status OPEN: the queue)."""
    return [
        QueuedAppeal(appeal, application.protocol, citizen)
        for appeal, application, citizen in await uow.appeals.in_town(
            town.id, None if status is None else status.value
        )
    ]


def decision_notice(protocol: str, quote: str, upheld: bool, reason: str) -> Reply:
    """The office's decision, quoting the start of the appeal (reason_start) so that a
    citizen who wrote days ago knows which appeal it answers. The town is not named: the
    notice comes from its own number or bot, and one SMS segment holds the quote, the
    protocol and a short reason of the office."""
    if upheld:
        return Reply.of(
            t(
                'Your appeal "{quote}" on application {protocol} was upheld. {reason}',
                quote=quote,
                protocol=protocol,
                reason=reason,
            )
        )
    return Reply.of(
        t(
            'Your appeal "{quote}" on application {protocol} was rejected. {reason}',
            quote=quote,
            protocol=protocol,
            reason=reason,
        )
    )


def office_reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason:
        raise Conflict(Refusal.ACT_REASON_MISSING)
    if len(reason) > MAX_DECISION_REASON:
        raise Conflict(Refusal.ACT_REASON_TOO_LONG, limit=MAX_DECISION_REASON)
    return reason


def _tell(
    uow: UnitOfWork, appeal: m.Appeal, citizen: m.Citizen, reply: Reply, now: datetime
) -> m.OutboxMessage | None:
    """On the channel the appeal came from, while it is still the citizen's; else wherever
    the citizen's notices go."""
    if can_act_on(citizen):
        if appeal.channel == Channel.TELEGRAM.value and citizen.telegram_chat_id:
            address: str | None = citizen.telegram_chat_id
        elif appeal.channel == Channel.SMS.value and citizen.phone:
            address = citizen.phone
        else:
            address = None
        if address is not None:
            return enqueue(
                uow,
                municipality_id=citizen.municipality_id,
                channel=appeal.channel,
                address=address,
                language=citizen.language,
                reply=reply,
                now=now,
            )
    return notify_citizen(uow, citizen, reply, now)


async def decidable(
    uow: UnitOfWork,
    town: m.Municipality,
    appeal_id: int,
    outcome: str,
    reason: str,
    by: Actor,
) -> tuple[m.Appeal, AppealStatus, str]:
    """What deciding would refuse (the role, the outcome, the reason, an appeal not open or
    not the town's), checked before the office asks to confirm it: the appeal, the decision
    and the reason as the citizen would read it."""
    if isinstance(by, m.Operator):
        require_role(by, Role.CLERK, Role.MANAGER)
    try:
        status = AppealStatus(outcome)
    except ValueError as exc:
        raise Conflict(Refusal.APPEAL_BAD_OUTCOME, outcome=outcome) from exc
    if status is AppealStatus.OPEN:
        raise Conflict(Refusal.APPEAL_BAD_OUTCOME, outcome=outcome)
    why = office_reason(reason)
    appeal = await uow.appeals.by_id(appeal_id)
    if appeal is None or appeal.municipality_id != town.id:
        raise NotFound(Refusal.APPEAL_NOT_FOUND, appeal_id=appeal_id)
    if appeal.status != AppealStatus.OPEN.value:
        raise Conflict(Refusal.APPEAL_NOT_OPEN, appeal_id=appeal_id, status=appeal.status)
    return appeal, status, why


async def decide(
    uow: UnitOfWork,
    town: m.Municipality,
    appeal_id: int,
    outcome: str,
    reason: str,
    now: datetime,
    by: Actor,
    *,
    confirmed: bool,
) -> m.Appeal:
    """Uphold or reject an open appeal with a reason; the citizen is told in the same
    transaction. What upholding changes (a revocation undone, a correction) is done by the
    acts of its own, under their rules. The caller commits. The decision goes to the citizen
    at once and cannot be taken back, so whoever decides must have confirmed it
    (`confirmed`): the office on the page that says so, the command line by the command
    itself, which names the appeal, the outcome and the reason. An unconfirmed one is
    refused and changes nothing. The same decision sent twice (a double click) is refused
    the second time: the appeal is no longer open (mark_decided changes only an open one)."""
    if isinstance(by, m.Operator):
        require_role(by, Role.CLERK, Role.MANAGER)  # a viewer is told that, not to confirm
    if not confirmed:
        raise Conflict(Refusal.OFFICE_NOT_CONFIRMED, action="decide")
    appeal, status, why = await decidable(uow, town, appeal_id, outcome, reason, by)
    name = activity.actor_name(by)
    values = {
        "status": status.value,
        "decided_by": name,
        "operator_id": by.id if isinstance(by, m.Operator) else None,
        "decided_at": now,
        "decision_reason": why,
    }
    if not await uow.appeals.mark_decided(appeal.id, **values):
        raise Conflict(Refusal.APPEAL_NOT_OPEN, appeal_id=appeal_id, status="decided")
    await uow.refresh(appeal)
    application = await uow.appeals.application(appeal.application_id)
    citizen = await uow.citizens.by_id(appeal.citizen_id)
    assert application is not None and citizen is not None  # foreign keys
    told = _tell(
        uow,
        appeal,
        citizen,
        decision_notice(
            application.protocol,
            reason_start(appeal.reason),
            status is AppealStatus.UPHELD,
            why,
        ),
        now,
    )
    await uow.flush()
    await activity.by_actor(
        uow,
        town.id,
        by,
        f"appeal.{status.value}",
        subject=application.protocol,
        before={"appeal": appeal.id, "status": AppealStatus.OPEN.value},
        after={
            "appeal": appeal.id,
            "status": status.value,
            "reason": why,
            "citizen_told": told is not None,
        },
        now=now,
    )
    return appeal
