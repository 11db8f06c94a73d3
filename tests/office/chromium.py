"""One way for the test_browser* files to open the office's pages in headless Chromium as
a signed-in operator: the `tab` fixture (tests/office/conftest.py) hands a test the served
demo town, its clock and the browser together, signs the operator in and opens each page
at the sizes a test photographs, a desktop and a phone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.conftest import FakeClock
from tests.office.test_browser import _sign_in

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

# The sizes of the user trial (7 Dec 2026): a 1366x768 laptop and a 390x844 phone.
SIZES = ((1366, 768), (390, 844))


def rect(driver: Any, selector: str) -> dict[str, float]:
    """Where the first element `selector` picks stands in the window, and whether it shows."""
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "if (!e) return null; const r = e.getBoundingClientRect();"
        "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,"
        " visible: r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'}",
        selector,
    )
    assert found is not None, selector
    return dict(found)


def fits(driver: Any, width: int | None = None) -> None:
    """Nothing to scroll sideways: the page no wider than `width`, else the window."""
    scroll = int(driver.execute_script("return document.documentElement.scrollWidth"))
    most = width if width is not None else int(driver.execute_script("return window.innerWidth"))
    assert scroll <= most, (driver.current_url, most, scroll)


@dataclass
class OfficeTab:
    """The demo town served at `base`, its clock, and a Chromium window on it."""

    driver: WebDriver
    base: str
    clock: FakeClock

    def sign_in(
        self, username: str = "bel.clerk", *, focus: bool = False, scripts: bool = True
    ) -> None:
        """Sign `username` in with the demo's password and wait for the dashboard.
        `focus`: the window keeps the focus, as a clerk's does (headless Chromium otherwise
        drops it from a page reached by a form's redirect, and no :focus style applies);
        `scripts` False: the office as a browser without JavaScript sees it."""
        from selenium.webdriver.support.wait import WebDriverWait

        if focus:
            self.driver.execute_cdp_cmd("Emulation.setFocusEmulationEnabled", {"enabled": True})
        if not scripts:
            self.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        _sign_in(self.driver, self.base, username)
        WebDriverWait(self.driver, 30).until(lambda d: d.title.startswith("Cruscotto"))

    def open(self, path: str, width: int, height: int) -> None:
        """The office's page at `path` in a window of width x height."""
        self.driver.set_window_size(width, height)
        self.driver.get(self.base + path)

    def at_sizes(self, path: str, sizes: tuple[tuple[int, int], ...] = SIZES) -> Iterator[int]:
        """The page at `path` opened at each size in turn: its width, to check and name
        the photograph by."""
        for width, height in sizes:
            self.open(path, width, height)
            yield width
