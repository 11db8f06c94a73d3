"""The town's fund: the pure rule (core.domain.fund), then the services that apply it on the
in-memory unit of work (a determina prepared, approved from the command line or by a
manager, a correction). What only a database proves is in tests/integration/test_fund.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.errors import Conflict, DomainError, NotFound, Refusal
from core.domain.fund import FundPosition, budget_fits, correction_fits
from core.services import act_figures, acts, allocation, applications, fund, municipalities
from core.storage import models as m
from tests.unit.fakes import FakeUnitOfWork, add_all
from tests.unit.test_service_rules import START, answers

DAY = date(2026, 2, 20)


def refusal(error: pytest.ExceptionInfo[DomainError]) -> str:
    return error.value.code


# The rule ---------------------------------------------------------------------------------


def test_what_is_left_is_the_fund_minus_approved_and_waiting_budgets() -> None:
    position = FundPosition(fund_cents=10_000_00, approved_cents=6_000_00, pending_cents=1_500_00)
    assert position.committed_cents == 7_500_00
    assert position.left_cents == 2_500_00
    assert budget_fits(position, 2_500_00)  # all that is left: fine
    assert not budget_fits(position, 2_500_01)  # one cent more: refused
    assert not budget_fits(position, 0)
    assert not budget_fits(FundPosition(0, 0, 0), 1)


def test_the_tester_s_budget_is_refused_by_any_real_fund() -> None:
    assert not budget_fits(FundPosition(50_000_00, 0, 0), 99_999_999_999_00)


@given(
    fund_cents=st.integers(0, 10**13),
    approved=st.integers(0, 10**13),
    pending=st.integers(0, 10**13),
    budget=st.integers(1, 10**13),
)
def test_a_budget_that_fits_never_commits_more_than_the_fund(
    fund_cents: int, approved: int, pending: int, budget: int
) -> None:
    position = FundPosition(fund_cents, approved, pending)
    if budget_fits(position, budget):
        assert approved + pending + budget <= fund_cents


def test_a_correction_takes_back_at_most_what_the_entry_holds_and_what_is_free() -> None:
    position = FundPosition(fund_cents=10_000_00, approved_cents=7_000_00, pending_cents=0)
    assert correction_fits(position, 4_000_00, 0, 3_000_00) is None
    assert correction_fits(position, 4_000_00, 0, 3_000_01) == "committed"
    assert correction_fits(position, 4_000_00, 3_500_00, 600_00) == "entry"
    assert correction_fits(position, 4_000_00, 0, 0) == "entry"
    assert correction_fits(position, 4_000_00, 0, -1) == "entry"


# The services on the in-memory unit of work ------------------------------------------------


async def closed_town(uow: FakeUnitOfWork, fund_cents: int | None) -> m.Municipality:
    """A closed window one household of two applied to (200,00 €: every larger budget would
    stay unspent, acts are prepared with the budget typed twice), and this fund."""
    async with uow:
        town = await municipalities.add_municipality(
            uow, code="FON", name="Fondoville", now=START - timedelta(days=10)
        )
        await municipalities.open_window(uow, town, START - timedelta(days=10), days=4)
        await applications.submit_application(
            uow, town, answers(1), source="paper", now=START - timedelta(days=9)
        )
        if fund_cents is not None:
            await fund.record(uow, town, fund_cents, "Stato", DAY, START, actor="test")
        await uow.commit()
    return town


async def managers(uow: FakeUnitOfWork, town: m.Municipality) -> tuple[m.Operator, m.Operator]:
    async with uow:
        people = [
            m.Operator(
                municipality_id=town.id,
                username=name,
                role="manager",
                password_hash="not used here",
                created_at=START,
            )
            for name in ("anna", "bruno")
        ]
        add_all(uow, people)
        await uow.commit()
    return people[0], people[1]


async def test_a_town_without_a_fund_approves_no_determina() -> None:
    uow = FakeUnitOfWork()
    town = await closed_town(uow, None)
    anna, _ = await managers(uow, town)
    async with uow:
        with pytest.raises(Conflict) as refused:
            await allocation.approve(uow, town, 300_00, START)
        assert refusal(refused) == Refusal.FUND_NONE
        with pytest.raises(Conflict) as refused:
            await acts.prepare(
                uow,
                anna,
                acts.ActKind.DETERMINA,
                {"budget_cents": 300_00, "confirm_cents": 300_00},
                START,
            )
        assert refusal(refused) == Refusal.FUND_NONE
    assert not await acts.open_acts(uow, town.id)


async def test_a_budget_above_what_is_left_is_refused_naming_the_amounts() -> None:
    uow = FakeUnitOfWork()
    town = await closed_town(uow, 1_000_00)
    async with uow:
        with pytest.raises(Conflict) as refused:
            await allocation.approve(uow, town, 9_999_999_00, START)
    assert refusal(refused) == Refusal.FUND_EXCEEDED
    assert refused.value.params == {
        "budget_cents": 9_999_999_00,
        "left_cents": 1_000_00,
        "fund_cents": 1_000_00,
        "committed_cents": 0,
    }
    async with uow:
        record, _ = await allocation.approve(uow, town, 1_000_00, START)  # all of it: fine
        await uow.commit()
    assert record.budget_cents == 1_000_00


async def test_a_waiting_determina_holds_its_budget_until_approved_or_withdrawn() -> None:
    uow = FakeUnitOfWork()
    town = await closed_town(uow, 1_000_00)
    anna, bruno = await managers(uow, town)
    act = await acts.prepare(
        uow, anna, acts.ActKind.DETERMINA, {"budget_cents": 700_00, "confirm_cents": 700_00}, START
    )
    # The command line cannot take the same money while the act waits.
    async with uow:
        with pytest.raises(Conflict) as refused:
            await allocation.approve(uow, town, 400_00, START)
    assert refusal(refused) == Refusal.FUND_EXCEEDED
    assert refused.value.params["committed_cents"] == 700_00
    assert refused.value.params["left_cents"] == 300_00
    # The approver's figures: the fund, what the others commit, what is left for this one.
    async with uow:
        figures = await act_figures.determina(uow, town, 700_00, act_id=act.id)
    assert figures.fund == FundPosition(1_000_00, 0, 0) and figures.within_fund
    # Approval re-checks it, not counting the act's own budget twice.
    async with uow:
        approved = await acts.approve(uow, bruno, act.id, START)
    assert approved.status == "approved"
    async with uow:
        position = await fund.position(uow, town)
    assert position == FundPosition(1_000_00, 700_00, 0)


async def test_approval_is_refused_when_the_fund_shrank_since_preparation() -> None:
    uow = FakeUnitOfWork()
    town = await closed_town(uow, 1_000_00)
    anna, bruno = await managers(uow, town)
    act = await acts.prepare(
        uow, anna, acts.ActKind.DETERMINA, {"budget_cents": 700_00, "confirm_cents": 700_00}, START
    )
    # A receipt recorded by mistake cannot be taken back below what the act commits...
    entry = (await uow.fund.of_municipality(town.id))[0]
    async with uow:
        with pytest.raises(Conflict) as refused:
            await fund.correct(uow, town, entry.id, 400_00, "Doppione", DAY, START, actor="t")
    assert refusal(refused) == Refusal.FUND_BELOW_COMMITTED
    # ...while the act is withdrawn, it can; then the act cannot be prepared again as it was.
    await acts.withdraw(uow, anna, act.id, "fondo da correggere", START)
    async with uow:
        await fund.correct(uow, town, entry.id, 400_00, "Doppione", DAY, START, actor="t")
        await uow.commit()
    with pytest.raises(Conflict) as refused:
        await acts.prepare(
            uow,
            bruno,
            acts.ActKind.DETERMINA,
            {"budget_cents": 700_00, "confirm_cents": 700_00},
            START,
        )
    assert refusal(refused) == Refusal.FUND_EXCEEDED
    assert refused.value.params["left_cents"] == 600_00


async def test_a_withdrawn_tranche_gives_its_budget_back() -> None:
    uow = FakeUnitOfWork()
    town = await closed_town(uow, 1_000_00)
    async with uow:
        await allocation.approve(uow, town, 800_00, START)
        await uow.commit()
    async with uow:
        await allocation.withdraw(uow, town, START, "m.rossi")
        await uow.commit()
    async with uow:
        record, _ = await allocation.approve(uow, town, 900_00, START)
        await uow.commit()
    assert record.tranche == 2


async def test_corrections_name_their_entry_and_never_take_more_than_it_holds() -> None:
    uow = FakeUnitOfWork()
    town = await closed_town(uow, 1_000_00)
    other = await closed_town_other(uow)
    entry = (await uow.fund.of_municipality(town.id))[0]
    async with uow:
        first = await fund.correct(uow, town, entry.id, 300_00, "Errore", DAY, START, actor="t")
        await uow.commit()
    assert (first.amount_cents, first.corrects_id) == (-300_00, entry.id)
    async with uow:
        with pytest.raises(Conflict) as refused:
            await fund.correct(uow, town, entry.id, 700_01, "Errore", DAY, START, actor="t")
        assert refusal(refused) == Refusal.FUND_BAD_CORRECTION
        assert refused.value.params["left_cents"] == 700_00
        with pytest.raises(Conflict) as refused:  # a correction is not corrected: its entry is
            await fund.correct(uow, town, first.id, None, "Errore", DAY, START, actor="t")
        assert refusal(refused) == Refusal.FUND_ENTRY_IS_CORRECTION
        assert refused.value.params == {
            "entry_id": first.id,
            "corrects_id": entry.id,
            "code": "FON",
        }
        with pytest.raises(NotFound):  # another town's entry
            await fund.correct(uow, other, entry.id, None, "Errore", DAY, START, actor="t")
        with pytest.raises(Conflict) as refused:
            await fund.correct(uow, town, entry.id, None, "   ", DAY, START, actor="t")
        assert refusal(refused) == Refusal.FUND_DESCRIPTION_MISSING
        rest = await fund.correct(uow, town, entry.id, None, "Tutto", DAY, START, actor="t")
        await uow.commit()
    assert rest.amount_cents == -700_00
    async with uow:
        assert await fund.position(uow, town) == FundPosition(0, 0, 0)
        with pytest.raises(Conflict) as refused:
            await allocation.approve(uow, town, 1, START)
    assert refusal(refused) == Refusal.FUND_EXCEEDED  # recorded, all taken back: nothing left


async def closed_town_other(uow: FakeUnitOfWork) -> m.Municipality:
    async with uow:
        town = await municipalities.add_municipality(uow, code="ALT", name="Altrove", now=START)
        await uow.commit()
    return town


async def test_a_receipt_is_more_than_zero_and_says_where_it_comes_from() -> None:
    uow = FakeUnitOfWork()
    town = await closed_town(uow, None)
    async with uow:
        for cents, text, code in (
            (0, "Stato", Refusal.FUND_BAD_AMOUNT),
            (-5_00, "Stato", Refusal.FUND_BAD_AMOUNT),
            (5_00, " ", Refusal.FUND_DESCRIPTION_MISSING),
            (5_00, "x" * 201, Refusal.FUND_DESCRIPTION_TOO_LONG),
        ):
            with pytest.raises(Conflict) as refused:
                await fund.record(uow, town, cents, text, DAY, START, actor="t")
            assert refusal(refused) == code
        entry = await fund.record(uow, town, 5_00, "  Stato,   decreto  ", DAY, START, actor="t")
        await uow.commit()
    assert entry.description == "Stato, decreto"
    log = await uow.activity.newest_first(town.id, None, 0)
    assert [(e.action, e.actor, e.subject) for e in log] == [
        ("fund.record", "t", f"fund#{entry.id}")
    ]
