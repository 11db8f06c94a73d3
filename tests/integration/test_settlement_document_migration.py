"""0035_settlement_document on a database with reimbursement runs made before it: a run
approved in the office gets its SEPA file back from its act, so the office can download it
from the run; a command-line run, whose file was never stored, has none."""

from __future__ import annotations

from sqlalchemy import select

from core.services import municipalities
from core.services.reimbursement import settle
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.migrating import migrate_to, migrated_core
from tests.integration.office_helpers import pay
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)
from tests.integration.test_reimbursement import (
    EXECUTION,
    _approve,
    _prepare,
    _staff,
    spending_town,
)

BEFORE = "0034_secret_fingerprint"


async def test_office_runs_get_their_file_back_from_their_act(
    empty_url: str,  # noqa: F811
) -> None:
    clock = FakeClock()
    async with migrated_core(empty_url, clock) as core:
        office, people = await spending_town(core, clock)
        clerk, boss = await _staff(office)
        await pay(office, office.shop_ids[0], people[0], 12_50)
        act = await _prepare(office, clerk, EXECUTION)
        approved = await _approve(office, boss, act.id)
        clock.advance(hours=1)
        await pay(office, office.shop_ids[1], people[1], 3_00)
        async with core.uow() as uow:
            town = await municipalities.require(uow, office.code)
            by_cli, _ = await settle(uow, town, clock(), EXECUTION)
            await uow.commit()
    # As before 0035: the file only on the act.
    await migrate_to(empty_url, BEFORE, down=True)
    async with migrated_core(empty_url, clock) as core:
        async with core.uow() as uow:
            kept = dict(
                (
                    await uow.session.execute(
                        select(m.Settlement.message_id, m.Settlement.document)
                    )
                ).all()
            )
        assert kept == {
            approved.outcome["message_id"]: approved.document,
            by_cli.message_id: None,
        }
