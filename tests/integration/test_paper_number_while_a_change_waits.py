"""A paper application (a file imported, or one typed at the desk) never gives a citizen a
number while a new phone the office asked for them waits for a second operator: the change
decides the number (docs/identity-and-consent.md §6, "while a change waits no other number
is bound"). The row is refused by its line and column, nothing of the file is written; the
same row without a phone, or with the number the citizen already has, goes in. On SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.bootstrap import Core
from core.domain.errors import Conflict, Refusal
from core.services import (
    allocation,
    application_desk,
    applications,
    back_office,
    identity,
    municipalities,
    operators,
    phone_changes,
)
from core.services.applications import ApplicationInput
from core.services.paper_applications import ImportRefused
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from tests.factories import Town, make_cf, make_town, pay, request
from tests.integration.linked_chat import holder_without_phone
from tests.integration.migrating import migrate_to
from tests.integration.test_identity_migration import (
    _write,
    empty_url,  # noqa: F401  (a fixture)
)
from tests.integration.test_identity_races import _committed, first_then_second
from tests.integration.test_phone_changes import _operators

ASKED_PHONE = "+393471230072"
PAPER_PHONE = "+393471230073"
OTHER_PHONE = "+393471230074"


async def _town(core: Core, *, phoneless: bool = True) -> tuple[Town, dict[str, m.Operator]]:
    """Citizen 0 (without a phone unless told) and citizen 1 have a balance, so a new phone
    waits for a second operator; a new window is open, which neither applied to yet."""
    town = await holder_without_phone(core) if phoneless else await make_town(core, citizens=2)
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        await municipalities.open_window(uow, municipality, core.now() - timedelta(hours=1))
        await uow.commit()
    return town, await _operators(core, town)


async def _ask(core: Core, town: Town, who: m.Operator, phone: str = ASKED_PHONE) -> int:
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        asked = await phone_changes.request(
            uow, who, municipality, town.citizen_cfs[0], phone, core.now()
        )
        await uow.commit()
    assert asked.waiting is not None
    return asked.waiting.id


def _row(core: Core, index: int, cf: str, phone: str | None) -> tuple[ApplicationInput, Any]:
    data = ApplicationInput(cf, phone, 2, False, False, 0, 0, 0)
    return data, core.now() - timedelta(minutes=10 - index)


async def _import(core: Core, town: Town, rows: list[tuple[ApplicationInput, Any]]) -> int:
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        count = await applications.import_applications(uow, municipality, rows, core.now())
        await uow.commit()
        return count


async def _refused(
    core: Core, town: Town, rows: list[tuple[ApplicationInput, Any]]
) -> list[tuple[int, str, str, dict[str, object]]]:
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        with pytest.raises(ImportRefused) as caught:
            await applications.import_applications(uow, municipality, rows, core.now())
    return [(p.index, p.column, p.error.code, p.error.params) for p in caught.value.problems]


async def _phone(core: Core, town: Town) -> str | None:
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        return citizen.phone


async def _applications(core: Core) -> int:
    async with core.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(m.Application)) or 0)


async def test_an_imported_row_gives_no_number_while_a_change_waits(core: Core) -> None:
    town, team = await _town(core)
    change_id = await _ask(core, town, team["clerk"])
    before = await _applications(core)
    rows = [_row(core, 0, make_cf(40), None), _row(core, 1, town.citizen_cfs[0], PAPER_PHONE)]
    assert await _refused(core, town, rows) == [
        (
            1,
            "phone",
            "application.phone_change_waiting",
            {"change_id": change_id, "phone": "***072"},
        )
    ]
    # All rows or none: nothing written, the citizen still without a phone.
    assert await _applications(core) == before
    assert await _phone(core, town) is None
    # The same paper without a phone goes in; the change still decides the number.
    rows[1] = _row(core, 1, town.citizen_cfs[0], None)
    assert await _import(core, town, rows) == 2
    assert await _phone(core, town) is None
    async with core.uow() as uow:
        await phone_changes.approve(uow, team["manager"], change_id, core.now())
        await uow.commit()
    assert await _phone(core, town) == ASKED_PHONE


async def test_nor_the_number_the_change_asks(core: Core) -> None:
    """Writing on paper the very number the change asks would skip its second operator."""
    town, team = await _town(core)
    change_id = await _ask(core, town, team["clerk"])
    rows = [_row(core, 0, town.citizen_cfs[0], ASKED_PHONE)]
    [(_, column, code, params)] = await _refused(core, town, rows)
    assert (column, code, params["change_id"]) == (
        "phone",
        "application.phone_change_waiting",
        change_id,
    )
    assert await _phone(core, town) is None


async def test_a_desk_application_gives_no_number_while_a_change_waits(core: Core) -> None:
    """The desk's form (back_office.enter_application) is the import of one row: refused
    the same way, so the page says it beside the phone and keeps what was typed."""
    town, team = await _town(core)
    change_id = await _ask(core, town, team["clerk"])
    before = await _applications(core)
    data, submitted_at = _row(core, 0, town.citizen_cfs[0], PAPER_PHONE)
    async with core.uow() as uow:
        with pytest.raises(ImportRefused) as refused:
            await back_office.enter_application(
                uow, team["clerk"], data, submitted_at, core.now(), "form-1"
            )
    [problem] = refused.value.problems
    assert (problem.column, problem.error.code) == ("phone", "application.phone_change_waiting")
    assert problem.error.params == {"change_id": change_id, "phone": "***072"}
    assert await _applications(core) == before
    assert await _phone(core, town) is None


async def test_a_citizen_with_a_phone_is_given_no_other_while_a_change_waits(
    core: Core,
) -> None:
    """The citizen has a number and a change to another waits: a paper application with a
    third number (or the asked one) is refused for the change, not as another household's
    claim; with the number they have it binds nothing and goes in."""
    town, team = await _town(core, phoneless=False)
    change_id = await _ask(core, town, team["clerk"])
    for phone in (OTHER_PHONE, ASKED_PHONE):
        [(_, column, code, params)] = await _refused(
            core, town, [_row(core, 0, town.citizen_cfs[0], phone)]
        )
        assert (column, code, params["change_id"]) == (
            "phone",
            "application.phone_change_waiting",
            change_id,
        )
    assert await _phone(core, town) == town.citizen_phones[0]
    assert await _import(core, town, [_row(core, 0, town.citizen_cfs[0], town.citizen_phones[0])])
    assert await _phone(core, town) == town.citizen_phones[0]


@pytest.mark.parametrize("phoneless", [True, False])
async def test_the_application_page_gives_no_number_while_a_change_waits(
    core: Core, phoneless: bool
) -> None:
    """The application's page binding a phone (application_desk.bind_phone) asks a change:
    refused while one waits, with or without a phone on file, naming the waiting one."""
    town, team = await _town(core, phoneless=phoneless)
    change_id = await _ask(core, town, team["clerk"])
    async with core.uow() as uow:
        latest = await uow.applications.latest_for_citizen(town.citizen_ids[0])
        assert latest is not None
        with pytest.raises(Conflict) as refused:
            await application_desk.bind_phone(
                uow, team["manager"], latest.protocol, PAPER_PHONE, core.now()
            )
    assert refused.value.code == Refusal.PHONE_CHANGE_WAITING
    assert refused.value.params["change_id"] == change_id
    assert await _phone(core, town) == (None if phoneless else town.citizen_phones[0])


async def test_no_row_takes_a_number_a_waiting_request_names(core: Core) -> None:
    """Another household's new phone, or a delegate asked for citizen 0, waits for its
    second operator: that request is the one claim on the number until it is decided, so
    no paper row gives it to anybody else (asked_numbers, as for the office and a chat)."""
    town, team = await _town(core)
    change_id = await _ask(core, town, team["clerk"])
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        delegate = await phone_changes.request_delegate(
            uow, team["clerk"], municipality, town.citizen_cfs[1], OTHER_PHONE, core.now()
        )
        await uow.commit()
    rows = [
        _row(core, 0, make_cf(40), ASKED_PHONE),
        _row(core, 1, make_cf(41), OTHER_PHONE),
        _row(core, 2, make_cf(42), PAPER_PHONE),
    ]
    assert [
        (index, column, code) for index, column, code, _ in await _refused(core, town, rows)
    ] == [
        (0, "phone", "request.number_asked"),
        (1, "phone", "request.number_asked"),
    ]
    problems = await _refused(core, town, rows)
    assert [params["change_id"] for *_, params in problems] == [change_id, delegate.id]
    assert [params["phone"] for *_, params in problems] == ["***072", "***074"]


async def test_nor_the_number_asked_as_the_citizens_own_delegate(core: Core) -> None:
    town, team = await _town(core)
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        delegate = await phone_changes.request_delegate(
            uow, team["clerk"], municipality, town.citizen_cfs[0], OTHER_PHONE, core.now()
        )
        await uow.commit()
    [(_, column, code, params)] = await _refused(
        core, town, [_row(core, 0, town.citizen_cfs[0], OTHER_PHONE)]
    )
    assert (column, code) == ("phone", "request.number_own")
    assert params == {"change_id": delegate.id, "phone": "***074", "kind": "delegate"}
    assert await _phone(core, town) is None


async def test_an_import_while_the_office_asks_a_change_waits_for_it(
    core: Core, database_url: str
) -> None:
    """The office's request holds the citizen's row until its commit (phone_changes.request);
    the import takes the same lock before it looks, so it sees the waiting change and
    refuses the row (on PostgreSQL it waits; SQLite's one writer runs them in turn)."""
    town, team = await _town(core)

    async def ask(uow: UnitOfWork) -> Any:
        municipality = await municipalities.require(uow, town.code)
        return await phone_changes.request(
            uow, team["clerk"], municipality, town.citizen_cfs[0], ASKED_PHONE, core.now()
        )

    async def paper(uow: UnitOfWork) -> Any:
        municipality = await municipalities.require(uow, town.code)
        rows = [_row(core, 0, town.citizen_cfs[0], PAPER_PHONE)]
        return await applications.import_applications(uow, municipality, rows, core.now())

    asked, late = await first_then_second(core, database_url, ask, lambda: _committed(core, paper))
    assert asked.waiting is not None
    with pytest.raises(ImportRefused) as refused:
        await late
    assert [p.error.code for p in refused.value.problems] == ["application.phone_change_waiting"]
    assert await _phone(core, town) is None


async def test_the_database_binds_no_number_while_a_change_waits(core: Core) -> None:
    """Whatever writes it (a raw update, a service that forgot): refused, nothing changed
    (migration 0043_no_phone_while_change_waits). Taking the number away, or another
    citizen's number, goes through; the approval writes the asked number."""
    town, team = await _town(core)
    change_id = await _ask(core, town, team["clerk"])
    for phone in (PAPER_PHONE, ASKED_PHONE):
        async with core.uow() as uow:
            with pytest.raises(Conflict) as refused:
                await uow.session.execute(
                    update(m.Citizen)
                    .where(m.Citizen.id == town.citizen_ids[0])
                    .values(phone=phone, phone_proven_by="office")
                )
            assert refused.value.code == Refusal.IDENTITY_PHONE_CHANGE_WAITING
    assert await _phone(core, town) is None
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen).where(m.Citizen.id == town.citizen_ids[0]).values(phone=None)
        )
        await uow.session.execute(
            update(m.Citizen).where(m.Citizen.id == town.citizen_ids[1]).values(phone=PAPER_PHONE)
        )
        await uow.commit()
    async with core.uow() as uow:
        await phone_changes.approve(uow, team["manager"], change_id, core.now())
        await uow.commit()
    assert await _phone(core, town) == ASKED_PHONE


async def test_the_migration_refuses_new_numbers_and_downgrades(
    empty_url: str,  # noqa: F811  (the fixture)
) -> None:
    """0043_no_phone_while_change_waits: a citizen whose new phone waits keeps the number
    they have, may lose it, is given no other; downgrading removes the trigger."""
    await migrate_to(empty_url, "0042_citizen_not_own_delegate")
    for statement in (
        "INSERT INTO municipalities (id, code, name, policy_toml, timezone, created_at) "
        "VALUES (1, 'OLD', 'Oldtown', '', 'Europe/Rome', :t)",
        "INSERT INTO citizens (id, municipality_id, codice_fiscale, phone, language, "
        f"card_code, created_at) VALUES (1, 1, 'CF1', '{PAPER_PHONE}', 'it', 'CARD1', :t)",
        "INSERT INTO operators (id, municipality_id, username, role, password_hash, "
        "must_change_password, failed_sign_ins, created_at) "
        "VALUES (1, 1, 'old.clerk', 'clerk', 'x', FALSE, 0, :t)",
        "INSERT INTO phone_changes (municipality_id, citizen_id, kind, subject, phone, "
        "phone_masked, reissue, status, requested_by_id, requested_at) VALUES "
        f"(1, 1, 'phone', 'citizen #1', '{ASKED_PHONE}', '***072', FALSE, 'waiting', 1, :t)",
    ):
        assert await _write(empty_url, statement) is None
    await migrate_to(empty_url, "head")
    other = f"UPDATE citizens SET phone = '{OTHER_PHONE}' WHERE id = 1"
    assert await _write(empty_url, other) == "identity.phone_change_waiting"
    kept = f"UPDATE citizens SET phone = '{PAPER_PHONE}', language = 'en' WHERE id = 1"
    assert await _write(empty_url, kept) is None
    assert await _write(empty_url, "UPDATE citizens SET phone = NULL WHERE id = 1") is None
    assert await _write(empty_url, other) == "identity.phone_change_waiting"
    await migrate_to(empty_url, "0042_citizen_not_own_delegate", down=True)
    assert await _write(empty_url, other) is None


# A first number while there is money to spend (docs/identity-and-consent.md, "Four eyes
# while there is money to spend"): a known citizen without a phone who has something to
# spend is given no number by a paper row, one operator alone; the same row without a
# phone goes in, and the office asks the change for a second operator to approve.

STAKES = ["balance", "tranche", "charge"]


async def _phoneless_with(core: Core, stake: str) -> tuple[Town, m.Operator]:
    """Citizen 0 of a one-citizen town, without a phone, with `stake` to spend: a positive
    balance; a second tranche approved and not credited (the first all spent); a charge
    waiting for its code (the balance spent); or "none" (all spent, nothing waiting). A
    new window is open and a clerk works at the desk."""
    town = await make_town(core, citizens=1, budget_cents=50_00 if stake == "tranche" else 150_00)
    if stake != "balance":
        await pay(core, town, 50_00 if stake == "tranche" else 150_00)
    if stake == "charge":
        await request(core, town.shop_id, town.citizen_cfs[0], 10_00)
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[0])
            .values(phone=None, phone_proven_by=None, phone_proven_at=None)
        )
        opens = core.now() - timedelta(hours=1)
        if stake == "tranche":
            await allocation.approve(uow, municipality, 100_00, core.now())
            # No window opens while a tranche waits for its credit (check_open_window): the
            # rule on the number must not lean on that, so the window is written here.
            latest = await uow.rounds.latest(municipality.id)
            assert latest is not None
            uow.add(
                m.Round(
                    municipality_id=municipality.id,
                    number=latest.number + 1,
                    opens_at=opens,
                    closes_at=opens + timedelta(days=4),
                )
            )
        else:
            await municipalities.open_window(uow, municipality, opens)
        clerk, _ = await operators.add_operator(
            uow, municipality, "tst.clerk", "clerk", core.now(), password="x" * 12
        )
        await uow.commit()
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        assert await identity.money_at_stake(uow, citizen, core.now()) is (stake != "none")
    return town, clerk


async def _bound_events(core: Core, town: Town) -> int:
    async with core.uow() as uow:
        return int(
            await uow.session.scalar(
                select(func.count())
                .select_from(m.IdentityEvent)
                .where(
                    m.IdentityEvent.citizen_id == town.citizen_ids[0],
                    m.IdentityEvent.kind == "phone_bound",
                )
            )
            or 0
        )


@pytest.mark.parametrize("stake", STAKES)
async def test_an_imported_row_gives_no_first_number_while_there_is_money_to_spend(
    core: Core, stake: str
) -> None:
    town, _ = await _phoneless_with(core, stake)
    before, events = await _applications(core), await _bound_events(core, town)
    rows = [_row(core, 0, make_cf(40), None), _row(core, 1, town.citizen_cfs[0], PAPER_PHONE)]
    assert await _refused(core, town, rows) == [
        (
            1,
            "phone",
            "application.phone_needs_approval",
            {"codice_fiscale": town.citizen_cfs[0]},
        )
    ]
    # All rows or none: nothing written, the citizen still without a phone, nothing logged.
    assert await _applications(core) == before
    assert await _phone(core, town) is None
    assert await _bound_events(core, town) == events
    # The same paper without a phone goes in; the number waits for a second operator.
    rows[1] = _row(core, 1, town.citizen_cfs[0], None)
    assert await _import(core, town, rows) == 2
    assert await _phone(core, town) is None


@pytest.mark.parametrize("stake", STAKES)
async def test_a_desk_application_gives_no_first_number_while_there_is_money_to_spend(
    core: Core, stake: str
) -> None:
    """The desk's form is the import of one row: refused on the phone, nothing written."""
    town, clerk = await _phoneless_with(core, stake)
    before = await _applications(core)
    data, submitted_at = _row(core, 0, town.citizen_cfs[0], PAPER_PHONE)
    async with core.uow() as uow:
        with pytest.raises(ImportRefused) as refused:
            await back_office.enter_application(
                uow, clerk, data, submitted_at, core.now(), "form-1"
            )
    [problem] = refused.value.problems
    assert (problem.column, problem.error.code) == ("phone", "application.phone_needs_approval")
    assert await _applications(core) == before
    assert await _phone(core, town) is None


async def test_without_money_to_spend_the_paper_binds_its_first_number(core: Core) -> None:
    """Nothing to spend and nothing coming: the office's paper is proof enough, as before."""
    town, _ = await _phoneless_with(core, "none")
    events = await _bound_events(core, town)
    assert await _import(core, town, [_row(core, 0, town.citizen_cfs[0], PAPER_PHONE)]) == 1
    assert await _phone(core, town) == PAPER_PHONE
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None and citizen.phone_proven_by == "office"
    assert await _bound_events(core, town) == events + 1
