"""One FIFO lock per chat: work for a chat happens one item at a time, in arrival order."""

from __future__ import annotations

import asyncio
from types import TracebackType


class _Chat:
    """A chat with work in flight: its lock, made only once a second item waits (the
    first holds the chat without one), and how many items hold it or wait."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock: asyncio.Lock | None = None
        self.users = 1


class ChatLocks:
    """One FIFO lock per chat with rows in flight; forgotten when the last one is done."""

    def __init__(self) -> None:
        self._chats: dict[str, _Chat] = {}

    def hold(self, chat: str) -> _Held:
        """`async with locks.hold(chat):` the chat's lock, held for the block."""
        return _Held(self._chats, chat)

    def __len__(self) -> int:
        return len(self._chats)


class _Held:
    """A chat's lock for one `async with`: a class rather than contextlib's
    asynccontextmanager, whose generator and wrappers cost about 26,000 instructions a
    hold, and every Telegram update and message sent takes one. The first item of a
    chat takes it without an asyncio.Lock (made, acquired and released: about 6,000
    instructions of the 14,000 a hold cost), almost always the only one."""

    __slots__ = ("_chat", "_chats", "_state")

    def __init__(self, chats: dict[str, _Chat], chat: str) -> None:
        self._chats = chats
        self._chat = chat

    async def __aenter__(self) -> None:
        state = self._chats.get(self._chat)
        if state is None:
            self._state = self._chats[self._chat] = _Chat()
            return
        self._state = state
        state.users += 1
        lock = state.lock
        if lock is None:
            # The chat is held without a lock: one is made and taken on the holder's
            # behalf (free, it is taken at once), to be released when the holder leaves.
            lock = state.lock = asyncio.Lock()
            await lock.acquire()
        try:
            await lock.acquire()
        except BaseException:
            self._leave()  # cancelled while waiting: no longer a user of the lock
            raise

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._state.lock is not None:
            self._state.lock.release()
        self._leave()

    def _leave(self) -> None:
        state = self._state
        state.users -= 1
        if state.users == 0:
            del self._chats[self._chat]
