"""A customer's "not me" refusal of a waiting payment is kept for the office, in the
transaction that cancels the payment: the shop, the payment, the till that asked it and
when. A plain ANNULLA keeps nothing (she may just have changed her mind), and a refusal
rolled back with its cancellation leaves nothing behind. Kept past the 30 days after
which the rate limits' rows go."""

from __future__ import annotations

from sqlalchemy import select

from core.bootstrap import Core
from core.domain.charges import ChargeStatus
from core.services import charges, security
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import make_town, request


async def _refuse(core: Core, charge_id: int, citizen_id: int, *, not_me: bool) -> bool:
    async with core.uow() as uow:
        refused = await charges.refuse_charge(
            uow, charge_id=charge_id, citizen_id=citizen_id, now=core.now(), not_me=not_me
        )
        await uow.commit()
        return refused


async def _events(core: Core) -> list[m.SecurityEvent]:
    async with core.uow() as uow:
        rows = await uow.session.scalars(
            select(m.SecurityEvent).where(m.SecurityEvent.kind == security.NOT_ME)
        )
        return list(rows.all())


async def _status(core: Core, charge_id: int) -> str:
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
        assert charge is not None
        return charge.status


async def test_not_me_is_kept_with_the_cancellation(core: Core) -> None:
    town = await make_town(core, citizens=1)
    asked = await request(core, town.shop_id, town.citizen_cfs[0], 12_50)
    assert await _refuse(core, asked.charge_id, town.citizen_ids[0], not_me=True)
    assert await _status(core, asked.charge_id) == ChargeStatus.CANCELLED
    [event] = await _events(core)
    assert (event.shop_id, event.charge_id, event.detail) == (town.shop_id, asked.charge_id, "test")
    assert event.created_at == core.now()
    async with core.uow() as uow:
        kept = await security.not_me_refusals(uow, town.municipality_id)
    assert kept == {town.shop_id: [security.NotMeRefusal(core.now(), 12_50, "test", None, False)]}
    # Refusing it again changes nothing and keeps nothing more.
    assert not await _refuse(core, asked.charge_id, town.citizen_ids[0], not_me=True)
    assert len(await _events(core)) == 1


async def test_a_plain_annulla_keeps_nothing(core: Core) -> None:
    town = await make_town(core, citizens=1)
    asked = await request(core, town.shop_id, town.citizen_cfs[0], 5_00)
    assert await _refuse(core, asked.charge_id, town.citizen_ids[0], not_me=False)
    assert await _status(core, asked.charge_id) == ChargeStatus.CANCELLED
    assert await _events(core) == []


async def test_a_refusal_rolled_back_keeps_nothing(core: Core) -> None:
    town = await make_town(core, citizens=1)
    asked = await request(core, town.shop_id, town.citizen_cfs[0], 5_00)
    async with core.uow() as uow:
        assert await charges.refuse_charge(
            uow,
            charge_id=asked.charge_id,
            citizen_id=town.citizen_ids[0],
            now=core.now(),
            not_me=True,
        )
    assert await _status(core, asked.charge_id) == ChargeStatus.PENDING
    assert await _events(core) == []


async def test_refusals_outlive_the_rate_limits_rows(core: Core, clock: FakeClock) -> None:
    town = await make_town(core, citizens=2)
    first = await request(core, town.shop_id, town.citizen_cfs[0], 3_00)
    assert await _refuse(core, first.charge_id, town.citizen_ids[0], not_me=True)
    clock.advance(days=40)
    second = await request(core, town.shop_id, town.citizen_cfs[1], 4_00)
    assert await _refuse(core, second.charge_id, town.citizen_ids[1], not_me=True)
    async with core.uow() as uow:
        kept = await security.not_me_refusals(uow, town.municipality_id)
    # The latest first.
    assert [x.amount_cents for x in kept[town.shop_id]] == [4_00, 3_00]


async def test_an_sms_not_me_counts_once_its_challenge_comes_back(core: Core) -> None:
    """By SMS the refusal is kept unconfirmed with the challenge's hash; a wrong challenge
    takes a try and confirms nothing, the right one confirms it once; by Telegram it is
    confirmed at once."""
    town = await make_town(core, citizens=2)
    by_sms = await request(core, town.shop_id, town.citizen_cfs[0], 12_50)
    by_telegram = await request(core, town.shop_id, town.citizen_cfs[1], 7_00)
    challenge = security.not_me_challenge(core.keys, "sms")
    assert challenge is not None and security.not_me_challenge(core.keys, "telegram") is None
    async with core.uow() as uow:
        for asked, citizen_id, channel, sent in (
            (by_sms, town.citizen_ids[0], "sms", challenge),
            (by_telegram, town.citizen_ids[1], "telegram", None),
        ):
            assert await charges.refuse_charge(
                uow,
                charge_id=asked.charge_id,
                citizen_id=citizen_id,
                now=core.now(),
                not_me=True,
                channel=channel,
                challenge=sent,
            )
        await uow.commit()
    by_charge = {event.charge_id: event for event in await _events(core)}
    assert by_charge[by_sms.charge_id].proven_at is None
    assert by_charge[by_sms.charge_id].code_hash == challenge.code_hash
    assert by_charge[by_telegram.charge_id].proven_at == core.now()
    wrong = "0000" if challenge.code != "0000" else "1111"
    async with core.uow() as uow:
        done = await security.confirm_not_me(uow, core.keys, town.citizen_ids[0], wrong, core.now())
        assert done.answer == security.NotMeAnswer.WRONG
        # Another person's refusal is not hers to confirm, with the right digits or not.
        other = await security.confirm_not_me(
            uow, core.keys, town.citizen_ids[1], challenge.code, core.now()
        )
        assert other.answer == security.NotMeAnswer.NONE_WAITING
        await uow.commit()
    async with core.uow() as uow:
        done = await security.confirm_not_me(
            uow, core.keys, town.citizen_ids[0], challenge.code, core.now()
        )
        assert done.answer == security.NotMeAnswer.CONFIRMED
        assert [x.id for x in done.charges] == [by_sms.charge_id]
        await uow.commit()
    [sms_event] = [x for x in await _events(core) if x.charge_id == by_sms.charge_id]
    assert (sms_event.proven_at, sms_event.wrong_tries) == (core.now(), 1)
    async with core.uow() as uow:
        kept = await security.not_me_refusals(uow, town.municipality_id)
    assert sorted((x.amount_cents, x.channel, x.confirmed) for x in kept[town.shop_id]) == [
        (7_00, "telegram", True),
        (12_50, "sms", True),
    ]
