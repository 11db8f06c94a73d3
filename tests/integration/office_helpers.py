"""Building the state the office's tests need (reimbursement, audit, report, privacy).

Everything goes through the services, as the office and the chats would; only the clock
is moved by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from stdnum import iban as stdnum_iban

from core.bootstrap import Core
from core.domain.shops import ShopCategory
from core.services import allocation, municipalities
from core.services.applications import ApplicationInput, submit_application
from core.services.charges import ConfirmOutcome
from core.services.shops import ShopInput, approve_shop, register_shop
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import (
    TEST_FUND_CENTS,
    last_code_for,
    make_cf,
    make_partita_iva,
    record_fund,
    request,
)
from tests.factories import assert_ledger_ok as assert_ledger_ok
from tests.factories import confirm as confirm_with_code

TOWN_IBAN = "IT60X0542811101000000123456"


def italian_iban(account: int) -> str:
    """A valid Italian IBAN for test account number `account`."""
    body = f"X0542811101{account:012d}"
    return f"IT{stdnum_iban.calc_check_digits('IT00' + body)}{body}"


def person(
    index: int,
    size: int = 1,
    *,
    support_cents: int = 0,
    rent_cents: int = 0,
    work: bool = False,
    pension: bool = False,
    liquidity_cents: int = 0,
    phone: str | None = None,
) -> ApplicationInput:
    return ApplicationInput(
        codice_fiscale=make_cf(index),
        phone=phone or f"+39333{4000000 + index:07d}",
        household_size=size,
        has_work_income=work,
        has_pension=pension,
        liquidity_cents=liquidity_cents,
        public_support_monthly_cents=support_cents,
        rent_monthly_cents=rent_cents,
    )


@dataclass
class Office:
    """One municipality seen from the office: its code and the shops it approved."""

    core: Core
    clock: FakeClock
    code: str
    municipality_id: int
    shop_ids: list[int]


async def open_round(
    core: Core,
    clock: FakeClock,
    *,
    code: str = "BEL",
    name: str = "Comune di Belforte del Chienti",
    iban: str | None = TOWN_IBAN,
    shops: int = 1,
    fund_cents: int | None = TEST_FUND_CENTS,
) -> Office:
    """A municipality with its application window open now, `shops` approved shops, and
    `fund_cents` recorded in its fund (None: no fund recorded)."""
    async with core.uow() as uow:
        town = await municipalities.add_municipality(
            uow, code=code, name=name, now=clock(), iban=iban
        )
        if fund_cents is not None:
            await record_fund(uow, town, fund_cents)
        await municipalities.open_window(uow, town, clock(), days=4)
        shop_ids = []
        for index in range(shops):
            shop = await register_shop(
                uow,
                town.id,
                ShopInput(
                    name=f"Alimentari Nò{index}",
                    vat_number=make_partita_iva(index + 10),
                    category=ShopCategory.GROCERY,
                    address=f"Via Roma {index + 1}",
                    town="Belforte del Chienti",
                    postcode="62020",
                    latitude=43.16,
                    longitude=13.24,
                    iban=italian_iban(index + 1),
                ),
                owner_channel="sms",
                owner_address=f"+39333{9000000 + index:07d}",
                now=clock(),
            )
            await approve_shop(uow, town.id, shop.id, clock())
            shop_ids.append(shop.id)
        await uow.commit()
        return Office(core, clock, town.code, town.id, shop_ids)


async def apply(office: Office, *people: ApplicationInput) -> list[str]:
    """Submit applications one minute apart; returns their protocols."""
    protocols = []
    for data in people:
        async with office.core.uow() as uow:
            town = await municipalities.require(uow, office.code)
            application = await submit_application(
                uow, town, data, source="chat", now=office.clock()
            )
            await uow.commit()
            protocols.append(application.protocol)
        office.clock.advance(minutes=1)
    return protocols


async def wrote_stop(office: Office, who: ApplicationInput, language: str) -> None:
    """The applicant's phone wrote STOP by SMS, in `language`: no general notice goes to it."""
    assert who.phone is not None
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        uow.add(
            m.Conversation(
                municipality_id=town.id,
                channel="sms",
                address=who.phone,
                language=language,
                stopped=True,
                updated_at=office.clock(),
            )
        )
        await uow.commit()


async def close_window(office: Office) -> None:
    """Close the window; a day passes."""
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await municipalities.close_window(uow, town, office.clock())
        await uow.commit()
    office.clock.advance(days=1)


async def close_approve_credit(office: Office, budget_cents: int) -> None:
    """Close the window, approve the determina with this budget and credit it."""
    await close_window(office)
    await approve_and_credit(office, budget_cents)


async def approve_and_credit(office: Office, budget_cents: int) -> None:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await allocation.approve(uow, town, budget_cents, office.clock())
        await allocation.credit(uow, town, office.clock())
        await uow.commit()


async def ask(office: Office, shop_id: int, who: str, cents: int) -> int:
    """A shop asks a citizen (codice fiscale or phone) for a payment: the pending charge id."""
    return (await request(office.core, shop_id, who, cents)).charge_id


async def confirm(office: Office, shop_id: int, charge_id: int, phone: str) -> ConfirmOutcome:
    """The cashier types the code the citizen received by SMS."""
    code = await last_code_for(office.core, phone, charge_id)
    return (await confirm_with_code(office.core, shop_id, charge_id, code)).outcome


async def pay(office: Office, shop_id: int, data: ApplicationInput, cents: int) -> int:
    """A confirmed payment of `cents` by this person at this shop; returns the charge id."""
    assert data.phone is not None
    charge_id = await ask(office, shop_id, data.codice_fiscale, cents)
    assert await confirm(office, shop_id, charge_id, data.phone) is ConfirmOutcome.CONFIRMED
    return charge_id
