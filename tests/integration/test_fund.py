"""The town's fund on both databases: the constraints behind the rule (no zero entry, a
correction negative and naming its entry, no edit, no deletion), a determina refused when
the fund cannot cover it, and a correction and an approval at once never committing more
than the fund."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.bootstrap import Core
from core.domain.errors import Conflict, DomainError, Refusal
from core.domain.fund import MAX_AMOUNT_CENTS, FundPosition
from core.services import acts, allocation, economia, fund, municipalities, operators
from core.services.applications import ApplicationInput, submit_application
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import make_cf

DAY = date(2026, 3, 20)


async def closed_town(core: Core, fund_cents: int | None) -> int:
    """A closed window with a one-person and a four-person household (150 € and 300 €)."""
    now = core.now()
    async with core.uow() as uow:
        town = await municipalities.add_municipality(
            uow, code="FON", name="Fondoville", now=now - timedelta(days=10)
        )
        if fund_cents is not None:
            await fund.record(uow, town, fund_cents, "Stato", DAY, now, actor="ragioneria")
        await municipalities.open_window(uow, town, now - timedelta(days=10), days=4)
        for index, size in enumerate((1, 4)):
            await submit_application(
                uow,
                town,
                ApplicationInput(
                    make_cf(index), f"+3933320000{index:02d}", size, False, False, 0, 0, 0
                ),
                source="paper",
                now=now - timedelta(days=9, minutes=-index),
            )
        await uow.commit()
        return town.id


async def approve(core: Core, budget_cents: int) -> m.Allocation:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        record, _ = await allocation.approve(uow, town, budget_cents, core.now())
        await uow.commit()
        return record


async def correct(core: Core, entry_id: int, cents: int) -> m.FundEntry:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        entry = await fund.correct(
            uow, town, entry_id, cents, "Registrato due volte", DAY, core.now(), actor="r"
        )
        await uow.commit()
        return entry


async def position(core: Core) -> FundPosition | None:
    async with core.uow() as uow:
        return await fund.position(uow, await municipalities.require(uow, "FON"))


async def test_no_fund_no_determina_then_the_fund_bounds_every_budget(core: Core) -> None:
    await closed_town(core, None)
    with pytest.raises(Conflict) as refused:
        await approve(core, 450_00)
    assert refused.value.code == Refusal.FUND_NONE
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        await fund.record(uow, town, 400_00, "Stato", DAY, core.now(), actor="r")
        await fund.record(uow, town, 100_00, "Comune", DAY, core.now(), actor="r")
        await uow.commit()
    with pytest.raises(Conflict) as refused:
        await approve(core, 9_999_999_00)
    assert refused.value.code == Refusal.FUND_EXCEEDED
    assert refused.value.params["left_cents"] == 500_00
    first = await approve(core, 300_00)
    assert await position(core) == FundPosition(500_00, 300_00, 0)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        await allocation.credit(uow, town, core.now())
        await uow.commit()
    # The next tranche may take what is left, not a cent more.
    with pytest.raises(Conflict) as refused:
        await approve(core, 200_01)
    assert refused.value.params == {
        "budget_cents": 200_01,
        "left_cents": 200_00,
        "fund_cents": 500_00,
        "committed_cents": 300_00,
    }
    second = await approve(core, 200_00)
    assert (first.tranche, second.tranche) == (1, 2)
    assert await position(core) == FundPosition(500_00, 500_00, 0)


async def test_the_database_refuses_a_zero_entry_a_positive_correction_and_any_edit(
    core: Core,
) -> None:
    town_id = await closed_town(core, 1_000_00)
    async with core.uow() as uow:
        entry = (await uow.fund.of_municipality(town_id))[0]
        entry_id = entry.id

    def row(**values: object) -> m.FundEntry:
        fields: dict[str, object] = {
            "municipality_id": town_id,
            "amount_cents": 5_00,
            "description": "Stato",
            "received_on": DAY,
            "recorded_by": "r",
            "recorded_at": core.now(),
        }
        return m.FundEntry(**(fields | values))

    for bad in (
        row(amount_cents=0),
        row(amount_cents=-5_00),  # a negative entry must name the entry it corrects
        row(amount_cents=5_00, corrects_id=entry_id),  # a correction is negative
        row(description="   "),
        row(recorded_by=""),
    ):
        async with core.uow() as uow:
            uow.add(bad)
            with pytest.raises(IntegrityError):
                await uow.flush()
    for statement in (
        update(m.FundEntry).where(m.FundEntry.id == entry_id).values(amount_cents=99_999_00),
        delete(m.FundEntry).where(m.FundEntry.id == entry_id),
    ):
        async with core.uow() as uow:
            with pytest.raises(DBAPIError, match="append-only"):
                await uow.session.execute(statement)
    assert await position(core) == FundPosition(1_000_00, 0, 0)


async def test_a_prepared_determina_holds_its_budget_against_the_command_line(
    core: Core,
) -> None:
    town_id = await closed_town(core, 500_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        clerk, _ = await operators.add_operator(
            uow, town, "fon.clerk", "clerk", core.now(), password="correct horse battery"
        )
        await uow.commit()
    async with core.uow() as uow:
        act = await acts.prepare(
            uow, clerk, acts.ActKind.DETERMINA, {"budget_cents": 450_00}, core.now()
        )
    assert await position(core) == FundPosition(500_00, 0, 450_00)
    with pytest.raises(Conflict) as refused:
        await approve(core, 100_00)
    assert refused.value.params["left_cents"] == 50_00
    async with core.uow() as uow:
        await acts.withdraw(uow, clerk, act.id, "budget da rivedere", core.now())
    assert (await approve(core, 100_00)).municipality_id == town_id


async def test_a_correction_and_an_approval_at_once_never_commit_more_than_the_fund(
    core: Core, rival: Core
) -> None:
    town_id = await closed_town(core, 1_000_00)
    async with core.uow() as uow:
        entry_id = (await uow.fund.of_municipality(town_id))[0].id
    # Each fits alone (600 € of 1.000 € left; 450 € to take back); both together do not.
    outcomes = await asyncio.gather(
        approve(core, 450_00), correct(rival, entry_id, 600_00), return_exceptions=True
    )
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refused) == 1, outcomes
    assert refused[0].code in (Refusal.FUND_EXCEEDED, Refusal.FUND_BELOW_COMMITTED)
    after = await position(core)
    assert after is not None and 0 <= after.committed_cents <= after.fund_cents


async def entries(core: Core) -> list[tuple[int, int, str, date, int | None]]:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        return [
            (row.id, row.amount_cents, row.description, row.received_on, row.corrects_id)
            for row in await uow.fund.of_municipality(town.id)
        ]


async def record(core: Core, cents: int, text: str, day: date, *, again: bool = False) -> int:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        entry = await fund.record(uow, town, cents, text, day, core.now(), actor="t", again=again)
        await uow.commit()
        return entry.id


async def test_a_receipt_is_not_dated_in_the_future_nor_before_the_vouchers_began(
    core: Core, clock: FakeClock
) -> None:
    await closed_town(core, 1_000_00)
    before = await entries(core)
    # 23:30 in UTC on 31 March is already 1 April in Rome: the town's day counts.
    clock.current = clock.current.replace(month=3, day=31, hour=23, minute=30)
    assert await record(core, 5_00, "Oggi a Roma", date(2026, 4, 1)) > 0
    before = await entries(core)
    for day, code in (
        (date(2026, 4, 2), Refusal.FUND_DATE_FUTURE),
        (date(9999, 12, 31), Refusal.FUND_DATE_FUTURE),
        (date(2027, 6, 1), Refusal.FUND_DATE_FUTURE),
        (date(1, 1, 1), Refusal.FUND_DATE_TOO_OLD),
        (date(2019, 12, 31), Refusal.FUND_DATE_TOO_OLD),
    ):
        with pytest.raises(Conflict) as refused:
            await record(core, 1_500_00, "prova", day)
        assert refused.value.code == code, day
        with pytest.raises(Conflict) as refused:  # a correction's date too
            async with core.uow() as uow:
                town = await municipalities.require(uow, "FON")
                await fund.correct(uow, town, before[0][0], 1_00, "x", day, core.now(), actor="t")
        assert refused.value.code == code, day
    assert await entries(core) == before
    assert await record(core, 1_00, "Il primo giorno", date(2020, 1, 1)) > 0


async def test_the_same_receipt_twice_is_refused_naming_it_unless_meant(core: Core) -> None:
    await closed_town(core, None)
    day = date(2026, 4, 4)
    first = await record(core, 1_500_00, "prova", day)
    with pytest.raises(Conflict) as refused:
        await record(core, 1_500_00, " prova ", day)
    assert refused.value.code == Refusal.FUND_DUPLICATE
    assert refused.value.params == {
        "entry_id": first,
        "amount_cents": 1_500_00,
        "day": "2026-04-04",
    }
    assert [row[0] for row in await entries(core)] == [first]
    # Another amount, day or description is another receipt.
    await record(core, 1_500_01, "prova", day)
    await record(core, 1_500_00, "prova", date(2026, 4, 3))
    await record(core, 1_500_00, "prova 2", day)
    second = await record(core, 1_500_00, "prova", day, again=True)
    assert second > first and len(await entries(core)) == 5
    # A receipt taken back in full is not held against a new one.
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        await fund.correct(uow, town, first, None, "doppia", day, core.now(), actor="t")
        await fund.correct(uow, town, second, None, "doppia", day, core.now(), actor="t")
        await uow.commit()
    assert await record(core, 1_500_00, "prova", day) > second


async def test_a_correction_is_not_corrected_its_receipt_is(core: Core) -> None:
    await closed_town(core, 1_000_00)
    receipt = (await entries(core))[0][0]
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        correction = await fund.correct(uow, town, receipt, 100_00, "x", DAY, core.now(), actor="t")
        await uow.commit()
    before = await entries(core)
    with pytest.raises(Conflict) as refused:
        async with core.uow() as uow:
            town = await municipalities.require(uow, "FON")
            await fund.correct(uow, town, correction.id, None, "x", DAY, core.now(), actor="t")
    assert refused.value.code == Refusal.FUND_ENTRY_IS_CORRECTION
    assert refused.value.params == {
        "entry_id": correction.id,
        "corrects_id": receipt,
        "code": "FON",
    }
    assert await entries(core) == before


async def test_the_same_correction_twice_is_refused_and_never_takes_more_than_the_entry(
    core: Core,
) -> None:
    await closed_town(core, 1_000_00)
    receipt = (await entries(core))[0][0]
    first = await correct(core, receipt, 100_00)
    with pytest.raises(Conflict) as refused:
        await correct(core, receipt, 100_00)  # "Registrato due volte" again
    assert refused.value.code == Refusal.FUND_DUPLICATE_CORRECTION
    assert refused.value.params == {
        "entry_id": first.id,
        "corrects_id": receipt,
        "amount_cents": 100_00,
    }
    assert [row[0] for row in await entries(core)] == [receipt, first.id]
    # Another correction of the entry says why in its own words; none goes past the entry.
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        await fund.correct(uow, town, receipt, 100_00, "Altro errore", DAY, core.now(), actor="t")
        await uow.commit()
    with pytest.raises(Conflict) as refused:
        async with core.uow() as uow:
            town = await municipalities.require(uow, "FON")
            await fund.correct(uow, town, receipt, 900_00, "Troppo", DAY, core.now(), actor="t")
    assert refused.value.code == Refusal.FUND_BAD_CORRECTION
    assert refused.value.params["left_cents"] == 800_00


async def test_the_same_correction_sent_twice_at_once_takes_the_money_back_once(
    core: Core, rival: Core
) -> None:
    await closed_town(core, 1_000_00)
    receipt = (await entries(core))[0][0]
    outcomes = await asyncio.gather(
        correct(core, receipt, 100_00), correct(rival, receipt, 100_00), return_exceptions=True
    )
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refused) == 1, outcomes
    assert refused[0].code == Refusal.FUND_DUPLICATE_CORRECTION
    assert [row[1] for row in await entries(core)] == [1_000_00, -100_00]


async def test_a_tranche_that_pays_nobody_is_refused(core: Core) -> None:
    await closed_town(core, 10_000_00)
    await approve(core, 450_00)  # both households in full
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        await allocation.credit(uow, town, core.now())
        await uow.commit()
    for cents in (100_00, 450_00):
        with pytest.raises(Conflict) as refused:
            await approve(core, cents)
        assert refused.value.code == Refusal.ALLOCATION_PAYS_NOBODY
        assert refused.value.params == {"budget_cents": cents}
        with pytest.raises(Conflict) as refused:
            async with core.uow() as uow:
                town = await municipalities.require(uow, "FON")
                await acts.approve_determina(uow, town, cents, core.now(), confirmed=cents)
        assert refused.value.code == Refusal.ALLOCATION_PAYS_NOBODY
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        position = await fund.position(uow, town)
        assert position is not None and position.approved_cents == 450_00
        round_ = await allocation.round_of(uow, town)
        tranches = await uow.allocations.of_round(round_.id, withdrawn=False)
        assert [item.tranche for item in tranches] == [1]


async def test_the_command_line_s_unspent_budget_is_typed_twice(core: Core) -> None:
    await closed_town(core, 10_000_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        with pytest.raises(Conflict) as refused:
            await acts.approve_determina(uow, town, 500_00, core.now(), confirmed=None)
        assert refused.value.code == Refusal.ACT_BUDGET_UNSPENT
        assert refused.value.params == {"unspent_cents": 50_00, "budget_cents": 500_00}
        # Confirmed with another amount: the two amounts differ (a typo in one of them).
        with pytest.raises(Conflict) as refused:
            await acts.approve_determina(uow, town, 500_00, core.now(), confirmed=500_01)
        assert refused.value.code == Refusal.ACT_BUDGET_MISMATCH
        assert refused.value.params == {"budget_cents": 500_00, "confirmed_cents": 500_01}
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        assert await uow.allocations.latest((await allocation.round_of(uow, town)).id) is None
        # A budget the rules spend in full needs no confirmation.
        figures, record, _ = await acts.approve_determina(
            uow, town, 300_00, core.now(), confirmed=None
        )
        await uow.commit()
    assert (figures.unspent_cents, figures.households, record.tranche) == (0, 2, 1)


async def test_a_first_tranche_that_only_excludes_still_decides(core: Core) -> None:
    """Applicants all excluded: the first tranche pays nobody but decides them (their
    notices, the last day to appeal), so it is approved, its budget confirmed as one the
    rules cannot spend; a second one would decide nobody and is refused."""
    now = core.now()
    async with core.uow() as uow:
        town = await municipalities.add_municipality(
            uow, code="FON", name="Fondoville", now=now - timedelta(days=10)
        )
        await fund.record(uow, town, 1_000_00, "Stato", DAY, now, actor="t")
        await municipalities.open_window(uow, town, now - timedelta(days=10), days=4)
        answers = ApplicationInput(make_cf(1), "+393332000001", 1, True, False, 0, 0, 0)
        await submit_application(uow, town, answers, source="paper", now=now - timedelta(days=9))
        await uow.commit()
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        with pytest.raises(Conflict) as refused:
            await acts.approve_determina(uow, town, 100_00, now, confirmed=None)
        assert refused.value.code == Refusal.ACT_BUDGET_UNSPENT
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        figures, record, _ = await acts.approve_determina(uow, town, 100_00, now, confirmed=100_00)
        assert record.tranche == 1
        assert (figures.households, figures.excluded, figures.pays_nobody) == (0, 1, False)
        await allocation.credit(uow, town, now)
        await uow.commit()
    with pytest.raises(Conflict) as refused:
        await approve(core, 100_00)
    assert refused.value.code == Refusal.ALLOCATION_PAYS_NOBODY


async def test_an_amount_beyond_any_town_s_fund_is_a_typo_and_nothing_is_recorded(
    core: Core,
) -> None:
    await closed_town(core, None)
    for cents in (MAX_AMOUNT_CENTS + 1, 999_999_999_999_00):
        with pytest.raises(Conflict) as refused:
            await record(core, cents, "Stato", DAY)
        assert refused.value.code == Refusal.FUND_AMOUNT_IMPLAUSIBLE
        assert refused.value.params == {"amount_cents": cents, "most_cents": 50_000_000_00}
    assert await entries(core) == []
    # The limit itself is plausible; two receipts may together hold more.
    first = await record(core, MAX_AMOUNT_CENTS, "Stato", DAY)
    await record(core, MAX_AMOUNT_CENTS, "Regione", DAY)
    assert await position(core) == FundPosition(2 * MAX_AMOUNT_CENTS, 0, 0)
    with pytest.raises(Conflict) as refused:  # a correction typed with a digit too many
        await correct(core, first, 10 * MAX_AMOUNT_CENTS)
    assert refused.value.code == Refusal.FUND_AMOUNT_IMPLAUSIBLE
    assert len(await entries(core)) == 2


async def test_an_implausible_receipt_recorded_before_the_limit_is_taken_back_whole(
    core: Core,
) -> None:
    await closed_town(core, None)
    async with core.uow() as uow:  # as the trial left it, before the rule
        town = await municipalities.require(uow, "FON")
        uow.add(
            m.FundEntry(
                municipality_id=town.id,
                amount_cents=999_999_999_999_00,
                description="Stato",
                received_on=DAY,
                corrects_id=None,
                operator_id=None,
                recorded_by="t",
                recorded_at=core.now(),
            )
        )
        await uow.commit()
    [(entry_id, *_)] = await entries(core)
    with pytest.raises(Conflict) as refused:  # only part of it: still a typed amount
        await correct(core, entry_id, 999_999_999_000_00)
    assert refused.value.code == Refusal.FUND_AMOUNT_IMPLAUSIBLE
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        await fund.correct(uow, town, entry_id, None, "Errore", DAY, core.now(), actor="r")
        await uow.commit()
    assert await position(core) == FundPosition(0, 0, 0)


async def test_a_budget_beyond_any_town_s_fund_is_neither_prepared_nor_approved(
    core: Core,
) -> None:
    await closed_town(core, MAX_AMOUNT_CENTS)
    await record(core, MAX_AMOUNT_CENTS, "Regione", DAY)  # the fund could cover it
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        clerk, _ = await operators.add_operator(
            uow, town, "fon.clerk", "clerk", core.now(), password="correct horse battery"
        )
        await uow.commit()
    budget = MAX_AMOUNT_CENTS + 1
    attempts = (
        lambda uow, town: acts.prepare(
            uow, clerk, acts.ActKind.DETERMINA, {"budget_cents": budget}, core.now()
        ),
        lambda uow, town: acts.approve_determina(uow, town, budget, core.now(), confirmed=budget),
        lambda uow, town: allocation.approve(uow, town, budget, core.now()),
    )
    for attempt in attempts:
        async with core.uow() as uow:
            town = await municipalities.require(uow, "FON")
            with pytest.raises(Conflict) as refused:
                await attempt(uow, town)
            assert refused.value.code == Refusal.ACT_BUDGET_IMPLAUSIBLE
            assert refused.value.params == {"budget_cents": budget, "most_cents": 50_000_000_00}
            await uow.commit()
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        assert list(await uow.acts.prepared(town.id, "determina")) == []
        round_ = await municipalities.current_round(uow, town.id)
        assert round_ is not None and await uow.allocations.latest(round_.id) is None
    assert await position(core) == FundPosition(2 * MAX_AMOUNT_CENTS, 0, 0)


async def test_a_credited_tranche_keeps_its_unassigned_rest_until_an_economia_frees_it(
    core: Core,
) -> None:
    """docs/allocation.md#what-a-determina-keeps-committed: a tranche of 1.000 € that assigns
    450 € commits the whole 1.000 € before and after its credit (the credit is not the
    town's act that frees the rest); an economia frees the rest the town's act freed (its
    approval: core.services.economia.free), and only then is it left for a new determina,
    the fund received unchanged."""
    await closed_town(core, 2_000_00)
    tranche = await approve(core, 1_000_00)
    async with core.uow() as uow:
        assert sum(line.amount_cents for line in await uow.allocations.lines(tranche.id)) == 450_00
    assert await position(core) == FundPosition(2_000_00, 1_000_00, 0)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        await allocation.credit(uow, town, core.now())
        await uow.commit()
    assert await position(core) == FundPosition(2_000_00, 1_000_00, 0)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "FON")
        await economia.free(
            uow,
            town,
            tranche.id,
            550_00,
            "det. n. 12/2026",
            core.now().date(),  # the town's act: not before the determina it frees
            core.now(),
            actor="r",
            operator_id=None,
            act_id=None,
        )
        await uow.commit()
    found = await position(core)
    assert found == FundPosition(2_000_00, 450_00, 0, 550_00) and found.left_cents == 1_550_00
