"""The notice of a decision that pays nothing, on both databases: queued by the credit run
to every applicant it decided without paying, once per application, in their language and
channel; the appeal window starts at it and ends with the day it names."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.render import render_plain
from core.domain.errors import Conflict
from core.domain.messages import Day, Reply
from core.i18n import render_text
from core.services import act_figures, allocation, appeals, municipalities
from core.services.applications import ApplicationInput
from core.services.outbox import NOTICE_LANE, reply_of
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, param
from tests.integration.office_helpers import (
    Office,
    apply,
    close_approve_credit,
    close_window,
    open_round,
    person,
    wrote_stop,
)

PENSION = (
    "Application {protocol}: not admitted, because someone in the household receives a pension."
)
RAN_OUT = "Application {protocol}: admitted, but the budget ran out before your turn."
APPEAL_HINT = "Appeal: write RICORSO and the reason by {day}."
ROME = ZoneInfo("Europe/Rome")

PAID = person(0)  # list 1, 150 €
EXCLUDED = dataclasses.replace(person(1, pension=True), language="en")
LIST_2 = person(2, support_cents=100_00)  # public support: list 2, after list 1


async def decision_rows(core: Core) -> list[tuple[m.OutboxMessage, Reply]]:
    async with core.uow() as uow:
        rows = await uow.session.scalars(
            select(m.OutboxMessage)
            .where(m.OutboxMessage.application_id.is_not(None))
            .order_by(m.OutboxMessage.id)
        )
        return [(row, reply_of(uow.keys, row)) for row in rows]


async def application(core: Core, protocol: str) -> m.Application:
    async with core.uow() as uow:
        found = await uow.applications.by_protocol(protocol)
        assert found is not None
        return found


async def appealable_until(core: Core, data: ApplicationInput, now: datetime) -> datetime:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        citizen = await uow.citizens.by_codice_fiscale(town.id, data.codice_fiscale)
        assert citizen is not None
        return (await appeals.check_appealable(uow, town, citizen, now)).until


async def three_decided(core: Core, clock: FakeClock) -> tuple[Office, list[str], datetime]:
    office = await open_round(core, clock)
    protocols = await apply(office, PAID, EXCLUDED, LIST_2)
    await close_approve_credit(office, 150_00)  # list 1 only: list 2 gets nothing
    return office, protocols, clock()


async def test_every_applicant_decided_without_money_is_told_once(
    core: Core, clock: FakeClock
) -> None:
    office, (paid, excluded, waiting), credited_at = await three_decided(core, clock)
    rows = await decision_rows(core)
    by_application = {row.application_id: (row, reply) for row, reply in rows}
    assert len(rows) == 2 == len(by_application)
    excluded_app, waiting_app = await application(core, excluded), await application(core, waiting)
    assert (await application(core, paid)).decision_notified_at is None
    assert excluded_app.decision_notified_at == credited_at
    assert waiting_app.decision_notified_at == credited_at
    last_day = (credited_at + timedelta(days=30)).astimezone(ROME).date()
    # The excluded applicant: the reason STATO gives, and the appeal's last day, in English.
    row, reply = by_application[excluded_app.id]
    assert (row.channel, row.address, row.language) == ("sms", EXCLUDED.phone, "en")
    assert row.lane == NOTICE_LANE and row.created_at == credited_at
    assert [text.msgid for text in reply.texts] == [PENSION, APPEAL_HINT]
    assert reply.texts[0].params["protocol"] == excluded
    assert reply.texts[1].params["day"] == Day(last_day)
    body = render_text(reply.texts[1], "en", sms=True)
    assert "write APPEAL" in body and last_day.strftime("%d/%m/%Y") in body
    # The one left without money, in Italian.
    row, reply = by_application[waiting_app.id]
    assert row.language == "it" and [text.msgid for text in reply.texts] == [RAN_OUT, APPEAL_HINT]
    assert "entro il " + last_day.strftime("%d/%m/%Y") in render_text(reply.texts[1], "it")
    # The window starts at the notice and ends with the day it names, in the town's time.
    until = await appealable_until(core, EXCLUDED, credited_at)
    assert until == datetime.combine(last_day + timedelta(days=1), datetime.min.time(), ROME)
    assert await appealable_until(core, EXCLUDED, until - timedelta(seconds=1)) == until
    with pytest.raises(Conflict):
        await appealable_until(core, EXCLUDED, until)

    # A second tranche: the excluded applicant is not told again, nor is the paid one (who
    # gets nothing more), and their windows do not move; the one paid now gets its credit.
    clock.advance(days=2)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await allocation.approve(uow, town, 1_000_00, clock())
        await allocation.credit(uow, town, clock())
        await uow.commit()
    assert [row.id for row, _ in await decision_rows(core)] == [row.id for row, _ in rows]
    assert (await application(core, excluded)).decision_notified_at == credited_at
    assert await appealable_until(core, EXCLUDED, clock()) == until
    # Paid by the second tranche: its window starts at that credit's notice.
    later = await appealable_until(core, LIST_2, clock())
    assert later.astimezone(ROME).date() == (clock() + timedelta(days=31)).astimezone(ROME).date()


async def test_a_household_that_wrote_stop_is_told_its_decision_all_the_same(
    core: Core, clock: FakeClock
) -> None:
    """STOP by SMS may be forged: a decision whose days to appeal run from the credit is no
    general notice, and goes as a receipt does (the credit act counts it too)."""
    office = await open_round(core, clock)
    _, protocol = await apply(office, PAID, EXCLUDED)
    await wrote_stop(office, EXCLUDED, "en")
    await close_window(office)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.approve(uow, town, 150_00, clock())
        figures = await act_figures.credit(uow, town)
        result = await allocation.credit(uow, town, clock())
        await uow.commit()
    assert figures.notices == result.notices == 2  # PAID's credit, EXCLUDED's decision
    [(row, reply)] = await decision_rows(core)
    assert (row.channel, row.address, row.language) == ("sms", EXCLUDED.phone, "en")
    assert [text.msgid for text in reply.texts] == [PENSION, APPEAL_HINT]
    assert reply.texts[0].params["protocol"] == protocol
    # STATO and RICORSO count the window from that notice.
    assert (await application(core, protocol)).decision_notified_at == clock()


async def test_status_names_the_day_the_notice_named(core: Core, clock: FakeClock) -> None:
    """STATO gives the excluded applicant the same last day to appeal as the notice they
    received (not a count of days whose start they would have to work out), in their
    language, days after the notice."""
    _, (_, excluded, waiting), _ = await three_decided(core, clock)
    named = {
        row.application_id: reply.texts[1].params["day"] for row, reply in await decision_rows(core)
    }
    clock.advance(days=3)
    for data, protocol, language in ((EXCLUDED, excluded, "en"), (LIST_2, waiting, "it")):
        assert data.phone is not None
        replies = await Chat(core, data.phone).expect("STATO", APPEAL_HINT)
        day = param(replies, "day")
        assert day == named[(await application(core, protocol)).id], protocol
        said = render_plain(replies[-1], language, sms=True)
        assert day.value.strftime("%d/%m/%Y") in said, said
