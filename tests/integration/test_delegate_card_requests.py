"""Four eyes on a delegate and a card (core.services.phone_changes, kinds delegate and
card), on SQLite and PostgreSQL.

A delegate's phone receives the citizen's payment codes and a card's PIN is the consent
to pay: one operator asks, a manager who did not ask approves; an approved card is made
(its PIN printed) once, by the asker or the approver. The database refuses an approval by
the asker, a second pending request of a kind, a card request with a number.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.domain.errors import Conflict, NotAllowed, Refusal
from core.domain.messages import reply_from_json
from core.services import activity, cards, delegates, municipalities, phone_changes, privacy
from core.services.operators import RoleRefused
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import assert_one_segment
from tests.factories import Town, make_town, pay, request
from tests.integration.test_phone_changes import LONG_TOWN, _long_named_town, _operators

DELEGATE = "+393471230088"


async def _told(core: Core, phone: str) -> list[m.OutboxMessage]:
    async with core.uow() as uow:
        return list(await uow.outbox.for_address("sms", phone))


async def _msgids(core: Core, phone: str) -> list[str]:
    return [reply_from_json(row.payload).texts[0].msgid for row in await _told(core, phone)]


async def _ask_delegate(core: Core, town: Town, who: m.Operator) -> m.PhoneChange:
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        change = await phone_changes.request_delegate(
            uow, who, municipality, town.citizen_cfs[0], DELEGATE, core.now()
        )
        await uow.commit()
        return change


async def _ask_card(
    core: Core, town: Town, who: m.Operator, *, reissue: bool = False
) -> m.PhoneChange:
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        change = await phone_changes.request_card(
            uow, who, municipality, town.citizen_cfs[0], core.now(), reissue=reissue
        )
        await uow.commit()
        return change


async def _approve(core: Core, who: m.Operator, change_id: int) -> phone_changes.Approved:
    async with core.uow() as uow:
        done = await phone_changes.approve_any(uow, who, change_id, core.now())
        await uow.commit()
        return done


async def _print(core: Core, town: Town, who: m.Operator) -> cards.CardData:
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        card = await phone_changes.print_card(uow, who, municipality, citizen, core.now())
        await uow.commit()
        return card


async def _delegate(core: Core, town: Town) -> str | None:
    async with core.uow() as uow:
        found = await uow.delegates.of_citizen(town.citizen_ids[0])
        return found.phone if found else None


async def test_a_clerk_alone_cannot_make_a_delegate_receive_codes(core: Core) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    asked = await _ask_delegate(core, town, team["clerk"])
    assert (asked.kind, asked.status, asked.phone_masked) == ("delegate", "waiting", "***088")
    assert await _delegate(core, town) is None
    # The citizen hears of it at once; a payment code still goes to the citizen only.
    citizen_phone = town.citizen_phones[0]
    assert any("will send your payment codes" in x for x in await _msgids(core, citizen_phone))
    charge = await request(core, town.shop_id, town.citizen_cfs[0], 5_00)
    assert not [row for row in await _told(core, DELEGATE) if row.charge_id == charge.charge_id]
    assert any(row.charge_id == charge.charge_id for row in await _told(core, citizen_phone))

    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        # No way round the request: the direct registration (the command line's) and a
        # second request are refused.
        with pytest.raises(Conflict) as direct:
            await delegates.add_delegate(
                uow, municipality, town.citizen_cfs[0], "+393471230089", core.now()
            )
        assert direct.value.code == Refusal.DELEGATE_REQUEST_WAITING
        with pytest.raises(Conflict) as again:
            await phone_changes.request_delegate(
                uow, team["manager"], municipality, town.citizen_cfs[0], "+393471230089", core.now()
            )
        assert again.value.code == Refusal.DELEGATE_REQUEST_WAITING
    with pytest.raises(RoleRefused):  # a clerk never approves
        await _approve(core, team["clerk"], asked.id)
    assert await _delegate(core, town) is None

    done = await _approve(core, team["manager"], asked.id)
    assert done.delegate is not None and await _delegate(core, town) == DELEGATE
    assert any(
        "registered {phone} as your delegate" in x for x in await _msgids(core, citizen_phone)
    )
    assert any("You are now the delegate" in x for x in await _msgids(core, DELEGATE))
    async with core.uow() as uow:
        change = await uow.phone_changes.by_id(asked.id)
        assert change is not None
        assert (change.status, change.phone, change.decided_by_id) == (
            "approved",
            None,
            team["manager"].id,
        )
    # From now on the delegate receives the codes.
    later = await request(core, town.shop_id, town.citizen_cfs[0], 5_00)
    assert any(row.charge_id == later.charge_id for row in await _told(core, DELEGATE))


async def test_whoever_asked_never_approves_and_a_withdrawal_tells_the_citizen(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    asked = await _ask_delegate(core, town, team["manager"])
    with pytest.raises(NotAllowed) as same:
        await _approve(core, team["manager"], asked.id)
    assert same.value.code == Refusal.REQUEST_SAME_PERSON
    async with core.uow() as uow:
        with pytest.raises(RoleRefused):  # a clerk withdraws only what they asked
            await phone_changes.withdraw(uow, team["clerk"], asked.id, "no", core.now())
        await phone_changes.withdraw(uow, team["manager2"], asked.id, "Wrong number", core.now())
        await uow.commit()
    assert await _delegate(core, town) is None
    last = (await _msgids(core, town.citizen_phones[0]))[-1]
    assert last.startswith("{town}: {phone} will not be your delegate")
    with pytest.raises(Conflict) as gone:
        await _approve(core, team["manager2"], asked.id)
    assert gone.value.code == Refusal.REQUEST_NOT_WAITING


async def test_without_approval_no_direct_delegate_or_card_for_money_at_stake(
    core: Core,
) -> None:
    """The command line's direct path (no office operator) refuses a citizen with vouchers
    to spend, as it does for a new phone."""
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        with pytest.raises(NotAllowed) as delegate:
            await delegates.add_delegate(
                uow, municipality, town.citizen_cfs[0], DELEGATE, core.now()
            )
        assert delegate.value.code == Refusal.DELEGATE_NEEDS_APPROVAL
        with pytest.raises(NotAllowed) as card:
            await cards.issue_card(uow, municipality, town.citizen_cfs[0], core.now())
        assert card.value.code == Refusal.CARD_NEEDS_APPROVAL


async def test_a_card_is_approved_then_printed_once_by_the_asker_or_the_approver(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    asked = await _ask_card(core, town, team["clerk"])
    with pytest.raises(Conflict) as early:  # nothing to print before the approval
        await _print(core, town, team["clerk"])
    assert early.value.code == Refusal.CARD_NOT_APPROVED
    with pytest.raises(RoleRefused):
        await _approve(core, team["clerk"], asked.id)
    await _approve(core, team["manager"], asked.id)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None and citizen.card_pin_hash is None  # not before printing
    # A manager who neither asked nor approved it does not get its PIN.
    with pytest.raises(NotAllowed) as stranger:
        await _print(core, town, team["manager2"])
    assert stranger.value.code == Refusal.CARD_PRINT_NOT_YOURS
    card = await _print(core, town, team["clerk"])
    assert len(card.codes) == 30 and card.with_pin
    for who in ("clerk", "manager"):  # once: the PIN is never printed again
        with pytest.raises(Conflict) as twice:
            await _print(core, town, team[who])
        assert twice.value.code == Refusal.CARD_ALREADY_PRINTED
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None and citizen.card_code == card.card_code
        assert cards.has_pin_card(citizen)
        grid = await uow.citizens.card_grid(citizen.id, citizen.card_code)
        assert len(grid) == 30 and card.codes[0] not in grid[0].code_hash
        change = await uow.phone_changes.by_id(asked.id)
        assert change is not None and change.handed_by_id == team["clerk"].id
    # The citizen hears of the card, with the office's name.
    [notice] = [
        row
        for row in await _told(core, town.citizen_phones[0])
        if "with a slip of codes" in reply_from_json(row.payload).texts[0].msgid
    ]
    assert reply_from_json(notice.payload).texts[0].params["town"] == "Testville"

    # A replacement: the old card works until the new one is printed, then never again.
    replacing = await _ask_card(core, town, team["manager"], reissue=True)
    assert replacing.reissue
    await _approve(core, team["manager2"], replacing.id)
    new = await _print(core, town, team["manager2"])  # the approver prints it
    assert new.card_code != card.card_code
    assert (
        "new voucher card for you; the old one" in (await _msgids(core, town.citizen_phones[0]))[-1]
    )


async def test_an_approved_card_not_printed_may_be_withdrawn(core: Core) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    asked = await _ask_card(core, town, team["clerk"])
    await _approve(core, team["manager"], asked.id)
    with pytest.raises(Conflict) as pending:  # one card request at a time, approved included
        await _ask_card(core, town, team["manager2"])
    assert pending.value.code == Refusal.CARD_REQUEST_WAITING
    async with core.uow() as uow:
        await phone_changes.withdraw(uow, team["clerk"], asked.id, "Moved away", core.now())
        await uow.commit()
    with pytest.raises(Conflict):
        await _print(core, town, team["clerk"])
    again = await _ask_card(core, town, team["manager2"])
    assert again.status == "waiting"


async def test_the_database_holds_four_eyes_and_one_pending_request_of_a_kind(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    delegate = await _ask_delegate(core, town, team["clerk"])
    card = await _ask_card(core, town, team["clerk"])
    with pytest.raises(IntegrityError):  # approved by whoever asked
        async with core.uow() as uow:
            await uow.session.execute(
                update(m.PhoneChange)
                .where(m.PhoneChange.id == delegate.id)
                .values(
                    status="approved",
                    decided_by_id=team["clerk"].id,
                    decided_at=core.now(),
                    phone=None,
                )
            )
            await uow.commit()

    def row(kind: str, **values: object) -> m.PhoneChange:
        fields: dict[str, object] = {
            "municipality_id": town.municipality_id,
            "citizen_id": town.citizen_ids[0],
            "kind": kind,
            "subject": "x",
            "status": "waiting",
            "requested_by_id": team["manager"].id,
            "requested_at": core.now(),
        }
        fields.update(values)
        return m.PhoneChange(**fields)

    for bad in (
        row("delegate", phone="+393471230079", phone_masked="***079"),  # a second delegate
        row("card"),  # a second card
        row("card", phone="+393471230079", phone_masked="***079"),  # a card names no number
    ):
        with pytest.raises(IntegrityError):
            async with core.uow() as uow:
                uow.add(bad)
                await uow.commit()
    with pytest.raises(IntegrityError):  # printed before its approval
        async with core.uow() as uow:
            await uow.session.execute(
                update(m.PhoneChange)
                .where(m.PhoneChange.id == card.id)
                .values(handed_by_id=team["clerk"].id, handed_at=core.now())
            )
            await uow.commit()


@pytest.mark.parametrize("language", ["it", "en"])
async def test_the_notices_fit_one_sms_with_a_long_town_name(core: Core, language: str) -> None:
    town = await _long_named_town(core, language)
    team = await _operators(core, town)
    asked = await _ask_delegate(core, town, team["clerk"])
    async with core.uow() as uow:
        await phone_changes.withdraw(uow, team["clerk"], asked.id, "typo", core.now())
        await uow.commit()
    for reissue in (False, True):
        card = await _ask_card(core, town, team["clerk"], reissue=reissue)
        await _approve(core, team["manager"], card.id)
        await _print(core, town, team["clerk"])
    bodies = [
        assert_one_segment(reply_from_json(row.payload), language)
        for row in await _told(core, town.citizen_phones[0])
        if row.created_at == core.now()  # this test's notices, not the credit's
    ]
    assert len(bodies) == 4 and all(LONG_TOWN in body for body in bodies)


async def _erasure_refusal(core: Core, town: Town) -> tuple[str, str, str]:
    """The erasure's refusal: its code, and the command line's sentence in it and en."""
    from buonispesa.cli.refusals import describe
    from core.i18n import render_text
    from core.services import privacy

    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        with pytest.raises(privacy.ErasureRefused) as refused:
            await privacy.erase_citizen(
                uow, municipality, town.citizen_cfs[0], core.now(), by="cli:test"
            )
    said = describe(refused.value)
    return refused.value.code, render_text(said, "it"), render_text(said, "en")


async def test_an_erasure_refused_for_a_request_says_which_request_waits(core: Core) -> None:
    """Not "a new phone" for every request: a delegate, a card to approve, a card to print."""
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    await pay(core, town, 150_00)  # nothing left to spend: only the requests hold it back
    delegate = await _ask_delegate(core, town, team["clerk"])
    code, italian, english = await _erasure_refusal(core, town)
    assert code == Refusal.PRIVACY_PHONE_CHANGE_WAITING
    assert english == (
        f"A delegate for this person waits for approval (request {delegate.id}): approve or "
        "withdraw it first (admin citizen phone-change)."
    )
    assert italian.startswith("Un delegato per questa persona attende l'approvazione")
    async with core.uow() as uow:
        await phone_changes.withdraw(uow, team["clerk"], delegate.id, "Not needed", core.now())
        await uow.commit()
    card = await _ask_card(core, town, team["clerk"])
    _, italian, english = await _erasure_refusal(core, town)
    assert english.startswith(f"A card for this person waits for approval (request {card.id})")
    assert italian.startswith("Una tessera per questa persona attende l'approvazione")
    await _approve(core, team["manager"], card.id)
    _, italian, english = await _erasure_refusal(core, town)
    assert english.startswith(
        f"An approved card for this person waits to be printed (request {card.id})"
    )
    assert italian.startswith("Una tessera approvata per questa persona attende la stampa")
    assert "new phone" not in english and "nuovo telefono" not in italian
    assert "PIN" not in english and "PIN" not in italian  # a new card has codes


async def test_an_approved_card_not_printed_within_7_days_expires(
    core: Core, clock: FakeClock
) -> None:
    """No PIN is made long after two operators vouched for the person: printing is refused
    after the deadline, a new card may be asked (the old request expires, logged), and the
    expired request holds no erasure back. Within the days it prints."""
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    await pay(core, town, 150_00)
    asked = await _ask_card(core, town, team["clerk"])
    approved = await _approve(core, team["manager"], asked.id)
    assert phone_changes.CARD_PRINT_DAYS == 7
    deadline = approved.change.print_by
    assert deadline is not None and deadline == core.now() + timedelta(days=7)
    clock.advance(days=7)
    with pytest.raises(Conflict) as late:
        await _print(core, town, team["clerk"])
    assert late.value.code == Refusal.CARD_PRINT_EXPIRED
    assert late.value.params == {
        "change_id": asked.id,
        "print_by": deadline.isoformat(),
    }
    from core.i18n import render_text
    from office.refusals import describe

    assert render_text(describe(late.value), "en").startswith(
        f"Card request {asked.id} was approved but not printed by "
    )
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None and not cards.has_pin_card(citizen)  # no card was made
    # Nothing waits for this person any more: the erasure is not held back by it (only
    # by the decision that may still be appealed, within 30 days).
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        with pytest.raises(privacy.ErasureRefused) as held:
            await privacy.erase_citizen(
                uow, municipality, town.citizen_cfs[0], core.now(), by="cli:test"
            )
    assert held.value.code == "privacy.appeal_period"
    again = await _ask_card(core, town, team["clerk"])
    async with core.uow() as uow:
        old = await uow.phone_changes.by_id(asked.id)
        assert old is not None and old.status == "expired" and old.handed_at is None
        logged = [
            entry
            for entry in await activity.entries(uow, town.municipality_id)
            if entry.action == "card.expired"
        ]
    assert len(logged) == 1 and logged[0].before == {
        "change": asked.id,
        "status": "approved",
        "print_by": deadline.isoformat(),
    }
    await _approve(core, team["manager"], again.id)
    clock.advance(days=6, hours=23)  # just before the deadline: it prints
    card = await _print(core, town, team["manager"])
    assert card.codes


async def test_the_database_refuses_a_card_printed_after_its_deadline(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    asked = await _ask_card(core, town, team["clerk"])
    approved = await _approve(core, team["manager"], asked.id)
    assert approved.change.print_by is not None
    for values in (
        {"handed_by_id": team["clerk"].id, "handed_at": approved.change.print_by},  # too late
        {"print_by": None},  # an approved card without a deadline
        {"status": "expired", "handed_by_id": team["clerk"].id, "handed_at": core.now()},
    ):
        with pytest.raises(IntegrityError):
            async with core.uow() as uow:
                await uow.session.execute(
                    update(m.PhoneChange).where(m.PhoneChange.id == asked.id).values(**values)
                )
                await uow.commit()
    # The repository does not print it either, whoever calls it.
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        assert not await uow.phone_changes.mark_handed(
            asked.id, citizen, team["clerk"].id, approved.change.print_by
        )
