"""bot.chatlocks: one chat's work in arrival order, other chats not waiting, a cancelled
waiter leaving nothing behind."""

from __future__ import annotations

import asyncio

import pytest

from bot.chatlocks import ChatLocks


async def test_one_chat_in_arrival_order_and_forgotten_after() -> None:
    locks, order = ChatLocks(), []

    async def work(chat: str, name: str) -> None:
        async with locks.hold(chat):
            order.append(f"{name} in")
            await asyncio.sleep(0)
            order.append(f"{name} out")

    await asyncio.gather(work("1", "a"), work("1", "b"), work("2", "c"))
    assert order.index("a out") < order.index("b in")
    assert order.index("c in") < order.index("a out")  # another chat does not wait
    assert len(locks) == 0


async def test_a_waiter_cancelled_leaves_the_lock_to_the_others() -> None:
    locks = ChatLocks()
    entered = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with locks.hold("1"):
            entered.set()
            await release.wait()

    async def waiting() -> None:
        async with locks.hold("1"):
            raise AssertionError("never entered")

    holder = asyncio.create_task(first())
    await entered.wait()
    waiter = asyncio.create_task(waiting())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await holder
    assert len(locks) == 0
    async with locks.hold("1"):
        assert len(locks) == 1


async def test_an_error_inside_releases_the_chat() -> None:
    locks = ChatLocks()
    with pytest.raises(ValueError):
        async with locks.hold("1"):
            raise ValueError
    assert len(locks) == 0
    async with locks.hold("1"):
        pass
