"""Two municipalities, each with a clerk, two managers and a viewer (known passwords)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.bootstrap import Core
from core.services import municipalities, operators
from tests.office.harness import OfficeBrowser, OfficeServer, office_server

PASSWORD = "correct horse battery"
TOWN_IBAN = "IT60X0542811101000000123456"


async def add_towns(core: Core) -> None:
    async with core.uow() as uow:
        for code, name in (("BEL", "Belforte del Chienti"), ("CAL", "Calimera")):
            town = await municipalities.add_municipality(
                uow, code=code, name=name, now=core.now(), iban=TOWN_IBAN
            )
            prefix = code.lower()
            for username, role in (
                (f"{prefix}.clerk", "clerk"),
                (f"{prefix}.manager", "manager"),
                (f"{prefix}.manager2", "manager"),
                (f"{prefix}.viewer", "viewer"),
            ):
                await operators.add_operator(
                    uow, town, username, role, core.now(), password=PASSWORD
                )
        await uow.commit()


@pytest.fixture
async def office(core: Core, database_url: str) -> AsyncIterator[OfficeServer]:
    await add_towns(core)
    async with office_server(core, database_url) as server:
        yield server


async def signed_in(office: OfficeServer, username: str) -> OfficeBrowser:
    browser = await office.browser()
    page = await browser.sign_in(username, PASSWORD)
    assert page.status == 200 and page.url == "/office/", (page.status, page.url)
    return browser
