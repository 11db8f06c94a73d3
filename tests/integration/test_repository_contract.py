"""One contract, two implementations: each check runs on the in-memory repositories of
tests/unit/fakes.py and on the SQL repositories (SQLite), so the fake the fast service
tests rely on answers as the database does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.domain.charges import ChargeStatus
from core.domain.ledger import AccountKind
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from core.storage.engine import make_engine
from core.storage.repositories.results import StandingSums
from tests.unit.fakes import FakeStore, FakeUnitOfWork

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NewUow = Callable[[], UnitOfWork]


@pytest.fixture(params=["fake", "sql"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """None for the fake; for the SQL repositories, a migrated SQLite file."""
    return None if request.param == "fake" else str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
async def new_uow(backend: str | None) -> AsyncIterator[NewUow]:
    """A way to open units of work on one store: the fake's, or the database."""
    if backend is None:
        store = FakeStore()
        yield lambda: FakeUnitOfWork(store)
        return
    core = Core(engine=make_engine(backend))
    yield core.uow
    await core.close()


async def seed(new_uow: NewUow) -> tuple[int, int, int]:
    """A municipality, a citizen and a shop: their ids."""
    async with new_uow() as uow:
        town = m.Municipality(code="CON", name="Contract", policy_toml="", created_at=NOW)
        uow.add(town)
        await uow.flush()
        citizen = m.Citizen(
            municipality_id=town.id, codice_fiscale="X", card_code="C1", created_at=NOW
        )
        shop = m.Shop(
            municipality_id=town.id,
            name="Shop",
            vat_number="1",
            category="grocery",
            address="a",
            town="t",
            postcode="1",
            iban="IT",
            status="approved",
            created_at=NOW,
        )
        uow.add(citizen)
        uow.add(shop)
        await uow.flush()
        ids = (town.id, citizen.id, shop.id)
        await uow.commit()
    return ids


async def test_a_flush_gives_ids_and_defaults_and_refuses_a_duplicate(new_uow: NewUow) -> None:
    _, citizen_id, _ = await seed(new_uow)
    async with new_uow() as uow:
        citizen = await uow.citizens.by_id(citizen_id)
        assert citizen is not None
        assert (citizen.language, citizen.card_blocked_at) == ("it", None)
        uow.add(m.Municipality(code="CON", name="Again", policy_toml="", created_at=NOW))
        with pytest.raises(IntegrityError):
            await uow.flush()


async def test_what_is_not_committed_is_rolled_back(new_uow: NewUow) -> None:
    town_id, citizen_id, _ = await seed(new_uow)
    async with new_uow() as uow:
        uow.add(m.Round(municipality_id=town_id, number=1, opens_at=NOW, closes_at=NOW))
        citizen = await uow.citizens.by_id(citizen_id)
        assert citizen is not None
        citizen.language = "en"
        await uow.flush()
    async with new_uow() as uow:
        assert await uow.rounds.latest(town_id) is None
        citizen = await uow.citizens.by_id(citizen_id)
        assert citizen is not None and citizen.language == "it"


async def test_a_charge_changes_state_once_and_only_pending_ones_expire(new_uow: NewUow) -> None:
    town_id, citizen_id, shop_id = await seed(new_uow)
    async with new_uow() as uow:
        made = [
            m.Charge(
                municipality_id=town_id,
                shop_id=shop_id,
                citizen_id=citizen_id,
                amount_cents=100,
                code_salt="s",
                code_hash="h",
                requested_by="t",
                created_at=NOW,
                expires_at=NOW + timedelta(minutes=minutes),
            )
            for minutes in (1, 1, 20)
        ]
        for charge in made:
            uow.add(charge)
        await uow.flush()
        ids = [charge.id for charge in made]
        await uow.commit()
    async with new_uow() as uow:
        first = await uow.charges.mark(ids[0], ChargeStatus.PENDING, status=ChargeStatus.CONFIRMED)
        second = await uow.charges.mark(ids[0], ChargeStatus.PENDING, status=ChargeStatus.CANCELLED)
        assert (first, second) == (True, False)
        assert await uow.charges.expire_due(NOW + timedelta(minutes=5)) == 1
        await uow.commit()
    async with new_uow() as uow:
        statuses = [(await uow.charges.by_id(x)).status for x in ids]  # type: ignore[union-attr]
        pending = [c.id for c in await uow.charges.pending_for_citizen(citizen_id)]
    assert statuses == ["confirmed", "expired", "pending"]
    assert pending == [ids[2]]


async def test_a_guarded_debit_never_overdraws_unless_allowed(new_uow: NewUow) -> None:
    town_id, citizen_id, _ = await seed(new_uow)
    async with new_uow() as uow:
        citizen, fund = await uow.ledger.pair(
            town_id, (AccountKind.CITIZEN, citizen_id), (AccountKind.FUND, 0)
        )
        await uow.ledger.credit(citizen.id, 500)
        assert await uow.ledger.debit_guarded(citizen.id, 501, allow_negative=False) is None
        assert await uow.ledger.debit_guarded(citizen.id, 500, allow_negative=False) == 0
        assert await uow.ledger.debit_guarded(fund.id, 70, allow_negative=True) == -70
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.ledger.balance_of_owner(town_id, AccountKind.CITIZEN, citizen_id) == 0
        assert await uow.ledger.balance_of_owner(town_id, AccountKind.FUND, 0) == -70
        assert await uow.ledger.balance_of_owner(town_id, AccountKind.SHOP, 1) == 0
        assert await uow.ledger.owed_to_shops(town_id) == 0  # no shop owed anything
        assert await uow.ledger.find(town_id, AccountKind.SHOP, 1) is None


async def test_security_events_count_after_since_and_old_ones_of_the_same_key_go(
    new_uow: NewUow,
) -> None:
    town_id, _, shop_id = await seed(new_uow)

    def event(kind: str, at: datetime, **key: object) -> m.SecurityEvent:
        return m.SecurityEvent(municipality_id=town_id, kind=kind, created_at=at, **key)

    async with new_uow() as uow:
        old = NOW - timedelta(days=40)
        await uow.security.record(event("miss", old, shop_id=shop_id), drop_before=None)
        await uow.security.record(
            event("sent", old, channel="sms", address="+39"), drop_before=None
        )
        await uow.security.record(event("miss", NOW, shop_id=shop_id), drop_before=None)
        # A new "miss" drops the shop's old ones, and not the old "sent" of another key.
        await uow.security.record(
            event("miss", NOW + timedelta(minutes=1), shop_id=shop_id),
            drop_before=NOW - timedelta(days=30),
        )
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.security.count("miss", NOW - timedelta(days=60), shop_id=shop_id) == 2
        assert await uow.security.count("miss", NOW, shop_id=shop_id) == 1  # strictly after
        assert await uow.security.count("sent", old - timedelta(1), address="+39") == 1
        assert await uow.security.latest("miss", shop_id) == NOW + timedelta(minutes=1)
        rows = await uow.security.of_shops("miss", town_id, NOW - timedelta(hours=1))
    assert sorted(rows) == [
        (shop_id, "Shop", NOW),
        (shop_id, "Shop", NOW + timedelta(minutes=1)),
    ]


async def test_codes_sent_are_marked_proven_or_tried_by_their_hash(new_uow: NewUow) -> None:
    town_id, _, _ = await seed(new_uow)

    def code(at: datetime, code_hash: str, address: str = "+39") -> m.SecurityEvent:
        return m.SecurityEvent(
            municipality_id=town_id,
            kind="sent",
            channel="sms",
            address=address,
            created_at=at,
            code_salt="s",
            code_hash=code_hash,
            wrong_tries=0,
        )

    async with new_uow() as uow:
        for minutes, code_hash in ((2, "b"), (1, "a"), (3, "c")):
            await uow.security.record(
                code(NOW + timedelta(minutes=minutes), code_hash), drop_before=None
            )
        await uow.security.record(code(NOW, "a", address="+40"), drop_before=None)
        await uow.security.mark_code("sent", "sms", "+39", "a", proven_at=NOW)
        await uow.security.mark_code("sent", "sms", "+39", "b", wrong_try=True)
        await uow.security.mark_code("sent", "sms", "+39", "b", wrong_try=True)
        await uow.commit()
    async with new_uow() as uow:
        rows = await uow.security.of_address("sent", "sms", "+39", NOW)
        seen = [(x.code_hash, x.proven_at, x.wrong_tries) for x in rows]
        town = await uow.security.unproven_of_town("sent", town_id, NOW - timedelta(1))
    assert seen == [("a", NOW, 0), ("b", None, 2), ("c", None, 0)]  # the oldest first
    assert sorted(town) == [
        ("sms", "+39", None, NOW + timedelta(minutes=2)),
        ("sms", "+39", None, NOW + timedelta(minutes=3)),
        ("sms", "+40", None, NOW),
    ]


async def test_a_card_is_blocked_once(new_uow: NewUow) -> None:
    _, citizen_id, _ = await seed(new_uow)
    async with new_uow() as uow:
        blocked = [await uow.citizens.block_card(citizen_id, NOW) for _ in range(2)]
        await uow.commit()
    assert blocked == [True, False]
    async with new_uow() as uow:
        citizen = await uow.citizens.by_id(citizen_id)
        assert citizen is not None and citizen.card_blocked_at == NOW


async def test_wrong_pins_of_a_card_at_a_shop_and_its_last_payment_by_pin(
    new_uow: NewUow,
) -> None:
    """What the PIN limits read: when a shop typed wrong PINs for a card (rows naming it),
    and when the card last paid with its PIN, at that shop or anywhere."""
    town_id, citizen_id, shop_id = await seed(new_uow)
    async with new_uow() as uow:
        for minutes, detail in ((2, "card:1"), (1, "card:1"), (3, "card:2"), (-5, "card:1")):
            await uow.security.record(
                m.SecurityEvent(
                    municipality_id=town_id,
                    kind="wrong",
                    shop_id=shop_id,
                    detail=detail,
                    created_at=NOW + timedelta(minutes=minutes),
                ),
                drop_before=None,
            )
        assert await uow.charges.last_card_payment(citizen_id, None) is None
        for minutes, consent, status in (
            (1, "card_pin", ChargeStatus.CONFIRMED),
            (2, "card_pin", ChargeStatus.REFUNDED),
            (3, "code", ChargeStatus.CONFIRMED),  # a code, not the PIN
            (4, "card_pin", ChargeStatus.CANCELLED),  # never paid
        ):
            uow.add(
                m.Charge(
                    municipality_id=town_id,
                    shop_id=shop_id,
                    citizen_id=citizen_id,
                    amount_cents=100,
                    status=status.value,
                    code_salt="",
                    code_hash="",
                    consent=consent,
                    requested_by="t",
                    created_at=NOW,
                    expires_at=NOW + timedelta(minutes=10),
                    confirmed_at=NOW + timedelta(minutes=minutes),
                )
            )
        await uow.flush()
        await uow.commit()
    async with new_uow() as uow:
        times = await uow.security.times("wrong", NOW, shop_id=shop_id, detail="card:1")
        assert list(times) == [NOW + timedelta(minutes=1), NOW + timedelta(minutes=2)]
        assert await uow.security.count("wrong", NOW, detail="card:1") == 2
        assert await uow.charges.last_card_payment(citizen_id, shop_id) == NOW + timedelta(
            minutes=2
        )
        assert await uow.charges.last_card_payment(citizen_id, shop_id + 1) is None


async def test_a_tranche_is_credited_or_withdrawn_once_and_withdrawn_lines_give_nothing(
    new_uow: NewUow,
) -> None:
    town_id, citizen_id, _ = await seed(new_uow)
    async with new_uow() as uow:
        round_ = m.Round(municipality_id=town_id, number=1, opens_at=NOW, closes_at=NOW)
        uow.add(round_)
        await uow.flush()
        application = m.Application(
            municipality_id=town_id,
            round_id=round_.id,
            citizen_id=citizen_id,
            protocol="P-1",
            household_size=1,
            has_work_income=False,
            has_pension=False,
            liquidity_cents=0,
            public_support_monthly_cents=0,
            rent_monthly_cents=0,
            source="paper",
            submitted_at=NOW,
            updated_at=NOW,
        )
        tranches = [
            m.Allocation(
                municipality_id=town_id,
                round_id=round_.id,
                tranche=tranche,
                budget_cents=100 * tranche,
                approved_at=NOW,
            )
            for tranche in (1, 2)
        ]
        for row in (application, *tranches):
            uow.add(row)
        await uow.flush()
        await uow.allocations.add_lines(
            [
                {
                    "allocation_id": tranche.id,
                    "application_id": application.id,
                    "assignment": "assigned",
                    "full_amount_cents": 150,
                    "amount_cents": 50 * tranche.tranche,
                }
                for tranche in tranches
            ]
        )
        assert await uow.allocations.mark_credited(tranches[0].id, NOW)
        assert not await uow.allocations.mark_credited(tranches[0].id, NOW)
        assert await uow.allocations.mark_withdrawn(tranches[1].id, NOW, "boss")
        assert not await uow.allocations.mark_credited(tranches[1].id, NOW)
        await uow.commit()
        ids = (round_.id, application.id, tranches[0].id)
    round_id, application_id, first_id = ids
    async with new_uow() as uow:
        assert await uow.allocations.given_by_application(round_id) == {application_id: 50}
        assert await uow.allocations.line_ids_to_credit(first_id) != []
        latest = await uow.allocations.latest(round_id)
        standing = await uow.allocations.latest_standing(round_id)
        # Tranche 2, withdrawn, gave its budget back: tranche 1's alone.
        standing_budgets = await uow.allocations.of_round(round_id, withdrawn=False)
        assert [x.budget_cents for x in standing_budgets] == [100]
        # … and its lines allocated nothing: tranche 1's line alone, credited.
        assert await uow.allocations.standing_sums(round_id) == StandingSums(50, 50)
        assert await uow.allocations.waiting(round_id) is None
        assert await uow.allocations.waiting_in_municipality(town_id) is None
    assert latest is not None and latest.tranche == 2
    assert standing is not None and standing.tranche == 1


async def test_the_fund_adds_its_entries_and_approved_budgets_not_withdrawn(
    new_uow: NewUow,
) -> None:
    town_id, _, _ = await seed(new_uow)
    async with new_uow() as uow:
        assert await uow.fund.total(town_id) is None  # nothing recorded
        assert await uow.fund.approved_budgets(town_id) == 0
        round_ = m.Round(municipality_id=town_id, number=1, opens_at=NOW, closes_at=NOW)
        uow.add(round_)
        await uow.flush()

        def entry(cents: int, corrects: int | None = None) -> m.FundEntry:
            return m.FundEntry(
                municipality_id=town_id,
                amount_cents=cents,
                description="Stato",
                received_on=NOW.date(),
                corrects_id=corrects,
                recorded_by="r",
                recorded_at=NOW,
            )

        first = entry(1_000_00)
        uow.add(first)
        uow.add(entry(500_00))
        await uow.flush()
        uow.add(entry(-300_00, first.id))
        for tranche, withdrawn in ((1, None), (2, NOW)):
            uow.add(
                m.Allocation(
                    municipality_id=town_id,
                    round_id=round_.id,
                    tranche=tranche,
                    budget_cents=400_00,
                    approved_at=NOW,
                    withdrawn_at=withdrawn,
                )
            )
        await uow.fund.lock(town_id)
        await uow.commit()
        first_id = first.id
    async with new_uow() as uow:
        assert await uow.fund.total(town_id) == 1_200_00
        assert await uow.fund.corrected(first_id) == 300_00
        assert await uow.fund.approved_budgets(town_id) == 400_00
        entries = await uow.fund.of_municipality(town_id)
        assert [e.amount_cents for e in entries] == [1_000_00, 500_00, -300_00]
        assert (await uow.fund.by_id(first_id)) is not None


async def test_a_savepoint_undoes_only_its_block(new_uow: NewUow) -> None:
    town_id, _, _ = await seed(new_uow)
    async with new_uow() as uow:
        uow.add(m.Round(municipality_id=town_id, number=1, opens_at=NOW, closes_at=NOW))
        await uow.flush()
        with pytest.raises(IntegrityError):
            async with uow.savepoint():
                uow.add(m.Round(municipality_id=town_id, number=2, opens_at=NOW, closes_at=NOW))
                await uow.flush()
                uow.add(m.Municipality(code="CON", name="Again", policy_toml="", created_at=NOW))
                await uow.flush()
        await uow.commit()
    async with new_uow() as uow:
        latest = await uow.rounds.latest(town_id)
    assert latest is not None and latest.number == 1


async def test_shops_are_found_by_town_place_and_member(new_uow: NewUow) -> None:
    town_id, _, shop_id = await seed(new_uow)
    async with new_uow() as uow:
        shop = await uow.shops.by_id(shop_id)
        assert shop is not None
        shop.town, shop.latitude, shop.longitude = "Belforte", 43.16, 13.24
        uow.add(
            m.Shop(
                municipality_id=town_id,
                name="Alpha",
                vat_number="2",
                category="pharmacy",
                address="b",
                town="belforte",
                postcode="2",
                iban="IT",
                status="pending",
                latitude=43.16,
                longitude=13.24,
                created_at=NOW,
            )
        )
        uow.add(
            m.ShopMember(
                shop_id=shop_id, channel="sms", address="+39", role="owner", created_at=NOW
            )
        )
        await uow.flush()
        await uow.commit()
    async with new_uow() as uow:
        approved = [x.name for x in await uow.shops.search(town_id, town="BELFORTE")]
        every = [x.name for x in await uow.shops.search(town_id, approved_only=False)]
        near = [x.name for x in await uow.shops.near(town_id, 43.161, 13.241, 1.0)]
        far = await uow.shops.near(town_id, 44.0, 13.241, 1.0)
        members = [(x.role, s.id) for x, s in await uow.shops.membership("sms", "+39")]
    assert (approved, every, near, far) == (["Shop"], ["Alpha", "Shop"], ["Shop"], [])
    assert members == [("owner", shop_id)]


async def test_identity_events_are_counted_from_a_moment_on(new_uow: NewUow) -> None:
    town_id, citizen_id, _ = await seed(new_uow)
    async with new_uow() as uow:
        for minutes in (0, 10):
            await uow.identity_events.record(
                m.IdentityEvent(
                    municipality_id=town_id,
                    citizen_id=citizen_id,
                    kind="phone_bound",
                    actor="test",
                    created_at=NOW + timedelta(minutes=minutes),
                )
            )
        await uow.commit()
    async with new_uow() as uow:
        counts = [
            await uow.identity_events.count_since(citizen_id, "phone_bound", NOW + delta)
            for delta in (timedelta(0), timedelta(minutes=10), timedelta(minutes=11))
        ]
    assert counts == [2, 1, 0]  # from `since` on, that moment included


async def test_vouchers_are_listed_with_what_is_left_and_refunded_once(new_uow: NewUow) -> None:
    town_id, _, shop_id = await seed(new_uow)
    async with new_uow() as uow:
        payment = m.ProviderPayment(
            municipality_id=town_id,
            purpose="voucher",
            shop_id=shop_id,
            amount_cents=2_000,
            currency="EUR",
            telegram_payment_charge_id="tg-1",
            provider_payment_charge_id="p-1",
            payer_channel="telegram",
            payer_address="555",
            created_at=NOW,
        )
        uow.add(payment)
        await uow.flush()
        voucher = m.Voucher(
            municipality_id=town_id,
            shop_id=shop_id,
            payment_id=payment.id,
            code="V1",
            amount_cents=2_000,
            holder_channel="telegram",
            holder_address="555",
            created_at=NOW,
        )
        uow.add(voucher)
        await uow.flush()
        account = await uow.ledger.account(town_id, AccountKind.VOUCHER, voucher.id)
        await uow.ledger.credit(account.id, 1_500)
        for status, cents in (("confirmed", 300), ("cancelled", 900), ("confirmed", 200)):
            uow.add(
                m.VoucherCharge(
                    municipality_id=town_id,
                    shop_id=shop_id,
                    voucher_id=voucher.id,
                    amount_cents=cents,
                    status=status,
                    code_salt="s",
                    code_hash="h",
                    requested_by="t",
                    created_at=NOW,
                    expires_at=NOW,
                )
            )
        ids = (payment.id, voucher.id)
        await uow.commit()
    payment_id, voucher_id = ids
    async with new_uow() as uow:
        held = [
            (v.code, s.id, left)
            for v, s, left in await uow.community.vouchers_held(town_id, "telegram", "555")
        ]
        assert held == [("V1", shop_id, 1_500)]
        assert await uow.community.spent_on(voucher_id) == 500
        assert (await uow.community.payment_by_charge_id("tg-1")) is not None
        first = await uow.community.mark_refunded(payment_id, refunded_at=NOW)
        second = await uow.community.mark_refunded(payment_id, refunded_at=NOW)
        await uow.commit()
    assert (first, second) == (True, False)


async def test_a_known_browsers_count_is_found_by_operator_and_nonce_and_one_per_pair(
    new_uow: NewUow,
) -> None:
    town_id, _, _ = await seed(new_uow)
    async with new_uow() as uow:
        ids = []
        for name in ("anna", "bruno"):
            operator = m.Operator(
                municipality_id=town_id,
                username=name,
                role="manager",
                password_hash="x",
                created_at=NOW,
            )
            uow.add(operator)
            await uow.flush()
            ids.append(operator.id)
        anna, bruno = ids
        uow.add(m.OperatorDevice(operator_id=anna, nonce="n1", failed_sign_ins=2))
        uow.add(m.OperatorDevice(operator_id=anna, nonce="n2", locked_until=NOW))
        uow.add(m.OperatorDevice(operator_id=bruno, nonce="n1"))
        await uow.commit()
    async with new_uow() as uow:
        device = await uow.operators.device(anna, "n1")
        assert device is not None and (device.failed_sign_ins, device.locked_until) == (2, None)
        assert await uow.operators.device(anna, "n3") is None
        assert [d.nonce for d in await uow.operators.devices(anna)] == ["n1", "n2"]
        other = await uow.operators.device(bruno, "n1")
        assert other is not None and other.failed_sign_ins == 0  # the column's default
        await uow.delete(other)
        uow.add(m.OperatorDevice(operator_id=anna, nonce="n1"))
        with pytest.raises(IntegrityError):
            await uow.flush()
    async with new_uow() as uow:
        assert len(await uow.operators.devices(bruno)) == 1  # the failed unit undid the delete


async def test_a_chats_place_in_a_shop_and_a_shops_unproven_codes(new_uow: NewUow) -> None:
    town_id, _, shop_id = await seed(new_uow)
    async with new_uow() as uow:
        uow.add(
            m.ShopMember(
                shop_id=shop_id, channel="sms", address="+39", role="cashier", created_at=NOW
            )
        )
        for minutes, detail, proven in ((2, "refund", None), (1, "refund", None),
                                        (3, "refund", NOW), (4, "other", None)):  # fmt: skip
            await uow.security.record(
                m.SecurityEvent(
                    municipality_id=town_id,
                    kind="sent",
                    shop_id=shop_id,
                    channel="sms",
                    address=f"+4{minutes}",
                    detail=detail,
                    wrong_tries=0,
                    created_at=NOW + timedelta(minutes=minutes),
                    proven_at=proven,
                ),
                drop_before=None,
            )
        await uow.commit()
    async with new_uow() as uow:
        member = await uow.shops.member_at(shop_id, "sms", "+39")
        assert member is not None and member.role == "cashier"
        assert await uow.shops.member_at(shop_id, "sms", "+40") is None
        assert await uow.shops.member_at(shop_id + 1, "sms", "+39") is None
        assert await uow.shops.member_locked(shop_id, member.id) == member
        assert await uow.shops.member_locked(shop_id + 1, member.id) is None
        shop = await uow.shops.current(shop_id)
        assert shop is not None and shop.status == "approved"
        times = await uow.security.unproven_of_shop("sent", shop_id, "refund", NOW)
        town = await uow.security.unproven_of_town("sent", town_id, NOW)
    # Never came back, of that detail, the oldest first; the town's with their detail.
    assert list(times) == [NOW + timedelta(minutes=1), NOW + timedelta(minutes=2)]
    assert sorted(town, key=lambda x: x[3]) == [
        ("sms", "+41", "refund", NOW + timedelta(minutes=1)),
        ("sms", "+42", "refund", NOW + timedelta(minutes=2)),
        ("sms", "+44", "other", NOW + timedelta(minutes=4)),
    ]
