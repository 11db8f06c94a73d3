"""A shop's member on Telegram has the phone they shared as their own (migration 0040),
and every rule that keeps a shop's phones apart from voucher holders' reads it, in the
services and in the database behind them (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, update

from core.bootstrap import Core
from core.domain.errors import Conflict, NotAllowed, Refusal
from core.domain.shops import ShopCategory
from core.services import delegates, identity, shop_members, shops
from core.storage import models as m
from tests.factories import Town, make_partita_iva, make_town
from tests.integration.test_shop_phone_guard import _now, refusal_of

CHAT = "880070"
PHONE = "+393471230070"


def telegram_member(town: Town, phone: str | None, address: str = CHAT) -> m.ShopMember:
    return m.ShopMember(
        shop_id=town.shop_id,
        channel="telegram",
        address=address,
        role="cashier",
        created_at=_now(),
        phone=phone,
    )


def delegate_of(town: Town, citizen: int, phone: str) -> object:
    return insert(m.Delegate).values(
        municipality_id=town.municipality_id,
        citizen_id=town.citizen_ids[citizen],
        phone=phone,
        created_at=_now(),
    )


async def test_the_database_keeps_a_telegram_members_phone_apart(core: Core) -> None:
    town = await make_town(core, citizens=2)
    assert await refusal_of(core, telegram_member(town, PHONE)) is None
    # Neither a citizen nor a delegate gets the phone the cashier shared.
    citizen = update(m.Citizen).where(m.Citizen.id == town.citizen_ids[0])
    assert await refusal_of(core, citizen.values(phone=PHONE)) == "identity.phone_is_shop"
    assert await refusal_of(core, delegate_of(town, 1, PHONE)) == "delegate.phone_is_shop"
    # Nor does a member share a voucher holder's phone, joining or later.
    refused = "shop.member_is_citizen"
    holders = town.citizen_phones[0]
    assert await refusal_of(core, telegram_member(town, holders, "880071")) == refused
    moved = update(m.ShopMember).where(m.ShopMember.address == CHAT)
    assert await refusal_of(core, moved.values(phone=holders)) == refused
    # A write that keeps the phone is let through; another phone nobody holds is too.
    assert await refusal_of(core, moved.values(role="cashier")) is None
    assert await refusal_of(core, moved.values(phone="+393471230071")) is None
    assert await refusal_of(core, citizen.values(phone=PHONE)) is None


async def test_the_rule_of_a_telegram_members_phone_holds_within_one_municipality(
    core: Core,
) -> None:
    first = await make_town(core, citizens=1)
    other = await make_town(core, citizens=1, code="OTH")
    assert await refusal_of(core, telegram_member(first, PHONE)) is None
    async with core.uow() as uow:
        assert await identity.is_shop_phone(uow, first.municipality_id, phone=PHONE)
        assert not await identity.is_shop_phone(uow, other.municipality_id, phone=PHONE)
    # The other town's citizen may have it.
    citizen = update(m.Citizen).where(m.Citizen.id == other.citizen_ids[0])
    assert await refusal_of(core, citizen.values(phone=PHONE)) is None


async def invite(core: Core, town: Town) -> str:
    async with core.uow() as uow:
        code = await shops.create_invite(uow, town.shop_id, core.now())
        await uow.commit()
        return code


async def test_a_cashier_joins_on_telegram_with_their_own_phone(core: Core) -> None:
    town = await make_town(core, citizens=1)
    code = await invite(core, town)
    async with core.uow() as uow:
        with pytest.raises(Conflict) as without:
            await shops.accept_invite(uow, code, channel="telegram", address=CHAT, now=core.now())
        assert without.value.code == Refusal.SHOP_MEMBER_PHONE_MISSING
    async with core.uow() as uow:
        with pytest.raises(Conflict) as holders:
            await shops.accept_invite(
                uow,
                code,
                channel="telegram",
                address=CHAT,
                now=core.now(),
                phone=town.citizen_phones[0],
            )
        assert holders.value.code == Refusal.SHOP_MEMBER_IS_CITIZEN
    async with core.uow() as uow:
        assert await uow.shops.membership("telegram", CHAT) == []
        await shops.accept_invite(
            uow, code, channel="telegram", address=CHAT, now=core.now(), phone=PHONE
        )
        await uow.commit()
    async with core.uow() as uow:
        [(member, _)] = await uow.shops.membership("telegram", CHAT)
        assert member.phone == PHONE
        # The phone is a shop's now, for every rule that asks.
        assert await identity.is_shop_phone(uow, town.municipality_id, phone=PHONE)
        with pytest.raises(Conflict) as as_citizen:
            await identity.refuse_shop_phone(uow, town.municipality_id, PHONE)
        assert as_citizen.value.code == Refusal.IDENTITY_PHONE_IS_SHOP
        # The office registering it as a customer's delegate is refused.
        municipality = await uow.municipalities.by_id(town.municipality_id)
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert municipality is not None and citizen is not None
        with pytest.raises(Conflict) as as_delegate:
            await delegates.check_delegate(uow, municipality, citizen, PHONE)
        assert as_delegate.value.code == Refusal.DELEGATE_PHONE_IS_SHOP


async def test_an_owner_registers_on_telegram_with_their_own_phone(core: Core) -> None:
    town = await make_town(core, citizens=1)
    data = shops.ShopInput(
        "Forno Telegram",
        make_partita_iva(2),
        ShopCategory.BAKERY,
        "Via Verdi 3",
        "Testville",
        "62020",
        None,
        None,
        "IT40S0542811101000000123456",
    )
    async with core.uow() as uow:
        with pytest.raises(Conflict) as without:
            await shops.register_shop(
                uow,
                town.municipality_id,
                data,
                owner_channel="telegram",
                owner_address=CHAT,
                now=core.now(),
            )
        assert without.value.code == Refusal.SHOP_MEMBER_PHONE_MISSING
    async with core.uow() as uow:
        shop = await shops.register_shop(
            uow,
            town.municipality_id,
            data,
            owner_channel="telegram",
            owner_address=CHAT,
            now=core.now(),
            owner_phone=PHONE,
        )
        await uow.commit()
    async with core.uow() as uow:
        [owner] = await uow.shops.members_of(shop.id)
        assert (owner.role, owner.phone) == ("owner", PHONE)


async def test_a_member_who_joined_before_shares_their_phone_later(core: Core) -> None:
    """A Telegram member of before migration 0040 has no phone: share_phone stores the one
    they share, unless it receives a voucher holder's codes (nothing stored then)."""
    town = await make_town(core, citizens=1)
    assert await refusal_of(core, telegram_member(town, None)) is None
    assert await refusal_of(core, delegate_of(town, 0, PHONE)) is None  # nothing to see yet
    chat = ("telegram", CHAT)
    with pytest.raises(Conflict) as refused:
        async with core.uow() as uow:
            await shop_members.share_phone(uow, town.municipality_id, chat, PHONE, core.now())
    assert refused.value.code == Refusal.SHOP_MEMBER_IS_CITIZEN
    with pytest.raises(NotAllowed) as stranger:
        async with core.uow() as uow:
            await shop_members.share_phone(
                uow, town.municipality_id, ("telegram", "880079"), PHONE, core.now()
            )
    assert stranger.value.code == Refusal.SHOP_NOT_MEMBER
    async with core.uow() as uow:
        [(member, _)] = await uow.shops.membership(*chat)
        assert member.phone is None
        await shop_members.share_phone(uow, town.municipality_id, chat, "+393471230072", core.now())
        await uow.commit()
    async with core.uow() as uow:
        [(member, _)] = await uow.shops.membership(*chat)
        assert member.phone == "+393471230072"
