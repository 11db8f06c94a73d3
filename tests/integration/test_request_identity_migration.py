"""0030_request_identity on a database with requests and cards made before it, on SQLite
and PostgreSQL: a card printed from a request names it, one issued without a request names
none, the way down and up again keeps every row; a database already holding two waiting
requests for one number is not migrated, and the error names them."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, inspect, text, update

from core.bootstrap import Core
from core.domain.errors import NotAllowed, Refusal
from core.services import cards, municipalities, phone_changes
from core.storage import models as m
from core.storage.engine import make_engine
from core.storage.uow import UnitOfWork
from tests.conftest import FakeClock
from tests.factories import make_town, pay
from tests.integration.migrating import core_on, migrate_to, migrated_core
from tests.integration.test_delegate_card_requests import _approve, _ask_card, _print
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)
from tests.integration.test_phone_changes import _operators
from tests.integration.test_request_identity import NEW_PHONE, _row

BEFORE = "0029_code_content"


async def _schema(url: str) -> tuple[set[str], set[str], str]:
    """The columns of citizens, the indexes of phone_changes, the revision."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:

            def read(sync: object) -> tuple[set[str], set[str]]:
                found = inspect(sync)
                columns = {column["name"] for column in found.get_columns("citizens")}
                indexes = {str(index["name"]) for index in found.get_indexes("phone_changes")}
                return columns, indexes

            columns, indexes = await connection.run_sync(read)
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    return columns, indexes, str(revision)


async def _insert_before_0044(uow: UnitOfWork, row: m.PhoneChange) -> int:
    """Insert the request into a schema older than 0044_chat_phone_requests, which has no
    requested_by_chat (the model has): its other columns, by a plain INSERT."""
    values = {
        column.key: getattr(row, column.key)
        for column in m.PhoneChange.__table__.columns
        if column.key not in ("id", "requested_by_chat") and getattr(row, column.key) is not None
    }
    found = await uow.session.scalar(
        insert(m.PhoneChange).values(**values).returning(m.PhoneChange.id)
    )
    assert found is not None
    return int(found)


async def _card_changes(core: Core, citizen_ids: list[int]) -> list[int | None]:
    async with core.uow() as uow:
        found = []
        for citizen_id in citizen_ids:
            citizen = await uow.citizens.by_id(citizen_id)
            assert citizen is not None
            found.append(citizen.card_change_id)
        return found


async def test_cards_printed_before_name_their_request_and_the_way_down_keeps_the_rest(
    empty_url: str,  # noqa: F811
) -> None:
    clock = FakeClock()
    async with migrated_core(empty_url, clock) as core:
        town = await make_town(core, citizens=3)
        team = await _operators(core, town)
        printed = await _ask_card(core, town, team["clerk"])
        await _approve(core, team["manager"], printed.id)
        clock.advance(hours=1)
        await _print(core, town, team["clerk"])
        # Citizen 1: a new phone waiting; citizen 2: nothing at stake, a card without
        # a request.
        async with core.uow() as uow:
            municipality = await municipalities.require(uow, town.code)
            asked = await phone_changes.request(
                uow, team["clerk"], municipality, town.citizen_cfs[1], NEW_PHONE, core.now()
            )
            assert asked.waiting is not None
            await uow.commit()
        await pay(core, town, 150_00, citizen=2)
        async with core.uow() as uow:
            municipality = await municipalities.require(uow, town.code)
            await cards.issue_card(uow, municipality, town.citizen_cfs[2], core.now())
            await uow.commit()
        assert await _card_changes(core, town.citizen_ids) == [printed.id, None, None]

    columns, indexes, _ = await _schema(empty_url)
    assert "card_change_id" in columns
    assert {"uq_phone_changes_waiting_phone", "uq_phone_changes_id_citizen"} <= indexes
    await migrate_to(empty_url, BEFORE, down=True)
    columns, indexes, revision = await _schema(empty_url)
    assert "card_change_id" not in columns and revision == BEFORE
    assert not {"uq_phone_changes_waiting_phone", "uq_phone_changes_id_citizen"} & indexes
    async with migrated_core(empty_url, clock) as core:
        # The printed card names its request again (printed at the card's issue instant).
        assert await _card_changes(core, town.citizen_ids) == [printed.id, None, None]
        async with core.uow() as uow:
            rows = await uow.phone_changes.waiting(town.municipality_id)
            assert [change.id for change, _ in rows] == [asked.waiting.id]
        # And the rules hold on the migrated database.
        with pytest.raises(NotAllowed) as refused:
            async with core.uow() as uow:
                await uow.session.execute(
                    update(m.Citizen)
                    .where(m.Citizen.id == town.citizen_ids[1])
                    .values(card_change_id=printed.id)
                )
        assert refused.value.code == Refusal.REQUEST_OTHER_CITIZEN


async def test_two_waiting_requests_for_one_number_stop_the_migration(
    empty_url: str,  # noqa: F811
) -> None:
    clock = FakeClock()
    async with migrated_core(empty_url, clock) as core:
        town = await make_town(core, citizens=2)
        team = await _operators(core, town)
    await migrate_to(empty_url, BEFORE, down=True)
    # Two clerks at the same moment, before 0030: both stored.
    async with core_on(empty_url, clock) as core, core.uow() as uow:
        first = _row(town, team, 0, "phone", "waiting", core.now())
        second = _row(town, team, 1, "delegate", "waiting", core.now())
        for row in (first, second):
            row.id = await _insert_before_0044(uow, row)
        await uow.commit()

    with pytest.raises(Exception, match="Not migrated to 0030_request_identity") as stopped:
        await migrate_to(empty_url, "head")
    said = str(stopped.value)
    assert f"requests {first.id}, {second.id}" in said and "ending 088" in said
    assert NEW_PHONE not in said  # the number itself stays out of the log
    _, indexes, revision = await _schema(empty_url)
    assert revision == BEFORE and "uq_phone_changes_waiting_phone" not in indexes

    # The office withdraws one: the migration goes through.
    async with core_on(empty_url, clock) as core, core.uow() as uow:
        await uow.session.execute(
            update(m.PhoneChange)
            .where(m.PhoneChange.id == second.id)
            .values(
                status="withdrawn",
                phone=None,
                decided_by_id=team["manager"].id,
                decided_at=core.now(),
            )
        )
        await uow.commit()
    await migrate_to(empty_url, "head")
    _, indexes, revision = await _schema(empty_url)
    assert revision != BEFORE and "uq_phone_changes_waiting_phone" in indexes
