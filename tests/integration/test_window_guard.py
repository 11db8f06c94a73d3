"""No new window while the closed one has applications no tranche decided (user trial:
"Apri un nuovo bando" right after "Chiudi ora il bando" left the first window's applicants
undecided and unpayable for good, approval and credit working on the latest window only);
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.errors import Conflict
from core.services import allocation, municipalities
from core.storage import models as m
from tests.integration.test_tranches import Household, approve, credit, open_round


async def opened(core: Core) -> int:
    """Opens a window of TRA now; its number."""
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TRA")
        round_ = await municipalities.open_window(uow, town, core.now())
        await uow.commit()
        return round_.number


async def refusal(core: Core) -> Conflict:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TRA")
        with pytest.raises(Conflict) as refused:
            await municipalities.open_window(uow, town, core.now())
        await uow.commit()
    async with core.uow() as uow:
        windows = await uow.session.scalar(select(func.count()).select_from(m.Round))
    assert windows == 1  # nothing was opened
    return refused.value


async def test_a_closed_window_never_allocated_keeps_the_next_one_shut(core: Core) -> None:
    await open_round(core, [Household(2), Household(1), Household(3)])
    refused = await refusal(core)
    assert refused.code == "window.never_allocated"
    assert refused.params == {"window": 1, "count": 3}
    await approve(core, "TRA", 300_00)  # not enough for all: some get nothing, all decided
    await credit(core, "TRA")
    assert await opened(core) == 2


async def test_a_withdrawn_tranche_decided_nobody(core: Core) -> None:
    await open_round(core, [Household(2), Household(1)])
    await approve(core, "TRA", 100_00)
    assert (await refusal(core)).code == "window.tranche_waiting"  # the older guard first
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TRA")
        await allocation.withdraw(uow, town, core.now(), "m.rossi")
        await uow.commit()
    refused = await refusal(core)
    assert (refused.code, refused.params) == ("window.never_allocated", {"window": 1, "count": 2})


async def test_withdrawn_and_revoked_applications_and_an_empty_window_do_not_count(
    core: Core,
) -> None:
    await open_round(core, [Household(2), Household(1)])
    async with core.uow() as uow:
        first, second = await uow.session.scalars(select(m.Application).order_by(m.Application.id))
        first.withdrawn_at, first.withdrawal_reason = core.now(), "Entered by mistake"
        second.revoked_at = core.now()
        await uow.commit()
    assert await opened(core) == 2  # nothing left to decide in window 1
    async with core.uow() as uow:
        town = await municipalities.require(uow, "TRA")
        await municipalities.close_window(uow, town, core.now())
        await uow.commit()
    assert await opened(core) == 3  # window 2 had no application at all
