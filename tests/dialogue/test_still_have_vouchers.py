"""Words24: "ho ancora buoni?", "do I still have vouchers?" got the list of keywords: only
money words ("ho ancora soldi?") asked the balance. With "ho" or "have" the vouchers she
still has are her balance (for a number of no citizen: that it holds none). "Non ho
ancora i buoni" (they have not come) and "ci sono ancora buoni?" (can one still apply)
are not."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.flows.citizen import NO_VOUCHERS_CLOSED
from tests.dialogue.harness import Chat, msgids
from tests.factories import make_town

BALANCE = "Your balance: {balance}."
NO_VOUCHERS = NO_VOUCHERS_CLOSED.msgid  # make_town's applications are closed


@pytest.mark.parametrize(
    "said", ["ho ancora buoni?", "Ho ancora dei buoni", "do I still have vouchers?"]
)
async def test_the_vouchers_she_still_has_are_her_balance(core: Core, said: str) -> None:
    town = await make_town(core)
    await Chat(core, town.citizen_phones[0]).expect(said, BALANCE)
    await Chat(core, "+393472400101").expect(said, NO_VOUCHERS)


@pytest.mark.parametrize("said", ["non ho ancora i buoni", "ci sono ancora buoni?"])
async def test_vouchers_not_come_or_still_given_are_not_the_balance(core: Core, said: str) -> None:
    town = await make_town(core)
    replies = await Chat(core, town.citizen_phones[0]).send(said)
    assert BALANCE not in msgids(replies)
