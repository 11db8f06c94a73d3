"""A number a waiting request already names (core.services.phone_changes): one phone speaks
for one person, and a request waiting for a second operator already claims its number.

Whoever gives a number to a citizen, as their own phone or as their delegate's, asks this
after holding the number (CitizenRepository.hold_phone): the office asking a request, a
manager approving one, and the command line registering a delegate or giving a phone at
once (delegates.check_delegate, identity.check_new_phone) alike. Otherwise a number
could be registered while a request for it waits, and that request would be refused only
at its approval, after its numbers were told of it: two live claims on one number.
docs/cards-and-delegates.md ("One phone speaks for one person").
"""

from __future__ import annotations

from core.domain.errors import Conflict, Refusal
from core.domain.identity import mask_phone
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


async def refuse_asked(uow: UnitOfWork, citizen: m.Citizen, number: str, kind: str) -> None:
    """Refuse `number` for the citizen as `kind` (phone, delegate) when a waiting request
    names it: another household's new phone or delegate (REQUEST_NUMBER_ASKED), or this
    citizen's own request of the other kind (REQUEST_NUMBER_OWN: a delegate equal to their
    new phone). The citizen's own request of the same kind is the caller's to judge (the
    same number asked again, or the request that is being approved). Two requests asked
    at the same moment both find nothing here: the database's index
    uq_phone_changes_waiting_phone refuses the second insert, whose caller asks again."""
    for other in await uow.phone_changes.waiting_with_phone(citizen.municipality_id, number):
        refusal = asked_refusal(other, citizen.id, kind)
        if refusal is not None:
            raise refusal


def asked_refusal(change: m.PhoneChange, citizen_id: int | None, kind: str) -> Conflict | None:
    """How a waiting request that names a number refuses it to the citizen `citizen_id`
    (None: someone not known yet) as `kind`: another household's request
    (REQUEST_NUMBER_ASKED), or this citizen's own request of the other kind
    (REQUEST_NUMBER_OWN); None for their own request of the same kind (the caller's)."""
    assert change.phone is not None
    if change.citizen_id != citizen_id:
        return Conflict(
            Refusal.REQUEST_NUMBER_ASKED, change_id=change.id, phone=mask_phone(change.phone)
        )
    if change.kind != kind:
        return Conflict(
            Refusal.REQUEST_NUMBER_OWN,
            change_id=change.id,
            phone=mask_phone(change.phone),
            kind=change.kind,
        )
    return None
