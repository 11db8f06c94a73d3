"""Opening a window opens the one the operator was shown (the office's page, the question of
`admin window open`), or nothing: one opened or closed meanwhile makes the next window
another, and the service refuses it. Two openings at the same moment open one window, the
other is refused in words (not a clash of window numbers). On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from core.bootstrap import Core
from core.domain.errors import Conflict, Refusal
from core.services import activity, back_office, municipalities, operators
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import make_town


async def numbers(core: Core) -> list[int]:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TST")
        return [r.number for r in await uow.rounds.of_municipality(town.id)]


async def clerk(core: Core, name: str) -> m.Operator:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TST")
        made, _ = await operators.add_operator(
            uow, town, name, "clerk", core.now(), password="x" * 12
        )
        await uow.commit()
        return made


async def open_now(core: Core, expected: int | None) -> m.Round:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TST")
        opened = await municipalities.open_window(uow, town, core.now(), expected_number=expected)
        await uow.commit()
        return opened


async def test_a_window_opened_and_closed_meanwhile_is_not_replaced_by_the_next(
    core: Core, clock: FakeClock
) -> None:
    await make_town(core, citizens=2)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TST")
        shown = await municipalities.check_open_window(uow, town, core.now())
    assert shown.number == 2
    # Meanwhile, from the office's page: window 2 opened and closed at once.
    await open_now(core, 2)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TST")
        await municipalities.close_window(uow, town, core.now())
        await uow.commit()
    clock.advance(minutes=1)

    with pytest.raises(Conflict) as refused:
        await open_now(core, shown.number)

    assert refused.value.code == Refusal.WINDOW_CHANGED
    assert refused.value.params == {"action": "open", "expected": 2, "number": 3}
    assert await numbers(core) == [1, 2]
    # The office's verb checks the same number; shown window 3, it opens window 3.
    operator = await clerk(core, "tst.clerk")
    async with core.uow() as uow:
        with pytest.raises(Conflict) as refused:
            await back_office.open_window(
                uow, operator, core.now(), confirmed=True, expected_number=2
            )
    assert refused.value.code == Refusal.WINDOW_CHANGED
    async with core.uow() as uow:
        opened = await back_office.open_window(
            uow, operator, core.now(), confirmed=True, expected_number=3
        )
    assert opened.round.number == 3 and not opened.already
    assert await numbers(core) == [1, 2, 3]


async def test_two_openings_at_once_open_one_window(core: Core, rival: Core) -> None:
    await make_town(core, citizens=2)
    anna, bruno = await clerk(core, "tst.anna"), await clerk(core, "tst.bruno")

    async def open_as(via: Core, operator: m.Operator) -> back_office.WindowDone:
        async with via.uow() as uow:
            return await back_office.open_window(
                uow, operator, via.now(), confirmed=True, expected_number=2
            )

    outcomes = await asyncio.gather(open_as(core, anna), open_as(rival, bruno))

    # The second waits for the first's commit, then finds window 2 open: done already.
    assert sorted(x.already for x in outcomes) == [False, True], outcomes
    assert {x.round.number for x in outcomes} == {2}
    assert await numbers(core) == [1, 2]


async def test_a_window_closed_and_another_opened_meanwhile_is_not_closed_in_its_place(
    core: Core, clock: FakeClock
) -> None:
    await make_town(core, citizens=2)
    await open_now(core, 2)
    clock.advance(minutes=1)
    operator = await clerk(core, "tst.clerk")
    # The page named window 2; it was closed, and window 3 opened, before the confirmation.
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TST")
        await municipalities.close_window(uow, town, core.now(), expected_number=2)
        await uow.commit()
    await open_now(core, 3)
    clock.advance(minutes=1)

    async with core.uow() as uow:
        with pytest.raises(Conflict) as refused:
            await back_office.close_window(
                uow, operator, core.now(), confirmed=True, expected_number=2
            )

    assert refused.value.code == Refusal.WINDOW_CHANGED
    assert refused.value.params == {"action": "close", "expected": 2, "number": 3}
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TST")
        latest = await municipalities.current_round(uow, town.id)
        assert municipalities.is_open(latest, core.now())


async def test_two_closings_at_once_close_once(core: Core, rival: Core, clock: FakeClock) -> None:
    await make_town(core, citizens=2)
    await open_now(core, 2)
    clock.advance(minutes=1)
    anna, bruno = await clerk(core, "tst.anna"), await clerk(core, "tst.bruno")

    async def close_as(via: Core, operator: m.Operator) -> back_office.WindowDone:
        async with via.uow() as uow:
            return await back_office.close_window(
                uow, operator, via.now(), confirmed=True, expected_number=2
            )

    outcomes = await asyncio.gather(close_as(core, anna), close_as(rival, bruno))

    assert sorted(x.already for x in outcomes) == [False, True], outcomes
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TST")
        log = await activity.entries(uow, town.id)
    assert [e.subject for e in log if e.action == "window.close"] == ["TST 2"]
