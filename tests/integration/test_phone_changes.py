"""Four eyes on a citizen's phone (core.services.phone_changes), on SQLite and PostgreSQL.

The phone decides who receives the payment codes: while a citizen has a balance, a
charge waiting for its code or money an approved tranche has not credited yet, a new phone
asked by one operator waits until a manager who did not ask approves it; the database
refuses an approval by the asker and a second change waiting for the same citizen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from buonispesa.cli import app
from core.bootstrap import Core
from core.domain.errors import Conflict, NotAllowed, Refusal
from core.domain.messages import reply_from_json
from core.services import (
    allocation,
    charges,
    identity,
    municipalities,
    operators,
    phone_changes,
    privacy,
)
from core.services.operators import RoleRefused
from core.storage import models as m
from core.storage.engine import make_engine
from tests.cli_runner import runner
from tests.conftest import FakeClock
from tests.dialogue.harness import add_member, assert_one_segment
from tests.factories import Town, confirm, last_code_for, make_town, pay, request
from tests.integration.migrating import core_on

NEW_PHONE = "+393471230077"
T = TypeVar("T")
LONG_TOWN = "San Valentino in Abruzzo Citeriore"  # as in tests/dialogue/test_sms_lengths.py


async def _long_named_town(core: Core, language: str) -> Town:
    """A town named LONG_TOWN whose one citizen reads `language`: the longest notices."""
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Municipality)
            .where(m.Municipality.id == town.municipality_id)
            .values(name=LONG_TOWN)
        )
        await uow.session.execute(
            update(m.Citizen).where(m.Citizen.id == town.citizen_ids[0]).values(language=language)
        )
        await uow.commit()
    return town


async def _operators(core: Core, town: Town) -> dict[str, m.Operator]:
    found = {}
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        for name, role in (("clerk", "clerk"), ("manager", "manager"), ("manager2", "manager")):
            found[name], _ = await operators.add_operator(
                uow, municipality, f"tst.{name}", role, core.now(), password="x" * 12
            )
        await uow.commit()
    return found


async def _ask(
    core: Core, town: Town, who: m.Operator, phone: str = NEW_PHONE, *, citizen: int = 0
) -> phone_changes.Asked:
    """`who` asks `phone` for the town's citizen number `citizen` (the first by default)."""
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        asked = await phone_changes.request(
            uow, who, municipality, town.citizen_cfs[citizen], phone, core.now()
        )
        await uow.commit()
        return asked


async def _approve(core: Core, who: m.Operator, change_id: int) -> identity.Rebinding:
    async with core.uow() as uow:
        done = await phone_changes.approve(uow, who, change_id, core.now())
        await uow.commit()
        return done


async def _phone_of(core: Core, town: Town) -> str | None:
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        return citizen.phone


async def _told(core: Core, phone: str) -> list[str]:
    async with core.uow() as uow:
        rows = await uow.outbox.for_address("sms", phone)
        return [reply_from_json(row.payload).texts[0].msgid for row in rows]


async def _actions(core: Core) -> list[tuple[str, str]]:
    async with core.uow() as uow:
        rows = await uow.session.scalars(
            select(m.ActivityEntry)
            .where(m.ActivityEntry.action.like("citizen.phone%"))
            .order_by(m.ActivityEntry.id)
        )
        return [(row.action, row.actor) for row in rows]


async def test_with_a_balance_a_new_phone_waits_for_a_second_operator(core: Core) -> None:
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    old_phone = town.citizen_phones[0]
    asked = await _ask(core, town, team["clerk"])
    assert asked.applied is None and asked.waiting is not None
    change_id = asked.waiting.id
    assert await _phone_of(core, town) == old_phone
    # Both numbers hear of the request at once: a trick at the counter is noticed before
    # anybody approves it.
    assert any("will move your vouchers" in msgid for msgid in await _told(core, old_phone))
    assert any("will use this number" in msgid for msgid in await _told(core, NEW_PHONE))

    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        # No other way round the waiting change: a second request, or the command line's
        # direct binding, is refused.
        with pytest.raises(Conflict) as again:
            await phone_changes.request(
                uow, team["manager"], municipality, town.citizen_cfs[0], "+393471230078", core.now()
            )
        assert again.value.code == Refusal.PHONE_CHANGE_WAITING
        with pytest.raises(Conflict) as direct:
            await identity.rebind_phone(
                uow,
                municipality,
                town.citizen_cfs[0],
                "+393471230078",
                operator="x",
                now=core.now(),
            )
        assert direct.value.code == Refusal.PHONE_CHANGE_WAITING
    # A clerk does not approve, and neither does whoever asked.
    with pytest.raises(RoleRefused):
        await _approve(core, team["clerk"], change_id)
    assert await _phone_of(core, town) == old_phone

    done = await _approve(core, team["manager"], change_id)
    assert (done.previous_phone, done.phone) == (old_phone, NEW_PHONE)
    assert await _phone_of(core, town) == NEW_PHONE
    assert any("now use the number" in msgid for msgid in await _told(core, old_phone))
    assert any("registered this number" in msgid for msgid in await _told(core, NEW_PHONE))
    assert await _actions(core) == [
        ("citizen.phone_request", "tst.clerk"),
        ("citizen.phone_approve", "tst.manager"),
    ]
    async with core.uow() as uow:
        change = await uow.phone_changes.by_id(change_id)
        assert change is not None
        # Decided: only the masked number stays.
        assert (change.status, change.phone, change.phone_masked) == ("approved", None, "***077")
        assert change.decided_by_id == team["manager"].id
        log = await uow.identity_events.for_citizen(town.citizen_ids[0])
        assert [(e.kind, e.actor) for e in log if e.kind == "phone_rebound"] == [
            ("phone_rebound", "office:tst.manager")
        ]
    with pytest.raises(Conflict) as twice:
        await _approve(core, team["manager2"], change_id)
    assert twice.value.code == Refusal.PHONE_CHANGE_NOT_WAITING


async def test_whoever_asked_never_approves(core: Core) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    asked = await _ask(core, town, team["manager"])
    assert asked.waiting is not None
    with pytest.raises(NotAllowed) as same:
        await _approve(core, team["manager"], asked.waiting.id)
    assert same.value.code == Refusal.PHONE_CHANGE_SAME_PERSON
    assert await _phone_of(core, town) == town.citizen_phones[0]
    await _approve(core, team["manager2"], asked.waiting.id)
    assert await _phone_of(core, town) == NEW_PHONE


async def test_without_money_at_stake_the_phone_changes_at_once(core: Core) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    await pay(core, town, 150_00)  # the whole balance spent
    asked = await _ask(core, town, team["clerk"])
    assert asked.waiting is None and asked.applied is not None
    assert await _phone_of(core, town) == NEW_PHONE
    assert await _actions(core) == [("citizen.phone", "tst.clerk")]


async def test_a_charge_waiting_for_its_code_is_money_at_stake(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    await pay(core, town, 150_00)
    # A charge above the balance is not refused before the code: it waits all the same.
    await request(core, town.shop_id, town.citizen_cfs[0], 10_00)
    asked = await _ask(core, town, team["clerk"])
    assert asked.waiting is not None
    async with core.uow() as uow:
        await phone_changes.withdraw(uow, team["clerk"], asked.waiting.id, "typo", core.now())
        await uow.commit()
    assert any("was not made" in msgid for msgid in await _told(core, town.citizen_phones[0]))
    # The new number heard of the change when it was asked: it hears it is off too.
    assert (await _told(core, NEW_PHONE))[-1].startswith(
        "{town}: the office will not use this number"
    )
    clock.advance(minutes=11)  # the code expired: nothing can be spent with the phone now
    asked = await _ask(core, town, team["clerk"])
    assert asked.applied is not None and await _phone_of(core, town) == NEW_PHONE


async def test_a_new_phone_voids_the_code_sent_to_the_old_one(core: Core) -> None:
    """A lost or stolen phone: the code it received confirms nothing once the office gives
    the citizen a new number, and its SMS not sent yet never leaves."""
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    old_phone = town.citizen_phones[0]
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 5_00)
    code = await last_code_for(core, old_phone, requested.charge_id)
    asked = await _ask(core, town, team["clerk"])
    assert asked.waiting is not None
    await _approve(core, team["manager"], asked.waiting.id)

    async with core.uow() as uow:
        charge = await uow.charges.by_id(requested.charge_id)
        assert charge is not None
        assert (charge.status, charge.closed_reason) == ("cancelled", "code_elsewhere")
        rows = await uow.outbox.for_charge(requested.charge_id)
    [code_row] = [row for row in rows if row.payload.get("sensitive")]
    assert (code_row.address, code_row.status) == (old_phone, "failed")
    assert "sealed" not in code_row.payload
    told = {(row.address, reply_from_json(row.payload).texts[0].msgid) for row in rows}
    # The shop stops waiting; the new number (not the old) hears the payment is void.
    assert (
        town.shop_phone,
        "The office cancelled the payment of {amount}: it cannot be completed, do not wait "
        "for the code.",
    ) in told
    assert (
        NEW_PHONE,
        "The office cancelled the payment of {amount} at {shop}. The code is no longer valid.",
    ) in told
    assert [row.id for row in rows if row.address == old_phone] == [code_row.id]

    result = await confirm(core, town.shop_id, requested.charge_id, code)
    assert result.outcome is charges.ConfirmOutcome.NOT_PENDING
    # The shop starts the payment again: its code goes to the new number.
    again = await request(core, town.shop_id, town.citizen_cfs[0], 5_00)
    fresh = await last_code_for(core, NEW_PHONE, again.charge_id)
    result = await confirm(core, town.shop_id, again.charge_id, fresh)
    assert result.outcome is charges.ConfirmOutcome.CONFIRMED


async def test_a_new_phone_keeps_a_payment_already_made(core: Core) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    charge_id = await pay(core, town, 5_00)
    asked = await _ask(core, town, team["clerk"])
    assert asked.waiting is not None
    await _approve(core, team["manager"], asked.waiting.id)
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
    assert charge is not None and charge.status == "confirmed"


async def test_who_may_withdraw(core: Core) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    asked = await _ask(core, town, team["manager"])
    assert asked.waiting is not None
    async with core.uow() as uow:
        with pytest.raises(RoleRefused):  # a clerk withdraws only what they asked
            await phone_changes.withdraw(uow, team["clerk"], asked.waiting.id, "no", core.now())
        with pytest.raises(Conflict) as no_reason:
            await phone_changes.withdraw(uow, team["manager2"], asked.waiting.id, " ", core.now())
        assert no_reason.value.code == Refusal.ACT_REASON_MISSING
        change = await phone_changes.withdraw(
            uow, team["manager2"], asked.waiting.id, "The person did not come", core.now()
        )
        await uow.commit()
    assert (change.status, change.phone, change.reason) == (
        "withdrawn",
        None,
        "The person did not come",
    )
    assert await _phone_of(core, town) == town.citizen_phones[0]


async def test_the_database_holds_four_eyes_and_one_waiting_change(core: Core) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    asked = await _ask(core, town, team["clerk"])
    assert asked.waiting is not None
    with pytest.raises(IntegrityError):
        async with core.uow() as uow:
            await uow.session.execute(
                update(m.PhoneChange)
                .where(m.PhoneChange.id == asked.waiting.id)
                .values(
                    status="approved",
                    decided_by_id=team["clerk"].id,
                    decided_at=core.now(),
                    phone=None,
                )
            )
            await uow.commit()
    with pytest.raises(IntegrityError):
        async with core.uow() as uow:
            uow.add(
                m.PhoneChange(
                    municipality_id=town.municipality_id,
                    citizen_id=town.citizen_ids[0],
                    subject="x",
                    phone="+393471230079",
                    phone_masked="***079",
                    status="waiting",
                    requested_by_id=team["manager"].id,
                    requested_at=core.now(),
                )
            )
            await uow.commit()
    with pytest.raises(IntegrityError):  # a decided change keeps no full number
        async with core.uow() as uow:
            await uow.session.execute(
                update(m.PhoneChange)
                .where(m.PhoneChange.id == asked.waiting.id)
                .values(status="withdrawn", decided_by_id=team["clerk"].id, decided_at=core.now())
            )
            await uow.commit()


def test_admin_citizen_phone_for_a_citizen_with_no_phone_says_only_the_new_number_was_told(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", sqlite_url)

    async def seed() -> Town:
        async with core_on(sqlite_url) as core:
            town = await make_town(core, citizens=1)
            await _operators(core, town)
            async with core.uow() as uow:  # on file with vouchers but no phone (paper)
                await uow.session.execute(
                    update(m.Citizen).where(m.Citizen.id == town.citizen_ids[0]).values(phone=None)
                )
                await uow.commit()
            return town

    town = asyncio.run(seed())
    ask = ["admin", "citizen", "phone", town.code, town.citizen_cfs[0], "347 123 0077"]
    asked = runner.invoke(app, [*ask, "--by", "tst.clerk"])
    assert asked.exit_code == 0, asked.output
    said = " ".join(asked.output.split())
    assert "waiting for another operator" in said
    assert "The new number was told; there was no old one." in said and "old and" not in said


def test_admin_citizen_phone_change_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("BUONISPESA_OPERATOR", "Bianchi")

    async def seed() -> Town:
        async with core_on(sqlite_url) as core:
            town = await make_town(core, citizens=1)
            await _operators(core, town)
            return town

    town = asyncio.run(seed())
    ask = ["admin", "citizen", "phone", town.code, town.citizen_cfs[0], "347 123 0077"]
    # Bianchi is nobody's username: the citizen has vouchers, so nothing changes.
    refused = runner.invoke(app, ask)
    assert refused.exit_code == 2 and "phone_change.needs_approval" in refused.output
    assert "second operator" in refused.output and "Traceback" not in refused.output
    asked = runner.invoke(app, [*ask, "--by", "tst.clerk"])
    assert asked.exit_code == 0, asked.output
    assert "waiting for another operator" in asked.output and "***077" in asked.output
    listed = runner.invoke(app, ["admin", "citizen", "phone-change", "list", town.code])
    assert listed.exit_code == 0 and "tst.clerk" in listed.output
    assert "1 request waiting" in listed.output
    approve = ["admin", "citizen", "phone-change", "approve", town.code, "1"]
    by_clerk = runner.invoke(app, [*approve, "--by", "tst.clerk"])
    assert by_clerk.exit_code == 2 and "operator.role_refused" in by_clerk.output
    assert "Only a manager can do this" in by_clerk.output  # whom to ask, not just "no"
    approved = runner.invoke(app, [*approve, "--by", "tst.manager"])
    assert approved.exit_code == 0, approved.output
    assert "now uses the phone ***077" in approved.output

    async def phone() -> str | None:
        async with core_on(sqlite_url) as core, core.uow() as uow:
            citizen = await uow.citizens.by_id(town.citizen_ids[0])
            return citizen.phone if citizen else None

    assert asyncio.run(phone()) == "+393471230077"
    # Withdrawing needs a waiting change.
    gone = runner.invoke(
        app,
        [
            "admin",
            "citizen",
            "phone-change",
            "withdraw",
            town.code,
            "1",
            "--reason",
            "x",
            "--by",
            "tst.manager2",
        ],
    )
    assert gone.exit_code == 2 and "phone_change.not_waiting" in gone.output


async def test_erasure_waits_for_the_change(core: Core, clock: FakeClock) -> None:
    """The waiting change holds the person's new number in full: no erasure before it is
    decided."""
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    await pay(core, town, 150_00)
    await request(core, town.shop_id, town.citizen_cfs[0], 10_00)
    asked = await _ask(core, town, team["clerk"])
    assert asked.waiting is not None
    clock.advance(minutes=11)  # the charge expired: only the change is left
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        with pytest.raises(NotAllowed) as refused:
            await privacy.erase_citizen(
                uow, municipality, town.citizen_cfs[0], core.now(), by="cli:test"
            )
    assert refused.value.code == Refusal.PRIVACY_PHONE_CHANGE_WAITING


@pytest.mark.parametrize("language", ["it", "en"])
async def test_the_notices_fit_one_sms_with_a_long_town_name(core: Core, language: str) -> None:
    town = await _long_named_town(core, language)
    team = await _operators(core, town)
    asked = await _ask(core, town, team["clerk"])
    assert asked.waiting is not None
    async with core.uow() as uow:
        await phone_changes.withdraw(uow, team["clerk"], asked.waiting.id, "typo", core.now())
        await uow.commit()
    bodies = []
    for phone in (town.citizen_phones[0], NEW_PHONE):
        async with core.uow() as uow:
            for row in await uow.outbox.for_address("sms", phone):
                if row.created_at == core.now():  # this test's notices, not the credit's
                    bodies.append(assert_one_segment(reply_from_json(row.payload), language))
    assert len(bodies) == 4 and all(LONG_TOWN in body for body in bodies)


def test_a_cashier_at_the_terminal_is_never_made_a_delegate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    """Security trial: a cashier who joined at the terminal chat (addressed by a phone, as
    SMS is) was registered as a citizen's delegate, received the code of the charge they
    asked at their own till, and paid. The office's command refuses that phone as it
    refuses an SMS cashier's, when asked and again at the approval of a request asked
    before the cashier joined."""
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", sqlite_url)
    cashier, later = "+393339990002", "+393339990003"

    async def with_core(work: Callable[[Core], Awaitable[T]]) -> T:
        async with core_on(sqlite_url) as core:
            return await work(core)

    async def seed(core: Core) -> Town:
        town = await make_town(core, citizens=1)
        await _operators(core, town)
        await _join_at_terminal(core, town, cashier)
        return town

    async def delegate_and_waiting(core: Core) -> tuple[str | None, list[str]]:
        async with core.uow() as uow:
            found = await uow.delegates.of_citizen(town.citizen_ids[0])
            waiting = await uow.session.scalars(
                select(m.PhoneChange.phone_masked).where(m.PhoneChange.status == "waiting")
            )
            return (found.phone if found else None), [x or "" for x in waiting]

    town = asyncio.run(with_core(seed))
    delegate = ["admin", "citizen", "delegate", town.code, town.citizen_cfs[0]]
    refused = runner.invoke(app, [*delegate, cashier, "--by", "tst.clerk"])
    assert refused.exit_code == 2, refused.output
    assert "delegate.phone_is_shop" in refused.output and "Traceback" not in refused.output
    assert "charges vouchers for a shop" in refused.output
    assert asyncio.run(with_core(delegate_and_waiting)) == (None, [])
    # Asked before the number joined the shop at the terminal: the approval refuses it.
    asked = runner.invoke(app, [*delegate, later, "--by", "tst.clerk"])
    assert asked.exit_code == 0, asked.output
    asyncio.run(with_core(lambda core: _join_at_terminal(core, town, later)))
    approve = ["admin", "citizen", "phone-change", "approve", town.code, "1"]
    approved = runner.invoke(app, [*approve, "--by", "tst.manager"])
    assert approved.exit_code == 2, approved.output
    assert "delegate.phone_is_shop" in approved.output
    assert asyncio.run(with_core(delegate_and_waiting)) == (None, ["***003"])


async def _join_at_terminal(core: Core, town: Town, phone: str) -> None:
    await add_member(core, town.shop_id, phone, "cashier", channel="terminal")


async def _approve_tranche(core: Core, town: Town, budget_cents: int) -> None:
    """A second tranche approved (the determina), not credited."""
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        await allocation.approve(uow, municipality, budget_cents, core.now())
        await uow.commit()


async def test_money_allocated_but_not_credited_is_money_at_stake(core: Core) -> None:
    # Tranche 1 gave 50 € of the 150 € due, all spent: the balance is 0, and tranche 2,
    # approved and not credited, gives the other 100 € to whoever has the phone then.
    town = await make_town(core, citizens=1, budget_cents=50_00)
    team = await _operators(core, town)
    await pay(core, town, 50_00)
    await _approve_tranche(core, town, 100_00)
    async with core.uow() as uow:  # nobody alone, whoever calls the service
        municipality = await municipalities.require(uow, town.code)
        with pytest.raises(NotAllowed) as alone:
            await identity.rebind_phone(
                uow,
                municipality,
                town.citizen_cfs[0],
                "+393471230088",
                operator="admin",
                now=core.now(),
            )
        assert alone.value.code == Refusal.PHONE_CHANGE_NEEDS_APPROVAL
    asked = await _ask(core, town, team["clerk"])
    assert asked.waiting is not None and asked.applied is None
    assert await _phone_of(core, town) == town.citizen_phones[0]
    assert await _actions(core) == [("citizen.phone_request", "tst.clerk")]
    await _approve(core, team["manager"], asked.waiting.id)
    assert await _phone_of(core, town) == NEW_PHONE
    # The credit goes to the number two operators vouched for.
    told = len(await _told(core, NEW_PHONE))
    old_told = await _told(core, town.citizen_phones[0])
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        await allocation.credit(uow, municipality, core.now())
        await uow.commit()
    assert len(await _told(core, NEW_PHONE)) == told + 1
    assert len(await _told(core, town.citizen_phones[0])) == len(old_told)


async def test_a_withdrawn_tranche_is_no_money_at_stake(core: Core) -> None:
    town = await make_town(core, citizens=1, budget_cents=50_00)
    team = await _operators(core, town)
    await pay(core, town, 50_00)
    await _approve_tranche(core, town, 100_00)
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        await allocation.withdraw(uow, municipality, core.now(), "test")
        await uow.commit()
    asked = await _ask(core, town, team["clerk"])
    assert asked.waiting is None and asked.applied is not None
    assert await _phone_of(core, town) == NEW_PHONE


def test_the_command_line_keeps_four_eyes_on_money_approved_but_not_credited(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("BUONISPESA_OPERATOR", "Bianchi")

    async def seed() -> Town:
        async with core_on(sqlite_url) as core:
            town = await make_town(core, citizens=1, budget_cents=50_00)
            await _operators(core, town)
            await pay(core, town, 50_00)  # balance 0
            await _approve_tranche(core, town, 100_00)  # 100 € approved, not credited
            return town

    town = asyncio.run(seed())
    ask = ["admin", "citizen", "phone", town.code, town.citizen_cfs[0], "347 123 0077"]
    refused = runner.invoke(app, ask)  # Bianchi is no operator: the server owner alone
    assert refused.exit_code == 2 and "phone_change.needs_approval" in refused.output
    asked = runner.invoke(app, [*ask, "--by", "tst.clerk"])
    assert asked.exit_code == 0 and "waiting for another operator" in asked.output


Pause = Callable[[], Awaitable[None]]


async def _ask_for(
    core: Core,
    town: Town,
    who: m.Operator,
    phone: str,
    *,
    citizen: int = 0,
    pause: Pause | None = None,
) -> phone_changes.Asked:
    """_ask for citizen number `citizen`; `pause` is awaited before the commit."""
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        asked = await phone_changes.request(
            uow, who, municipality, town.citizen_cfs[citizen], phone, core.now()
        )
        if pause is not None:
            await pause()
        await uow.commit()
        return asked


async def _at_once(
    core: Core,
    database_url: str,
    first: Callable[[Core, Pause | None], Awaitable[T]],
    second: Callable[[Core], Awaitable[T]],
) -> list[T | BaseException]:
    """`first` and `second` by two processes (two engines on one database) at once. On
    PostgreSQL the first has done its work and not committed yet when the second starts,
    and commits half a second later: they overlap every time. SQLite has one writer
    (BEGIN IMMEDIATE): one after the other."""
    rival = Core(engine=make_engine(database_url), clock=core.clock)
    try:
        if database_url.startswith("sqlite"):
            return list(
                await asyncio.gather(first(core, None), second(rival), return_exceptions=True)
            )
        started = asyncio.Event()

        async def pause() -> None:
            started.set()
            await asyncio.sleep(0.5)  # the second is under way meanwhile

        async def after() -> T:
            await started.wait()
            return await second(rival)

        return list(await asyncio.gather(first(core, pause), after(), return_exceptions=True))
    finally:
        await rival.close()


async def _rebound(core: Core, town: Town) -> list[tuple[str | None, str | None]]:
    """The identity log's office rebindings of the first citizen: (before, after)."""
    async with core.uow() as uow:
        rows = await uow.session.scalars(
            select(m.IdentityEvent)
            .where(
                m.IdentityEvent.citizen_id == town.citizen_ids[0],
                m.IdentityEvent.kind == "phone_rebound",
            )
            .order_by(m.IdentityEvent.id)
        )
        return [(row.previous_phone, row.phone) for row in rows]


OTHER_PHONE = "+393471230088"


async def test_two_clerks_changing_one_phone_at_once_go_one_after_the_other(
    core: Core, database_url: str
) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    await pay(core, town, 150_00)  # nothing at stake: the change applies at once
    old_phone = town.citizen_phones[0]
    outcomes = await _at_once(
        core,
        database_url,
        lambda c, pause: _ask_for(c, town, team["clerk"], NEW_PHONE, pause=pause),
        lambda c: _ask_for(c, town, team["manager"], OTHER_PHONE),
    )
    assert all(isinstance(o, phone_changes.Asked) for o in outcomes), outcomes
    # The second applied on top of the first: its "before" is the first's new number, and
    # the notice that the vouchers moved went to that number, not to the old one again.
    assert await _phone_of(core, town) == OTHER_PHONE
    rebound = await _rebound(core, town)
    assert [(before, after) for before, after in rebound] == [
        (rebound[0][0], rebound[0][1]),
        (rebound[0][1], rebound[1][1]),
    ]
    assert rebound[0][0] is not None and rebound[0][0][-3:] == old_phone[-3:]
    moved = "Your grocery vouchers now use the number {phone}"
    assert sum(moved in msgid for msgid in await _told(core, old_phone)) == 1
    assert sum(moved in msgid for msgid in await _told(core, NEW_PHONE)) == 1
    assert await _actions(core) == [
        ("citizen.phone", "tst.clerk"),
        ("citizen.phone", "tst.manager"),
    ]


async def test_the_same_new_phone_by_two_clerks_at_once_is_recorded_and_told_once(
    core: Core, database_url: str
) -> None:
    town = await make_town(core, citizens=1)
    team = await _operators(core, town)
    await pay(core, town, 150_00)
    old_phone = town.citizen_phones[0]
    outcomes = await _at_once(
        core,
        database_url,
        lambda c, pause: _ask_for(c, town, team["clerk"], NEW_PHONE, pause=pause),
        lambda c: _ask_for(c, town, team["manager"], NEW_PHONE),
    )
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(refused) == 1, outcomes
    assert isinstance(refused[0], Conflict)
    assert refused[0].code == Refusal.IDENTITY_PHONE_ALREADY
    assert str(refused[0].params["phone"]).endswith("077")
    assert await _phone_of(core, town) == NEW_PHONE
    assert len(await _rebound(core, town)) == 1
    assert len(await _told(core, NEW_PHONE)) == 1
    assert len([m for m in await _told(core, old_phone) if "now use the number" in m]) == 1
    assert await _actions(core) == [("citizen.phone", "tst.clerk")]


async def test_one_new_phone_for_two_households_at_once_is_refused_to_the_second(
    core: Core, database_url: str
) -> None:
    town = await make_town(core, citizens=2)
    team = await _operators(core, town)
    await pay(core, town, 150_00, citizen=0)
    await pay(core, town, 150_00, citizen=1)
    outcomes = await _at_once(
        core,
        database_url,
        lambda c, pause: _ask_for(c, town, team["clerk"], NEW_PHONE, citizen=0, pause=pause),
        lambda c: _ask_for(c, town, team["manager"], NEW_PHONE, citizen=1),
    )
    assert isinstance(outcomes[0], phone_changes.Asked), outcomes
    refused = outcomes[1]
    assert isinstance(refused, Conflict), outcomes
    assert refused.code == Refusal.IDENTITY_PHONE_OF_ANOTHER
    assert refused.params == {"codice_fiscale": town.citizen_cfs[0]}
    async with core.uow() as uow:
        second = await uow.citizens.by_id(town.citizen_ids[1])
        assert second is not None and second.phone == town.citizen_phones[1]
    assert len(await _told(core, NEW_PHONE)) == 1
    assert await _actions(core) == [("citizen.phone", "tst.clerk")]


def test_the_chats_request_is_listed_by_the_command_line_checked_and_approved_by_two(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    """A first number the citizen's Telegram chat proved, waiting (identity.
    FirstNumberNeedsOffice): `phone-change list` names the chat as who asked it; no manager
    approves it alone: one checks it (`phone-change check`), another approves it."""
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("COLUMNS", "200")

    async def seed() -> Town:
        async with core_on(sqlite_url) as core:
            town = await make_town(core, citizens=1)
            await _operators(core, town)
            async with core.uow() as uow:  # an older application's chat, no phone
                await uow.session.execute(
                    update(m.Citizen)
                    .where(m.Citizen.id == town.citizen_ids[0])
                    .values(phone=None, telegram_chat_id="990077")
                )
                await uow.commit()
            async with core.uow() as uow:
                with pytest.raises(identity.FirstNumberNeedsOffice):
                    await identity.link_telegram(
                        uow, town.municipality_id, "990077", "+393471230077", core.now()
                    )
                await uow.commit()
            return town

    town = asyncio.run(seed())
    listed = runner.invoke(app, ["admin", "citizen", "phone-change", "list", town.code])
    assert listed.exit_code == 0, listed.output
    said = " ".join(listed.output.split())
    assert "the citizen's Telegram chat" in said and "***077" in said
    assert "1 request waiting" in said
    approve = ["admin", "citizen", "phone-change", "approve", town.code, "1", "--by"]
    alone = runner.invoke(app, [*approve, "tst.manager"])
    assert alone.exit_code != 0
    assert "an operator who checked the citizen" in " ".join(alone.output.split())
    check = ["admin", "citizen", "phone-change", "check", town.code, "1", "--by"]
    checked = runner.invoke(app, [*check, "tst.manager"])
    assert checked.exit_code == 0, checked.output
    assert "checked" in checked.output
    listed = runner.invoke(app, ["admin", "citizen", "phone-change", "list", town.code])
    said = " ".join(listed.output.split())
    assert "the citizen's Telegram chat, checked by tst.manager" in said
    own = runner.invoke(app, [*approve, "tst.manager"])
    assert own.exit_code != 0
    approved = runner.invoke(app, [*approve, "tst.manager2"])
    assert approved.exit_code == 0, approved.output
    assert "now uses the phone ***077" in " ".join(approved.output.split())
