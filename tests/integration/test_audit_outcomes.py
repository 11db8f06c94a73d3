"""Checks' outcomes, sums to recover and undoing a mistaken revocation, on both databases."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.dialogue.render import render_plain
from core.domain.errors import Conflict, NotFound
from core.domain.ledger import PostingKind
from core.i18n import render_text
from core.services import allocation, audit, ledger, municipalities
from core.services.applications import status_of
from core.services.outbox import reply_of
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import assert_one_segment
from tests.factories import outbox_to
from tests.integration.office_helpers import (
    Office,
    apply,
    assert_ledger_ok,
    close_approve_credit,
    open_round,
    pay,
    person,
)
from tests.integration.test_privacy import erase

PEOPLE = [person(i) for i in range(3)]  # one member each: 150 euro


async def credited_round(core: Core, clock: FakeClock) -> tuple[Office, list[str]]:
    office = await open_round(core, clock)
    protocols = await apply(office, *PEOPLE)
    await close_approve_credit(office, 450_00)
    return office, protocols


async def draw_all(office: Office) -> None:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await audit.draw_sample(uow, town, 100, 7, office.clock())
        await uow.commit()


async def revoke(office: Office, protocol: str) -> audit.Revocation:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        result = await audit.revoke(uow, town, protocol, office.clock(), reason="ISEE falso")
        await uow.commit()
        return result


async def undo(office: Office, protocol: str, reason: str = "errore di persona") -> audit.Undoing:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        result = await audit.undo_revocation(uow, town, protocol, reason, office.clock(), "cli:t")
        await uow.commit()
        return result


async def balance(office: Office, index: int) -> int:
    async with office.core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale(
            office.municipality_id, PEOPLE[index].codice_fiscale
        )
        assert citizen is not None
        return await ledger.citizen_balance(uow, office.municipality_id, citizen.id)


async def test_a_check_is_recorded_for_a_sampled_application_and_corrected_with_the_log(
    core: Core, clock: FakeClock
) -> None:
    office, protocols = await credited_round(core, clock)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        with pytest.raises(audit.NotInSample):
            await audit.record_check(uow, town, protocols[0], "confirmed", "", clock(), "cli:t")
    await draw_all(office)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        with pytest.raises(Conflict):
            await audit.record_check(uow, town, protocols[0], "maybe", "", clock(), "cli:t")
        with pytest.raises(Conflict):
            await audit.record_check(uow, town, protocols[0], "confirmed", "x" * 301, clock(), "a")
        await audit.record_check(uow, town, protocols[0], "confirmed", "ISEE  visto", clock(), "a")
        await uow.commit()
    clock.advance(hours=1)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await audit.record_check(
            uow, town, protocols[0], "discrepancy", "conto non dichiarato", clock(), "b"
        )
        await uow.commit()
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        found = await audit.checks(uow, town)
        entries = list(
            await uow.session.scalars(
                select(m.ActivityEntry)
                .where(m.ActivityEntry.action == "audit.check")
                .order_by(m.ActivityEntry.id)
            )
        )
    assert list(found) == [protocols[0]]
    assert found[protocols[0]].outcome == "discrepancy"
    assert found[protocols[0]].checked_by == "b"
    assert [(e.actor, e.before, e.after) for e in entries] == [
        ("a", None, {"outcome": "confirmed", "note": "ISEE visto"}),
        (
            "b",
            {"outcome": "confirmed", "note": "ISEE visto"},
            {"outcome": "discrepancy", "note": "conto non dichiarato"},
        ),
    ]


async def test_sums_to_recover_are_what_was_spent_and_an_undo_gives_back_what_was_taken(
    core: Core, clock: FakeClock
) -> None:
    office, protocols = await credited_round(core, clock)
    await pay(office, office.shop_ids[0], PEOPLE[0], 40_00)
    before = await balance(office, 0)
    revocation = await revoke(office, protocols[0])
    assert (revocation.returned_cents, revocation.to_recover_cents) == (110_00, 40_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        rows = await audit.sums_to_recover(uow, town)
    assert [(r.protocol, r.credited_cents, r.returned_cents, r.to_recover_cents) for r in rows] == [
        (protocols[0], 150_00, 110_00, 40_00)
    ]
    assert rows[0].reason == "ISEE falso"
    clock.advance(hours=2)
    sent_before = len(await outbox_to(core, PEOPLE[0].phone or ""))

    result = await undo(office, protocols[0])

    assert (result.restored_cents, result.cancelled_recovery_cents, result.told) == (
        110_00,
        40_00,
        True,
    )
    assert await balance(office, 0) == before
    await assert_ledger_ok(core, office.municipality_id)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        assert await audit.sums_to_recover(uow, town) == []
        application = await uow.applications.by_protocol(protocols[0])
        assert application is not None
        assert application.revoked_at is None and application.recover_cents == 0
        postings = list(
            await uow.session.scalars(
                select(m.Posting).where(m.Posting.kind == PostingKind.REVOCATION_UNDO.value)
            )
        )
        assert [p.amount_cents for p in postings] == [110_00]
    messages = await outbox_to(core, PEOPLE[0].phone or "")
    assert len(messages) == sent_before + 1
    said = render_text(reply_of(core.keys, messages[-1]).texts[0], "it")
    assert protocols[0] in said and "110,00" in said

    with pytest.raises(audit.RevocationAlreadyUndone):
        await undo(office, protocols[0])
    with pytest.raises(audit.NotRevoked):
        await undo(office, protocols[1])
    with pytest.raises(NotFound):
        await undo(office, "BEL-0000-99999")
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        with pytest.raises(Conflict):
            await audit.undo_revocation(uow, town, protocols[0], "  ", clock(), "cli:t")
    await assert_ledger_ok(core, office.municipality_id)


async def test_a_tranche_credited_while_revoked_stays_excused_after_the_undo(
    core: Core, clock: FakeClock
) -> None:
    office = await open_round(core, clock)
    protocols = await apply(office, person(10), person(11))
    await close_approve_credit(office, 150_00)  # half of what is due: 75 euro each
    clock.advance(days=1)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await allocation.approve(uow, town, 300_00, clock())  # the rest, 75 euro each
        await uow.commit()
    await revoke(office, protocols[0])  # after the determina, before its credit
    clock.advance(hours=1)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await allocation.credit(uow, town, clock())  # skips the revoked application
        await uow.commit()
    await assert_ledger_ok(core, office.municipality_id)
    clock.advance(days=1)

    result = await undo(office, protocols[0])

    assert result.restored_cents == 75_00  # what the revocation took; tranche 2 stays unpaid
    await assert_ledger_ok(core, office.municipality_id)


async def test_the_database_keeps_one_standing_revocation_and_never_restores_more(
    core: Core, clock: FakeClock
) -> None:
    office, protocols = await credited_round(core, clock)
    await revoke(office, protocols[0])
    async with core.uow() as uow:
        standing = await uow.session.scalar(select(m.Revocation))
        assert standing is not None
        uow.session.add(
            m.Revocation(
                municipality_id=standing.municipality_id,
                application_id=standing.application_id,
                revoked_at=clock(),
                returned_cents=0,
                recover_cents=0,
            )
        )
        with pytest.raises(IntegrityError):
            await uow.session.flush()
    async with core.uow() as uow:
        standing = await uow.session.scalar(select(m.Revocation))
        assert standing is not None
        standing.undone_at = clock()
        standing.restored_cents = standing.returned_cents + 1
        with pytest.raises(IntegrityError):
            await uow.session.flush()
    # Undone, the application may be revoked again (a new standing revocation).
    await undo(office, protocols[0])
    again = await revoke(office, protocols[0])
    assert again.returned_cents == 150_00
    await assert_ledger_ok(core, office.municipality_id)


async def test_the_citizen_is_told_of_a_revocation_and_of_the_time_to_appeal(
    core: Core, clock: FakeClock
) -> None:
    """A revocation is a decision the citizen may appeal, from the day it was made: they are
    told in the same transaction, with the word to write and the last day (the one STATO
    names), then what it took from the balance, what is to be paid back and why."""
    office, protocols = await credited_round(core, clock)
    await pay(office, office.shop_ids[0], PEOPLE[1], 40_00)  # 110 € left of 150
    sent_before = len(await outbox_to(core, PEOPLE[1].phone or ""))
    others_before = len(await outbox_to(core, PEOPLE[0].phone or ""))
    await revoke(office, protocols[1])
    messages = await outbox_to(core, PEOPLE[1].phone or "")
    assert len(messages) == sent_before + 2
    decision, details = (reply_of(core.keys, row) for row in messages[-2:])
    last_day = (clock() + timedelta(days=30)).astimezone(ZoneInfo("Europe/Rome")).date()
    said = render_text(decision.texts[0], "it", sms=True)
    assert protocols[1] in said and "revocat" in said and "RICORSO" in said
    assert "entro il " + last_day.strftime("%d/%m/%Y") in said
    assert [text.msgid for text in details.texts] == [
        "Taken from your balance: {amount} unspent.",
        "To pay back: {amount} already spent.",
        "Reason: {reason}",
    ]
    body = render_plain(details, "it", sms=True)
    assert "110,00 €" in body and "40,00 €" in body and "ISEE falso" in body, body
    english = render_plain(details, "en", sms=True)
    assert "€110.00" in english and "€40.00" in english, english
    assert len(await outbox_to(core, PEOPLE[0].phone or "")) == others_before  # nobody else
    # STATO names the same day as the notice.
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        citizen = await uow.citizens.by_codice_fiscale(town.id, PEOPLE[1].codice_fiscale)
        assert citizen is not None
        status = await status_of(uow, citizen, clock())
    assert status is not None and status.appeal.by_day == last_day
    # One SMS each in both languages with the longest town, a household's largest sums
    # and a reason of 60 characters (a longer one takes more); nothing spent or left and
    # no reason given: the decision alone.
    longest = audit.revocation_notice(
        "San Valentino in Abruzzo Citeriore",
        "SVA-2026-000001",
        date(2026, 12, 31),
        returned_cents=1_234_56,
        recover_cents=1_234_56,
        reason="Conto corrente non dichiarato: saldo oltre il limite del 2020",
    )
    for language in ("it", "en"):
        for notice in longest:
            assert_one_segment(notice, language)
    only = audit.revocation_notice("Belforte del Chienti", "BEL-2026-000001", date(2026, 12, 31))
    assert [[text.msgid for text in notice.texts] for notice in only] == [
        [longest[0].texts[0].msgid]
    ]


async def test_a_revocation_of_an_applicant_erased_since_cannot_be_undone(
    core: Core, clock: FakeClock
) -> None:
    """Revoked with nothing spent (nothing to recover), then erased at their request past the
    days to appeal: undoing the revocation would put its 150 euro on a pseudonymised account
    nobody can spend. Refused, for the approver's figures as for the undoing; nothing moves."""
    office, protocols = await credited_round(core, clock)
    revocation = await revoke(office, protocols[0])
    assert (revocation.returned_cents, revocation.to_recover_cents) == (150_00, 0)
    clock.advance(days=31)  # the decision can no longer be appealed
    await erase(office, PEOPLE[0].codice_fiscale)

    with pytest.raises(audit.RevokedApplicantErased) as refused:
        await undo(office, protocols[0])
    assert refused.value.code == "application.revocation_erased"
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        with pytest.raises(audit.RevokedApplicantErased):
            await audit.undo_figures(uow, town, protocols[0])
        undone = await uow.session.scalars(
            select(m.Posting).where(m.Posting.kind == PostingKind.REVOCATION_UNDO.value)
        )
        assert list(undone) == []
        application = await uow.applications.by_protocol(protocols[0])
        assert application is not None and application.revoked_at is not None
    await assert_ledger_ok(core, office.municipality_id)
    # Another applicant's revocation is undone as ever.
    await revoke(office, protocols[1])
    assert (await undo(office, protocols[1])).restored_cents == 150_00
