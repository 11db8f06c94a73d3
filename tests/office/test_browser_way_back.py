"""The way back from a confirmation keeps what was typed, in real headless Chromium: a clerk
writes the reason of an appeal's decision (it goes to the citizen), or of a paper
application's withdrawal, reads it on the page that asks to confirm, sees a mistake and
presses "No, go back", at 1366 and 390 px wide. The page she came from shows that form as she
left it, the decision chosen, the reason in its field with the focus on it, to correct and
send; nothing was done."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from buonispesa.demo import DEMO_CITIZENS
from core.services import appeals, municipalities
from core.services.applications import ApplicationInput, submit_application
from tests.conftest import FakeClock
from tests.factories import make_cf, outbox_to
from tests.office.chromium import SIZES, fits
from tests.office.test_browser import (  # noqa: F401 (the fixtures)
    _demo_core,
    _submit,
    chrome,
    demo_server,
    pytestmark,
    run,
)

if TYPE_CHECKING:
    from tests.office.chromium import OfficeTab

REASON = "Il nucleo risulta di una persona all'anagrafe dal 2019"


async def _appeal(sqlite_url: str, clock: FakeClock) -> tuple[int, int]:
    """The demo's first citizen appeals by SMS: the appeal's number, and how many
    messages her phone was sent so far."""
    person = DEMO_CITIZENS[0]
    async with _demo_core(sqlite_url, clock) as core:
        async with core.uow() as uow:
            town = await municipalities.require(uow, "BEL")
            citizen = await uow.citizens.by_codice_fiscale(town.id, person.codice_fiscale)
            assert citizen is not None
            appeal = await appeals.file_appeal(
                uow, town, citizen, "Siamo in cinque, non in quattro", "sms", clock()
            )
            await uow.commit()
        return appeal.id, len(await outbox_to(core, person.phone))


async def _sent(sqlite_url: str, clock: FakeClock) -> int:
    async with _demo_core(sqlite_url, clock) as core:
        return len(await outbox_to(core, DEMO_CITIZENS[0].phone))


async def test_no_on_the_appeal_confirmation_keeps_the_decision_and_reason_typed(
    tab: OfficeTab, sqlite_url: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = tab.driver
    appeal, sent_before = await _appeal(sqlite_url, tab.clock)
    await run(lambda: tab.sign_in("bel.clerk", focus=True))

    def decide_then_think_again(width: int, height: int) -> dict[str, Any]:
        tab.open("/office/appeals", width, height)
        Select(driver.find_element(By.ID, f"outcome-{appeal}")).select_by_value("rejected")
        driver.find_element(By.ID, f"why-{appeal}").send_keys(REASON)
        form = f"//form[contains(@action, '/appeals/{appeal}/decide')]"
        _submit(driver, driver.find_element(By.XPATH, f"{form}//button"))
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Decidi il ricorso")
        _submit(driver, driver.find_element(By.CSS_SELECTOR, "a[data-escape]"))
        driver.save_screenshot(str(tmp_path / f"appeal-back-{width}.png"))
        fits(driver)
        return {
            "path": driver.execute_script("return location.pathname"),
            "outcome": Select(
                driver.find_element(By.ID, f"outcome-{appeal}")
            ).first_selected_option.get_attribute("value"),
            "reason": driver.find_element(By.ID, f"why-{appeal}").get_attribute("value"),
            "focused": driver.execute_script("return document.activeElement.id"),
        }

    for width, height in SIZES:
        back = await run(decide_then_think_again, width, height)
        assert back == {
            "path": "/office/appeals",
            "outcome": "rejected",
            "reason": REASON,
            "focused": f"why-{appeal}",
        }, width
    # Nothing was decided or sent, and a reload shows the form empty again (read once).
    assert await _sent(sqlite_url, tab.clock) == sent_before
    await run(driver.refresh)
    reason = await run(lambda: driver.find_element(By.ID, f"why-{appeal}").get_attribute("value"))
    assert reason == ""


async def _paper_application(sqlite_url: str, clock: FakeClock) -> str:
    """A paper application in the demo's open window: its protocol."""
    async with _demo_core(sqlite_url, clock) as core, core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        data = ApplicationInput(make_cf(77), "+393337000077", 3, False, False, 0, 0, 0)
        application = await submit_application(uow, town, data, source="paper", now=clock())
        await uow.commit()
        return application.protocol


async def test_no_on_the_withdrawal_confirmation_keeps_the_reason_typed(
    tab: OfficeTab, sqlite_url: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = tab.driver
    protocol = await _paper_application(sqlite_url, tab.clock)
    await run(lambda: tab.sign_in("bel.clerk", focus=True))
    reason = "Domanda doppia: il nucleo ha presentato anche la domanda in chat"

    def withdraw_then_think_again(width: int, height: int) -> dict[str, Any]:
        tab.open(f"/office/applications/{protocol}", width, height)
        driver.find_element(By.ID, "withdraw_reason").send_keys(reason)
        form = "//form[contains(@action, '/withdraw')]"
        _submit(driver, driver.find_element(By.XPATH, f"{form}//button"))
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Ritirare la domanda")
        _submit(driver, driver.find_element(By.CSS_SELECTOR, "a[data-escape]"))
        driver.save_screenshot(str(tmp_path / f"withdraw-back-{width}.png"))
        fits(driver)
        return {
            "path": driver.execute_script("return location.pathname"),
            "reason": driver.find_element(By.ID, "withdraw_reason").get_attribute("value"),
            "focused": driver.execute_script("return document.activeElement.id"),
            "withdrawn": "Ritirata il" in driver.find_element(By.TAG_NAME, "main").text,
        }

    for width, height in SIZES:
        back = await run(withdraw_then_think_again, width, height)
        assert back == {
            "path": f"/office/applications/{protocol}",
            "reason": reason,
            "focused": "withdraw_reason",
            "withdrawn": False,
        }, width
