"""`serve` freezes what its start built, so the collector's full passes stay short."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from buonispesa.cli.serve import _app
from buonispesa.server import CORE
from buonispesa.settings import Settings


def _tracked(thing: object) -> bool:
    """Whether the collector's generations hold `thing` (frozen objects are outside them)."""
    return any(candidate is thing for candidate in gc.get_objects())


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = Settings(
        _env_file=None, BUONISPESA_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'town.db'}"
    )
    server = TestServer(await _app(settings, "127.0.0.1", 8080, None, False, []))
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()
        gc.unfreeze()  # the rest of this test process collects as usual


async def test_the_objects_its_start_built_are_out_of_the_collectors_sight(
    served: TestServer,
) -> None:
    core = served.app[CORE]
    assert not _tracked(core)
    assert not _tracked(served.app)
    assert gc.get_freeze_count() > 10_000


async def test_what_is_made_after_the_start_is_still_collected(served: TestServer) -> None:
    class Node:
        partner: object = None

    first, second = Node(), Node()
    first.partner, second.partner = second, first  # a cycle: only the collector frees it
    gone = weakref.ref(first)
    del first, second
    gc.collect()
    assert gone() is None
