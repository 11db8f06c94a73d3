"""Wrong codes for one person's payment codes at all shops together: counted, her codes
stopped, she told, and the office's lift (core/domain/person_codes.py; docs/payments-and-
codes.md, "Wrong codes for one person").

A card has this limit for its slip (core/services/cards.py); the codes sent to a phone or
a Telegram chat have it here. Each wrong code typed for a payment by code is the shop's
wrong code (charges.count_wrong_code) whose row also names the person (`detail`); the rows
are counted in the database, in the window, from the office's last lift and her last
payment by code (only she receives the code: her own payment starts the count again)."""

from __future__ import annotations

from datetime import datetime

from core.domain.charges import ChargeStatus
from core.domain.errors import NotAllowed, NotFound, Refusal
from core.domain.messages import Moment, Reply, t
from core.domain.person_codes import WRONG_CODE_WINDOW, stopped_until
from core.services import activity, security
from core.services.outbox import notify_payer
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# A payment cancelled because this one's wrong code stopped the person's codes.
CODES_STOPPED = "codes_stopped"
# What a payment by code is (cards.CONSENT_CODE; cards imports the charges).
_BY_CODE = "code"


def wrong_code_detail(citizen: m.Citizen) -> str:
    """What names the person in a wrong payment code's row (`security_events.detail`)."""
    return f"citizen:{citizen.id}"


async def codes_stopped_until(
    uow: UnitOfWork, citizen: m.Citizen, now: datetime
) -> datetime | None:
    """Until when no payment code goes to the person; None: codes go to her now."""
    detail = wrong_code_detail(citizen)
    starts = [now - WRONG_CODE_WINDOW]
    starts += [
        when for _, when in await uow.security.of_detail(security.CODES_RESUMED, starts[0], detail)
    ]
    paid = await uow.charges.last_card_payment(citizen.id, None, consent=_BY_CODE)
    if paid is not None:
        starts.append(paid)
    typed = await uow.security.of_detail(security.WRONG_PAYMENT_CODE, max(starts), detail)
    return stopped_until([(shop or 0, when) for shop, when in typed], now)


async def refuse_if_codes_stopped(uow: UnitOfWork, citizen: m.Citizen, now: datetime) -> None:
    """A payment code for the person is refused while her codes are stopped
    (`payment.codes_stopped`, with until when)."""
    until = await codes_stopped_until(uow, citizen, now)
    if until is not None:
        raise NotAllowed(Refusal.PAYMENT_CODES_STOPPED, until=until.isoformat())


async def stop_codes_after_wrong_code(
    uow: UnitOfWork, citizen: m.Citizen, shop: m.Shop, now: datetime
) -> datetime | None:
    """After a wrong code for one of her payments was recorded: when the shops together
    reached the limit, every payment of hers still waiting for a code is cancelled (this
    one too: compare-and-set, one confirmed meanwhile stays) and she is told once, in this
    transaction. Returns until when her codes are stopped, or None."""
    until = await codes_stopped_until(uow, citizen, now)
    if until is None:
        return None
    for charge in await uow.charges.pending_for_citizen(citizen.id):
        if charge.consent == _BY_CODE:
            await uow.charges.mark(
                charge.id,
                ChargeStatus.PENDING,
                status=ChargeStatus.CANCELLED,
                closed_reason=CODES_STOPPED,
            )
    await notify_payer(
        uow,
        citizen,
        Reply.of(
            t(
                "Warning: too many wrong codes for you at several shops, the last at {shop}. "
                "No payment code until {until}.",
                shop=shop.name,
                until=Moment(until),
            )
        ),
        now,
    )
    return until


async def resume_codes(
    uow: UnitOfWork, municipality_id: int, codice_fiscale: str, *, by: str, now: datetime
) -> datetime:
    """The office lets payment codes go to the person again: the count starts from now.
    Refused (`payment.codes_not_stopped`) when they are not stopped: nothing is recorded.
    Returns until when they would have been stopped. The caller commits."""
    citizen = await uow.citizens.by_codice_fiscale(municipality_id, codice_fiscale)
    if citizen is None:
        raise NotFound(Refusal.CITIZEN_NOT_FOUND)
    until = await codes_stopped_until(uow, citizen, now)
    if until is None:
        raise NotAllowed(Refusal.PAYMENT_CODES_NOT_STOPPED)
    await security.record(
        uow,
        security.CODES_RESUMED,
        now,
        municipality_id=municipality_id,
        detail=wrong_code_detail(citizen),
        asked_by=by,
    )
    await activity.record(
        uow,
        municipality_id,
        by,
        "citizen.codes_resumed",
        subject=f"citizen {citizen.id}",
        before={"stopped_until": until.isoformat()},
        now=now,
    )
    return until
