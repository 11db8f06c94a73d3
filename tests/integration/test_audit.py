"""Audit sample of declarations and revocation of a false one, on both databases."""

from __future__ import annotations

import math
import random

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.domain.errors import Conflict, NotFound
from core.domain.ledger import AccountKind, PostingKind
from core.domain.messages import reply_from_json
from core.services import allocation, ledger, municipalities
from core.services.audit import (
    AlreadyRevoked,
    InvalidSampleRequest,
    Revocation,
    draw_sample,
    revoke,
)
from core.services.charges import ConfirmOutcome
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import (
    Office,
    apply,
    ask,
    assert_ledger_ok,
    close_approve_credit,
    confirm,
    open_round,
    pay,
    person,
)


async def closed_round(core: Core, clock: FakeClock, applications: int) -> tuple[Office, list[str]]:
    office = await open_round(core, clock)
    protocols = await apply(office, *[person(i) for i in range(applications)])
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await municipalities.close_window(uow, town, clock())
        await uow.commit()
    return office, protocols


async def sample(office: Office, percent: float | int | str, seed: int) -> list[str]:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        drawn = await draw_sample(uow, town, percent, seed, office.clock())
        await uow.commit()
        return drawn


async def revoke_protocol(office: Office, protocol: str) -> Revocation:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        result = await revoke(uow, town, protocol, office.clock())
        await uow.commit()
        return result


def expected_sample(protocols: list[str], percent: float, seed: int) -> list[str]:
    """The rule, written out independently: sorted population, random.Random(seed).sample."""
    size = max(1, math.ceil(len(protocols) * percent / 100))
    return sorted(random.Random(seed).sample(sorted(protocols), size))


async def test_sample_is_reproducible_from_the_seed_and_recorded(
    core: Core, clock: FakeClock
) -> None:
    office, protocols = await closed_round(core, clock, 20)

    first = await sample(office, 25, 2026)
    again = await sample(office, 25, 2026)

    assert first == again == expected_sample(protocols, 25, 2026)
    assert len(first) == 5 and set(first) <= set(protocols)
    async with core.uow() as uow:
        rows = list(await uow.session.scalars(select(m.AuditSample).order_by(m.AuditSample.id)))
    assert len(rows) == 2
    assert rows[0].seed == 2026 and rows[0].percent == 25.0
    assert rows[0].protocols == {"protocols": first, "population": 20}
    assert rows[0].municipality_id == office.municipality_id
    await assert_ledger_ok(core, office.municipality_id)


async def test_other_seeds_draw_other_samples(core: Core, clock: FakeClock) -> None:
    office, protocols = await closed_round(core, clock, 20)
    drawn = {tuple(await sample(office, 10, seed)) for seed in range(8)}
    # 8 seeds, 190 possible pairs: the draws are not all the same one.
    assert len(drawn) > 1
    for seed in range(3):
        assert await sample(office, 10, seed) == expected_sample(protocols, 10, seed)


@pytest.mark.parametrize(
    ("applications", "percent", "size"),
    [(10, 0.01, 1), (10, 10, 1), (10, 10.5, 2), (7, 100, 7), (3, 50, 2), (30, "33.3", 10)],
)
async def test_sample_size_is_the_ceiling_and_at_least_one(
    core: Core, clock: FakeClock, applications: int, percent: float | str, size: int
) -> None:
    office, _ = await closed_round(core, clock, applications)
    assert len(await sample(office, percent, 7)) == size


async def test_an_empty_round_gives_an_empty_sample(core: Core, clock: FakeClock) -> None:
    office, _ = await closed_round(core, clock, 0)
    assert await sample(office, 50, 1) == []


@pytest.mark.parametrize("percent", [0, -5, 100.5, float("nan"), float("inf"), "abc", True])
async def test_percent_must_be_above_0_and_at_most_100(
    core: Core, clock: FakeClock, percent: object
) -> None:
    office, _ = await closed_round(core, clock, 3)
    with pytest.raises(InvalidSampleRequest):
        await sample(office, percent, 1)  # type: ignore[arg-type]


async def test_no_sample_while_declarations_can_still_change(core: Core, clock: FakeClock) -> None:
    office = await open_round(core, clock)
    await apply(office, person(1))
    with pytest.raises(Conflict) as caught:
        await sample(office, 10, 1)
    # The refusal names the window: a later one may be open while an earlier one is sampled.
    assert caught.value.code == "audit.window_open" and caught.value.params["number"] == 1


async def test_revocation_returns_the_balance_and_records_what_was_spent(
    core: Core, clock: FakeClock
) -> None:
    office = await open_round(core, clock)
    liar, honest = person(1), person(2)
    protocols = await apply(office, liar, honest)
    await close_approve_credit(office, 1_000_00)  # 150 € each
    shop = office.shop_ids[0]
    await pay(office, shop, liar, 40_00)
    waiting = await ask(office, shop, liar.codice_fiscale, 20_00)

    result = await revoke_protocol(office, protocols[0])

    assert result == Revocation(returned_cents=110_00, to_recover_cents=40_00, cancelled_charges=1)
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(protocols[0])
        assert application is not None
        assert application.revoked_at == clock()
        assert application.recover_cents == 40_00
        charge = await uow.charges.by_id(waiting)
        assert charge is not None and charge.status == "cancelled"
        assert charge.closed_reason == "revoked"
        assert (
            await ledger.citizen_balance(uow, office.municipality_id, application.citizen_id) == 0
        )
        fund = await uow.ledger.find(office.municipality_id, AccountKind.FUND)
        assert fund is not None
        assert await uow.ledger.balance(fund.id) == -300_00 + 110_00
        revocations = list(
            await uow.session.scalars(
                select(m.Posting).where(m.Posting.kind == PostingKind.REVOCATION.value)
            )
        )
        assert [p.amount_cents for p in revocations] == [110_00]
        assert revocations[0].to_account_id == fund.id
        # The honest household is untouched.
        other = await uow.applications.by_protocol(protocols[1])
        assert other is not None and other.revoked_at is None
        assert await ledger.citizen_balance(uow, office.municipality_id, other.citizen_id) == 150_00
    # The cashier still holding the cancelled charge cannot complete it.
    assert liar.phone is not None
    # The citizen learns the code is void; the shop's members that it will not come.
    async with core.uow() as uow:
        told = await uow.outbox.for_address("sms", liar.phone)
        members = await uow.shops.members_of(shop)
        to_shop = [
            row
            for member in members
            for row in await uow.outbox.for_address(member.channel, member.address)
        ]
    void = [reply_from_json(r.payload).texts[0] for r in told if r.charge_id == waiting]
    assert [x.msgid for x in void][1:] == [
        "The office cancelled the payment of {amount} at {shop}. The code is no longer valid."
    ]  # after the code itself
    stopped = [reply_from_json(r.payload).texts[0] for r in to_shop if r.charge_id == waiting]
    assert [x.msgid for x in stopped] == [
        "The office cancelled the payment of {amount}: it cannot be completed, do not wait "
        "for the code."
    ]
    assert await confirm(office, shop, waiting, liar.phone) is ConfirmOutcome.NOT_PENDING
    await assert_ledger_ok(core, office.municipality_id)


async def test_revoking_twice_is_refused(core: Core, clock: FakeClock) -> None:
    office = await open_round(core, clock)
    protocols = await apply(office, person(1))
    await close_approve_credit(office, 1_000_00)
    assert await revoke_protocol(office, protocols[0]) == Revocation(150_00, 0, 0)
    with pytest.raises(AlreadyRevoked):
        await revoke_protocol(office, protocols[0])
    await assert_ledger_ok(core, office.municipality_id)


async def test_revocation_before_crediting_stops_the_credit(core: Core, clock: FakeClock) -> None:
    office = await open_round(core, clock)
    protocols = await apply(office, person(1), person(2))
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await municipalities.close_window(uow, town, clock())
        await allocation.approve(uow, town, 1_000_00, clock())
        await uow.commit()

    assert await revoke_protocol(office, protocols[0]) == Revocation(0, 0, 0)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        result = await allocation.credit(uow, town, clock())
        await uow.commit()
        revoked = await uow.applications.by_protocol(protocols[0])
        assert revoked is not None
        assert await ledger.citizen_balance(uow, office.municipality_id, revoked.citizen_id) == 0
    assert result.total_cents == 150_00
    await assert_ledger_ok(core, office.municipality_id)


async def test_unknown_or_foreign_protocol_is_not_found(core: Core, clock: FakeClock) -> None:
    office = await open_round(core, clock)
    other = await open_round(core, clock, code="OTH")
    protocols = await apply(other, person(1))
    with pytest.raises(NotFound):
        await revoke_protocol(office, protocols[0])
    with pytest.raises(NotFound):
        await revoke_protocol(office, "BEL-2026-999999")
