"""The database itself keeps a shop's phone apart from a voucher holder's (SQLite and
PostgreSQL): writes that skip the services, or race past them, meet the triggers of
migrations 0015_shop_phone_guard and 0036_shop_phone_channels and end as the services'
own refusal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text, update

from core.bootstrap import Core
from core.domain.errors import Conflict, NotAllowed
from core.services import identity
from core.storage import models as m
from core.storage.engine import make_engine
from tests.factories import Town, make_town

NEW_PHONE = "+393471112233"
TELEGRAM_CHAT = "777001"


async def refusal_of(core: Core, write: object) -> str | None:
    """Run one raw write (a statement, or an ORM row to add) and commit; the refusal's code."""
    try:
        async with core.uow() as uow:
            if isinstance(write, m.Base):
                uow.add(write)
                await uow.flush()
            else:
                await uow.session.execute(write)  # type: ignore[call-overload]
            await uow.commit()
    except Conflict as refused:
        return refused.code
    return None


def member(town: Town, address: str, channel: str = "sms") -> m.ShopMember:
    return m.ShopMember(
        shop_id=town.shop_id, channel=channel, address=address, role="cashier", created_at=_now()
    )


def _now() -> datetime:
    return datetime(2026, 4, 6, 8, 0, tzinfo=UTC)


async def test_a_citizen_never_gets_a_shops_phone(core: Core) -> None:
    town = await make_town(core, citizens=2)
    citizen_id = town.citizen_ids[0]
    shop_phone = update(m.Citizen).where(m.Citizen.id == citizen_id).values(phone=town.shop_phone)
    assert await refusal_of(core, shop_phone) == "identity.phone_is_shop"
    # The ORM's flush is refused the same way, with the masked phone the office reads.
    with pytest.raises(Conflict) as refused:
        async with core.uow() as uow:
            citizen = await uow.citizens.by_id(citizen_id)
            assert citizen is not None
            citizen.phone = town.shop_phone
            await uow.flush()
    assert refused.value.params == {"phone": "***" + town.shop_phone[-3:]}
    new_citizen = m.Citizen(
        municipality_id=town.municipality_id,
        codice_fiscale="NEWCITIZEN",
        phone=town.shop_phone,
        card_code="NEWCARD",
        created_at=_now(),
    )
    assert await refusal_of(core, new_citizen) == "identity.phone_is_shop"
    # Another phone is fine, and so is a write that leaves the phone alone.
    same = update(m.Citizen).where(m.Citizen.id == citizen_id)
    assert await refusal_of(core, same.values(phone=NEW_PHONE)) is None
    assert await refusal_of(core, same.values(phone=NEW_PHONE, language="en")) is None
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(citizen_id)
        assert citizen is not None
        assert (citizen.phone, citizen.language) == (NEW_PHONE, "en")


async def test_a_citizen_is_never_linked_to_a_shops_telegram_chat(core: Core) -> None:
    town = await make_town(core, citizens=2)
    assert await refusal_of(core, member(town, TELEGRAM_CHAT, "telegram")) is None
    link = update(m.Citizen).where(m.Citizen.id == town.citizen_ids[0])
    with pytest.raises(NotAllowed) as refused:
        async with core.uow() as uow:
            await uow.session.execute(link.values(telegram_chat_id=TELEGRAM_CHAT))
    # What identity.IdentityRefused says: the chat hears the same neutral refusal.
    assert (refused.value.code, refused.value.params) == (
        "identity.refused",
        {"reason": "telegram_is_shop"},
    )
    assert await refusal_of(core, link.values(telegram_chat_id="777002")) is None
    # The shop's SMS number is no Telegram chat.
    assert await refusal_of(core, link.values(telegram_chat_id=town.shop_phone)) is None


async def test_a_delegate_never_has_a_shops_phone(core: Core) -> None:
    town = await make_town(core, citizens=2)
    delegate = insert(m.Delegate).values(
        municipality_id=town.municipality_id,
        citizen_id=town.citizen_ids[0],
        phone=town.shop_phone,
        created_at=_now(),
    )
    assert await refusal_of(core, delegate) == "delegate.phone_is_shop"
    assert await refusal_of(core, delegate.values(phone=NEW_PHONE)) is None
    moved = update(m.Delegate).where(m.Delegate.phone == NEW_PHONE)
    assert await refusal_of(core, moved.values(phone=town.shop_phone)) == "delegate.phone_is_shop"


async def test_a_cashier_at_the_terminal_has_a_shops_phone(core: Core) -> None:
    """The terminal chat is addressed by a phone number, as SMS is (migration
    0036_shop_phone_channels): a number that charges there is neither a citizen's nor a
    delegate's."""
    town = await make_town(core, citizens=2)
    assert await refusal_of(core, member(town, NEW_PHONE, "terminal")) is None
    to_citizen = update(m.Citizen).where(m.Citizen.id == town.citizen_ids[0])
    assert await refusal_of(core, to_citizen.values(phone=NEW_PHONE)) == "identity.phone_is_shop"
    delegate = insert(m.Delegate).values(
        municipality_id=town.municipality_id,
        citizen_id=town.citizen_ids[1],
        phone=NEW_PHONE,
        created_at=_now(),
    )
    assert await refusal_of(core, delegate) == "delegate.phone_is_shop"
    # A Telegram member's address is no phone, even when it is written as one.
    assert await refusal_of(core, member(town, "+393470000009", "telegram")) is None
    assert await refusal_of(core, to_citizen.values(phone="+393470000009")) is None
    async with core.uow() as uow:
        assert [c.phone for c in [await uow.citizens.by_id(town.citizen_ids[0])] if c] == [
            "+393470000009"
        ]
        assert await uow.delegates.by_phone(town.municipality_id, NEW_PHONE) is None


async def test_a_shop_member_is_never_a_holders_phone_or_chat(core: Core) -> None:
    town = await make_town(core, citizens=2)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[1])
            .values(telegram_chat_id=TELEGRAM_CHAT)
        )
        uow.add(
            m.Delegate(
                municipality_id=town.municipality_id,
                citizen_id=town.citizen_ids[1],
                phone=NEW_PHONE,
                created_at=_now(),
            )
        )
        await uow.commit()
    refused = "shop.member_is_citizen"
    assert await refusal_of(core, member(town, town.citizen_phones[0])) == refused
    assert await refusal_of(core, member(town, NEW_PHONE)) == refused
    assert await refusal_of(core, member(town, TELEGRAM_CHAT, "telegram")) == refused
    # The terminal stands in for a phone, as in the services.
    assert await refusal_of(core, member(town, NEW_PHONE, "terminal")) == refused
    # A phone nobody holds joins; moving it onto a holder's phone is refused.
    assert await refusal_of(core, member(town, "+393470000001")) is None
    move = update(m.ShopMember).where(m.ShopMember.address == "+393470000001")
    assert await refusal_of(core, move.values(address=town.citizen_phones[0])) == refused
    # A Telegram chat id that is a phone's digits is no phone: only the channel's kind counts.
    assert await refusal_of(core, member(town, town.citizen_phones[0], "telegram")) is None


async def test_the_rule_holds_within_one_municipality(core: Core) -> None:
    first = await make_town(core, citizens=1)
    # The other town's citizens and shop have the very same phones: nothing in common.
    other = await make_town(core, citizens=1, code="OTH")
    assert other.citizen_phones == first.citizen_phones
    assert other.shop_phone == first.shop_phone
    assert await refusal_of(core, member(other, "+393470000002")) is None


async def test_an_erased_citizens_chat_frees_it(core: Core) -> None:
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[0])
            .values(telegram_chat_id=TELEGRAM_CHAT, erased_at=_now())
        )
        await uow.commit()
    assert await refusal_of(core, member(town, TELEGRAM_CHAT, "telegram")) is None


async def test_a_telegram_contact_that_is_a_shops_phone_is_refused_before_the_database(
    core: Core,
) -> None:
    """link_telegram binds the shared phone to a chat's citizen who had none: the service
    refuses a shop's phone itself (logged), the trigger never has to."""
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[0])
            .values(phone=None, telegram_chat_id=TELEGRAM_CHAT)
        )
        await uow.commit()
    with pytest.raises(identity.IdentityRefused) as refused:
        async with core.uow() as uow:
            await identity.link_telegram(
                uow, town.municipality_id, TELEGRAM_CHAT, town.shop_phone, core.now()
            )
    assert refused.value.reason == "phone_is_shop"


async def test_two_transactions_racing_cannot_both_win(core: Core, database_url: str) -> None:
    """A citizen given a phone while, in another transaction not yet committed, a cashier
    joins with it: on PostgreSQL the second waits for the first and is then refused (each
    alone would have seen nothing wrong). SQLite has a single writer: no race to test."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE)")
    town = await make_town(core, citizens=1)
    other = make_engine(database_url)
    try:
        async with core.uow() as first:
            await first.session.execute(
                update(m.Citizen).where(m.Citizen.id == town.citizen_ids[0]).values(phone=NEW_PHONE)
            )
            first_pid = await first.session.scalar(text("SELECT pg_backend_pid()"))

            async def join() -> None:
                async with other.begin() as connection:
                    await connection.execute(
                        insert(m.ShopMember).values(
                            shop_id=town.shop_id,
                            channel="sms",
                            address=NEW_PHONE,
                            role="cashier",
                            created_at=_now(),
                        )
                    )

            joining = asyncio.create_task(join())
            # Wait until the join is blocked behind the first transaction (a condition,
            # not a time): then let the first commit.
            async with other.connect() as watcher:
                while not joining.done():
                    blocked = await watcher.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE :pid = ANY(pg_blocking_pids(pid))"
                        ),
                        {"pid": first_pid},
                    )
                    await watcher.rollback()
                    if blocked:
                        break
                    await asyncio.sleep(0.01)
            assert not joining.done()
            await first.commit()
        with pytest.raises(Conflict) as refused:
            await joining
        assert refused.value.code == "shop.member_is_citizen"
    finally:
        await other.dispose()
    async with core.uow() as uow:
        members = await uow.session.scalars(
            select(m.ShopMember.address).where(m.ShopMember.shop_id == town.shop_id)
        )
        assert NEW_PHONE not in set(members)
