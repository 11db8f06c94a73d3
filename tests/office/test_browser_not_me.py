"""In real headless Chromium, at 1366x768 and 390x844: the shops page's table of payments
refused as "not me" shows each refusal (when, how much, the till in full for a clerk), and a
long one (twelve refusals, a shop's name of 40 characters, a Telegram chat of 10 digits)
stays inside the page on a phone: each refusal a block, each value under its column's
name, nothing scrolled sideways. Its values are not bold: inside a card, the card's bold
figures made every row read as a heading. The pages are photographed in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from buonispesa.demo import DEMO_CITIZENS
from core.services import charges, municipalities
from tests.conftest import FakeClock
from tests.office.chromium import fits, rect
from tests.office.test_browser import (  # noqa: F401 (the fixtures)
    _demo_core,
    chrome,
    demo_server,
    pytestmark,
    run,
)

if TYPE_CHECKING:
    from tests.office.chromium import OfficeTab

LONG_NAME = "Antica Salumeria e Gastronomia Del Corso"  # 40 characters, the most a name has
TILLS = ("telegram:8123456789", "sms:+393331234567")
REFUSALS = 12


async def _refused(sqlite_url: str, clock: FakeClock) -> int:
    """REFUSALS payments at the demo's first shop, renamed at its longest, each refused as
    "not me" by a demo citizen, a minute apart, from two tills in turn: the shop's id."""
    async with _demo_core(sqlite_url, clock) as core:
        async with core.uow() as uow:
            town = await municipalities.require(uow, "BEL")
            shop = sorted(await uow.shops.search(town.id, approved_only=True), key=lambda s: s.id)[
                0
            ]
            shop.name = LONG_NAME
            await uow.commit()
        for index in range(REFUSALS):
            clock.advance(minutes=1)
            async with core.uow() as uow:
                asked = await charges.request_charge(
                    uow,
                    shop_id=shop.id,
                    citizen_reference=DEMO_CITIZENS[index % 2].codice_fiscale,
                    amount_cents=1_00 + index * 1_111,
                    requested_by=TILLS[index % 2],
                    now=core.now(),
                )
                charge = await uow.charges.by_id(asked.charge_id)
                assert charge is not None
                assert await charges.refuse_charge(
                    uow,
                    charge_id=charge.id,
                    citizen_id=charge.citizen_id,
                    now=core.now(),
                    not_me=True,
                    channel="telegram",  # confirmed at once: the page's first group
                )
                await uow.commit()
        return shop.id


async def test_the_not_me_table_on_a_desktop_and_a_phone(
    tab: OfficeTab, sqlite_url: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = tab.driver
    shop_id = await _refused(sqlite_url, tab.clock)
    tab.clock.advance(minutes=1)
    table = f"#not-me-{shop_id} ~ div.scroll table"

    def photographed() -> None:
        tab.sign_in()
        for width in tab.at_sizes("/office/shops"):
            heading = driver.find_element(By.ID, f"not-me-{shop_id}")
            assert heading.text == f"{LONG_NAME}: {REFUSALS} confermati", heading.text
            rows = driver.find_elements(By.CSS_SELECTOR, f"{table} tbody tr")
            assert len(rows) == REFUSALS
            # The latest first: the last refusal's amount, 123,21 €, then 112,10 €.
            assert "123,21" in rows[0].text and "112,10" in rows[1].text, rows[0].text
            assert "SMS +393331234567" in rows[0].text and "Telegram 8123456789" in rows[1].text
            inner = int(driver.execute_script("return window.innerWidth"))
            for selector in (f"#not-me-{shop_id}", table):
                box = rect(driver, selector)
                assert box["visible"] and box["left"] >= 0 and box["right"] <= inner, (
                    width,
                    selector,
                    box,
                )
            sideways = driver.execute_script(
                "const t = document.querySelector(arguments[0]);"
                "return t.parentElement.scrollWidth - t.parentElement.clientWidth",
                table,
            )
            assert int(sideways) <= 0, (width, sideways)
            if width < 600:
                # On a phone each value sits under its column's name, on one line.
                cells: list[Any] = driver.execute_script(
                    "return Array.from(document.querySelectorAll(arguments[0] + ' td'))"
                    ".slice(0, 3).map(c => [getComputedStyle(c).display, "
                    "Math.round(c.getBoundingClientRect().height)])",
                    table,
                )
                assert all(display == "block" or display == "grid" for display, _ in cells), cells
            # The values read as a table's values, not bold as the card's own figures.
            weights = driver.execute_script(
                "return Array.from(document.querySelectorAll(arguments[0] + ' td'))"
                ".map(c => getComputedStyle(c).fontWeight)",
                table,
            )
            assert set(weights) == {"400"}, (width, set(weights))
            fits(driver)
            driver.execute_script(
                "arguments[0].scrollIntoView({block: 'start'})",
                driver.find_element(By.ID, "not-me"),
            )
            assert driver.save_screenshot(str(tmp_path / f"not-me-{width}.png"))

    await run(photographed)
