"""The transparency report from a whole round, on both databases: figures, privacy, renderings."""

from __future__ import annotations

import csv
import io
from datetime import date
from itertools import product

from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.disclosure import Figure, Withheld
from core.domain.ledger import AccountKind
from core.services import application_desk, charges, economia, municipalities
from core.services.applications import ApplicationInput
from core.services.audit import revoke, undo_revocation
from core.services.reimbursement import settle
from core.services.reports import TransparencyReport, transparency_report
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import owner_chat
from tests.integration.office_helpers import (
    Office,
    apply,
    assert_ledger_ok,
    close_approve_credit,
    open_round,
    pay,
    person,
)
from tests.integration.test_application_desk import operator, paper

SMALL = Figure(None, Withheld.SMALL)
STAR = Figure(None, Withheld.COMPLEMENTARY)
FEW = Figure(None, Withheld.FEW_HOUSEHOLDS)
REVEALS = Figure(None, Withheld.REVEALS_SUM)


def households() -> list[ApplicationInput]:
    """16 applications: 7 on list 1, 3 on list 2, 6 excluded (1 work, 1 pension, 4 liquidity)."""
    list_1 = [person(i, size) for i, size in enumerate([1, 1, 2, 3, 4, 6, 9])]
    list_2 = [
        person(10 + i, size, support_cents=500_00, rent_cents=100_00)
        for i, size in enumerate([1, 2, 5])
    ]
    excluded = [
        person(20, 1, work=True),
        person(21, 2, pension=True),
        *[person(22 + i, 1, liquidity_cents=5_000_00) for i in range(4)],
    ]
    return list_1 + list_2 + excluded


async def report(office: Office) -> TransparencyReport:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        return await transparency_report(uow, town, office.clock())


async def full_round(
    core: Core, clock: FakeClock
) -> tuple[Office, list[ApplicationInput], list[str]]:
    office = await open_round(core, clock)
    people = households()
    protocols = await apply(office, *people)
    # list 1: 150+150+200+250+300+400+500 = 1,950 €; list 2: 150+200+350 = 700 €
    await close_approve_credit(office, 3_000_00)
    shop = office.shop_ids[0]
    await pay(office, shop, people[0], 100_00)
    await pay(office, shop, people[1], 50_00)
    refunded = await pay(office, shop, people[2], 20_00)
    async with core.uow() as uow:
        await charges.refund_charge(
            uow, charge_id=refunded, shop_id=shop, by=await owner_chat(uow, shop), now=clock()
        )
        await uow.commit()
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await settle(uow, town, clock(), date(2026, 4, 30))
        await uow.commit()
    # The first household's declaration was false: 50 € left, 100 € to recover.
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await revoke(uow, town, protocols[0], clock())
        await uow.commit()
    return office, people, protocols


async def test_report_figures_for_a_whole_round(core: Core, clock: FakeClock) -> None:
    office, _, _ = await full_round(core, clock)
    result = await report(office)

    assert result.municipality == "Comune di Belforte del Chienti"
    assert result.round_number == 1
    assert result.applications_received == Figure(16)
    assert result.admitted_list_1 == Figure(7)
    assert result.admitted_list_2 == Figure(3)
    assert result.excluded == Figure(6)
    assert result.not_allocated == Figure(0)
    # work 1 and pension 1 are "<3" (0, 1 or 2): 6 - 4 = 2 leaves 0+2, 1+1 or 2+0, so
    # liquidity (4) can be published.
    assert result.excluded_by_reason == {
        "work_income": SMALL,
        "pension": SMALL,
        "liquidity": Figure(4),
    }
    # Sizes: 1 → 8, 2 → 3, and 3, 4, 5, 6, 7+ → 1 each. The five "<3" add up to
    # 16 - 8 - 3 = 5, which five counts of 0 to 2 make in many ways: nothing more withheld.
    assert result.households_by_size == {
        "1": Figure(8), "2": Figure(3), "3": SMALL, "4": SMALL, "5": SMALL, "6": SMALL, "7+": SMALL,
    }  # fmt: skip
    assert len(result.tranches) == 1
    tranche = result.tranches[0]
    assert tranche.tranche == 1
    assert tranche.budget_cents == 3_000_00
    assert tranche.approved == Figure(2_650_00)
    assert tranche.beneficiaries == Figure(10)
    assert tranche.credited_on == tranche.approved_on
    assert result.credited == Figure(2_650_00)
    # Nothing is still owed to the shop: refunded = spent - reimbursed would give the one
    # household's refund away, so the larger of the two is withheld as well.
    assert result.spent_at_shops == REVEALS
    assert result.refunded == FEW  # one household's refund
    assert result.reimbursed_to_shops == Figure(150_00)
    assert result.returned_by_revocation == FEW  # one household's balance
    assert result.approved_shops == 1
    assert result.revocations == SMALL
    assert result.to_recover == FEW
    await assert_ledger_ok(core, office.municipality_id)


async def test_report_never_names_anyone(core: Core, clock: FakeClock) -> None:
    office, people, protocols = await full_round(core, clock)
    result = await report(office)
    rendered = result.to_csv() + result.to_markdown("it") + result.to_markdown("en")
    for data in people:
        assert data.codice_fiscale not in rendered
        assert data.phone is not None and data.phone not in rendered
        assert data.phone[3:] not in rendered
    for protocol in protocols:
        assert protocol not in rendered
        assert protocol.split("-")[-1] not in rendered


async def test_csv_has_stable_metrics_dot_decimals_and_notes(core: Core, clock: FakeClock) -> None:
    office, _, _ = await full_round(core, clock)
    rows = list(csv.DictReader(io.StringIO((await report(office)).to_csv())))
    assert list(rows[0]) == ["section", "metric", "value", "note"]
    values = {row["metric"]: (row["value"], row["note"]) for row in rows}
    assert values["applications_received"] == ("16", "")
    assert values["excluded_pension"] == ("<3", "fewer_than_3")
    assert values["excluded_liquidity"] == ("4", "")
    assert values["members_1"] == ("8", "")
    assert values["members_2"] == ("3", "")
    assert values["members_7_or_more"] == ("<3", "fewer_than_3")
    assert values["credited"] == ("2650.00", "")
    assert values["spent_at_shops"] == ("*", "would_reveal_a_withheld_sum")
    assert values["refunded"] == ("*", "sum_over_fewer_than_3_households")
    assert values["reimbursed_to_shops"] == ("150.00", "")
    assert values["approved_shops"] == ("1", "")
    assert values["tranche_1_budget"] == ("3000.00", "")
    assert values["tranche_1_approved"] == ("2650.00", "")
    assert values["tranche_1_beneficiaries"] == ("10", "")
    assert values["round"] == ("1", "")


async def test_markdown_explains_the_suppression(core: Core, clock: FakeClock) -> None:
    office, _, _ = await full_round(core, clock)
    text = (await report(office)).to_markdown("en")
    assert text.startswith("# ")
    assert "Comune di Belforte del Chienti" in text
    assert "| Applications received | 16 |" in text
    assert "| Excluded: pension | <3 |" in text
    assert "| Excluded: liquidity above the limit | 4 |" in text
    assert '"<3"' in text and "no codice fiscale" in text
    assert "2,650.00" in text  # money in the reader's locale
    # Every table row has the same number of cells as its header.
    for block in text.split("\n\n"):
        table = [line for line in block.splitlines() if line.startswith("|")]
        if table:
            assert len({line.count("|") for line in table}) == 1, block


async def test_no_published_sum_gives_a_withheld_one_away(core: Core, clock: FakeClock) -> None:
    """The trial's season in small: two households, a budget spent to the cent, one of them
    spends 12,50 + 7,00 € and the shop is reimbursed all of it."""
    office = await open_round(core, clock)
    buyer, other = person(1, 1), person(2, 1)
    await apply(office, buyer, other)
    await close_approve_credit(office, 300_00)  # 150 € each: the budget to the cent
    await pay(office, office.shop_ids[0], buyer, 12_50)
    await pay(office, office.shop_ids[0], buyer, 7_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await settle(uow, town, clock(), date(2026, 4, 30))
        await uow.commit()

    result = await report(office)
    assert result.spent_at_shops == FEW
    assert result.reimbursed_to_shops == REVEALS  # equal to what was spent
    tranche = result.tranches[0]
    assert tranche.approved == FEW
    assert tranche.budget_cents == 300_00  # the determina's, kept for the office
    assert tranche.published_budget == REVEALS  # spent to the cent: equal to approved
    assert result.credited == FEW  # two households, withheld in its own right
    rows = {
        row["metric"]: (row["value"], row["note"])
        for row in csv.DictReader(io.StringIO(result.to_csv()))
    }
    for metric in ("reimbursed_to_shops", "tranche_1_budget"):
        assert rows[metric] == ("*", "would_reveal_a_withheld_sum"), metric
    rendered = result.to_csv() + result.to_markdown("it") + result.to_markdown("en")
    for amount in ("19.50", "19,50", "300.00", "300,00"):
        assert amount not in rendered, amount
    assert "by subtraction" in result.to_markdown("en")
    await assert_ledger_ok(core, office.municipality_id)


async def test_report_before_any_allocation(core: Core, clock: FakeClock) -> None:
    office = await open_round(core, clock)
    await apply(office, *households()[:5])
    result = await report(office)
    assert result.applications_received == Figure(5)
    assert result.not_allocated == Figure(5)
    assert result.admitted_list_1 == result.admitted_list_2 == result.excluded == Figure(0)
    assert result.tranches == []
    assert result.credited == Figure(0)
    assert result.revocations == Figure(0)
    assert result.to_recover == Figure(0)


async def test_report_counts_only_its_own_municipality(core: Core, clock: FakeClock) -> None:
    office = await open_round(core, clock, code="NEW")
    other = await open_round(core, clock, code="OLD")
    await apply(other, *households()[:4])
    result = await report(office)
    assert result.applications_received == Figure(0)
    assert result.round_number == 1
    assert result.approved_shops == 1


async def test_a_small_town_cannot_subtract_its_way_to_the_excluded(
    core: Core, clock: FakeClock
) -> None:
    # 8 applications, 7 paid on list 1, 1 excluded for a pension. Published before: received
    # 8, list 1 7, not allocated 0, tranche beneficiaries 7 -> 8 - 7 - 0 = 1 excluded.
    office = await open_round(core, clock)
    await apply(office, *[person(i, 1) for i in range(7)], person(7, 1, pension=True))
    await close_approve_credit(office, 10_000_00)
    result = await report(office)
    assert result.excluded == SMALL and result.excluded_by_reason["pension"] == SMALL
    published = {
        "received": result.applications_received,
        "list_1": result.admitted_list_1,
        "list_2": result.admitted_list_2,
        "excluded": result.excluded,
        "not_allocated": result.not_allocated,
        "paid": result.tranches[0].beneficiaries,
    }
    # "<3" stands for 0, 1 or 2, and the report says so (else a reader would take it as 1
    # or 2, and 8 = 7 + "<3" would pin it).
    assert '"<3" (as is a 0 that would let one be worked out)' in result.to_markdown("en")
    # What a reader can deduce for "excluded" from these figures and the relations:
    # received = list 1 + list 2 + excluded + not allocated, paid <= list 1 + list 2.
    possible = {
        excluded
        for received, l1, l2, excluded, not_allocated, paid in product(
            *(candidates(figure) for figure in published.values())
        )
        if received == l1 + l2 + excluded + not_allocated and paid <= l1 + l2
    }
    assert len(possible) >= 2 and 1 in possible


def candidates(figure: Figure) -> range:
    if figure.value is not None:
        return range(figure.value, figure.value + 1)
    return range(0, 3) if figure.withheld is Withheld.SMALL else range(3, 20)


# The metrics of the report's first version, in their order (tranches aside): a reader of
# the CSV by position finds them where they were; later metrics come after the tranches.
FIRST_METRICS = [
    "municipality", "round", "generated_at", "applications_received", "admitted_list_1",
    "admitted_list_2", "excluded", "excluded_work_income", "excluded_pension",
    "excluded_liquidity", "not_allocated", "members_1", "members_2", "members_3", "members_4",
    "members_5", "members_6", "members_7_or_more", "credited", "spent_at_shops", "refunded",
    "reimbursed_to_shops", "returned_by_revocation", "donations", "donations_granted",
    "approved_shops", "revocations", "to_recover",
]  # fmt: skip


async def test_revocations_undone_and_withdrawals_reconcile_with_the_ledger(
    core: Core, clock: FakeClock
) -> None:
    """21 paper applications, 3 withdrawn; 18 credited 150 € each; 6 revoked, 3 of those
    undone. The report counts the withdrawn on their own line, publishes what revocations
    returned net of the undone ones, and its money lines add up to the ledger's balances."""
    office = await open_round(core, clock)
    people = [person(i, 1) for i in range(21)]
    protocols = await paper(office, *people)
    clerk = await operator(core, office.code, "clerk")
    for protocol in protocols[18:]:
        async with core.uow() as uow:
            await application_desk.withdraw(
                uow, clerk, protocol, "Renounced in person", clock(), confirmed=True
            )
    await close_approve_credit(office, 10_000_00)
    shop = office.shop_ids[0]
    for data in people[:4]:
        await pay(office, shop, data, 30_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        for protocol in protocols[:6]:
            await revoke(uow, town, protocol, clock())
        await uow.commit()
    clock.advance(hours=1)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        for protocol in protocols[:3]:
            await undo_revocation(uow, town, protocol, "Checked again: true", clock(), "cli:t")
        await uow.commit()

    result = await report(office)
    assert result.applications_received == Figure(21)
    assert result.admitted_list_1 == Figure(18)
    assert result.withdrawn == Figure(3)
    assert result.not_allocated == Figure(0)
    assert result.revocations == Figure(3)  # the standing ones
    # Revoked: 4 households with 120 € left, 2 with 150 €; undone: the first three (120 €).
    assert result.given_back_by_undo == Figure(3 * 120_00)
    assert result.returned_by_revocation == Figure(120_00 + 2 * 150_00)

    async with core.uow() as uow:
        balances = dict(
            (
                await uow.session.execute(
                    select(m.Account.kind, func.sum(m.Account.balance_cents))
                    .where(m.Account.municipality_id == office.municipality_id)
                    .group_by(m.Account.kind)
                )
            ).all()
        )
    money = {
        name: figure.value
        for name, figure in {
            "credited": result.credited,
            "spent": result.spent_at_shops,
            "refunded": result.refunded,
            "reimbursed": result.reimbursed_to_shops,
            "returned": result.returned_by_revocation,
        }.items()
    }
    assert None not in money.values()
    assert balances[AccountKind.CITIZEN] == (
        money["credited"] - money["spent"] + money["refunded"] - money["returned"]  # type: ignore[operator]
    )
    assert balances[AccountKind.FUND] == money["returned"] - money["credited"]  # type: ignore[operator]
    assert balances[AccountKind.SHOP] == (
        money["spent"] - money["refunded"] - money["reimbursed"]  # type: ignore[operator]
    )
    await assert_ledger_ok(core, office.municipality_id)

    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    metrics = [row["metric"] for row in rows]
    assert [x for x in metrics if not x.startswith("tranche_")][: len(FIRST_METRICS)] == (
        FIRST_METRICS
    )
    # Then the metrics added later, then the economie's rows (the last added).
    assert metrics[-4:] == [
        "withdrawn",
        "given_back_by_undone_revocations",
        "tranche_1_freed_by_economie",
        "tranche_1_committed",
    ]
    values = {row["metric"]: row["value"] for row in rows}
    assert values["returned_by_revocation"] == "420.00"
    assert values["given_back_by_undone_revocations"] == "360.00"
    assert values["withdrawn"] == "3"
    text = result.to_markdown("en")
    assert "| Returned to the fund by revocations, net of those undone | €420.00 |" in text
    assert "| Given back to households by revocations undone | €360.00 |" in text
    assert "| Withdrawn by the office before the allocation | 3 |" in text


async def free(office: Office, cents: int, reference: str) -> None:
    """The town's economia of `cents` of its latest determina's rest, approved now."""
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        rest = (await economia.rests(uow, town))[-1]
        await economia.free(
            uow,
            town,
            rest.allocation_id,
            cents,
            reference,
            office.clock().date(),
            office.clock(),
            actor="cli:test",
            operator_id=None,
            act_id=None,
        )
        await uow.commit()


async def test_the_economie_are_published_beside_each_tranche_s_budget(
    core: Core, clock: FakeClock
) -> None:
    """A determina of 3.000 € allocated 2.650 €; the town's acts freed 200 € of its rest, in
    two economie. The report says, beside the budget, what economie freed and what the
    determina still commits (2.800 €); the CSV keeps every earlier row where it was and
    adds its two rows at the end; the page's table has the two columns."""
    office, _, _ = await full_round(core, clock)
    before = list(csv.DictReader(io.StringIO((await report(office)).to_csv())))
    await free(office, 150_00, "det. n. 12/2026")
    await free(office, 50_00, "det. n. 13/2026")

    result = await report(office)
    tranche = result.tranches[0]
    assert (tranche.published_budget, tranche.freed) == (Figure(3_000_00), Figure(200_00))
    assert tranche.committed == Figure(2_800_00)
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    # The same rows in the same order as before the economie, only the last two changed.
    assert [row["metric"] for row in rows] == [row["metric"] for row in before]
    assert rows[:-2] == before[:-2]
    assert [(row["section"], row["metric"], row["value"]) for row in before[-2:]] == [
        ("tranches", "tranche_1_freed_by_economie", "0.00"),
        ("tranches", "tranche_1_committed", "3000.00"),
    ]
    assert [(row["section"], row["metric"], row["value"]) for row in rows[-2:]] == [
        ("tranches", "tranche_1_freed_by_economie", "200.00"),
        ("tranches", "tranche_1_committed", "2800.00"),
    ]
    text = result.to_markdown("en")
    assert "| Tranche | Approved on | Budget | Freed by economie | Still committed |" in text
    assert "| €3,000.00 | €200.00 | €2,800.00 | €2,650.00 | 10 |" in text, text
    italian = result.to_markdown("it")
    assert "| Liberato da economie | Ancora impegnato |" in italian, italian


async def test_an_economia_that_would_give_a_withheld_amount_away_is_withheld(
    core: Core, clock: FakeClock
) -> None:
    """Two households of one get 150 € each (a sum of fewer than 3 households, withheld)
    from a budget of 400 €; the town frees the other 100 €. Budget − freed would be what
    the two received: the report does not publish both."""
    office = await open_round(core, clock)
    await apply(office, person(1, 1), person(2, 1))
    await close_approve_credit(office, 400_00)
    await free(office, 100_00, "det. n. 5/2026")

    tranche = (await report(office)).tranches[0]
    assert tranche.approved == FEW
    assert None in (tranche.published_budget.value, tranche.freed.value), tranche
    assert tranche.committed.value is None
    rendered = (await report(office)).to_csv() + (await report(office)).to_markdown("it")
    for amount in ("300.00", "300,00"):
        assert amount not in rendered, amount
