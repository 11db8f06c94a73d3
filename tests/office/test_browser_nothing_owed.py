"""In real headless Chromium, at 1366x768 and 390x844: the reimbursement page of a town
whose shops are owed nothing says so plainly, and offers no download of an empty table nor
a form to prepare an empty reimbursement (user trial, 7 Dec 2026: the two downloads were
offered, each an empty file). The page is photographed in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tests.office.chromium import fits, rect
from tests.office.test_browser import (  # noqa: F401 (the fixtures)
    chrome,
    demo_server,
    pytestmark,
    run,
)

if TYPE_CHECKING:
    from tests.office.chromium import OfficeTab


async def test_nothing_owed_is_said_and_no_empty_file_offered(
    tab: OfficeTab, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = tab.driver  # the demo's shops have taken no voucher yet

    def photographed() -> None:
        tab.sign_in()
        for width in tab.at_sizes("/office/reimbursement"):
            said = driver.find_element(By.ID, "nothing-owed")
            assert said.text == (
                "Nessun negozio deve ricevere somme: non c'è nulla da rimborsare."
            ), said.text
            box = rect(driver, "#nothing-owed")
            inner = int(driver.execute_script("return window.innerWidth"))
            assert box["visible"] and box["left"] >= 0 and box["right"] <= inner, (width, box)
            assert driver.find_elements(By.CSS_SELECTOR, "p.downloads") == []
            assert driver.find_elements(By.CSS_SELECTOR, "a[href*='owed.']") == []
            assert driver.find_elements(By.ID, "execution-date") == []
            fits(driver)
            assert driver.save_screenshot(str(tmp_path / f"nothing-owed-{width}.png"))

    await run(photographed)
