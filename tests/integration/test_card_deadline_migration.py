"""0027_card_print_deadline on a database with card requests approved before it: an
approved card not printed gets its deadline from its approval, a printed one keeps its
printing valid, and going down and up again keeps every row within the CHECK."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from core.services import phone_changes
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import make_town
from tests.integration.migrating import migrate_to, migrated_core
from tests.integration.test_delegate_card_requests import _approve, _ask_card, _print
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)
from tests.integration.test_phone_changes import _operators

BEFORE = "0026_shop_receipt_numbers"


async def test_cards_approved_before_get_their_deadline_from_the_approval(
    empty_url: str,  # noqa: F811
) -> None:
    clock = FakeClock()
    async with migrated_core(empty_url, clock) as core:
        town = await make_town(core, citizens=1)
        team = await _operators(core, town)
        printed = await _ask_card(core, town, team["clerk"])
        await _approve(core, team["manager"], printed.id)
        clock.advance(days=2)
        await _print(core, town, team["clerk"])
        clock.advance(days=1)
        waiting = await _ask_card(core, town, team["clerk"], reissue=True)
        await _approve(core, team["manager"], waiting.id)
        approved_at = core.now()
        # An expired request, which the way down turns into a withdrawn one.
        async with core.uow() as uow:
            await uow.session.execute(
                update(m.PhoneChange).where(m.PhoneChange.id == waiting.id).values(status="expired")
            )
            await uow.commit()
    await migrate_to(empty_url, BEFORE, down=True)
    async with migrated_core(empty_url, clock) as core:
        async with core.uow() as uow:
            rows = {
                row.id: row
                for row in await uow.session.scalars(
                    select(m.PhoneChange).order_by(m.PhoneChange.id)
                )
            }
        assert rows[waiting.id].status == "withdrawn"
        decided = rows[printed.id].decided_at
        assert decided is not None and rows[printed.id].print_by == decided + timedelta(days=7)
        assert rows[printed.id].handed_at is not None
        # A card approved again after the migration gets its deadline from the service.
        again = await _ask_card(core, town, team["clerk"], reissue=True)
        done = await _approve(core, team["manager"], again.id)
        assert done.change.print_by == approved_at + timedelta(days=phone_changes.CARD_PRINT_DAYS)
