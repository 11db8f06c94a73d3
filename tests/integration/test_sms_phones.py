"""A phone typed by hand for somebody's payment codes must receive SMS (user trial: the
desk took the town's own landline, and a foreign landline): at the desk, on a paper
application or import, for a delegate, for a gifted voucher; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.errors import Conflict, DomainError, InvalidIdentifier
from core.domain.identity import normalize_phone, require_sms_phone
from core.services import (
    applications,
    community,
    delegates,
    identity,
    municipalities,
    operators,
    phone_changes,
)
from core.services.applications import ApplicationInput
from core.services.paper_applications import ImportRefused
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import Town, make_cf, make_town
from tests.integration.test_community import BUYER_CHAT, buy, enable

LANDLINE = "0733 905000"  # the demo town's own number, typed as a citizen's at the desk
# A town's SMS number may be a mobile (an Italian Twilio number often is).
TOWN_MOBILE = "+393401234567"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        (LANDLINE, "landline"),
        ("06 1234 5678", "landline"),
        ("+44 20 7123 4567", "landline"),  # a London landline
        ("800 123 456", "not_mobile"),  # toll-free
        ("899 123 456", "not_mobile"),  # premium rate
    ],
)
def test_a_number_that_cannot_receive_sms_is_refused(typed: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        require_sms_phone(normalize_phone(typed))
    assert refused.value.code == f"phone.{reason}"


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("333 123 4567", "+393331234567"),
        ("+44 7911 123456", "+447911123456"),  # a foreign SIM
        ("+49 151 23456789", "+4915123456789"),
        ("+1 202 555 0123", "+12025550123"),  # mobiles and landlines look alike there
    ],
)
def test_mobiles_italian_or_foreign_are_taken(typed: str, e164: str) -> None:
    assert require_sms_phone(normalize_phone(typed)) == e164


async def town_with_number(core: Core) -> Town:
    town = await make_town(core, citizens=2)
    async with core.uow() as uow:
        await municipalities.update_municipality(uow, town.code, sms_number=TOWN_MOBILE)
        await uow.commit()
    return town


async def phones_and_requests(core: Core) -> tuple[list[str | None], int, int, int]:
    """The citizens' phones, and how many phone changes, delegates and messages exist."""
    async with core.uow() as uow:
        phones = list(await uow.session.scalars(select(m.Citizen.phone).order_by(m.Citizen.id)))
        counts = [
            int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (m.PhoneChange, m.Delegate, m.OutboxMessage)
        ]
    return phones, counts[0], counts[1], counts[2]


REFUSED = [(LANDLINE, "phone.landline"), ("800123456", "phone.not_mobile")]
REFUSED_WITH_TOWN = [*REFUSED, (TOWN_MOBILE, "phone.town_number")]


@pytest.mark.parametrize(("typed", "code"), REFUSED_WITH_TOWN)
async def test_the_desk_refuses_it_and_changes_nothing(core: Core, typed: str, code: str) -> None:
    town = await town_with_number(core)
    before = await phones_and_requests(core)
    async with core.uow() as uow:
        bel = await municipalities.require(uow, town.code)
        clerk, _ = await operators.add_operator(
            uow, bel, "desk.clerk", "clerk", core.now(), password="x" * 12
        )
        await uow.commit()
    async with core.uow() as uow:
        bel = await municipalities.require(uow, town.code)
        clerk = await phone_changes.operator_named(uow, bel, "desk.clerk")
        # Asked at the desk (the application's page, `admin citizen phone --by`)…
        with pytest.raises(DomainError) as asked:
            await phone_changes.request(uow, clerk, bel, town.citizen_cfs[0], typed, core.now())
        # … or bound at once (`admin citizen phone` by a name that is no operator's).
        with pytest.raises(DomainError) as bound:
            await identity.rebind_phone(
                uow, bel, town.citizen_cfs[0], typed, operator="someone", now=core.now()
            )
        # … or asked as the citizen's delegate.
        with pytest.raises(DomainError) as delegated:
            await phone_changes.request_delegate(
                uow, clerk, bel, town.citizen_cfs[0], typed, core.now()
            )
        with pytest.raises(DomainError) as added:
            await delegates.add_delegate(uow, bel, town.citizen_cfs[1], typed, core.now())
        await uow.commit()
    assert [e.value.code for e in (asked, bound, delegated, added)] == [code] * 4
    assert await phones_and_requests(core) == before


async def test_a_foreign_mobile_is_taken_at_the_desk(core: Core) -> None:
    town = await town_with_number(core)
    async with core.uow() as uow:
        bel = await municipalities.require(uow, town.code)
        clerk, _ = await operators.add_operator(
            uow, bel, "desk.clerk", "clerk", core.now(), password="x" * 12
        )
        asked = await phone_changes.request(
            uow, clerk, bel, town.citizen_cfs[0], "+44 7911 123456", core.now()
        )
        await uow.commit()
    # The citizen has vouchers to spend: the change waits for a second operator.
    assert asked.waiting is not None and asked.waiting.phone == "+447911123456"


@pytest.mark.parametrize(("typed", "code"), REFUSED_WITH_TOWN)
async def test_a_paper_application_refuses_it(
    core: Core, clock: FakeClock, typed: str, code: str
) -> None:
    town = await town_with_number(core)
    async with core.uow() as uow:
        bel = await municipalities.require(uow, town.code)
        await municipalities.open_window(uow, bel, core.now())
        await uow.commit()
    clock.advance(minutes=5)
    data = ApplicationInput(make_cf(20), typed, 1, False, False, 0, 0, 0)
    good = ApplicationInput(make_cf(21), "+393335550021", 1, False, False, 0, 0, 0)
    before = await phones_and_requests(core)
    async with core.uow() as uow:
        bel = await municipalities.require(uow, town.code)
        with pytest.raises(DomainError) as one:
            await applications.submit_application(uow, bel, data, source="paper", now=core.now())
    async with core.uow() as uow:
        bel = await municipalities.require(uow, town.code)
        with pytest.raises(ImportRefused) as imported:
            await applications.import_applications(
                uow, bel, [(good, core.now()), (data, core.now())], core.now()
            )
    assert one.value.code == code
    assert [(p.index, p.column, p.error.code) for p in imported.value.problems] == [
        (1, "phone", code)
    ]
    assert await phones_and_requests(core) == before


@pytest.mark.parametrize(("typed", "code"), REFUSED_WITH_TOWN)
async def test_a_voucher_is_not_given_to_it(core: Core, typed: str, code: str) -> None:
    town = await town_with_number(core)
    await enable(core, town)
    voucher = await buy(core, town, 15_00)
    async with core.uow() as uow:
        with pytest.raises((InvalidIdentifier, Conflict)) as refused:
            await community.give_voucher(
                uow,
                municipality_id=town.municipality_id,
                code=voucher.code,
                channel="telegram",
                address=BUYER_CHAT,
                phone=typed,
                now=core.now() + timedelta(minutes=1),
            )
        assert refused.value.code == code
        held = await uow.community.voucher_by_code(voucher.code)
        assert held is not None and held.holder_address == BUYER_CHAT
