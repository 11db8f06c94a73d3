"""A busy morning at the office by keyboard only, in real headless Chromium: Tab, Shift+Tab,
Enter and Space, no mouse. The clerk signs in (a wrong password first), skips to the
content, finds a request by codice fiscale, asks a new phone for it (a wrong number first),
closes the window through its confirmation, looks at a shop and removes its cashier
(going back once), prepares the reimbursement (a wrong date first) and signs out.

Every page on the way is swept with Tab from its top to its end, at 1366 and 390 px: each
control is reached once, in the order it is read, shows a focus ring that stands out from
its background, and the sweep leaves the page (no trap); Shift+Tab comes back. A refused
form keeps what was typed and puts the focus on what was refused; a confirmation puts it
on its question, the next Tab on its button. The pages are photographed in tmp_path."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from buonispesa.demo import DEMO_CITIZENS, DEMO_OPERATOR_PASSWORD
from core.services import municipalities
from core.services.applications import ApplicationInput
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import Office, pay
from tests.office.chromium import SIZES
from tests.office.test_browser import (  # noqa: F401 (the fixtures)
    _demo_core,
    chrome,
    demo_server,
    pytestmark,
    run,
)

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CASHIER = "+393339990051"

# Where the focus is, and how it shows: the element's own words, its place in the document
# (for the reading order), the ring's colours and the colour behind the element.
FOCUSED = """
const e = document.activeElement;
const s = getComputedStyle(e);
const r = e.getBoundingClientRect();
let behind = 'rgba(0, 0, 0, 0)';
for (let p = e.parentElement; p; p = p.parentElement) {
  const c = getComputedStyle(p).backgroundColor;
  if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { behind = c; break; }
}
const all = Array.from(document.querySelectorAll('*'));
return {
  tag: e.tagName, id: e.id, name: e.getAttribute('name') || '',
  text: (e.innerText || '').trim().slice(0, 80), value: e.value === undefined ? null : e.value,
  href: e.getAttribute('href') || '', index: all.indexOf(e),
  focus: e.matches(':focus'),
  outline: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth), outlineColor: s.outlineColor,
  shadow: s.boxShadow, behind: behind,
  inView: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < window.innerHeight
    && r.right > 0 && r.left < window.innerWidth,
  inMain: !!document.querySelector('main') && document.querySelector('main').contains(e),
};
"""

# The controls a Tab can reach: enabled, not hidden, not taken out by tabindex="-1".
TABBABLE = """
const q = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
return Array.from(document.querySelectorAll(q)).filter(e => {
  if (e.disabled || e.getAttribute('tabindex') === '-1') return false;
  if (e.closest('details:not([open])') && e.tagName !== 'SUMMARY') return false;
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
}).length;
"""


def _rgb(css: str) -> tuple[float, float, float]:
    inside = css[css.index("(") + 1 : css.index(")")]
    red, green, blue = (float(x) for x in inside.split(",")[:3])
    return red, green, blue


def contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio of two CSS colours."""

    def luminance(css: str) -> float:
        def channel(value: float) -> float:
            value /= 255
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        red, green, blue = (channel(x) for x in _rgb(css))
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def press(driver: Any, *keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*keys).perform()


def shift_tab(driver: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()


def select_all(driver: Any) -> None:
    """Ctrl+A in a field: what is typed next replaces what it holds."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()


def focused(driver: Any) -> dict[str, Any]:
    return dict(driver.execute_script(FOCUSED))


def settled(driver: Any, wanted: Any) -> dict[str, Any]:
    """The focus once the page has placed it: a browser runs `autofocus` when it next
    draws the page, after the load."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.wait import WebDriverWait

    # Not placed in time: the caller's assertion says where the focus is instead.
    with suppress(TimeoutException):
        WebDriverWait(driver, 5).until(lambda d: wanted(now := focused(d)) and now["focus"])
    return focused(driver)


def ring_shows(stop: dict[str, Any]) -> None:
    """A focus ring at least 2 px wide standing out 3:1 from what is behind the control
    (WCAG 1.4.11), on every control a Tab reaches."""
    assert stop["outline"] != "none" and stop["outlineWidth"] >= 2, stop
    behind = stop["behind"] if stop["behind"] != "rgba(0, 0, 0, 0)" else "rgb(255, 255, 255)"
    assert contrast(stop["outlineColor"], behind) >= 3, stop
    assert stop["inView"], stop


def until_page(driver: Any, *keys: str) -> None:
    """Press `keys` and wait for the next page to replace this one (see _submit)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.wait import WebDriverWait

    driver.execute_script("window.buonispesaOldPage = true")
    press(driver, *keys)
    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return window.buonispesaOldPage === undefined && document.readyState === 'complete'"
        )
    )


def tab_to(driver: Any, wanted: Any, most: int = 80) -> dict[str, Any]:
    """Tab until the focus is on the control `wanted` picks; each stop on the way shows
    its ring."""
    from selenium.webdriver.common.keys import Keys

    for _ in range(most):
        press(driver, Keys.TAB)
        stop = focused(driver)
        ring_shows(stop)
        if wanted(stop):
            return stop
    raise AssertionError(f"not reached by Tab: {driver.current_url}")


def sweep(driver: Any, name: str, tmp_path: Path) -> list[dict[str, Any]]:
    """Tab through the page as it was loaded, from its top to its end, at each size."""
    from selenium.webdriver.common.keys import Keys

    url = str(driver.current_url).split("#")[0]
    stops: list[dict[str, Any]] = []
    for width, height in SIZES:
        driver.set_window_size(width, height)
        driver.get(url)
        assert driver.save_screenshot(str(tmp_path / f"{name}-{width}.png"))
        expected = int(driver.execute_script(TABBABLE))
        # Loaded afresh, nothing has the focus: the first Tab starts at the top.
        assert focused(driver)["tag"] == "BODY", (name, width)
        stops = []
        for _ in range(expected):
            press(driver, Keys.TAB)
            stop = focused(driver)
            ring_shows(stop)
            stops.append(stop)
        # Each control once, in the order it is read (no tabindex reorders them).
        indexes = [stop["index"] for stop in stops]
        assert indexes == sorted(set(indexes)), (name, width, stops)
        # Shift+Tab walks back the same way, and nothing holds the focus on the way.
        back = []
        for _ in range(expected - 1):
            shift_tab(driver)
            back.append(focused(driver)["index"])
        assert back == indexes[-2::-1], (name, width, back)
        for _ in range(expected - 1):
            press(driver, Keys.TAB)
        assert focused(driver)["index"] == indexes[-1], (name, width)
        # Past the last control the focus leaves the page, or comes round to its first
        # control: no trap.
        press(driver, Keys.TAB)
        after = focused(driver)
        assert after["tag"] == "BODY" or after["index"] == indexes[0], (name, width, after)
    driver.set_window_size(*SIZES[0])
    driver.get(url)
    return stops


async def _morning_scene(sqlite_url: str, clock: FakeClock) -> str:
    """The demo town with a cashier at its first shop, owed a payment: the cashier to
    remove, the reimbursement to prepare. Returns the shop's name."""
    async with _demo_core(sqlite_url, clock) as core:
        async with core.uow() as uow:
            town = await municipalities.require(uow, "BEL")
            shops = sorted(await uow.shops.search(town.id, approved_only=True), key=lambda s: s.id)
            uow.add(
                m.ShopMember(
                    shop_id=shops[0].id,
                    channel="sms",
                    address=CASHIER,
                    role="cashier",
                    created_at=clock(),
                )
            )
            await uow.commit()
            office = Office(core, clock, "BEL", town.id, [shop.id for shop in shops])
        buyer = DEMO_CITIZENS[0]
        await pay(
            office,
            office.shop_ids[0],
            ApplicationInput(buyer.codice_fiscale, buyer.phone, 4, False, False, 0, 0, 0),
            12_34,
        )
        return shops[0].name


async def test_a_busy_morning_by_keyboard_only(
    demo_server: tuple[str, FakeClock],  # noqa: F811 (the fixture imported above)
    driver: WebDriver,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, clock = demo_server
    shop = await _morning_scene(sqlite_url, clock)
    person = DEMO_CITIZENS[1]

    def main_text() -> str:
        return str(driver.find_element(By.TAG_NAME, "main").text)

    def sign_in() -> None:
        # The window has the focus, as the clerk's has: headless Chromium otherwise drops
        # it from a page reached by a form's redirect, and no :focus style would apply.
        driver.execute_cdp_cmd("Emulation.setFocusEmulationEnabled", {"enabled": True})
        driver.get(base + "/office/")
        # The username field has the focus; a wrong password first.
        assert settled(driver, lambda s: s["id"] == "username")["id"] == "username"
        press(driver, "bel.clerk", Keys.TAB)
        assert focused(driver)["id"] == "password"
        until_page(driver, "not the password", Keys.ENTER)
        # The refusal has the focus, what was typed is kept, the next Tab is the username.
        stop = settled(driver, lambda s: s["id"] == "sign-in-error")
        assert stop["id"] == "sign-in-error", stop
        ring_shows(stop)
        assert driver.find_element(By.ID, "username").get_attribute("value") == "bel.clerk"
        assert driver.save_screenshot(str(tmp_path / "sign-in-refused.png"))
        press(driver, Keys.TAB)
        assert focused(driver)["id"] == "username"
        press(driver, Keys.TAB)
        assert focused(driver)["id"] == "password"
        until_page(driver, DEMO_OPERATOR_PASSWORD, Keys.ENTER)
        assert driver.title.startswith("Cruscotto")

    def skip_to_content() -> None:
        # The first Tab: the skip link, in sight; Enter puts the focus on the content, and
        # the next Tab is the content's first control, not the header's.
        press(driver, Keys.TAB)
        stop = focused(driver)
        ring_shows(stop)
        assert stop["href"] == "#main" and stop["text"] == "Vai al contenuto", stop
        press(driver, Keys.ENTER)
        assert focused(driver)["id"] == "main"
        press(driver, Keys.TAB)
        assert focused(driver)["inMain"]

    def find_by_codice_fiscale() -> str:
        driver.get(base + "/office/")
        tab_to(driver, lambda s: s["href"] == "/office/applications")
        until_page(driver, Keys.ENTER)
        tab_to(driver, lambda s: s["id"] == "q")
        until_page(driver, person.codice_fiscale, Keys.ENTER)
        link = tab_to(driver, lambda s: s["href"].startswith("/office/applications/BEL-"))
        until_page(driver, Keys.ENTER)
        assert person.codice_fiscale in main_text()
        return str(link["text"])

    def ask_a_new_phone() -> None:
        tab_to(driver, lambda s: s["id"] == "phone")
        until_page(driver, "333 12", Keys.ENTER)
        # Refused beside the field: the focus is on it, what was typed still in it.
        stop = settled(driver, lambda s: s["id"] == "phone")
        assert stop["id"] == "phone" and stop["value"] == "333 12", stop
        ring_shows(stop)
        assert driver.find_element(By.ID, "phone-problem").text
        assert driver.save_screenshot(str(tmp_path / "phone-refused.png"))
        select_all(driver)
        until_page(driver, "333 100 9999", Keys.ENTER)
        said = driver.find_element(By.CSS_SELECTOR, ".notice").text
        assert "il nuovo telefono attende l'approvazione" in said, said

    def close_the_window() -> None:
        driver.get(base + "/office/round")
        tab_to(driver, lambda s: s["text"] == "Chiudi ora il bando")
        until_page(driver, Keys.ENTER)
        # The confirmation: the focus on its question, then Yes, then the way back.
        assert settled(driver, lambda s: s["tag"] == "H1")["tag"] == "H1"
        assert driver.save_screenshot(str(tmp_path / "close-confirm.png"))
        press(driver, Keys.TAB)
        yes = focused(driver)
        ring_shows(yes)
        assert yes["text"].startswith("Sì, chiudi ora il bando"), yes
        assert driver.save_screenshot(str(tmp_path / "close-confirm-yes.png"))
        press(driver, Keys.TAB)
        no = focused(driver)
        ring_shows(no)
        assert no["text"] == "No, lascialo aperto", no
        until_page(driver, Keys.ENTER)
        assert driver.current_url.endswith("/office/round")
        tab_to(driver, lambda s: s["text"] == "Chiudi ora il bando")
        until_page(driver, Keys.SPACE)
        press(driver, Keys.TAB)
        until_page(driver, Keys.SPACE)
        assert "chiuso" in driver.find_element(By.CSS_SELECTOR, ".notice").text

    def remove_the_cashier() -> None:
        driver.get(base + "/office/shops")
        remove = tab_to(driver, lambda s: "SMS ***051" in s["text"])
        assert remove["tag"] == "BUTTON"
        until_page(driver, Keys.ENTER)
        assert settled(driver, lambda s: s["tag"] == "H1")["tag"] == "H1"
        press(driver, Keys.TAB, Keys.TAB)
        assert focused(driver)["text"] == "No, torna indietro"
        until_page(driver, Keys.ENTER)
        # Back at the shop's card: the next Tab is its remove button again.
        assert "/office/shops#members-" in driver.current_url, driver.current_url
        again = tab_to(driver, lambda s: s["tag"] in ("BUTTON", "A"), most=1)
        assert again["text"] == remove["text"], again
        until_page(driver, Keys.SPACE)
        press(driver, Keys.TAB)
        until_page(driver, Keys.ENTER)
        said = driver.find_element(By.CSS_SELECTOR, ".notice").text
        assert said.startswith(f"SMS ***051 non lavora più per {shop}"), said

    def prepare_the_reimbursement() -> None:
        driver.get(base + "/office/reimbursement")
        field = tab_to(driver, lambda s: s["id"] == "execution-date")
        day = str(field["value"])
        select_all(driver)
        until_page(driver, "31/02/2030", Keys.ENTER)
        stop = settled(driver, lambda s: s["id"] == "execution-date")
        assert stop["id"] == "execution-date" and stop["value"] == "31/02/2030", stop
        ring_shows(stop)
        assert driver.save_screenshot(str(tmp_path / "reimbursement-refused.png"))
        select_all(driver)
        until_page(driver, day, Keys.ENTER)
        said = driver.find_element(By.CSS_SELECTOR, ".notice").text
        assert said.startswith("Preparato: atto "), said

    def sign_out() -> None:
        tab_to(driver, lambda s: s["text"] == "Esci")
        until_page(driver, Keys.ENTER)
        assert driver.find_elements(By.ID, "username")
        assert driver.find_element(By.CSS_SELECTOR, ".notice").text

    await run(sign_in)
    await run(skip_to_content)
    await run(sweep, driver, "dashboard", tmp_path)
    protocol = await run(find_by_codice_fiscale)
    assert protocol.startswith("BEL-")
    await run(ask_a_new_phone)
    await run(sweep, driver, "application", tmp_path)
    await run(close_the_window)
    await run(sweep, driver, "round", tmp_path)
    await run(remove_the_cashier)
    await run(sweep, driver, "shops", tmp_path)
    await run(prepare_the_reimbursement)
    await run(sweep, driver, "reimbursement", tmp_path)
    await run(sign_out)
