"""The remedy for an upheld appeal: the office corrects the application's answers.

An appeal upheld against an exclusion or an amount (the household is bigger, the pension
is below the threshold…) is remedied by correcting the answers the decision was made on:
the same fields and the same validation as the correction of a paper application
(core.services.application_desk), but for any application, made on paper or in a chat,
and after the window's lists were frozen. It is allowed only while the application's
latest appeal stands upheld, and its window is still the latest (tranches are approved
for the latest window only) (a CHECK on `appeals.corrected_at` keeps the record of the
correction on upheld appeals). In the office it is an act under four eyes
(acts.ActKind.APPEAL_CORRECTION); `admin appeals correct` is the administrator's tool.

The correction moves no money by itself. It clears `decision_notified_at`: the next
determina of the window assesses the application on the corrected answers (each tranche
gives what is still due, from the current answers), its credit run pays it with a credit
notice, or, if it still gets nothing, sends a new decision notice and so a new window to
appeal. The activity log records the values before and after, and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.errors import Conflict, NotFound, Refusal
from core.services import activity
from core.services.activity import Actor
from core.services.appeals import AppealStatus, office_reason
from core.services.applications import Answers
from core.services.audit import AlreadyRevoked
from core.services.municipalities import current_round
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


@dataclass(frozen=True)
class Correctable:
    application: m.Application
    citizen: m.Citizen
    appeal: m.Appeal


async def check_correctable(
    uow: UnitOfWork, town: m.Municipality, protocol: str, answers: Answers | None = None
) -> Correctable:
    """The application, its citizen and its upheld appeal, if its answers may be corrected
    on appeal now (and, given `answers`, if they are valid and change something); else the
    refusal that says why."""
    protocol = protocol.strip().upper()
    application = await uow.applications.by_protocol(protocol)
    if application is None or application.municipality_id != town.id:
        raise NotFound(Refusal.APPLICATION_NOT_FOUND, protocol=protocol)
    appeals = await uow.appeals.of_application(application.id)
    latest = appeals[-1] if appeals else None
    if latest is None or latest.status != AppealStatus.UPHELD.value:
        raise Conflict(Refusal.APPEAL_NOT_UPHELD, protocol=protocol)
    if application.withdrawn_at is not None:
        raise Conflict(Refusal.APPLICATION_WITHDRAWN, protocol=protocol)
    if application.revoked_at is not None:
        raise AlreadyRevoked(protocol=protocol)
    latest_window = await current_round(uow, town.id)
    if latest_window is not None and latest_window.id != application.round_id:
        # Tranches are approved for the latest window only: nothing could pay it any more.
        raise Conflict(Refusal.APPEAL_PAST_WINDOW, protocol=protocol, window=latest_window.number)
    await refuse_while_a_tranche_waits(uow, application)
    citizen = await uow.citizens.by_id(application.citizen_id)
    assert citizen is not None  # foreign key
    if answers is not None:
        answers.check(citizen, application, protocol)
    return Correctable(application, citizen, latest)


async def refuse_while_a_tranche_waits(uow: UnitOfWork, application: m.Application) -> None:
    """Refused (appeal.tranche_waiting) while a determina of the application's window is
    approved and not credited: it was computed on the answers as they were, and its credit
    would pay them, or tell the household the outcome the appeal overturned ('not admitted:
    a pension') as a new decision with new days to appeal, the correction having cleared the
    one notified. Credited (or withdrawn), the next determina assesses the corrected answers."""
    waiting = await uow.allocations.waiting(application.round_id)
    if waiting is not None:
        raise Conflict(
            Refusal.APPEAL_TRANCHE_WAITING, protocol=application.protocol, tranche=waiting.tranche
        )


async def correct(
    uow: UnitOfWork,
    town: m.Municipality,
    protocol: str,
    answers: Answers,
    reason: str,
    now: datetime,
    by: Actor,
    *,
    act_id: int | None = None,
) -> m.Application:
    """Correct the answers of an application whose latest appeal was upheld (the caller
    commits). Logged with the values before and after, the appeal and the reason."""
    why = office_reason(reason)
    found = await check_correctable(uow, town, protocol, answers)
    application = found.application
    # As a paper correction: a determina approved at the same moment runs before or after.
    await uow.rounds.lock(application.round_id)
    # Read again under the lock: a determina approved meanwhile waits for its credit now.
    await refuse_while_a_tranche_waits(uow, application)
    notified = application.decision_notified_at
    before, after = answers.write_to(application)
    application.decision_notified_at = None
    application.updated_at = now
    found.appeal.corrected_at = now
    await uow.flush()
    await activity.by_actor(
        uow,
        town.id,
        by,
        "application.correct_on_appeal",
        subject=application.protocol,
        before={
            **before,
            "decision_notified_at": notified.isoformat() if notified else None,
        },
        after={
            **after,
            "decision_notified_at": None,
            "appeal": found.appeal.id,
            "reason": why,
            **({"act": act_id} if act_id is not None else {}),
        },
        now=now,
    )
    return application
