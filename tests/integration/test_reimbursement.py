"""Reimbursing shops: amounts due, settlement postings and the SEPA file, on both databases."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.render import render_plain
from core.domain.errors import Conflict, NotAllowed
from core.domain.ledger import PostingKind
from core.domain.messages import reply_from_json
from core.domain.sepa import NAMESPACE, summarize
from core.services import (
    act_figures,
    activity,
    acts,
    charges,
    ledger,
    municipalities,
    operators,
)
from core.services.applications import ApplicationInput
from core.services.reimbursement import (
    APPROVE_ACTION,
    BalancesChanged,
    ExecutionDateInPast,
    ExecutionDateTooLate,
    LessOwed,
    MunicipalityHasNoIban,
    NameNotInSepa,
    NothingToReimburse,
    PaidSince,
    pending_reimbursements,
    runs,
    settle,
)
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import owner_chat
from tests.integration.office_helpers import (
    TOWN_IBAN,
    Office,
    apply,
    assert_ledger_ok,
    close_approve_credit,
    italian_iban,
    open_round,
    pay,
    person,
)

NS = {"p": NAMESPACE}
EXECUTION = date(2026, 4, 20)
ROME = ZoneInfo("Europe/Rome")


async def due(office: Office) -> list[tuple[int, int]]:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        return [(shop.id, cents) for shop, cents in await pending_reimbursements(uow, town)]


async def run_settlement(office: Office, execution: date = EXECUTION) -> tuple[m.Settlement, bytes]:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        settlement, xml = await settle(uow, town, office.clock(), execution)
        await uow.commit()
        return settlement, xml


async def spending_town(core: Core, clock: FakeClock) -> tuple[Office, list[ApplicationInput]]:
    """Two approved shops and three one-person households credited 150 € each."""
    office = await open_round(core, clock, shops=2)
    people = [person(1), person(2), person(3)]
    await apply(office, *people)
    await close_approve_credit(office, 1_000_00)
    return office, people


async def refund(office: Office, shop_id: int, charge_id: int) -> None:
    """The shop's owner refunds the payment `charge_id` from their own chat."""
    async with office.core.uow() as uow:
        by = await owner_chat(uow, shop_id)
        await charges.refund_charge(
            uow, charge_id=charge_id, shop_id=shop_id, by=by, now=office.clock()
        )
        await uow.commit()


def local(moment: datetime) -> datetime:
    return moment.astimezone(ROME)


async def test_nothing_is_due_before_any_payment(core: Core, clock: FakeClock) -> None:
    office, _ = await spending_town(core, clock)
    assert await due(office) == []
    with pytest.raises(NothingToReimburse):
        await run_settlement(office)
    await assert_ledger_ok(core, office.municipality_id)


async def test_settlement_pays_each_shop_its_balance_and_writes_the_sepa_file(
    core: Core, clock: FakeClock
) -> None:
    office, people = await spending_town(core, clock)
    first, second = office.shop_ids
    await pay(office, first, people[0], 12_50)
    await pay(office, first, people[1], 30_00)
    await pay(office, second, people[2], 7_05)
    assert sorted(await due(office)) == sorted([(first, 42_50), (second, 7_05)])

    async with core.uow() as uow:
        payments_before = [
            (p.id, p.amount_cents, p.from_account_id, p.to_account_id)
            for p in await uow.session.scalars(select(m.Posting).order_by(m.Posting.id))
        ]

    settlement, xml = await run_settlement(office)

    assert settlement.total_cents == 49_55
    assert re.fullmatch(r"BEL-\d{14}-1", settlement.message_id)
    assert settlement.message_id == f"BEL-{local(clock()):%Y%m%d%H%M%S}-1"
    root = ET.fromstring(xml)
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS) == (
        settlement.message_id
    )
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "49.55"
    assert root.findtext(".//p:ReqdExctnDt", namespaces=NS) == "2026-04-20"
    assert root.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == TOWN_IBAN
    assert root.findtext(".//p:Dbtr/p:Nm", namespaces=NS) == "Comune di Belforte del Chienti"
    transfers = {
        item.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS): (
            item.findtext("p:Amt/p:InstdAmt", namespaces=NS),
            item.findtext("p:Cdtr/p:Nm", namespaces=NS),
            item.findtext("p:RmtInf/p:Ustrd", namespaces=NS),
        )
        for item in root.iterfind(".//p:CdtTrfTxInf", NS)
    }
    period = f"{local(clock()):%d/%m/%Y}-{local(clock()):%d/%m/%Y}"
    remittance = f"Buoni spesa Comune di Belforte del Chienti rimborso {period}"
    # Shop names are written in the SEPA character set: "Nò" becomes "No".
    assert transfers == {
        italian_iban(1): ("42.50", "Alimentari No0", remittance),
        italian_iban(2): ("7.05", "Alimentari No1", remittance),
    }

    async with core.uow() as uow:
        postings = list(await uow.session.scalars(select(m.Posting).order_by(m.Posting.id)))
        reimbursements = [p for p in postings if p.kind == PostingKind.REIMBURSEMENT.value]
        assert sorted(p.amount_cents for p in reimbursements) == [7_05, 42_50]
        assert {p.settlement_id for p in reimbursements} == {settlement.id}
        # Append-only: every earlier posting is still there, unchanged.
        assert [
            (p.id, p.amount_cents, p.from_account_id, p.to_account_id)
            for p in postings[: len(payments_before)]
        ] == payments_before
        assert await ledger.shop_balance(uow, office.municipality_id, first) == 0
        assert await ledger.shop_balance(uow, office.municipality_id, second) == 0
        stored = await uow.session.get(m.Settlement, settlement.id)
        assert stored is not None and stored.total_cents == 49_55
    assert await due(office) == []
    await assert_ledger_ok(core, office.municipality_id)


async def test_next_settlement_covers_only_what_was_earned_since(
    core: Core, clock: FakeClock
) -> None:
    office, people = await spending_town(core, clock)
    first, second = office.shop_ids
    await pay(office, first, people[0], 10_00)
    settlement_1, _ = await run_settlement(office)
    with pytest.raises(NothingToReimburse):
        await run_settlement(office)

    clock.advance(days=2)
    await pay(office, second, people[1], 20_00)
    await pay(office, first, people[2], 1_00)
    settlement_2, xml = await run_settlement(office)

    assert settlement_2.message_id.endswith("-2") and settlement_2.message_id != (
        settlement_1.message_id
    )
    assert settlement_2.total_cents == 21_00
    root = ET.fromstring(xml)
    amounts = sorted(x.text or "" for x in root.iterfind(".//p:InstdAmt", NS))
    assert amounts == ["1.00", "20.00"]
    # The period starts at the previous settlement.
    ustrd = root.findtext(".//p:Ustrd", namespaces=NS) or ""
    start, end = local(settlement_1.created_at), local(clock())
    assert ustrd.endswith(f"rimborso {start:%d/%m/%Y}-{end:%d/%m/%Y}")
    await assert_ledger_ok(core, office.municipality_id)


async def test_a_same_day_refund_reduces_what_is_due(core: Core, clock: FakeClock) -> None:
    office, people = await spending_town(core, clock)
    first = office.shop_ids[0]
    await pay(office, first, people[0], 40_00)
    refunded = await pay(office, first, people[1], 15_00)
    await refund(office, first, refunded)
    assert await due(office) == [(first, 40_00)]
    settlement, _ = await run_settlement(office)
    assert settlement.total_cents == 40_00
    # Once settled, the money has left the shop's account: it can no longer refund it.
    last = await pay(office, first, people[2], 5_00)
    await run_settlement(office)
    with pytest.raises(NotAllowed):
        await refund(office, first, last)
    await assert_ledger_ok(core, office.municipality_id)


async def test_refused_without_the_municipality_iban(core: Core, clock: FakeClock) -> None:
    office = await open_round(core, clock, code="NOI", iban=None)
    with pytest.raises(MunicipalityHasNoIban) as caught:
        await run_settlement(office)
    assert caught.value.code == "reimbursement.no_iban"
    async with core.uow() as uow:
        assert list(await uow.session.scalars(select(m.Settlement))) == []


async def test_refused_with_an_execution_date_in_the_past(core: Core, clock: FakeClock) -> None:
    office, people = await spending_town(core, clock)
    await pay(office, office.shop_ids[0], people[0], 1_00)
    with pytest.raises(ExecutionDateInPast):
        await run_settlement(office, execution=date(2026, 4, 1))
    assert await due(office) == [(office.shop_ids[0], 1_00)]
    await assert_ledger_ok(core, office.municipality_id)


async def test_settlement_is_per_municipality(core: Core, clock: FakeClock) -> None:
    office, people = await spending_town(core, clock)
    other = await open_round(core, clock, code="OTH")
    await pay(office, office.shop_ids[0], people[0], 3_00)
    with pytest.raises(NothingToReimburse):
        await run_settlement(other)
    settlement, _ = await run_settlement(office)
    assert settlement.municipality_id == office.municipality_id
    await assert_ledger_ok(core, office.municipality_id)
    await assert_ledger_ok(core, other.municipality_id)


async def test_concurrent_settlements_pay_once(core: Core, clock: FakeClock) -> None:
    office, people = await spending_town(core, clock)
    for index, data in enumerate(people):
        await pay(office, office.shop_ids[index % 2], data, 10_00 + index)

    outcomes = await asyncio.gather(
        *(run_settlement(office) for _ in range(4)), return_exceptions=True
    )

    settled = [x for x in outcomes if not isinstance(x, BaseException)]
    refused = [x for x in outcomes if isinstance(x, BaseException)]
    assert len(settled) == 1 and settled[0][0].total_cents == 30_03
    # A run that waited for the winner finds nothing left, or its guarded debit refuses.
    assert all(isinstance(x, NothingToReimburse | BalancesChanged) for x in refused), refused
    async with core.uow() as uow:
        assert len(list(await uow.session.scalars(select(m.Settlement)))) == 1
        reimbursed = await uow.session.scalars(
            select(m.Posting.amount_cents).where(m.Posting.kind == PostingKind.REIMBURSEMENT.value)
        )
        assert sum(reimbursed) == 30_03
    assert await due(office) == []
    await assert_ledger_ok(core, office.municipality_id)


async def rename_shop(office: Office, shop_id: int, name: str) -> None:
    """A shop's name as registered (the chat takes any script)."""
    async with office.core.uow() as uow:
        shop = await uow.session.get(m.Shop, shop_id)
        assert shop is not None
        shop.name = name
        await uow.commit()


async def test_a_name_in_another_script_is_transliterated_in_the_file(
    core: Core, clock: FakeClock
) -> None:
    office, people = await spending_town(core, clock)
    first, _ = office.shop_ids
    await rename_shop(office, first, "Alimentari Đặng & Søn — 日本")
    await pay(office, first, people[0], 10_00)
    _, xml = await run_settlement(office)
    names = [e.text for e in ET.fromstring(xml).iterfind(".//p:Cdtr/p:Nm", NS)]
    assert names == ["Alimentari Dang + Son - Ri Ben"]


async def test_a_name_sepa_cannot_write_refuses_the_run_naming_the_shop(
    core: Core, clock: FakeClock
) -> None:
    office, people = await spending_town(core, clock)
    first, second = office.shop_ids
    await rename_shop(office, second, "🍞🥖")
    await pay(office, first, people[0], 10_00)
    await pay(office, second, people[1], 5_00)
    with pytest.raises(NameNotInSepa) as caught:
        await run_settlement(office)
    assert caught.value.code == "reimbursement.name_not_sepa"
    assert caught.value.params == {"name": "🍞🥖", "shop_id": second}
    # Nothing was settled: no run, both shops still owed.
    async with core.uow() as uow:
        assert list(await uow.session.scalars(select(m.Settlement))) == []
    assert sorted(await due(office)) == sorted([(first, 10_00), (second, 5_00)])


async def test_each_shop_owner_is_told_the_transfer_in_the_run(
    core: Core, clock: FakeClock
) -> None:
    office, people = await spending_town(core, clock)
    first, second = office.shop_ids
    await pay(office, first, people[0], 12_50)
    await pay(office, first, people[1], 30_00)
    async with core.uow() as uow:
        shop = await uow.shops.by_id(first)
        assert shop is not None
        [owner] = await uow.shops.members_of(first)
        iban_end = shop.iban[-4:]
    settlement, _ = await run_settlement(office)
    async with core.uow() as uow:
        rows = list(
            await uow.session.scalars(
                select(m.OutboxMessage).where(m.OutboxMessage.address == owner.address)
            )
        )
        other = await uow.shops.members_of(second)
        to_other = await uow.session.scalars(
            select(m.OutboxMessage).where(m.OutboxMessage.address == other[0].address)
        )
        told_other = [row for row in to_other if "Rimborso" in render_row(row)]
    [notice] = [row for row in rows if "Rimborso" in render_row(row)]
    text = render_row(notice)
    assert "42,50" in text and iban_end in text and settlement.message_id in text
    assert f"{EXECUTION:%d/%m/%Y}" in text
    # The second shop earned nothing: it is not told of a transfer.
    assert told_other == []


def render_row(row: m.OutboxMessage) -> str:
    return render_plain(reply_from_json(row.payload), row.language, sms=row.channel == "sms")


# --- the act under four eyes: it pays what was prepared and shown ------------------------------


async def _staff(office: Office) -> tuple[m.Operator, m.Operator]:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        clerk, _ = await operators.add_operator(
            uow, town, f"{office.code.lower()}.r.clerk", "clerk", office.clock(), password="x" * 12
        )
        boss, _ = await operators.add_operator(
            uow, town, f"{office.code.lower()}.r.boss", "manager", office.clock(), password="x" * 12
        )
        await uow.commit()
        return clerk, boss


async def _prepare(office: Office, clerk: m.Operator, execution: date) -> m.OfficeAct:
    async with office.core.uow() as uow:
        return await acts.prepare(
            uow,
            clerk,
            acts.ActKind.REIMBURSEMENT,
            {"execution_date": execution.isoformat()},
            office.clock(),
        )


async def _approve(office: Office, boss: m.Operator, act_id: int, seen: str | None = None) -> Any:
    async with office.core.uow() as uow:
        return await acts.approve(uow, boss, act_id, office.clock(), seen)


async def test_an_act_pays_what_was_prepared_and_a_later_payment_waits_for_the_next(
    core: Core, clock: FakeClock
) -> None:
    office, people = await spending_town(core, clock)
    first, second = office.shop_ids
    clerk, boss = await _staff(office)
    await pay(office, first, people[0], 12_50)
    act = await _prepare(office, clerk, EXECUTION)
    assert act.params["total_cents"] == 12_50
    assert [row[0::2] for row in act.params["shops"]] == [[first, 12_50]]
    shown = act_figures.recorded_reimbursement(act.params)
    assert shown is not None and shown.state == act.params["state"]

    clock.advance(minutes=5)
    await pay(office, first, people[1], 7_00)  # between preparation and approval
    await pay(office, second, people[2], 3_00)  # a shop not in the act at all

    approved = await _approve(office, boss, act.id, shown.state)
    assert approved.outcome["total_cents"] == 12_50
    assert approved.document is not None and summarize(approved.document) == (1, 12_50)
    root = ET.fromstring(approved.document)
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "12.50"
    async with core.uow() as uow:
        assert await ledger.shop_balance(uow, office.municipality_id, first) == 7_00
        assert await ledger.shop_balance(uow, office.municipality_id, second) == 3_00
        reimbursed = await uow.session.scalars(
            select(m.Posting.amount_cents).where(m.Posting.kind == PostingKind.REIMBURSEMENT.value)
        )
        assert list(reimbursed) == [12_50]
    assert sorted(await due(office)) == sorted([(first, 7_00), (second, 3_00)])
    await assert_ledger_ok(core, office.municipality_id)

    # The next act covers exactly what waited.
    clock.advance(days=1)
    following = await _prepare(office, clerk, EXECUTION)
    assert following.params["total_cents"] == 10_00
    done = await _approve(office, boss, following.id)
    assert done.document is not None and summarize(done.document) == (2, 10_00)
    assert await due(office) == []
    async with core.uow() as uow:
        reimbursed = await uow.session.scalars(
            select(m.Posting.amount_cents).where(m.Posting.kind == PostingKind.REIMBURSEMENT.value)
        )
        assert sorted(reimbursed) == [3_00, 7_00, 12_50]
    await assert_ledger_ok(core, office.municipality_id)


async def test_an_act_is_refused_when_a_shop_is_owed_less_than_it_pays(
    core: Core, clock: FakeClock
) -> None:
    office, people = await spending_town(core, clock)
    first = office.shop_ids[0]
    clerk, boss = await _staff(office)
    await pay(office, first, people[0], 40_00)
    refunded = await pay(office, first, people[1], 15_00)
    act = await _prepare(office, clerk, EXECUTION)
    assert act.params["total_cents"] == 55_00
    await refund(office, first, refunded)
    with pytest.raises(LessOwed) as caught:
        await _approve(office, boss, act.id)
    assert caught.value.params["owed_cents"] == 40_00
    async with core.uow() as uow:
        assert await ledger.shop_balance(uow, office.municipality_id, first) == 40_00
        assert list(await uow.session.scalars(select(m.Settlement))) == []
        stored = await uow.session.get(m.OfficeAct, act.id)
        assert stored is not None and stored.status == "prepared"
    await assert_ledger_ok(core, office.municipality_id)


async def test_an_act_prepared_before_another_run_is_refused_saying_that_run_paid(
    core: Core, clock: FakeClock
) -> None:
    office, people = await spending_town(core, clock)
    first = office.shop_ids[0]
    clerk, boss = await _staff(office)
    await pay(office, first, people[0], 40_00)
    act = await _prepare(office, clerk, EXECUTION)
    # The command line's run, after the act's cut-off: everything owed, its file kept.
    clock.advance(minutes=10)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        settlement, xml = await settle(uow, town, clock(), EXECUTION)
        await activity.by_actor(
            uow,
            town.id,
            "cli:anna.rossi",
            APPROVE_ACTION,
            now=clock(),
            subject=settlement.message_id,
        )
        await uow.commit()
    clock.advance(minutes=10)
    with pytest.raises(PaidSince) as caught:
        await _approve(office, boss, act.id)
    assert caught.value.params == {
        "message_id": settlement.message_id,
        "day": local(settlement.created_at).date().isoformat(),
    }
    async with core.uow() as uow:
        assert await ledger.shop_balance(uow, office.municipality_id, first) == 0
        stored = list(await uow.session.scalars(select(m.Settlement)))
        assert [(s.id, s.document) for s in stored] == [(settlement.id, xml)]
        act_now = await uow.session.get(m.OfficeAct, act.id)
        assert act_now is not None and act_now.status == "prepared"
        listed = await runs(uow, office.municipality_id)
    assert [(r.settlement.message_id, r.has_file, r.act, r.ordered_by) for r in listed] == [
        (settlement.message_id, True, None, "cli:anna.rossi")
    ]
    await assert_ledger_ok(core, office.municipality_id)


async def test_an_act_with_other_figures_than_shown_is_refused(
    core: Core, clock: FakeClock
) -> None:
    office, people = await spending_town(core, clock)
    clerk, boss = await _staff(office)
    await pay(office, office.shop_ids[0], people[0], 5_00)
    act = await _prepare(office, clerk, EXECUTION)
    with pytest.raises(Conflict) as caught:
        await _approve(office, boss, act.id, seen="0123456789abcdef")
    assert caught.value.code == "act.figures_changed"
    assert await due(office) == [(office.shop_ids[0], 5_00)]


async def test_an_act_dated_in_the_past_is_refused_when_prepared(
    core: Core, clock: FakeClock
) -> None:
    office, people = await spending_town(core, clock)
    clerk, _ = await _staff(office)
    await pay(office, office.shop_ids[0], people[0], 5_00)
    with pytest.raises(ExecutionDateInPast) as caught:
        await _prepare(office, clerk, date(2020, 1, 1))
    assert caught.value.params["execution_date"] == "2020-01-01"
    async with core.uow() as uow:
        assert list(await uow.session.scalars(select(m.OfficeAct))) == []


async def test_an_execution_date_more_than_ninety_days_ahead_is_refused(
    core: Core, clock: FakeClock
) -> None:
    office, people = await spending_town(core, clock)
    clerk, _ = await _staff(office)
    await pay(office, office.shop_ids[0], people[0], 5_00)
    today = clock().astimezone(ROME).date()
    latest = today + timedelta(days=90)
    for day in (date(9999, 12, 31), latest + timedelta(days=1)):
        with pytest.raises(ExecutionDateTooLate) as caught:
            await _prepare(office, clerk, day)
        assert caught.value.params == {
            "execution_date": day.isoformat(),
            "latest": latest.isoformat(),
        }
        # The command line's run (no act) is held to the same day.
        with pytest.raises(ExecutionDateTooLate):
            await run_settlement(office, execution=day)
    async with core.uow() as uow:
        assert list(await uow.session.scalars(select(m.OfficeAct))) == []
    assert await due(office) == [(office.shop_ids[0], 5_00)]
    act = await _prepare(office, clerk, latest)  # the 90th day is still allowed
    assert act.params["execution_date"] == latest.isoformat()
