"""The demo town asks about savings on a date that fits its open window (usertest item 13)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from buonispesa.demo import DEMO_CODE, seed_demo
from core.bootstrap import Core
from core.domain.messages import Day
from core.domain.policy import default_policy
from core.services.municipalities import policy_of
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, param
from tests.factories import make_cf

LIQUIDITY = (
    "How much did the household have in bank and post office accounts on {day} (minors' "
    "accounts excluded)? Write the amount in euro, e.g. 1500."
)


async def test_the_demo_asks_about_savings_at_the_end_of_last_month(
    core: Core, clock: FakeClock
) -> None:
    clock.current = datetime(2026, 12, 3, 12, 15, tzinfo=UTC)
    assert await seed_demo(core)
    chat = Chat(core, "+393339990005")
    for text in ("DOMANDA", "1", make_cf(520), "2", "2"):
        await chat.send(text)
    replies = await chat.expect("2", LIQUIDITY)  # no pension: the savings are asked next
    assert param(replies, "day") == Day(date(2026, 11, 30))
    async with core.uow() as uow:
        town = await uow.municipalities.by_code(DEMO_CODE)
        assert town is not None
        policy = policy_of(town)
    # Only the date differs from the default disciplinare, which keeps 31/03/2020.
    assert default_policy().liquidity_reference_date == date(2020, 3, 31)
    assert policy == replace(default_policy(), liquidity_reference_date=date(2026, 11, 30))
