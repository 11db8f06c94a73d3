"""Wrong payment codes count against the shop, lookups that find nobody are limited (both
on SQLite and PostgreSQL). Rules in docs/payments-and-codes.md."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.charges import ShopLock
from core.domain.errors import NotAllowed, NotFound
from core.services import charges, security
from core.services.charges import ConfirmOutcome
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import (
    Town,
    confirm,
    last_code_for,
    make_cf,
    make_town,
    outbox_to,
    pay,
    request,
)
from tests.integration.office_helpers import pay as pay_at
from tests.integration.office_helpers import person
from tests.integration.test_privacy import credited_town, erase


async def attempt(core: Core, shop_id: int, who: str, cents: int) -> None:
    """A charge request as the till makes it: a refusal is answered, and what the service
    counted against the shop (a lookup that found nobody) is committed with the answer."""
    async with core.uow() as uow:
        try:
            await charges.request_charge(
                uow,
                shop_id=shop_id,
                citizen_reference=who,
                amount_cents=cents,
                requested_by="test",
                now=core.now(),
            )
        finally:
            await uow.commit()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def two_wrong_then_annulla(core: Core, town: Town) -> list[ConfirmOutcome]:
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 10_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    outcomes = [
        (await confirm(core, town.shop_id, requested.charge_id, wrong(code))).outcome
        for _ in range(2)
    ]
    async with core.uow() as uow:
        await charges.cancel_charge(
            uow, charge_id=requested.charge_id, shop_id=town.shop_id, now=core.now()
        )
        await uow.commit()
    return outcomes


async def test_four_rounds_of_two_wrong_codes_and_annulla_lock_the_shop(
    core: Core, clock: FakeClock
) -> None:
    """Today's hole: 2 wrong, ANNULLA, repeat, never a strike. Now the 5th wrong code locks."""
    town = await make_town(core, citizens=1)
    assert await two_wrong_then_annulla(core, town) == [ConfirmOutcome.WRONG_CODE] * 2
    assert await two_wrong_then_annulla(core, town) == [ConfirmOutcome.WRONG_CODE] * 2
    # Third round: its first wrong code is the 5th of the day.
    told_before = len(await outbox_to(core, town.citizen_phones[0]))
    third = await two_wrong_then_annulla(core, town)
    assert third[0] is ConfirmOutcome.SHOP_LOCKED
    # The citizen is warned that wrong codes were typed, not told the shop cancelled.
    told = [
        text["msgid"]
        for message in (await outbox_to(core, town.citizen_phones[0]))[told_before:]
        for text in message.payload["texts"]
        if message.charge_id is not None
    ]
    assert any(msgid.startswith("Warning: {shop} typed a wrong code") for msgid in told), told
    assert not any("cancelled the payment" in msgid for msgid in told), told
    with pytest.raises(NotAllowed) as locked:
        await two_wrong_then_annulla(core, town)  # the fourth round cannot even start
    assert locked.value.code == "shop.locked"
    async with core.uow() as uow:
        assert await security.wrong_codes_of_shop(uow, town.shop_id, core.now()) == 5
    clock.advance(minutes=31)
    await pay(core, town, 1_00)  # the lock has passed


async def test_a_good_sale_does_not_reset_the_count(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await two_wrong_then_annulla(core, town)
    await two_wrong_then_annulla(core, town)
    await pay(core, town, 1_00)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 2_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    result = await confirm(core, town.shop_id, requested.charge_id, wrong(code))
    assert (result.outcome, result.shop_lock) == (ConfirmOutcome.SHOP_LOCKED, ShopLock.TIMED)
    # The charge held open when the lock came is void: the right code does nothing now.
    assert (await confirm(core, town.shop_id, requested.charge_id, code)).outcome is (
        ConfirmOutcome.NOT_PENDING
    )


async def test_ten_wrong_codes_lock_until_the_office_unlocks(core: Core, clock: FakeClock) -> None:
    town = await make_town(core, citizens=1)
    rounds = []
    # Rounds 1-2 type 4 wrong codes; from the 5th on, every wrong code locks for 30 min...
    for _ in range(8):
        rounds.append(await two_wrong_then_annulla(core, town))
        clock.advance(minutes=31)
    assert rounds[:2] == [[ConfirmOutcome.WRONG_CODE] * 2] * 2
    assert all(x[0] is ConfirmOutcome.SHOP_LOCKED for x in rounds[2:])
    # ...and the 10th locks until the office unlocks.
    async with core.uow() as uow:
        shop = await uow.shops.by_id(town.shop_id)
        assert shop is not None and shop.blocked_at is not None
    clock.advance(days=2)
    with pytest.raises(NotAllowed) as blocked:
        await request(core, town.shop_id, town.citizen_cfs[0], 1_00)
    assert blocked.value.code == "shop.blocked"
    async with core.uow() as uow:
        await charges.unlock_shop(
            uow, town.municipality_id, town.shop_id, by="clerk", now=core.now()
        )
        await uow.commit()
    await pay(core, town, 1_00)
    async with core.uow() as uow:
        [unlock] = (
            await uow.session.scalars(
                select(m.SecurityEvent).where(m.SecurityEvent.kind == security.SHOP_UNLOCKED)
            )
        ).all()
        assert (unlock.shop_id, unlock.detail) == (town.shop_id, "clerk")


async def test_unknown_person_and_applicant_without_vouchers_look_the_same(core: Core) -> None:
    town = await make_town(core, citizens=1)
    applicant = make_cf(500)
    async with core.uow() as uow:
        uow.session.add(
            m.Citizen(
                municipality_id=town.municipality_id,
                codice_fiscale=applicant,
                phone="+393335550000",
                language="it",
                card_code="APPLICANT1",
                created_at=core.now(),
            )
        )
        await uow.commit()
    refusals = []
    for reference in (applicant, make_cf(501), "+393335550000", "+393335550001"):
        with pytest.raises(NotFound) as caught:
            await attempt(core, town.shop_id, reference, 1_00)
        refusals.append((type(caught.value), caught.value.code, caught.value.params))
    assert len(set(map(str, refusals))) == 1
    async with core.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(m.Charge)) == 0


async def test_lookups_are_limited_per_shop_and_misses_listed(core: Core, clock: FakeClock) -> None:
    town = await make_town(core, citizens=1)
    for index in range(charges.LOOKUPS_PER_HOUR):
        with pytest.raises(NotFound):
            await attempt(core, town.shop_id, make_cf(600 + index), 1_00)
    # Then even a real beneficiary gets "try later": the shop cannot go on fishing.
    with pytest.raises(NotAllowed) as limited:
        await attempt(core, town.shop_id, town.citizen_cfs[0], 1_00)
    assert limited.value.code == "lookup.too_many"
    async with core.uow() as uow:
        [listed] = await security.lookup_misses(uow, town.municipality_id, core.now())
    limit = charges.LOOKUPS_PER_HOUR
    assert (listed.shop_id, listed.last_hour, listed.last_week) == (town.shop_id, limit, limit)
    clock.advance(minutes=61)
    await pay(core, town, 1_00)


async def test_a_busy_honest_till_is_never_stopped(core: Core) -> None:
    """Lookups that end in a payment the citizen confirmed give their place back: more
    customers than the limit in an hour all pay, and then fishing is stopped as before."""
    town = await make_town(core, citizens=14)  # each may get 6 codes an hour
    for index in range(charges.LOOKUPS_PER_HOUR + 10):
        await pay(core, town, 1_00, citizen=index % 14)
    for index in range(charges.LOOKUPS_PER_HOUR):
        with pytest.raises(NotFound):
            await attempt(core, town.shop_id, make_cf(700 + index), 1_00)
    with pytest.raises(NotAllowed) as limited:
        await attempt(core, town.shop_id, town.citizen_cfs[0], 1_00)
    assert limited.value.code == "lookup.too_many"


async def _limit_answers(core: Core, shop_id: int, references: list[str]) -> list[bool]:
    """For each lookup, whether the shop was told "too many searches" (the limit's answer);
    any other answer (a code sent, too many codes, nobody found) is the lookup's own."""
    answers = []
    for reference in references:
        try:
            await attempt(core, shop_id, reference, 1_00)
        except NotAllowed as refused:
            answers.append(refused.code == "lookup.too_many")
        except NotFound:
            answers.append(False)
        else:
            answers.append(False)
    return answers


async def test_the_lookup_limit_cannot_tell_holders_from_nobody(
    core: Core, clock: FakeClock
) -> None:
    """A shop that counts its lookups until "try later" learns nothing from the limit:
    looking up voucher holders (their phone or codice fiscale) and people who hold none
    use it up alike, and the answer over it is the same for both."""
    town = await make_town(core, citizens=3)
    limit = charges.LOOKUPS_PER_HOUR
    holders = [town.citizen_phones[i % 3] for i in range(limit)]
    nobody = [f"+39347{1000000 + i:07d}" for i in range(limit)]
    mixed = [holders[i] if i % 2 else nobody[i] for i in range(limit)]
    then = [town.citizen_phones[0], "+393479999999"]  # a holder, and nobody, over the limit
    seen = []
    for references in (holders, nobody, mixed):
        clock.advance(minutes=61)  # a fresh hour for each way of fishing
        seen.append(await _limit_answers(core, town.shop_id, references + then))
        async with core.uow() as uow:
            counted = await security.count(
                uow, security.LOOKUP, core.now() - timedelta(minutes=1), shop_id=town.shop_id
            )
        assert counted == limit
    assert seen[0] == seen[1] == seen[2] == [False] * limit + [True, True]


async def test_erasure_drops_the_rate_limit_rows_of_the_persons_number(
    core: Core, clock: FakeClock
) -> None:
    someone, neighbour = person(1), person(2)
    office, _ = await credited_town(core, clock, someone, neighbour)
    assert someone.phone is not None and neighbour.phone is not None
    await pay_at(office, office.shop_ids[0], someone, 150_00)  # nothing left: erasable
    clock.advance(days=31)  # the decision can no longer be appealed (30 days)
    async with core.uow() as uow:
        for phone in (someone.phone, neighbour.phone):
            await security.record(uow, security.CODE_SENT, core.now(), channel="sms", address=phone)
        await uow.commit()
    await erase(office, someone.codice_fiscale)
    async with core.uow() as uow:
        # The shop's lookups (no address) are the shop's, not the person's.
        left = (
            await uow.session.scalars(
                select(m.SecurityEvent.address).where(m.SecurityEvent.address.is_not(None))
            )
        ).all()
    assert left == [neighbour.phone]


PHONE = "+393471112233"


async def sent(core: Core, kind: str, code_hash: str, municipality_id: int | None = None) -> None:
    async with core.uow() as uow:
        await security.code_sent(
            uow,
            "sms",
            PHONE,
            kind,
            core.now(),
            salt="s" * 32,
            code_hash=code_hash,
            municipality_id=municipality_id,
        )
        await uow.commit()


async def used_up(core: Core, kind: str = "apply") -> security.CodesUsedUp | None:
    async with core.uow() as uow:
        return await security.codes_used_up(uow, "sms", PHONE, kind, core.now())


async def test_codes_of_a_number_that_never_came_back_are_limited(
    core: Core, clock: FakeClock
) -> None:
    """Five codes an hour and ten a day that never came back; at the limit the last code
    of the same request still valid, and when a new code can be sent."""
    town = await make_town(core, citizens=1)
    first = core.now()
    for index in range(security.CODES_PER_HOUR):
        assert await used_up(core) is None
        await sent(core, "apply", f"{index:064d}", town.municipality_id)
        clock.advance(minutes=1)
    limit = await used_up(core)
    assert limit is not None and limit.next_at == first + timedelta(hours=1)
    assert limit.valid is not None and limit.valid.hash == f"{4:064d}"
    assert limit.valid.expires == first + timedelta(minutes=4) + security.CODE_VALID
    # A code confirms only what its message says: another request gets no code to reuse.
    other = await used_up(core, "appeal")
    assert other is not None and other.valid is None
    async with core.uow() as uow:
        assert await security.numbers_at_code_limit(uow, town.municipality_id, core.now()) == 1
        # Three wrong tries, in whichever requests: the code is not offered again.
        for _ in range(security.CODE_TRIES):
            await security.code_wrong_try(uow, "sms", PHONE, f"{4:064d}")
        await uow.commit()
    tried = await used_up(core)
    assert tried is not None and tried.valid is None
    # The right code of an earlier one came back: its places are given back.
    async with core.uow() as uow:
        await security.code_proven(uow, "sms", PHONE, f"{0:064d}", core.now())
        await uow.commit()
        assert await security.numbers_at_code_limit(uow, town.municipality_id, core.now()) == 0
    assert await used_up(core) is None
    # Ten in a day: the refusal names when the oldest leaves the day.
    clock.advance(minutes=61)
    for index in range(6):
        await sent(core, "apply", f"{10 + index:064d}", town.municipality_id)
    clock.advance(minutes=61)
    day = await used_up(core)
    assert day is not None and day.valid is None
    assert day.next_at == first + timedelta(minutes=1) + timedelta(days=1)  # the 2nd code
    clock.advance(days=1)
    assert await used_up(core) is None


async def test_the_code_limit_is_per_number(core: Core) -> None:
    for index in range(security.CODES_PER_HOUR):
        await sent(core, "apply", f"{index:064d}")
    assert await used_up(core) is not None
    async with core.uow() as uow:
        assert await security.codes_used_up(uow, "sms", "+393470000000", "apply", core.now()) is (
            None
        )
        assert await security.codes_used_up(uow, "telegram", PHONE, "apply", core.now()) is None


async def test_at_the_limit_a_code_goes_on_only_for_the_content_it_was_sent_for(
    core: Core,
) -> None:
    """The digest of what a code confirms is kept with it: at the limit the last code is
    offered again for the same answers only; for other answers nothing can be confirmed
    until the limit resets, and the refusal can say why."""
    async with core.uow() as uow:
        mine = security.content_digest(uow.keys, "apply", ("new", "RSSLGU50B15A739W", "2"))
        again = security.content_digest(uow.keys, "apply", ("new", "RSSLGU50B15A739W", "2"))
        forged = security.content_digest(uow.keys, "apply", ("new", "TSTNNA38E50A739U", "6"))
        assert mine == again != forged and len(mine) == 64
        for index in range(security.CODES_PER_HOUR):
            await security.code_sent(
                uow,
                "sms",
                PHONE,
                "apply",
                core.now(),
                salt="s" * 32,
                code_hash=f"{index:064d}",
                municipality_id=None,
                content=mine,
            )
        await uow.commit()
        same = await security.codes_used_up(uow, "sms", PHONE, "apply", core.now(), content=again)
        assert same is not None and same.valid is not None and same.valid.content == mine
        other = await security.codes_used_up(uow, "sms", PHONE, "apply", core.now(), content=forged)
        assert other is not None and other.valid is None and other.other_content
        [row] = (
            await uow.session.scalars(
                select(m.SecurityEvent).where(m.SecurityEvent.code_hash == f"{4:064d}")
            )
        ).all()
        assert row.code_content == mine


async def test_a_flood_of_one_purpose_leaves_the_others_usable(
    core: Core, clock: FakeClock
) -> None:
    """A forger writing as the number floods one purpose (applications, here) to its daily
    limit: the same purpose waits, while a shop's request, the till, a cashier's refund
    consent and a request not grouped yet may each still be sent their codes."""
    town = await make_town(core, citizens=1)
    first = core.now()
    for index in range(security.CODES_PER_DAY):
        await sent(core, "apply", f"{index:064d}", town.municipality_id)
        clock.advance(minutes=13)  # never five in an hour: the day's limit is the one met
    for kind in ("apply", "appeal"):
        flooded = await used_up(core, kind)
        assert flooded is not None and flooded.next_at == first + timedelta(days=1)
    for kind in ("register", "join", "leave", "charge", "refund", security.REFUND_CUSTOMER):
        assert await used_up(core, kind) is None, kind
    assert await used_up(core, "a_request_of_tomorrow") is None
    async with core.uow() as uow:
        assert await security.numbers_at_code_limit(uow, town.municipality_id, core.now()) == 1
    # The hourly limit is per purpose as well.
    for index in range(security.CODES_PER_HOUR):
        await sent(core, "register", f"{100 + index:064d}", town.municipality_id)
    hourly = await used_up(core, "cashier")
    assert hourly is not None and hourly.next_at == core.now() + timedelta(hours=1)
    assert await used_up(core, "charge") is None


async def test_the_number_has_a_ceiling_of_all_purposes_together(
    core: Core, clock: FakeClock
) -> None:
    """Codes that never come back cost the town an SMS each: past the number's daily
    ceiling of all purposes together no purpose is sent one, until the oldest leaves the
    day; codes typed back right give their places back here too."""
    town = await make_town(core, citizens=1)
    first = core.now()
    kinds = ["apply", "register", "charge", security.REFUND_CUSTOMER]
    index = 0
    while index < security.CODES_PER_NUMBER_PER_DAY:
        kind = kinds[index % len(kinds)]
        assert await used_up(core, kind) is None, index
        await sent(core, kind, f"{index:064d}", town.municipality_id)
        index += 1
        clock.advance(minutes=15)  # a purpose's hourly limit is never met
    # Every purpose is under its own daily limit, yet none is sent another code.
    assert len(kinds) * security.CODES_PER_DAY > security.CODES_PER_NUMBER_PER_DAY
    for kind in (*kinds, "a_request_of_tomorrow"):
        ceiling = await used_up(core, kind)
        assert ceiling is not None and ceiling.next_at == first + timedelta(days=1), kind
    async with core.uow() as uow:
        await security.code_proven(uow, "sms", PHONE, f"{0:064d}", core.now())
        await uow.commit()
    assert await used_up(core, "register") is None
    # Two purposes flooded to their daily limit never reach the ceiling.
    assert 2 * security.CODES_PER_DAY < security.CODES_PER_NUMBER_PER_DAY
