"""0040_shop_member_phone up and down, on SQLite and PostgreSQL: the column, and with it
the shop-phone guard's reading of a Telegram member's phone, come and go; 0015's guard
stays as it was on the way down, and the members stay on both ways."""

from __future__ import annotations

from sqlalchemy import inspect, text

from core.storage.engine import make_engine
from tests.conftest import FakeClock
from tests.factories import Town, make_town
from tests.integration.migrating import core_on, migrate_to
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)
from tests.integration.test_shop_phone_guard import refusal_of

BEFORE = "0039_no_charge_for_erased"
CHAT = "880080"
PHONE = "+393471230080"
STAMP = "2026-04-06 08:00:00"


async def columns(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.run_sync(
                lambda sync: inspect(sync).get_columns("shop_members")
            )
            return {column["name"] for column in found}
    finally:
        await engine.dispose()


def delegate(town: Town, phone: str) -> object:
    return text(
        "INSERT INTO delegates (municipality_id, citizen_id, phone, created_at) "
        f"VALUES ({town.municipality_id}, {town.citizen_ids[0]}, '{phone}', '{STAMP}')"
    )


def sms_member(town: Town, phone: str) -> object:
    return text(
        "INSERT INTO shop_members (shop_id, channel, address, role, created_at) "
        f"VALUES ({town.shop_id}, 'sms', '{phone}', 'cashier', '{STAMP}')"
    )


async def test_the_members_phone_comes_and_goes_with_the_migration(
    empty_url: str,  # noqa: F811
) -> None:
    await migrate_to(empty_url, "head")
    assert "phone" in await columns(empty_url)
    clock = FakeClock()
    async with core_on(empty_url, clock) as core:
        town = await make_town(core, citizens=1)
        telegram = text(
            "INSERT INTO shop_members (shop_id, channel, address, role, created_at, phone) "
            f"VALUES ({town.shop_id}, 'telegram', '{CHAT}', 'cashier', '{STAMP}', '{PHONE}')"
        )
        assert await refusal_of(core, telegram) is None
        assert await refusal_of(core, delegate(town, PHONE)) == "delegate.phone_is_shop"

    await migrate_to(empty_url, BEFORE, down=True)
    assert "phone" not in await columns(empty_url)
    async with core_on(empty_url, clock) as core:
        # 0015's guard, as before: an SMS member's phone is still nobody's delegate ...
        assert await refusal_of(core, sms_member(town, "+393471230081")) is None
        assert await refusal_of(core, delegate(town, "+393471230081")) == "delegate.phone_is_shop"
        # ... and a member still never takes a delegate's phone; the Telegram member's
        # phone went with the column, so the delegate is written.
        assert await refusal_of(core, delegate(town, PHONE)) is None
        assert await refusal_of(core, sms_member(town, PHONE)) == "shop.member_is_citizen"

    await migrate_to(empty_url, "head")
    assert "phone" in await columns(empty_url)
    async with core_on(empty_url, clock) as core:
        async with core.uow() as uow:
            [(member, _)] = await uow.shops.membership("telegram", CHAT)
            assert member.phone is None  # asked again at the member's next charge
        # The guard reads the column again: the delegate's phone is refused to the member.
        set_phone = text(f"UPDATE shop_members SET phone = '{PHONE}' WHERE address = '{CHAT}'")
        assert await refusal_of(core, set_phone) == "shop.member_is_citizen"
