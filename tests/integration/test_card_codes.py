"""Card payments confirmed by one-time codes of the card's printed grid (SQLite and
PostgreSQL): the server draws an unused position and binds it to the charge, only that
code confirms it, once; the grid runs out; a reissue voids it; old PIN cards still pay."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import delete, select, update

from core.bootstrap import Core
from core.domain import cards as card_domain
from core.domain import otp
from core.domain.errors import NotAllowed, Refusal
from core.services import cards, charges, security
from core.storage import models as m
from tests.factories import Town, confirm, make_town, request, slip_code
from tests.integration.test_cards_delegates import balance, issue, later, without_phone
from tests.integration.test_payments import another_shop

OK = charges.ConfirmOutcome.CONFIRMED
WRONG = charges.ConfirmOutcome.WRONG_CODE


async def _grid(core: Core, town: Town) -> list[m.CardCode]:
    async with core.uow() as uow:
        return list(
            await uow.session.scalars(
                select(m.CardCode)
                .where(m.CardCode.citizen_id == town.citizen_ids[0])
                .order_by(m.CardCode.id)
            )
        )


async def _charge(core: Core, charge_id: int) -> m.Charge:
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
    assert charge is not None
    return charge


async def _use_all_but(core: Core, town: Town, keep: set[int]) -> None:
    """The holder has spent every code but those at `keep` (as many payments would)."""
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.CardCode)
            .where(
                m.CardCode.citizen_id == town.citizen_ids[0],
                m.CardCode.position.not_in(keep),
            )
            .values(used_at=core.now())
        )
        await uow.commit()


async def test_a_card_payment_asks_for_a_drawn_unused_position_and_its_code_confirms_once(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    before = await balance(core, town)
    requested = await request(core, town.shop_id, card.card_code, 3_00)
    position = requested.card_position
    assert position is not None and 1 <= position <= card_domain.GRID_SIZE
    # Bound on the charge by the server: the till was only told it.
    assert (await _charge(core, requested.charge_id)).card_code_position == position
    result = await confirm(core, town.shop_id, requested.charge_id, slip_code(card, requested))
    assert result.outcome is OK and result.card_codes_left == card_domain.GRID_SIZE - 1
    assert await balance(core, town) == before - 3_00
    used = [x for x in await _grid(core, town) if x.used_at is not None]
    assert [(x.position, x.charge_id) for x in used] == [(position, requested.charge_id)]
    # Typed again for the same payment: the receipt again, nothing more moves.
    again = await confirm(core, town.shop_id, requested.charge_id, slip_code(card, requested))
    assert again.outcome is charges.ConfirmOutcome.ALREADY_CONFIRMED
    assert await balance(core, town) == before - 3_00


async def test_positions_are_drawn_among_unused_codes_only(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    await _use_all_but(core, town, {4, 17})
    seen = set()
    # A first draw at each of 12 shops (a shop is not asked twice for a cell, below).
    for shop in [town.shop_id] + [await another_shop(core, town, n) for n in range(1, 12)]:
        requested = await request(core, shop, card.card_code, 1_00)
        seen.add(requested.card_position)
    assert seen <= {4, 17}
    assert seen == {4, 17}  # drawn at random: 12 draws of two give both (1 in 2048 not)


async def test_a_shop_is_never_asked_again_for_a_cell_shown_without_a_payment(
    core: Core,
) -> None:
    """The cashier may have heard the code of a cell asked for a payment not made
    (cancelled, replaced, expired): if the server drew that cell at the same till again,
    the cashier could pay with it without the holder. So the till is asked for other cells;
    other shops may still draw it, and the code pays there."""
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    await _use_all_but(core, town, {4, 17})
    first = await request(core, town.shop_id, card.card_code, 1_00)
    second = await request(core, town.shop_id, card.card_code, 1_00)  # replaces the first
    assert {first.card_position, second.card_position} == {4, 17}
    async with core.uow() as uow:
        assert await charges.cancel_charge(
            uow, charge_id=second.charge_id, shop_id=town.shop_id, now=core.now()
        )
        await uow.commit()
    before = await balance(core, town)
    with pytest.raises(NotAllowed) as refused:
        await request(core, town.shop_id, card.card_code, 1_00)
    assert refused.value.code == Refusal.CARD_CODES_USED_UP
    other = await another_shop(core, town, 1)
    there = await request(core, other, card.card_code, 1_00)
    assert there.card_position in {4, 17}
    result = await confirm(core, other, there.charge_id, slip_code(card, there))
    assert result.outcome is OK and await balance(core, town) == before - 1_00


async def test_a_used_code_typed_for_a_second_charge_is_refused_and_nothing_moves(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    first = await request(core, town.shop_id, card.card_code, 2_00)
    seen = slip_code(card, first)  # the cashier saw it typed
    assert (await confirm(core, town.shop_id, first.charge_id, seen)).outcome is OK
    later(core)
    after_first = await balance(core, town)
    second = await request(core, town.shop_id, card.card_code, 50_00)
    assert second.card_position != first.card_position  # a used position is never drawn
    result = await confirm(core, town.shop_id, second.charge_id, seen)
    assert result.outcome is WRONG
    assert await balance(core, town) == after_first
    assert (await _charge(core, second.charge_id)).status == "pending"
    # The wrong code is a wrong code of the shop, naming the card.
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        assert await cards.wrong_pins(uow, citizen, core.now()) == 1


async def test_only_the_code_at_the_bound_position_confirms(core: Core) -> None:
    """The cashier cannot pick a cell: any other code of the grid, even unused, is a wrong
    code, and the charge keeps the position the server drew."""
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    requested = await request(core, town.shop_id, card.card_code, 1_00)
    position = requested.card_position
    assert position is not None
    other = card.codes[position % card_domain.GRID_SIZE]  # the next cell
    if other != card.codes[position - 1]:
        result = await confirm(core, town.shop_id, requested.charge_id, other)
        assert result.outcome is WRONG
    assert (await _charge(core, requested.charge_id)).card_code_position == position
    result = await confirm(core, town.shop_id, requested.charge_id, slip_code(card, requested))
    assert result.outcome is OK


async def test_wrong_codes_count_toward_the_locks(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    outcomes = []
    for _ in range(card_domain.PIN_FAILURES_PER_SHOP):
        requested = await request(core, town.shop_id, card.card_code, 1_00)
        wrong = "000000" if slip_code(card, requested) != "000000" else "111111"
        outcomes.append((await confirm(core, town.shop_id, requested.charge_id, wrong)).outcome)
        later(core)
    assert outcomes[-1] is charges.ConfirmOutcome.CARD_LOCKED_AT_SHOP
    with pytest.raises(NotAllowed) as refused:
        await request(core, town.shop_id, card.card_code, 1_00)
    assert refused.value.code == Refusal.CARD_LOCKED_AT_SHOP
    async with core.uow() as uow:
        rows = await uow.session.scalars(
            select(m.SecurityEvent).where(m.SecurityEvent.kind == security.WRONG_PAYMENT_CODE)
        )
        assert {row.detail for row in rows} == {f"card:{town.citizen_ids[0]}"}
    # Another shop still charges the card with the right code.
    other = await another_shop(core, town, 1)
    requested = await request(core, other, card.card_code, 1_00)
    assert (
        await confirm(core, other, requested.charge_id, slip_code(card, requested))
    ).outcome is OK


async def test_one_code_confirms_one_payment_even_when_two_charges_drew_it(core: Core) -> None:
    """Two tills drew the same cell at once: the guarded UPDATE lets its code pay once."""
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    other = await another_shop(core, town, 1)
    first = await request(core, town.shop_id, card.card_code, 1_00)
    second = await request(core, other, card.card_code, 1_00)
    async with core.uow() as uow:  # the same draw for both
        await uow.session.execute(
            update(m.Charge)
            .where(m.Charge.id == second.charge_id)
            .values(card_code_position=first.card_position)
        )
        await uow.commit()
    code = slip_code(card, first)
    before = await balance(core, town)
    assert (await confirm(core, town.shop_id, first.charge_id, code)).outcome is OK
    result = await confirm(core, other, second.charge_id, code)
    assert result.outcome is charges.ConfirmOutcome.NOT_PENDING
    assert await balance(core, town) == before - 1_00
    charge = await _charge(core, second.charge_id)
    assert (charge.status, charge.closed_reason) == ("cancelled", "card_code_used")


async def test_the_till_warns_when_few_codes_remain_and_the_card_stops_when_none(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    await _use_all_but(core, town, {1, 2})
    requested = await request(core, town.shop_id, card.card_code, 1_00)
    result = await confirm(core, town.shop_id, requested.charge_id, slip_code(card, requested))
    assert result.outcome is OK and result.card_codes_left == 1
    assert card_domain.grid_running_out(result.card_codes_left)
    later(core)
    requested = await request(core, town.shop_id, card.card_code, 1_00)
    result = await confirm(core, town.shop_id, requested.charge_id, slip_code(card, requested))
    assert result.outcome is OK and result.card_codes_left == 0
    before = await balance(core, town)
    with pytest.raises(NotAllowed) as refused:
        await request(core, town.shop_id, card.card_code, 1_00)
    assert refused.value.code == Refusal.CARD_CODES_USED_UP
    assert refused.value.params["town"] == "Testville"
    assert await balance(core, town) == before
    async with core.uow() as uow:
        [status] = await cards.card_statuses(uow, town.municipality_id, core.now())
    assert status.codes_left == 0


async def test_reissue_voids_the_old_grid(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    old = await issue(core, town)
    new = await issue(core, town, reissue=True)
    grid = await _grid(core, town)
    assert len(grid) == 2 * card_domain.GRID_SIZE
    assert all(x.voided_at is not None for x in grid if x.card_code == old.card_code)
    assert all(x.voided_at is None for x in grid if x.card_code == new.card_code)
    requested = await request(core, town.shop_id, new.card_code, 1_00)
    old_code = slip_code(old, requested)
    if old_code != slip_code(new, requested):
        assert (await confirm(core, town.shop_id, requested.charge_id, old_code)).outcome is WRONG
    result = await confirm(core, town.shop_id, requested.charge_id, slip_code(new, requested))
    assert result.outcome is OK


def _draw(monkeypatch: pytest.MonkeyPatch, position: int | None = None) -> list[list[int]]:
    """The server's next draws give `position` (which must be drawable), or draw as usual
    (None); returns the cells each draw chose from."""
    offered: list[list[int]] = []
    real = card_domain.draw_position

    def draw(unused: Sequence[int]) -> int:
        offered.append(list(unused))
        if position is None:
            return real(unused)
        assert position in unused, f"position {position} may not be drawn"
        return position

    monkeypatch.setattr(card_domain, "draw_position", draw)
    return offered


async def _pays_later_with_the_same_code(
    core: Core,
    town: Town,
    card: cards.CardData,
    first: charges.ChargeRequested,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The shop that was shown the cell of `first`, a payment not made, is never asked for
    it again; another shop's payment drawn at it is confirmed by the code of that cell."""
    position = first.card_position
    assert position is not None
    offered = _draw(monkeypatch)
    here = await request(core, town.shop_id, card.card_code, 1_00)
    assert position not in offered[-1] and here.card_position != position
    other = await another_shop(core, town, 1)
    _draw(monkeypatch, position)
    before = await balance(core, town)
    again = await request(core, other, card.card_code, 2_00)
    assert again.card_position == position
    result = await confirm(core, other, again.charge_id, slip_code(card, again))
    assert result.outcome is OK and result.card_codes_left == card_domain.GRID_SIZE - 1
    assert await balance(core, town) == before - 2_00
    [used] = [x for x in await _grid(core, town) if x.used_at is not None]
    assert (used.position, used.charge_id) == (position, again.charge_id)


async def test_the_right_code_typed_too_late_stays_unused_and_pays_a_new_charge(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payment expired before the holder typed the code: nothing was paid, so the
    code is not spent (one of 30), and a later payment drawn at that cell takes it."""
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    before = await balance(core, town)
    requested = await request(core, town.shop_id, card.card_code, 1_00)
    core.clock.advance(hours=2)  # type: ignore[attr-defined]
    result = await confirm(core, town.shop_id, requested.charge_id, slip_code(card, requested))
    assert result.outcome is charges.ConfirmOutcome.EXPIRED
    assert (await _charge(core, requested.charge_id)).status == "expired"
    assert all(x.used_at is None and x.charge_id is None for x in await _grid(core, town))
    assert await balance(core, town) == before
    async with core.uow() as uow:
        [status] = await cards.card_statuses(uow, town.municipality_id, core.now())
    assert status.codes_left == card_domain.GRID_SIZE and status.failures == 0
    await _pays_later_with_the_same_code(core, town, card, requested, monkeypatch)


async def test_the_right_code_refused_for_the_balance_stays_unused(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The balance no longer covers the payment when the code comes: the payment is
    refused and the code, taken in that transaction, is given back."""
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    before = await balance(core, town)
    requested = await request(core, town.shop_id, card.card_code, before + 1_00)
    result = await confirm(core, town.shop_id, requested.charge_id, slip_code(card, requested))
    assert result.outcome is charges.ConfirmOutcome.INSUFFICIENT_FUNDS
    assert (await _charge(core, requested.charge_id)).status == "cancelled"
    assert all(x.used_at is None and x.charge_id is None for x in await _grid(core, town))
    assert await balance(core, town) == before
    later(core)
    await _pays_later_with_the_same_code(core, town, card, requested, monkeypatch)


async def test_wrong_codes_and_cancelled_payments_spend_no_code(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wrong codes (another cell's code too), a payment cancelled at the till, one cancelled
    by the third wrong code and one voided by a replacing charge take no code of the grid;
    the drawn cell's code still pays afterwards."""
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    first = await request(core, town.shop_id, card.card_code, 1_00)
    position = first.card_position
    assert position is not None
    right = slip_code(card, first)
    others = [code for code in card.codes if code != right]
    assert (await confirm(core, town.shop_id, first.charge_id, others[0])).outcome is WRONG
    async with core.uow() as uow:
        assert await charges.cancel_charge(
            uow, charge_id=first.charge_id, shop_id=town.shop_id, now=core.now()
        )
        await uow.commit()
    # The right code for the cancelled payment: closed, nothing taken.
    closed = await confirm(core, town.shop_id, first.charge_id, right)
    assert closed.outcome is charges.ConfirmOutcome.NOT_PENDING
    later(core)
    second = await request(core, town.shop_id, card.card_code, 1_00)
    third = await request(core, town.shop_id, card.card_code, 1_00)  # replaces the second
    # Cells shown at this till for payments not made are not asked for here again.
    assert second.card_position not in (None, position)
    assert third.card_position not in (None, position, second.card_position)
    assert (await _charge(core, second.charge_id)).closed_reason == "replaced"
    assert (
        await confirm(core, town.shop_id, second.charge_id, slip_code(card, second))
    ).outcome is (charges.ConfirmOutcome.NOT_PENDING)
    wrong_codes = [code for code in others if code != slip_code(card, third)]
    outcomes = [
        (await confirm(core, town.shop_id, third.charge_id, wrong)).outcome
        for wrong in wrong_codes[1:3]
    ]
    assert outcomes == [WRONG, charges.ConfirmOutcome.CARD_LOCKED_AT_SHOP]
    assert all(x.used_at is None for x in await _grid(core, town))
    # Another shop, at the same cell, pays with the code.
    other = await another_shop(core, town, 1)
    before = await balance(core, town)
    _draw(monkeypatch, position)
    fourth = await request(core, other, card.card_code, 1_00)
    assert fourth.card_position == position
    result = await confirm(core, other, fourth.charge_id, right)
    assert result.outcome is OK and await balance(core, town) == before - 1_00


async def test_a_card_issued_before_the_grids_pays_with_its_pin_and_is_listed(
    core: Core,
) -> None:
    """A card with only a PIN (issued before migration 0031) keeps paying, so no household
    is left without food; the office's list shows it has no grid, to reissue it."""
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    pin = "246810"
    async with core.uow() as uow:  # as migration 0031 finds such a card
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        await uow.session.execute(delete(m.CardCode))
        salt = otp.new_salt()
        citizen.card_pin_salt, citizen.card_pin_hash = (
            salt,
            card_domain.hash_pin(uow.keys, pin, salt),
        )
        await uow.commit()
    requested = await request(core, town.shop_id, card.card_code, 1_00)
    assert requested.card_position is None
    result = await confirm(core, town.shop_id, requested.charge_id, pin)
    assert result.outcome is OK and result.card_codes_left is None
    async with core.uow() as uow:
        [status] = await cards.card_statuses(uow, town.municipality_id, core.now())
    assert status.codes_left is None


async def _member(core: Core, shop_id: int, channel: str, address: str, phone: str | None) -> None:
    async with core.uow() as uow:
        uow.add(
            m.ShopMember(
                shop_id=shop_id,
                channel=channel,
                address=address,
                role="cashier",
                created_at=core.now(),
                phone=phone,
            )
        )
        await uow.commit()


async def _asked_by(core: Core, shop_id: int, till: str, card_code: str) -> charges.ChargeRequested:
    async with core.uow() as uow:
        requested = await charges.request_charge(
            uow,
            shop_id=shop_id,
            citizen_reference=card_code,
            amount_cents=150_00,
            requested_by=till,
            now=core.now(),
        )
        await uow.commit()
        return requested


@pytest.mark.parametrize("there", ["sms", "telegram"])
async def test_a_cell_heard_by_a_cashier_of_two_shops_is_not_drawn_at_the_other_shop(
    core: Core, there: str
) -> None:
    """A cashier who works at two shops heard the codes of cells asked at the first for
    payments not made (asked again, then cancelled). Drawn at the second shop, where the
    same person charges (by the same number, or from Telegram with that phone), a heard
    cell would pay 150 € with no holder there: the second shop is not asked for them either.
    A shop where nobody heard them still draws them, and the code pays."""
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    await _use_all_but(core, town, {4, 17})
    cashier = "+393339990001"
    second = await another_shop(core, town, 1)
    await _member(core, town.shop_id, "sms", cashier, cashier)
    if there == "sms":
        await _member(core, second, "sms", cashier, cashier)
        till = f"sms:{cashier}"
    else:
        await _member(core, second, "telegram", "777001", cashier)
        till = "telegram:777001"
    first = await _asked_by(core, town.shop_id, f"sms:{cashier}", card.card_code)
    again = await _asked_by(core, town.shop_id, f"sms:{cashier}", card.card_code)
    assert {first.card_position, again.card_position} == {4, 17}
    async with core.uow() as uow:
        assert await charges.cancel_charge(
            uow, charge_id=again.charge_id, shop_id=town.shop_id, now=core.now()
        )
        await uow.commit()
    before = await balance(core, town)
    # At the second shop, by the cashier or by anybody there: no heard cell is asked.
    for asking in (till, "test"):
        with pytest.raises(NotAllowed) as refused:
            await _asked_by(core, second, asking, card.card_code)
        assert refused.value.code == Refusal.CARD_CODES_USED_UP
    assert await balance(core, town) == before
    # A third shop, where nobody heard them, is asked for one and paid by its code.
    third = await another_shop(core, town, 2)
    there_ = await request(core, third, card.card_code, 1_00)
    assert there_.card_position in {4, 17}
    result = await confirm(core, third, there_.charge_id, slip_code(card, there_))
    assert result.outcome is OK and await balance(core, town) == before - 1_00
