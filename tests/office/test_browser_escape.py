"""Escape on a confirmation page does what its "No" does, in real headless Chromium with a
real key press: the clerk asks to close the window and to remove a cashier, thinks again and
presses Escape, at 1366 and 390 px wide; nothing is done, and the page she left is back.
Without JavaScript the same pages still work: Escape does nothing there, Tab reaches "No",
and "Sì" does the act. The pages are photographed in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.services import municipalities
from tests.conftest import FakeClock
from tests.office.chromium import SIZES, fits
from tests.office.test_browser import (  # noqa: F401 (the fixtures)
    _demo_core,
    chrome,
    demo_server,
    pytestmark,
    run,
)
from tests.office.test_browser_keyboard import (
    _morning_scene,
    focused,
    press,
    ring_shows,
    settled,
    tab_to,
    until_page,
)

if TYPE_CHECKING:
    from tests.office.chromium import OfficeTab


def _question(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    assert settled(driver, lambda s: s["tag"] == "H1")["tag"] == "H1"
    return str(driver.find_element(By.TAG_NAME, "h1").text)


async def _window_open(sqlite_url: str, clock: FakeClock) -> bool:
    async with _demo_core(sqlite_url, clock) as core, core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        window = await uow.rounds.latest(town.id)
        assert window is not None
        return window.opens_at <= clock() < window.closes_at


async def test_escape_on_a_confirmation_goes_back_as_no_does(
    tab: OfficeTab, sqlite_url: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, base, clock = tab.driver, tab.base, tab.clock
    await _morning_scene(sqlite_url, clock)

    def think_again_about_closing(width: int, height: int) -> None:
        tab.open("/office/round", width, height)
        tab_to(driver, lambda s: s["text"] == "Chiudi ora il bando")
        until_page(driver, Keys.ENTER)
        assert _question(driver).startswith("Chiudere ora il bando"), driver.title
        fits(driver, width)
        # The way back says, to a screen reader, that Escape takes it.
        no = driver.find_element(By.LINK_TEXT, "No, lascialo aperto")
        assert no.get_attribute("aria-keyshortcuts") == "Escape"
        assert driver.save_screenshot(str(tmp_path / f"close-confirm-{width}.png"))
        # Escape with the focus on "Sì" too: it goes back, it never presses the button.
        press(driver, Keys.TAB)
        assert focused(driver)["text"].startswith("Sì, chiudi ora il bando")
        until_page(driver, Keys.ESCAPE)
        assert driver.current_url == base + "/office/round", driver.current_url
        assert "Chiudi ora il bando" in driver.find_element(By.TAG_NAME, "main").text
        fits(driver, width)

    def think_again_about_the_cashier(width: int, height: int) -> None:
        tab.open("/office/shops", width, height)
        remove = tab_to(driver, lambda s: "SMS ***051" in s["text"])
        until_page(driver, Keys.ENTER)
        assert "SMS ***051" in _question(driver)
        fits(driver, width)
        assert driver.save_screenshot(str(tmp_path / f"remove-confirm-{width}.png"))
        until_page(driver, Keys.ESCAPE)
        # Back at the shop's card, as "No, torna indietro" leads: the cashier is still there
        # and the next Tab is its remove button again.
        assert "/office/shops#members-" in driver.current_url, driver.current_url
        again = tab_to(driver, lambda s: s["tag"] in ("BUTTON", "A"), most=1)
        assert again["text"] == remove["text"], again
        fits(driver, width)

    await run(lambda: tab.sign_in(focus=True))
    for width, height in SIZES:
        await run(think_again_about_closing, width, height)
        await run(think_again_about_the_cashier, width, height)
    assert await _window_open(sqlite_url, clock)


async def test_without_javascript_a_confirmation_still_goes_back_and_acts(
    tab: OfficeTab, sqlite_url: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, base, clock = tab.driver, tab.base, tab.clock

    def escape_stays_tab_to_no_goes_back(width: int, height: int) -> None:
        tab.open("/office/round", width, height)
        tab_to(driver, lambda s: s["text"] == "Chiudi ora il bando")
        until_page(driver, Keys.ENTER)
        question = _question(driver)
        confirming = driver.current_url
        # No script ran: Escape leaves the page as it is (nothing done, nothing lost).
        press(driver, Keys.ESCAPE)
        assert driver.current_url == confirming
        assert driver.find_element(By.TAG_NAME, "h1").text == question
        no = driver.find_element(By.LINK_TEXT, "No, lascialo aperto")
        assert no.get_attribute("aria-keyshortcuts") is None
        press(driver, Keys.TAB, Keys.TAB)
        stop = focused(driver)
        ring_shows(stop)
        assert stop["text"] == "No, lascialo aperto", stop
        until_page(driver, Keys.ENTER)
        assert driver.current_url == base + "/office/round"
        fits(driver, width)

    def close_it() -> None:
        driver.get(base + "/office/round")
        tab_to(driver, lambda s: s["text"] == "Chiudi ora il bando")
        until_page(driver, Keys.ENTER)
        _question(driver)
        press(driver, Keys.TAB)
        until_page(driver, Keys.ENTER)
        said = driver.find_element(By.CSS_SELECTOR, ".notice").text
        assert "chiuso" in said, said
        assert driver.save_screenshot(str(tmp_path / "closed-without-scripts.png"))

    await run(lambda: tab.sign_in(focus=True, scripts=False))
    for width, height in SIZES:
        await run(escape_stays_tab_to_no_goes_back, width, height)
    assert await _window_open(sqlite_url, clock)
    await run(close_it)
    assert not await _window_open(sqlite_url, clock)
