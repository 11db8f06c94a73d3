"""The append-only identity log: every binding, every refused attempt and every rebinding by
the office is written there, on the citizen it concerns; phones appear masked."""

from __future__ import annotations

from datetime import datetime

from core.domain.identity import PhoneProof, mask_phone
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


def _masked(phone: str | None) -> str | None:
    return mask_phone(phone) if phone else None


async def _log(
    uow: UnitOfWork,
    citizen: m.Citizen,
    kind: str,
    now: datetime,
    *,
    actor: str,
    proof: PhoneProof | None = None,
    channel: str | None = None,
    phone: str | None = None,
    previous_phone: str | None = None,
) -> None:
    await uow.identity_events.record(
        m.IdentityEvent(
            municipality_id=citizen.municipality_id,
            citizen_id=citizen.id,
            kind=kind,
            proof=proof.value if proof else None,
            channel=channel,
            phone=_masked(phone),
            previous_phone=_masked(previous_phone),
            actor=actor[:100],
            created_at=now,
        )
    )
