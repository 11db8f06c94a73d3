"""An SMS till session ends at its second wrong payment code: a forger of the shop's
number, who never receives the till's code, cannot lock the shop out."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.state import ChatMemory, load
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import (
    TILL_CODE,
    Chat,
    add_member,
    confirmation_code,
    open_till,
    wrong_guesses,
)
from tests.dialogue.test_shop import ASK_CODE, CONFIRMED, citizen_code
from tests.factories import Town, make_town

WRONG = "Wrong code: {count} attempt left."
ENDED = (
    "Two wrong codes: the payment of {amount} was cancelled and the customer told. Confirm the "
    "till again with PAGA, then ask again."
)
TOO_MANY = "Too many wrong codes: the payment of {amount} was cancelled."


async def shop_locked(core: Core, town: Town) -> bool:
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, town.shop_id)
        assert shop is not None
        return shop.locked_until is not None or shop.blocked_at is not None


async def test_two_wrong_codes_by_sms_end_the_till_session(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 20", ASK_CODE)
    first, second = wrong_guesses(await citizen_code(core, town.citizen_phones[0]), 2)
    await till.expect(first, WRONG)
    await till.expect(second, ENDED)
    assert (await till.state())[:2] == (None, None)
    # The next PAGA needs the code sent to the shop's own phone again, then goes on.
    await till.expect(f"PAGA {town.citizen_cfs[0]} 20", TILL_CODE)
    await till.expect(await confirmation_code(till), ASK_CODE)
    await till.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)


async def test_one_wrong_code_then_the_right_one_pays(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 20", ASK_CODE)
    code = await citizen_code(core, town.citizen_phones[0])
    await till.expect(wrong_guesses(code, 1)[0], WRONG)
    await till.expect(code, CONFIRMED)
    # Still the same session: the next charge starts at once.
    await till.expect(f"PAGA {town.citizen_cfs[0]} 5", ASK_CODE)


async def test_telegram_tills_keep_the_per_charge_limit_only(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, "4440001", "cashier", channel="telegram")
    till = Chat(core, "4440001", channel=Channel.TELEGRAM)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 20", ASK_CODE)
    first, second, third = wrong_guesses(await citizen_code(core, town.citizen_phones[0]), 3)
    await till.expect(first, WRONG)
    await till.expect(second, WRONG)
    await till.expect(third, TOO_MANY)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 20", ASK_CODE)


async def test_a_forger_who_cannot_read_the_till_code_never_locks_the_shop(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    # The real shop opened its session; a forger then sends from the shop's number (same
    # conversation) and never sees any reply nor the till code sent to the shop's phone.
    chat = await open_till(Chat(core, town.shop_phone))
    for _ in range(3):
        await chat.send(f"PAGA {town.citizen_cfs[0]} 1")
        # Guesses at the customer's code, then at the till's: never either drawn code.
        for wrong in wrong_guesses(
            await citizen_code(core, town.citizen_phones[0]), 4, await confirmation_code(chat)
        ):
            await chat.send(wrong)
    assert not await shop_locked(core, town)
    # The shop confirms its till again (a new hour: the forger used up its codes) and pays.
    clock.advance(minutes=61)
    await open_till(chat)
    await chat.expect(f"PAGA {town.citizen_cfs[0]} 20", ASK_CODE)
    await chat.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)
    assert not await shop_locked(core, town)


def test_a_till_session_stored_before_the_count_still_loads() -> None:
    memory = load(ChatMemory, {"till": {"shop_id": 7, "until": "2026-12-03T20:00:00+00:00"}})
    assert memory is not None and memory.till is not None
    assert (memory.till.shop_id, memory.till.wrong_codes) == (7, 0)
