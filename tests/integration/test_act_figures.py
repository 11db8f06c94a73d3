"""core.services.act_figures on both databases: what a determina and a credit will do equals
what allocation.approve and allocation.credit then do, with a household that wrote STOP, an
application revoked between the determina and its credit, and a second tranche."""

from __future__ import annotations

from core.bootstrap import Core
from core.services import act_figures, allocation, audit, municipalities
from tests.conftest import FakeClock
from tests.integration.office_helpers import apply, close_window, open_round, person, wrote_stop

PAID = person(0)  # list 1, 150 €
EXCLUDED = person(1, pension=True)
LIST_2 = person(2, support_cents=100_00)  # list 2: nothing left in tranche 1
STOPPED = person(3)  # list 1, wrote STOP: paid, not messaged
REVOKED = person(4)  # list 1, revoked after the determina, before the credit


async def test_the_figures_equal_what_approval_and_credit_do(core: Core, clock: FakeClock) -> None:
    office = await open_round(core, clock)
    protocols = await apply(office, PAID, EXCLUDED, LIST_2, STOPPED, REVOKED)
    await wrote_stop(office, STOPPED, "it")
    await close_window(office)

    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        determina = await act_figures.determina(uow, town, 450_00)
        too_much = await act_figures.determina(uow, town, 10_000_00)
        record, lines = await allocation.approve(uow, town, 450_00, clock())
        await uow.commit()
    assert (determina.tranche, determina.list1, determina.list1_cents) == (1, 3, 450_00)
    assert (determina.list2, determina.list2_cents, determina.excluded) == (1, 0, 1)
    assert determina.unspent_cents == 0 and determina.left_cents == 0
    assert record.tranche == determina.tranche
    assert sum(item.line.amount_cents for item in lines) == determina.allocated_cents
    assert sum(1 for item in lines if item.line.amount_cents) == determina.households == 3
    assert determina.state == act_figures.determina_state(
        record.round_id, record.tranche, 450_00, lines
    )
    # 600 € is all the four admitted could be given: the rest would stay unspent.
    assert too_much.allocated_cents == 600_00 and too_much.unspent_cents == 9_400_00

    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await audit.revoke(uow, town, protocols[4], clock(), reason="false declaration")
        await uow.commit()
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        credit = await act_figures.credit(uow, town)
        result = await allocation.credit(uow, town, clock())
        await uow.commit()
    # REVOKED's 150 € of the determina is skipped, and said so.
    assert (credit.skipped_households, credit.skipped_cents) == (1, 150_00)
    # Paid: PAID and STOPPED; told: PAID (credit), EXCLUDED and LIST_2 (decision).
    assert (credit.tranche, credit.households, credit.total_cents, credit.notices) == (
        1,
        2,
        300_00,
        3,
    )
    assert (result.tranche, result.citizens, result.total_cents, result.notices) == (
        credit.tranche,
        credit.households,
        credit.total_cents,
        credit.notices,
    )

    # A second tranche pays LIST_2; nobody paid or told before is told again.
    clock.advance(days=1)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        second = await act_figures.determina(uow, town, 1_000_00)
        record, lines = await allocation.approve(uow, town, 1_000_00, clock())
        await uow.commit()
    assert (second.tranche, second.households, second.allocated_cents) == (2, 1, 150_00)
    assert second.unspent_cents == 850_00
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        credit = await act_figures.credit(uow, town)
        result = await allocation.credit(uow, town, clock())
        await uow.commit()
    assert (credit.tranche, credit.households, credit.total_cents, credit.notices) == (
        2,
        1,
        150_00,
        1,
    )
    assert (result.citizens, result.total_cents, result.notices) == (
        credit.households,
        credit.total_cents,
        credit.notices,
    )
