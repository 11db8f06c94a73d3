"""Two municipalities (BEL, CAL), each with its window open, one approved shop, and the
office's operators: a clerk, two managers and a viewer, with known passwords."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from core.bootstrap import Core
from core.services import municipalities, operators, security
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import (
    Office,
    apply,
    close_approve_credit,
    open_round,
    pay,
    person,
)
from tests.office.harness import LASTING_SESSIONS, OfficeBrowser, OfficeServer, office_server

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

    from tests.office.chromium import OfficeTab

PASSWORD = "correct horse battery"


@dataclass
class Towns:
    server: OfficeServer
    bel: Office
    cal: Office

    async def browser(self) -> OfficeBrowser:
        return await self.server.browser()


async def add_operators(core: Core, code: str) -> None:
    async with core.uow() as uow:
        town = await municipalities.require(uow, code)
        prefix = code.lower()
        for username, role in (
            (f"{prefix}.clerk", "clerk"),
            (f"{prefix}.manager", "manager"),
            (f"{prefix}.manager2", "manager"),
            (f"{prefix}.viewer", "viewer"),
        ):
            await operators.add_operator(uow, town, username, role, core.now(), password=PASSWORD)
        await uow.commit()


@pytest.fixture
async def towns(core: Core, clock: FakeClock, database_url: str) -> AsyncIterator[Towns]:
    bel = await open_round(core, clock, code="BEL")
    cal = await open_round(core, clock, code="CAL", name="Comune di Calimera")
    for code in ("BEL", "CAL"):
        await add_operators(core, code)
    async with office_server(core, database_url, office_config=LASTING_SESSIONS) as server:
        yield Towns(server, bel, cal)


@pytest.fixture
async def office(towns: Towns) -> OfficeServer:
    return towns.server


async def signed_in(office: OfficeServer, username: str) -> OfficeBrowser:
    browser = await office.browser()
    page = await browser.sign_in(username, PASSWORD)
    assert page.status == 200 and page.url == "/office/", (page.status, page.url)
    return browser


BUYER = person(1, 2)


async def shop_owed(towns: Towns, cents: int = 42_50) -> int:
    """BUYER, credited, pays `cents` at BEL's first shop: that shop, owed it."""
    await apply(towns.bel, BUYER)
    await close_approve_credit(towns.bel, 1_000_00)
    shop_id = towns.bel.shop_ids[0]
    await pay(towns.bel, shop_id, BUYER, cents)
    return shop_id


async def lock_shop(core: Core, shop_id: int) -> None:
    """The shop blocked after ten wrong payment codes, as the till's lock leaves it: what
    the office's list of locked shops shows and its unlock lifts."""
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, shop_id)
        assert shop is not None
        shop.blocked_at = core.now()
        for _ in range(10):
            await security.record(
                uow,
                security.WRONG_PAYMENT_CODE,
                core.now(),
                municipality_id=shop.municipality_id,
                shop_id=shop_id,
            )
        await uow.commit()


@pytest.fixture
def driver(chrome: object) -> WebDriver:
    """The browser of the test_browser* files as selenium's WebDriver: their chrome fixture
    (test_browser.py, imported by the others) yields it untyped, since selenium is imported
    only inside the tests, which are skipped where it cannot run."""
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(chrome, WebDriver)
    return chrome


@pytest.fixture
def tab(driver: WebDriver, demo_server: tuple[str, FakeClock]) -> OfficeTab:
    """The served demo town in that browser, to sign in and open pages with (the
    demo_server fixture is test_browser.py's, imported by the files that ask for this)."""
    from tests.office.chromium import OfficeTab

    base, clock = demo_server
    return OfficeTab(driver, base, clock)
