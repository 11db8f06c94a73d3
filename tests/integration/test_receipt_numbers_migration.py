"""0026_shop_receipt_numbers on a database with payments made before it: their receipts keep
their numbers (the charge id, as the shops were told), and each shop's count goes on from
its highest, so an old and a new receipt of one shop never share a number."""

from __future__ import annotations

from sqlalchemy import select, text

from core.storage import models as m
from core.storage.engine import make_engine
from tests.factories import make_town, pay
from tests.integration.migrating import migrate_to, migrated_core
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)
from tests.integration.test_payments import another_shop

BEFORE = "0025_delegate_card_requests"


async def test_old_receipts_keep_their_numbers_and_each_shop_counts_on(
    empty_url: str,  # noqa: F811
) -> None:
    async with migrated_core(empty_url) as core:
        town = await make_town(core, citizens=3)
        other = await another_shop(core, town, 1)
        for citizen in range(3):
            await pay(core, town, 1_00, citizen)
    # As before 0027: no per-shop numbers, the receipt said the charge id.
    await migrate_to(empty_url, BEFORE, down=True)
    engine = make_engine(empty_url)
    try:
        async with engine.begin() as connection:
            ids = (
                (
                    await connection.execute(
                        text("SELECT id FROM charges WHERE status = 'confirmed' ORDER BY id")
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    assert len(ids) == 3

    async with migrated_core(empty_url) as core:
        async with core.uow() as uow:
            kept = (
                await uow.session.execute(
                    select(m.Charge.id, m.Charge.receipt_number)
                    .where(m.Charge.status == "confirmed")
                    .order_by(m.Charge.id)
                )
            ).all()
            shop = await uow.shops.by_id(town.shop_id)
            quiet = await uow.shops.by_id(other)
            assert shop is not None and quiet is not None
            assert (shop.last_receipt, quiet.last_receipt) == (max(ids), 0)
        assert [(x, y) for x, y in kept] == [(x, x) for x in ids]
        # The next receipt continues after the shop's highest; a shop without any starts at 1.
        requested = await pay(core, town, 1_00, 0)
        async with core.uow() as uow:
            charge = await uow.charges.by_id(requested)
            assert charge is not None and charge.receipt_number == max(ids) + 1
