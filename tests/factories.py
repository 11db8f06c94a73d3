"""Building blocks for integration tests: a town with credited citizens and a shop."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from stdnum import luhn
from stdnum.it import codicefiscale

from core.bootstrap import Core
from core.domain import cards as card_domain
from core.domain import otp
from core.domain.identity import mask_phone, normalize_phone
from core.domain.shops import MemberRole, ShopCategory
from core.services import allocation, cards, charges, fund, ledger, municipalities, operators
from core.services.applications import ApplicationInput, submit_application
from core.services.outbox import reply_of
from core.services.shops import ShopInput, approve_shop, register_shop
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


def make_cf(index: int) -> str:
    """A distinct, valid codice fiscale for test person number `index` (0..9999)."""
    letters = "BCDFGHLMNPRSTVZ"
    surname = letters[index % 15] + letters[(index // 15) % 15] + letters[(index // 225) % 15]
    stem = f"{surname}MRA{80 + index % 20:02d}A{1 + index % 28:02d}H501"
    return stem + codicefiscale.calc_check_digit(stem)


def codes_other_than(*drawn: str, count: int = 1) -> list[str]:
    """`count` six-digit codes none of which is one of `drawn`, the codes the service drew
    (a payment code, a till's or an application's confirmation code): a fixed wrong guess
    such as 000000 is the drawn code once in a million runs, and what it was to refuse goes
    through. The same guesses every run unless one of them was drawn."""
    pool = ("111111", "222222", "333333", "444444", "555555", "666666", "777777", "888888")
    guesses = [guess for guess in pool if guess not in drawn][:count]
    assert len(guesses) == count, f"asked for {count} guesses besides {drawn}"
    return guesses


def distinct_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every code the service draws from now on in the test differs from those it drew
    before (drawn again until it does; as random as ever otherwise): for a test that types
    one customer's code at another till, where two equal draws (once in a million) would
    pay the other payment."""
    drawn: set[str] = set()
    draw = otp.new_code

    def new_code(digits: int = otp.CODE_DIGITS) -> str:
        code = draw(digits)
        while code in drawn:
            code = draw(digits)
        drawn.add(code)
        return code

    monkeypatch.setattr(otp, "new_code", new_code)


def make_partita_iva(index: int) -> str:
    stem = f"{1000000 + index:07d}001"
    return stem + luhn.calc_check_digit(stem)


# What a test town records in its fund before its determine: more than any budget the tests
# approve (a determina may not commit more than the fund left). Tests of the fund rule
# record their own amounts.
TEST_FUND_CENTS = 10_000_000_00


async def record_fund(
    uow: UnitOfWork, town: m.Municipality, cents: int = TEST_FUND_CENTS
) -> m.FundEntry:
    """The town receives `cents` for its vouchers, recorded the day it was created."""
    return await fund.record(
        uow,
        town,
        cents,
        "Fondo di solidarietà alimentare",
        town.created_at.date(),
        town.created_at,
        actor="test",
    )


def shared_phone(channel: str, address: str) -> str | None:
    """The phone a shop's member on Telegram shared as their own when joining (migration
    0040), one per chat and nobody else's in the tests; None on other channels, whose
    address is the phone."""
    if channel != "telegram":
        return None
    digits = "".join(ch for ch in address if ch.isdigit()) or "0"
    return f"+39348{int(digits) % 10_000_000:07d}"


def telegram_owner(shop_id: int, chat: int, now: datetime) -> m.ShopMember:
    """The owner of a shop charging from Telegram chat `chat` (a till), with the phone
    they shared on joining."""
    return m.ShopMember(
        shop_id=shop_id,
        channel="telegram",
        address=str(chat),
        role="owner",
        created_at=now,
        phone=shared_phone("telegram", str(chat)),
    )


@dataclass(frozen=True)
class Town:
    municipality_id: int
    code: str
    citizen_ids: list[int]
    citizen_cfs: list[str]
    citizen_phones: list[str]
    shop_id: int
    shop_phone: str


async def make_town(
    core: Core,
    *,
    citizens: int = 3,
    household_size: int = 1,
    budget_cents: int = 100_000_00,
    code: str = "TST",
    policy_toml: str | None = None,
) -> Town:
    """A municipality whose first round is closed, approved and credited, plus one approved shop.

    With the default policy every one-person household gets 150 €.
    """
    now = core.now()
    async with core.uow() as uow:
        town = await municipalities.add_municipality(
            uow,
            code=code,
            name="Testville",
            now=now - timedelta(days=10),
            policy_toml=policy_toml,
            iban="IT60X0542811101000000123456",
        )
        await record_fund(uow, town, max(TEST_FUND_CENTS, budget_cents))
        await municipalities.open_window(uow, town, now - timedelta(days=10), days=4)
        cfs, phones = [], []
        for index in range(citizens):
            cf, phone = make_cf(index), f"+39333{2000000 + index:07d}"
            await submit_application(
                uow,
                town,
                ApplicationInput(cf, phone, household_size, False, False, 0, 0, 0),
                source="paper",
                now=now - timedelta(days=9, minutes=-index),
            )
            cfs.append(cf)
            phones.append(phone)
        if citizens:  # a window nobody applied to approves no tranche (pays nobody)
            await allocation.approve(uow, town, budget_cents, now - timedelta(days=5))
            await allocation.credit(uow, town, now - timedelta(days=5))
        shop_phone = "+393339999999"
        shop = await register_shop(
            uow,
            town.id,
            ShopInput(
                "Alimentari Test",
                make_partita_iva(1),
                ShopCategory.GROCERY,
                "Via Roma 1",
                "Testville",
                "62020",
                43.16,
                13.24,
                "IT40S0542811101000000123456",
            ),
            owner_channel="sms",
            owner_address=shop_phone,
            now=now,
        )
        await approve_shop(uow, town.id, shop.id, now)
        ids = [c.id for c in [await uow.citizens.by_codice_fiscale(town.id, cf) for cf in cfs] if c]
        await uow.commit()
        return Town(town.id, town.code, ids, cfs, phones, shop.id, shop_phone)


async def outbox_to(core: Core, address: str) -> list[m.OutboxMessage]:
    async with core.uow() as uow:
        return list(await uow.outbox.for_address("sms", address))


async def last_code_for(core: Core, phone: str, charge_id: int) -> str:
    """The payment code the citizen received (read from their SMS in the outbox)."""
    for message in reversed(await outbox_to(core, phone)):
        if message.charge_id == charge_id:
            reply = reply_of(core.keys, message)
            code = reply.texts[0].params.get("code")
            if isinstance(code, str):
                return code
    raise AssertionError(f"no code sent to {phone} for charge {charge_id}")


def slip_code(card: cards.CardData, requested: charges.ChargeRequested) -> str:
    """What the holder types for a card payment: the code of the card's grid at the
    position the till was given (or, for a card issued before the grids, its PIN)."""
    if requested.card_position is None:
        assert card.pin is not None
        return card.pin
    assert card.codes, "the grid is printed only when the card is issued"
    return card.codes[requested.card_position - 1]


async def pin_only(core: Core, card: cards.CardData, pin: str = "246810") -> cards.CardData:
    """The card as one issued before the grids (migration 0031 finds it so): no grid, a
    static PIN. The same card, with the PIN the holder types."""
    async with core.uow() as uow:
        citizen = await uow.session.scalar(
            select(m.Citizen).where(m.Citizen.card_code == card.card_code)
        )
        assert citizen is not None
        await uow.session.execute(delete(m.CardCode).where(m.CardCode.citizen_id == citizen.id))
        salt = otp.new_salt()
        citizen.card_pin_salt = salt
        citizen.card_pin_hash = card_domain.hash_pin(uow.keys, pin, salt)
        await uow.commit()
    return replace(card, pin=pin, codes=(), grid=False)


async def request(
    core: Core, town_shop: int, who: str, cents: int, by: tuple[str, str] | None = None
) -> charges.ChargeRequested:
    """`by`: the till (channel, address) asking; by default none of the shop's."""
    async with core.uow() as uow:
        requested = await charges.request_charge(
            uow,
            shop_id=town_shop,
            citizen_reference=who,
            amount_cents=cents,
            requested_by="test" if by is None else f"{by[0]}:{by[1]}",
            now=core.now(),
        )
        await uow.commit()
        return requested


async def confirm(
    core: Core, shop_id: int, charge_id: int, code: str, by: tuple[str, str] | None = None
) -> charges.ConfirmResult:
    """The code typed at the shop's till by `by` (channel, address), by default its owner."""
    typed_by = await till_of(core, shop_id) if by is None else f"{by[0]}:{by[1]}"
    async with core.uow() as uow:
        result = await charges.confirm_charge(
            uow,
            charge_id=charge_id,
            shop_id=shop_id,
            typed_code=code,
            now=core.now(),
            typed_by=typed_by,
        )
        await uow.commit()
        return result


async def pay(
    core: Core, town: Town, cents: int, citizen: int = 0, by: tuple[str, str] | None = None
) -> int:
    """A confirmed payment of `cents` by citizen number `citizen` at the town's shop, taken
    at the till `by` (channel, address; by default asked by none and typed by the owner): a
    cashier's STORNO lists only what their own till took."""
    requested = await request(core, town.shop_id, town.citizen_cfs[citizen], cents, by)
    code = await last_code_for(core, town.citizen_phones[citizen], requested.charge_id)
    result = await confirm(core, town.shop_id, requested.charge_id, code, by)
    assert result.outcome is charges.ConfirmOutcome.CONFIRMED, result
    return requested.charge_id


async def assert_ledger_ok(core: Core, municipality_id: int) -> None:
    """Every balance equals its postings and all balances sum to zero."""
    async with core.uow() as uow:
        check = await ledger.verify(uow, municipality_id)
    assert check.ok, check


async def row_counts(core: Core, **tables: type[m.Base]) -> dict[str, int]:
    """How many rows each named table holds (to show that a refused request wrote nothing)."""
    async with core.uow() as uow:
        return {
            name: int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in tables.items()
        }


async def approved_request(
    uow: UnitOfWork,
    municipality: m.Municipality,
    codice_fiscale: str,
    kind: str,
    phone: str | None = None,
) -> m.PhoneChange:
    """A request of `kind` (delegate, card) for the citizen that one operator asked and
    another approved, as the office leaves it (core.services.phone_changes): for tests of
    what a delegate or a card does afterwards, whose citizens have money to spend. Pass it
    as `approved=` to delegates.add_delegate or cards.issue_card. A card's is marked
    printed, as print_card leaves it."""
    team = []
    for name, role in (("four.eyes.asker", "clerk"), ("four.eyes.approver", "manager")):
        found = await uow.operators.by_username(name)
        if found is None:
            found, _ = await operators.add_operator(
                uow, municipality, name, role, municipality.created_at, password="x" * 12
            )
        team.append(found)
    citizen = await uow.citizens.by_codice_fiscale(municipality.id, codice_fiscale.upper())
    assert citizen is not None
    now = municipality.created_at
    change = m.PhoneChange(
        municipality_id=municipality.id,
        citizen_id=citizen.id,
        kind=kind,
        subject=f"citizen #{citizen.id}",
        phone=None,
        phone_masked=mask_phone(normalize_phone(phone)) if phone else None,
        reissue=False,
        status="approved",
        requested_by_id=team[0].id,
        requested_at=now,
        decided_by_id=team[1].id,
        decided_at=now,
        handed_by_id=team[0].id if kind == "card" else None,
        handed_at=now if kind == "card" else None,
        print_by=now + timedelta(days=7) if kind == "card" else None,
    )
    uow.add(change)
    await uow.flush()
    return change


async def refund(core: Core, shop_id: int, charge_id: int) -> int:
    """The shop's owner refunds the payment `charge_id` from their own chat, in one unit of
    work: the citizen's balance after it."""
    async with core.uow() as uow:
        balance = await charges.refund_charge(
            uow,
            charge_id=charge_id,
            shop_id=shop_id,
            by=await owner_chat(uow, shop_id),
            now=core.now(),
        )
        await uow.commit()
        return balance


async def till_of(core: Core, shop_id: int) -> str:
    """The shop owner's chat as a till ("channel:address"), who may type a customer's code
    (for a shop that does not exist, a chat that works for no shop)."""
    async with core.uow() as uow:
        members = await uow.shops.members_of(shop_id)
    owner = next((x for x in members if x.role == MemberRole.OWNER.value), None)
    return "sms:+390000000000" if owner is None else f"{owner.channel}:{owner.address}"


async def owner_chat(uow: UnitOfWork, shop_id: int) -> tuple[str, str]:
    """The shop owner's chat (channel, address): who refunds without the citizen's code."""
    members = await uow.shops.members_of(shop_id)
    owner = next(x for x in members if x.role == MemberRole.OWNER.value)
    return owner.channel, owner.address
