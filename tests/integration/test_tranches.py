"""Tranches of a round on both databases: later tranches pay only what is still due, a
tranche is credited once (even by two runs at once), a mistaken one can be withdrawn."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.domain.errors import Conflict, NotFound
from core.domain.ledger import AccountKind, PostingKind
from core.services import acts, allocation, applications, ledger, municipalities, operators
from core.services.applications import ApplicationInput, submit_application
from core.storage import models as m
from tests.factories import assert_ledger_ok, make_cf, record_fund

FULL = {1: 150_00, 2: 200_00, 3: 250_00, 4: 300_00, 5: 350_00, 6: 400_00, 7: 500_00}


@dataclass(frozen=True)
class Household:
    size: int
    public_support_cents: int = 0


async def open_round(core: Core, households: list[Household], code: str = "TRA") -> int:
    """A municipality whose window is closed with these applications; its id."""
    now = core.now()
    async with core.uow() as uow:
        town = await municipalities.add_municipality(
            uow, code=code, name="Tranchetown", now=now - timedelta(days=10)
        )
        await record_fund(uow, town)
        await municipalities.open_window(uow, town, now - timedelta(days=10), days=4)
        for index, household in enumerate(households):
            await submit_application(
                uow,
                town,
                ApplicationInput(
                    make_cf(index),
                    f"+39333{3000000 + index:07d}",
                    household.size,
                    False,
                    False,
                    0,
                    household.public_support_cents,
                    0,
                ),
                source="paper",
                now=now - timedelta(days=9, minutes=-index),
            )
        await uow.commit()
        return town.id


async def approve(core: Core, code: str, budget_cents: int) -> m.Allocation:
    async with core.uow() as uow:
        town = await municipalities.require(uow, code)
        record, _ = await allocation.approve(uow, town, budget_cents, core.now())
        await uow.commit()
        return record


async def credit(core: Core, code: str) -> allocation.CreditResult:
    async with core.uow() as uow:
        town = await municipalities.require(uow, code)
        result = await allocation.credit(uow, town, core.now())
        await uow.commit()
        return result


async def balances_by_size(core: Core, municipality_id: int) -> list[tuple[int, int]]:
    """(household size, citizen balance) for every application."""
    async with core.uow() as uow:
        rows = await uow.session.execute(
            select(m.Application.household_size, m.Account.balance_cents)
            .join(
                m.Account,
                (m.Account.owner_id == m.Application.citizen_id)
                & (m.Account.kind == AccountKind.CITIZEN.value),
            )
            .where(m.Application.municipality_id == municipality_id)
        )
        return [(int(size), int(balance)) for size, balance in rows.all()]


async def postings_of_kind(core: Core, kind: PostingKind) -> int:
    async with core.uow() as uow:
        return int(
            await uow.session.scalar(
                select(func.count()).select_from(m.Posting).where(m.Posting.kind == kind.value)
            )
            or 0
        )


# 40 seven-member and 10 four-member households on list 1 (23,000 €), 50 two-member
# households on list 2 (10,000 €): 30,000 € pays list 1 and 35 of list 2.
ROUND = (
    [Household(7)] * 40
    + [Household(4)] * 10
    + [Household(2, public_support_cents=100_00 + i) for i in range(50)]
)


async def test_a_further_tranche_pays_only_what_is_still_due(core: Core) -> None:
    municipality_id = await open_round(core, ROUND)
    first = await approve(core, "TRA", 30_000_00)
    assert (await credit(core, "TRA")).total_cents == 30_000_00
    second = await approve(core, "TRA", 5_000_00)
    result = await credit(core, "TRA")

    assert (first.tranche, second.tranche) == (1, 2)
    # The second tranche serves the 15 list-2 households left out: 3,000 €, not a list-1 rerun.
    assert (result.citizens, result.total_cents) == (15, 3_000_00)
    for size, balance in await balances_by_size(core, municipality_id):
        assert balance == FULL[size], (size, balance)  # never above: the voucher is one-off
    await assert_ledger_ok(core, municipality_id)


async def test_after_a_tranche_that_paid_everyone_the_next_one_gives_nothing(core: Core) -> None:
    await open_round(core, [Household(7), Household(3), Household(1, 50_00)])
    await approve(core, "TRA", 10_000_00)
    await credit(core, "TRA")

    async with core.uow() as uow:
        town = await municipalities.require(uow, "TRA")
        preview = await allocation.simulate(uow, town, 10_000_00)
    assert [item.line.amount_cents for item in preview] == [0, 0, 0]
    assert [item.line.full_amount_cents for item in preview] == [500_00, 250_00, 150_00]


async def test_a_cut_first_tranche_is_completed_by_the_second_in_proportion(core: Core) -> None:
    municipality_id = await open_round(core, [Household(7), Household(2), Household(1)])
    await approve(core, "TRA", 425_00)  # half of the 850 € list 1 asks for
    await credit(core, "TRA")
    assert sorted(await balances_by_size(core, municipality_id)) == [
        (1, 75_00),
        (2, 100_00),
        (7, 250_00),
    ]
    await approve(core, "TRA", 1_000_00)
    assert (await credit(core, "TRA")).total_cents == 425_00
    assert sorted(await balances_by_size(core, municipality_id)) == [
        (1, 150_00),
        (2, 200_00),
        (7, 500_00),
    ]


async def test_two_credits_at_once_pay_the_tranche_once(core: Core, rival: Core) -> None:
    households = [Household(1 + i % 7) for i in range(200)]
    municipality_id = await open_round(core, households)
    await approve(core, "TRA", 100_000_00)

    outcomes = await asyncio.gather(
        credit(core, "TRA"), credit(rival, "TRA"), return_exceptions=True
    )

    paid = [o for o in outcomes if isinstance(o, allocation.CreditResult)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(paid) == 1 and len(refused) == 1, outcomes
    assert refused[0].code == "allocation.already_credited"
    assert await postings_of_kind(core, PostingKind.ALLOCATION) == 200
    assert paid[0].total_cents == sum(FULL[h.size] for h in households)
    await assert_ledger_ok(core, municipality_id)


async def test_two_approvals_at_once_give_one_tranche_and_a_clean_refusal(
    core: Core, rival: Core
) -> None:
    await open_round(core, [Household(2), Household(5)])

    outcomes = await asyncio.gather(
        approve(core, "TRA", 1_000_00), approve(rival, "TRA", 1_000_00), return_exceptions=True
    )

    approved = [o for o in outcomes if isinstance(o, m.Allocation)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(approved) == 1 and len(refused) == 1, outcomes
    assert refused[0].code in ("allocation.approved_meanwhile", "allocation.not_yet_credited")


async def test_a_line_cannot_be_posted_twice(core: Core) -> None:
    municipality_id = await open_round(core, [Household(3)])
    await approve(core, "TRA", 1_000_00)
    await credit(core, "TRA")
    async with core.uow() as uow:
        posting = await uow.session.scalar(
            select(m.Posting).where(m.Posting.kind == PostingKind.ALLOCATION.value)
        )
        assert posting is not None and posting.allocation_line_id is not None
        uow.session.add(
            m.Posting(
                municipality_id=municipality_id,
                kind=posting.kind,
                from_account_id=posting.from_account_id,
                to_account_id=posting.to_account_id,
                amount_cents=posting.amount_cents,
                created_at=core.now(),
                allocation_id=posting.allocation_id,
                allocation_line_id=posting.allocation_line_id,
            )
        )
        with pytest.raises(IntegrityError):
            await uow.flush()


async def test_ledger_check_finds_a_tranche_paid_beyond_its_determina(core: Core) -> None:
    """Balanced accounts are not enough: a second payment of a line (as the old concurrent
    credit made) moves money consistently, and only the tranche proof catches it."""
    municipality_id = await open_round(core, [Household(3), Household(1)])
    await approve(core, "TRA", 1_000_00)
    await credit(core, "TRA")
    async with core.uow() as uow:
        first = await uow.session.scalar(
            select(m.Posting).where(m.Posting.kind == PostingKind.ALLOCATION.value)
        )
        assert first is not None and first.allocation_id is not None
        citizen_account = await uow.session.get(m.Account, first.to_account_id)
        assert citizen_account is not None
        # Paid again through the ledger (balances stay equal to their postings), no line.
        await ledger.post(
            uow,
            municipality_id=municipality_id,
            kind=PostingKind.ALLOCATION,
            from_owner=0,
            to_owner=citizen_account.owner_id,
            amount_cents=first.amount_cents,
            now=core.now(),
            allocation_id=first.allocation_id,
        )
        await uow.commit()
    async with core.uow() as uow:
        check = await ledger.verify(uow, municipality_id)
    assert not check.mismatches and check.total_cents == 0
    assert not check.ok
    [bad] = check.bad_tranches
    assert (bad.tranche, bad.posted_cents, bad.approved_cents) == (1, 650_00, 400_00)


async def test_a_withdrawn_tranche_is_recorded_and_never_credited(core: Core) -> None:
    municipality_id = await open_round(core, [Household(4), Household(1)])
    await approve(core, "TRA", 50_00)  # the wrong budget
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TRA")
        withdrawn = await allocation.withdraw(uow, town, core.now(), "m.rossi")
        await uow.commit()
    assert withdrawn.withdrawn_by == "m.rossi" and withdrawn.withdrawn_at == core.now()
    async with core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale(municipality_id, make_cf(0))
        assert citizen is not None
        status = await applications.status_of(uow, citizen, core.now())
    assert status is not None and status.amount_cents == 0  # the citizen is told nothing due
    with pytest.raises(NotFound) as nothing:
        await credit(core, "TRA")
    assert nothing.value.code == "allocation.none"

    again = await approve(core, "TRA", 450_00)
    assert again.tranche == 2
    assert (await credit(core, "TRA")).total_cents == 450_00
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TRA")
        with pytest.raises(Conflict) as late:
            await allocation.withdraw(uow, town, core.now(), "m.rossi")
    assert late.value.code == "allocation.already_credited"
    await assert_ledger_ok(core, municipality_id)


async def test_a_tranche_whose_credit_the_office_prepared_is_not_withdrawn(core: Core) -> None:
    """A trial, 5 Dec 2026: the command line withdrew a tranche whose credit waited in the
    office, and that act then read as the credit of another tranche."""
    await open_round(core, [Household(2)])
    await approve(core, "TRA", 200_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TRA")
        clerk, _ = await operators.add_operator(uow, town, "anna.clerk", "clerk", core.now())
        await uow.commit()
        act = await acts.prepare(uow, clerk, acts.ActKind.CREDIT, {}, core.now())
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TRA")
        with pytest.raises(Conflict) as refused:
            await allocation.withdraw(uow, town, core.now(), "m.rossi")
    assert refused.value.code == "allocation.credit_act_waiting"
    assert refused.value.params == {"tranche": 1, "act_id": act.id}
    async with core.uow() as uow:
        round_ = await municipalities.current_round(uow, town.id)
        assert round_ is not None
        waiting = await uow.allocations.waiting(round_.id)
        assert waiting is not None and waiting.withdrawn_at is None


async def test_no_window_opens_while_a_tranche_waits_for_its_credit(core: Core) -> None:
    await open_round(core, [Household(2)])
    await approve(core, "TRA", 200_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TRA")
        with pytest.raises(Conflict) as refused:
            await municipalities.open_window(uow, town, core.now())
    assert refused.value.code == "window.tranche_waiting"
    assert refused.value.params == {"tranche": 1}

    await credit(core, "TRA")
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TRA")
        assert (await municipalities.open_window(uow, town, core.now())).number == 2


async def test_revoked_before_credit_is_skipped_and_the_proof_holds(core: Core) -> None:
    from core.services import audit

    municipality_id = await open_round(core, [Household(2), Household(3)])
    await approve(core, "TRA", 1_000_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TRA")
        round_ = await municipalities.current_round(uow, town.id)
        assert round_ is not None
        protocol = (await uow.applications.in_round(round_.id))[0].protocol
        await audit.revoke(uow, town, protocol, core.now())
        await uow.commit()
    result = await credit(core, "TRA")
    assert (result.citizens, result.total_cents) == (1, 250_00)
    async with core.uow() as uow:
        check = await ledger.verify(uow, municipality_id)
    assert check.ok, check
    assert check.tranches[0].excused_cents == 200_00
