"""identity.claim_citizen with the office's proof (a paper application typed in as one, the
demo's seeding) gives no first number to a citizen the office knows without a phone who has
money at stake: one clerk alone would choose the phone that receives the payment codes. It
is refused as the paper import refuses its row (application.phone_needs_approval), nothing
bound; the same paper without a phone goes in, and a citizen with nothing to spend is given
the number (docs/identity-and-consent.md §6). While a new phone of theirs waits for its
second operator no number is given either. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.domain.errors import Conflict, NotAllowed, Refusal
from core.domain.identity import PhoneProof
from core.services import identity
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from tests.factories import Town, make_cf
from tests.integration.linked_chat import (
    citizen_row,
    event_kinds,
    holder_without_phone,
    idle_without_phone,
)
from tests.integration.test_phone_changes import _ask, _operators

PAPER_PHONE = "+393471230101"
ASKED_PHONE = "+393471230102"
IDLE_PHONE = "+393471230103"


async def _claim(
    uow: UnitOfWork, core: Core, town: Town, code: str, phone: str | None
) -> tuple[m.Citizen, bool]:
    return await identity.claim_citizen(
        uow, town.municipality_id, code, phone=phone, proof=PhoneProof.OFFICE, now=core.now()
    )


async def test_no_first_number_on_paper_for_a_citizen_with_money(core: Core) -> None:
    town = await holder_without_phone(core)  # citizen 0: no phone, a balance to spend
    holder_id = town.citizen_ids[0]
    before = await event_kinds(core, holder_id)
    async with core.uow() as uow:
        with pytest.raises(NotAllowed) as refused:
            await _claim(uow, core, town, town.citizen_cfs[0], PAPER_PHONE)
        await uow.commit()
    assert refused.value.code == Refusal.APPLICATION_PHONE_NEEDS_APPROVAL
    holder = await citizen_row(core, holder_id)
    assert (holder.phone, holder.phone_proven_by) == (None, None)
    assert await event_kinds(core, holder_id) == before  # no phone_bound
    # The same paper without a phone goes in, the citizen as they were.
    async with core.uow() as uow:
        citizen, created = await _claim(uow, core, town, town.citizen_cfs[0], None)
        await uow.commit()
    assert (citizen.id, created, citizen.phone) == (holder_id, False, None)


async def test_no_first_number_on_paper_while_a_new_phone_waits(core: Core) -> None:
    town = await holder_without_phone(core)
    team = await _operators(core, town)
    asked = await _ask(core, town, team["clerk"], ASKED_PHONE)
    assert asked.waiting is not None
    for number in (PAPER_PHONE, ASKED_PHONE):  # another number, or the one asked
        async with core.uow() as uow:
            with pytest.raises(Conflict) as refused:
                await _claim(uow, core, town, town.citizen_cfs[0], number)
        assert refused.value.code == Refusal.APPLICATION_PHONE_CHANGE_WAITING
    assert (await citizen_row(core, town.citizen_ids[0])).phone is None


async def test_a_citizen_with_nothing_to_spend_is_given_the_number(core: Core) -> None:
    town = await holder_without_phone(core)
    citizen_id, code = await idle_without_phone(core, town, "990104", 104)
    async with core.uow() as uow:
        citizen, created = await _claim(uow, core, town, code, IDLE_PHONE)
        await uow.commit()
    assert (citizen.id, created) == (citizen_id, False)
    idle = await citizen_row(core, citizen_id)
    assert (idle.phone, idle.phone_proven_by) == (IDLE_PHONE, "office")
    assert (await event_kinds(core, citizen_id))[-1] == "phone_bound"


@pytest.mark.parametrize("proof", [PhoneProof.OFFICE, PhoneProof.SMS_CODE])
async def test_a_new_citizen_is_not_given_a_number_a_waiting_request_names(
    core: Core, proof: PhoneProof
) -> None:
    """A codice fiscale the office does not know yet, with the number a waiting request asks
    for another household: refused as for a citizen the office knows (and as the paper
    import refuses its row), nobody created; the request still waits for its approval."""
    town = await holder_without_phone(core)
    team = await _operators(core, town)
    asked = await _ask(core, town, team["clerk"], ASKED_PHONE)
    assert asked.waiting is not None
    code = make_cf(105)
    async with core.uow() as uow:
        if proof is PhoneProof.OFFICE:
            with pytest.raises(Conflict) as refused:
                await _claim(uow, core, town, code, ASKED_PHONE)
            assert refused.value.code == Refusal.REQUEST_NUMBER_ASKED
        else:
            with pytest.raises(identity.IdentityRefused) as chat:
                await identity.claim_citizen(
                    uow,
                    town.municipality_id,
                    code,
                    phone=ASKED_PHONE,
                    proof=proof,
                    now=core.now(),
                    channel="sms",
                )
            assert chat.value.reason == identity.NUMBER_ASKED
        await uow.commit()
    async with core.uow() as uow:
        assert await uow.citizens.by_codice_fiscale(town.municipality_id, code) is None
        assert await uow.citizens.by_phone(town.municipality_id, ASKED_PHONE) is None
        change = await uow.phone_changes.by_id(asked.waiting.id)
        assert change is not None and change.status == "waiting"
    # Without the number the paper goes in.
    if proof is PhoneProof.OFFICE:
        async with core.uow() as uow:
            citizen, created = await _claim(uow, core, town, code, None)
            await uow.commit()
        assert created and citizen.phone is None
