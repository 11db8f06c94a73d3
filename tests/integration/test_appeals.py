"""Appeals in the services, on both databases: the window, one open appeal per application
(a database constraint), the decision sent back in the citizen's language and channel."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.dialogue.render import render_plain
from core.domain.errors import Conflict, NotFound, Refusal
from core.i18n import render_text
from core.services import appeals, audit, municipalities, operators, privacy
from core.services.outbox import reply_of
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import assert_one_segment
from tests.integration.office_helpers import (
    Office,
    apply,
    close_approve_credit,
    open_round,
    person,
)

PEOPLE = [person(i) for i in range(2)]


async def credited(core: Core, clock: FakeClock) -> tuple[Office, list[str]]:
    office = await open_round(core, clock)
    protocols = await apply(office, *PEOPLE)
    await close_approve_credit(office, 300_00)
    return office, protocols


async def citizen_of(core: Core, index: int) -> m.Citizen:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        found = await uow.citizens.by_codice_fiscale(town.id, PEOPLE[index].codice_fiscale)
        assert found is not None
        return found


async def file(core: Core, index: int, reason: str = "motivo", channel: str = "sms") -> m.Appeal:
    citizen = await citizen_of(core, index)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        appeal = await appeals.file_appeal(uow, town, citizen, reason, channel, core.now())
        await uow.commit()
        return appeal


async def decide(core: Core, appeal_id: int, outcome: str, reason: str) -> m.Appeal:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        appeal = await appeals.decide(
            uow, town, appeal_id, outcome, reason, core.now(), "cli:t", confirmed=True
        )
        await uow.commit()
        return appeal


async def sent(core: Core) -> int:
    """The messages queued so far, to anyone."""
    async with core.uow() as uow:
        return len((await uow.session.scalars(select(m.OutboxMessage))).all())


async def refusal(core: Core, index: int, reason: str = "motivo") -> str:
    with pytest.raises((Conflict, NotFound)) as caught:
        await file(core, index, reason)
    return caught.value.code


async def test_one_appeal_per_decision_within_the_days_of_the_policy(
    core: Core, clock: FakeClock
) -> None:
    office = await open_round(core, clock)
    await apply(office, *PEOPLE)
    assert await refusal(core, 0) == Refusal.APPEAL_NO_DECISION
    await close_approve_credit(office, 300_00)
    assert await refusal(core, 0, "   ") == Refusal.APPEAL_REASON_MISSING
    assert await refusal(core, 0, "x" * 501) == Refusal.APPEAL_REASON_TOO_LONG
    first = await file(core, 0, "  siamo   in tre ")
    assert first.reason == "siamo in tre" and first.status == "open"
    assert await refusal(core, 0) == Refusal.APPEAL_ALREADY_OPEN
    await decide(core, first.id, "rejected", "Anagrafe: una persona.")
    assert await refusal(core, 0) == Refusal.APPEAL_ALREADY_DECIDED
    # A new decision on the application (a revocation) may be appealed again.
    clock.advance(days=2)
    citizen_id = (await citizen_of(core, 0)).id
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        application = await uow.applications.latest_for_citizen(citizen_id)
        assert application is not None
        await audit.revoke(uow, town, application.protocol, clock())
        await uow.commit()
    second = await file(core, 0)
    assert second.decision_at == clock()
    clock.advance(days=30, seconds=1)  # the default policy allows 30 days
    assert await refusal(core, 1) == Refusal.APPEAL_TOO_LATE
    async with core.uow() as uow:
        count = len(list(await uow.session.scalars(select(m.Appeal))))
    assert count == 2


async def test_the_database_refuses_a_second_open_appeal(core: Core, clock: FakeClock) -> None:
    _, _ = await credited(core, clock)
    appeal = await file(core, 0)
    async with core.uow() as uow:
        uow.session.add(
            m.Appeal(
                municipality_id=appeal.municipality_id,
                application_id=appeal.application_id,
                citizen_id=appeal.citizen_id,
                channel="sms",
                reason="again",
                decision_at=appeal.decision_at,
                created_at=clock(),
                status="open",
            )
        )
        with pytest.raises(IntegrityError):
            await uow.session.flush()
    async with core.uow() as uow:
        row = await uow.session.get(m.Appeal, appeal.id)
        assert row is not None
        row.status = "upheld"  # decided without who, when and why
        with pytest.raises(IntegrityError):
            await uow.session.flush()


async def test_the_decision_goes_back_in_the_citizens_language_on_the_appeals_channel(
    core: Core, clock: FakeClock
) -> None:
    await credited(core, clock)
    citizen_id = (await citizen_of(core, 1)).id
    async with core.uow() as uow:
        citizen = await uow.session.get(m.Citizen, citizen_id)
        assert citizen is not None
        citizen.telegram_chat_id, citizen.language = "88001", "en"
        await uow.commit()
    appeal = await file(core, 1, "we are four", channel="telegram")
    await decide(core, appeal.id, "upheld", "The registry was out of date.")
    async with core.uow() as uow:
        rows = list(await uow.outbox.for_address("telegram", "88001"))
        decided = await uow.session.get(m.Appeal, appeal.id)
    assert decided is not None
    assert (decided.status, decided.decided_by, decided.decision_reason) == (
        "upheld",
        "cli:t",
        "The registry was out of date.",
    )
    said = render_text(reply_of(core.keys, rows[-1]).texts[0], rows[-1].language)
    assert rows[-1].language == "en"
    assert said.endswith("upheld. The registry was out of date.")
    with pytest.raises(Conflict):
        await decide(core, appeal.id, "rejected", "changed my mind")
    with pytest.raises(NotFound):
        await decide(core, appeal.id + 100, "rejected", "none")


async def test_an_open_appeal_holds_the_erasure_and_an_erasure_removes_the_words(
    core: Core, clock: FakeClock
) -> None:
    _, protocols = await credited(core, clock)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await audit.revoke(uow, town, protocols[0], clock())  # the balance goes back: zero
        await uow.commit()
    appeal = await file(core, 0, "mia madre è malata")
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        exported = await privacy.export_citizen(uow, town, PEOPLE[0].codice_fiscale)
        assert [a["reason"] for a in exported["appeals"]] == ["mia madre è malata"]
        with pytest.raises(privacy.ErasureRefused) as refused:
            await privacy.erase_citizen(uow, town, PEOPLE[0].codice_fiscale, clock(), by="cli:test")
    assert refused.value.code == Refusal.PRIVACY_APPEAL_OPEN
    await decide(core, appeal.id, "rejected", "Controllo confermato.")
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await privacy.erase_citizen(uow, town, PEOPLE[0].codice_fiscale, clock(), by="cli:test")
        await uow.commit()
    async with core.uow() as uow:
        row = await uow.appeals.by_id(appeal.id)
    assert row is not None
    assert (row.reason, row.status, row.decision_reason) == (
        "",
        "rejected",
        "Controllo confermato.",
    )


async def _said(core: Core, channel: str, address: str) -> tuple[m.OutboxMessage, str]:
    async with core.uow() as uow:
        rows = list(await uow.outbox.for_address(channel, address))
    reply = reply_of(core.keys, rows[-1])
    return rows[-1], render_plain(reply, rows[-1].language, sms=False)


@pytest.mark.parametrize(
    ("outcome", "language", "decided"),
    [("upheld", "en", "was upheld"), ("rejected", "it", "è stato respinto")],
)
async def test_the_decision_quotes_the_start_of_the_appeal_it_answers(
    core: Core, clock: FakeClock, outcome: str, language: str, decided: str
) -> None:
    _, protocols = await credited(core, clock)
    citizen = await citizen_of(core, 0)
    async with core.uow() as uow:
        row = await uow.session.get(m.Citizen, citizen.id)
        assert row is not None
        row.language = language
        await uow.commit()
    reason = "Siamo in quattro, non in uno: mia madre vive con noi da gennaio"
    appeal = await file(core, 0, reason)
    clock.advance(days=6)  # the citizen wrote days ago, from an old phone

    await decide(core, appeal.id, outcome, "Anagrafe aggiornata: quattro persone.")

    message, said = await _said(core, "sms", citizen.phone or "")
    quote = appeals.reason_start(reason)
    assert quote.endswith("...") and quote in said
    assert protocols[0] in said and decided in said
    assert said.endswith("Anagrafe aggiornata: quattro persone.")
    # Still one SMS with the quote, the protocol and a short reason of the office.
    assert message.channel == "sms"
    assert_one_segment(reply_of(core.keys, message), message.language)


@pytest.mark.parametrize("actor", ["operator", "cli"])
async def test_an_unconfirmed_decision_is_refused_whoever_decides(
    core: Core, clock: FakeClock, actor: str
) -> None:
    """One rule for the office's page and the command line: a decision reaches the citizen
    at once, so it is made only confirmed (the command line's command is its confirmation)."""
    await credited(core, clock)
    appeal = await file(core, 0)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        clerk, _ = await operators.add_operator(
            uow, town, "bel.clerk", "clerk", clock(), password="x" * 12
        )
        await uow.commit()
    by = clerk if actor == "operator" else "cli:t"
    sent_before = await sent(core)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        with pytest.raises(Conflict) as refused:
            await appeals.decide(
                uow, town, appeal.id, "rejected", "No.", clock(), by, confirmed=False
            )
        await uow.commit()
    assert refused.value.code == Refusal.OFFICE_NOT_CONFIRMED
    async with core.uow() as uow:
        stored = await uow.appeals.by_id(appeal.id)
    assert stored is not None and stored.status == "open"
    assert await sent(core) == sent_before
