"""The office in a real browser: headless Chromium driven by selenium, against `serve`'s
application on a local port with the demo town.

A clerk signs in, closes the demo's window and opens a new one, imports paper applications
from a CSV, closes the window and prepares the determina; a manager approves it; the
determina's PDF is downloaded with the manager's session and read with pdftotext; the
dashboard is photographed at 1366x768. Set BUONISPESA_UPDATE_SCREENSHOT=1 to write the
picture to docs/office-dashboard.png (the README shows it); otherwise it goes to a
temporary folder. Another test has a clerk prepare the correction of a chat application on
an upheld appeal, and a manager approve it on the appeals page. Without chromium,
chromedriver or pdftotext the tests are skipped and say which is missing (.ci/run installs
them).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from subprocess import PIPE
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from buonispesa.demo import DEMO_OPERATOR_PASSWORD, DemoCitizen, seed_demo
from buonispesa.server import build_app
from buonispesa.settings import Settings
from core.bootstrap import Core
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from core.storage.engine import make_engine
from office.keys import OfficeConfig
from tests.conftest import FakeClock
from tests.factories import make_cf
from tests.office.harness import LASTING_SESSIONS

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1366,768",
)
T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "office-dashboard.png"
CSV = (
    "codice_fiscale,phone,household_size,has_work_income,has_pension,liquidity_eur,"
    "public_support_monthly_eur,rent_monthly_eur,submitted_at\n"
    f"{make_cf(41)},+393337000041,4,false,false,800,0,0,2026-04-06T11:00:00\n"
    f"{make_cf(42)},,1,false,false,0,280,300,2026-04-06T11:15:00\n"
    f"{make_cf(43)},,3,false,false,200,600,350,2026-04-06T11:30:00\n"
    f"{make_cf(44)},,2,true,false,0,0,0,2026-04-06T11:45:00\n"
)


def _missing() -> list[str]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if shutil.which("pdftotext") is None:
        missing.append("pdftotext (poppler-utils)")
    return missing


pytestmark = pytest.mark.skipif(
    bool(_missing()),
    reason=f"needs {', '.join(_missing())}: apt-get install chromium "
    "chromium-driver poppler-utils (.ci/run does it)",
)


@pytest.fixture
async def demo_server(sqlite_url: str) -> AsyncIterator[tuple[str, FakeClock]]:
    """The demo town served; sessions outlast the hours the tests move the clock by."""
    async with serve_demo(sqlite_url, LASTING_SESSIONS) as served:
        yield served


@pytest.fixture
async def demo_as_served(sqlite_url: str) -> AsyncIterator[tuple[str, FakeClock]]:
    """The demo town served with the session rules `serve` sets."""
    async with serve_demo(sqlite_url, None) as served:
        yield served


@asynccontextmanager
async def serve_demo(
    sqlite_url: str, office_config: OfficeConfig | None
) -> AsyncIterator[tuple[str, FakeClock]]:
    clock = FakeClock()
    core = Core(engine=make_engine(sqlite_url), clock=clock)
    await seed_demo(core)
    settings = Settings(_env_file=None, BUONISPESA_DATABASE_URL=sqlite_url)
    app = await build_app(
        core,
        settings,
        host="127.0.0.1",
        port=0,
        with_telegram=False,
        office_config=office_config,
    )
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    host, port = sock.getsockname()
    try:
        yield f"http://{host}:{port}", clock
    finally:
        await runner.cleanup()
        await core.close()


@asynccontextmanager
async def _demo_core(sqlite_url: str, clock: FakeClock) -> AsyncIterator[Core]:
    """The served demo's database, opened beside the server to set a test's scene."""
    core = Core(engine=make_engine(sqlite_url), clock=clock)
    try:
        yield core
    finally:
        await core.close()


async def run(step: Callable[..., T], *args: Any) -> T:
    # The driver blocks: in a thread, so that the server on this loop keeps answering.
    return await asyncio.to_thread(step, *args)


def _submit(driver: Any, button: Any) -> None:
    """Click and wait for the next page (the form's answer) to replace this one.

    The old page is marked on its window object, which a navigation replaces. Waiting for
    the old <html> element to go stale instead raced with chromedriver: while the old
    document is torn down it can answer "Node with given id does not belong to the
    document", an unknown error rather than a stale reference, and that failed CI once.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.wait import WebDriverWait

    driver.execute_script("window.buonispesaOldPage = true")
    button.click()
    wait = WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,))
    wait.until(
        lambda d: d.execute_script(
            "return window.buonispesaOldPage === undefined && document.readyState === 'complete'"
        )
    )


def _submit_by(driver: Any, xpath: str) -> None:
    from selenium.webdriver.common.by import By

    _submit(driver, driver.find_element(By.XPATH, xpath))


def _type_sign_in(driver: Any, username: str) -> None:
    """On the sign-in page: `username` with the demo's password, sent."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(DEMO_OPERATOR_PASSWORD)
    _submit_by(driver, "//form[contains(@class, 'narrow')]//button[@type='submit']")


def _sign_in(driver: Any, base: str, username: str) -> None:
    driver.get(base + "/office/")
    _type_sign_in(driver, username)


def _sign_in_as_clerk(driver: Any, base: str) -> None:
    """Sign the demo's clerk in and wait for the dashboard."""
    from selenium.webdriver.support.wait import WebDriverWait

    _sign_in(driver, base, "bel.clerk")
    WebDriverWait(driver, 30).until(lambda d: d.title.startswith("Cruscotto"))


@pytest.fixture
def chrome() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    # An Italian browser: the office answers in Italian until the operator switches.
    options.add_argument("--lang=it-IT")
    options.add_experimental_option("prefs", {"intl.accept_languages": "it-IT,it"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


async def test_a_clerk_and_a_manager_run_a_round_in_the_browser(
    demo_server: tuple[str, FakeClock], driver: WebDriver, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    base, clock = demo_server

    def press(text: str) -> None:
        _submit_by(driver, f"//button[normalize-space()='{text}']")

    def notice() -> str:
        return str(driver.find_element(By.CSS_SELECTOR, ".notice").text)

    def switch_to_english() -> None:
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "it"
        driver.find_element(By.CSS_SELECTOR, "#lang-choice option[value=en]").click()
        _submit_by(driver, "//form[@action='/office/language']//button")

    await run(_sign_in, driver, base, "bel.clerk")
    assert str(await run(lambda: driver.title)).startswith("Cruscotto")
    await run(switch_to_english)
    assert await run(lambda: driver.find_element(By.TAG_NAME, "h1").text) == "Dashboard"

    # Close the demo's window and open a new one.
    await run(driver.get, base + "/office/round")
    await run(press, "Close the window now")
    # A page says what closing means before anything is closed.
    assert await run(lambda: driver.find_element(By.TAG_NAME, "h1").text) == (
        "Close the window now?"
    )
    await run(press, "Yes, close window 2 now")
    assert "closed" in str(await run(notice))
    clock.advance(minutes=5)
    await run(press, "Open a new window")
    # Opening is asked too: what it does, and window 2's figures, before anything opens.
    assert await run(lambda: driver.find_element(By.TAG_NAME, "h1").text) == "Open a new window?"
    asked = str(await run(lambda: driver.find_element(By.TAG_NAME, "main").text))
    assert "Window 2 stays as it is:" in asked
    await run(press, "Yes, open window 3 now")
    assert await run(notice) == "Application window 3 is open."

    # Paper applications from a CSV file, dated inside the new window (Rome time).
    clock.advance(hours=2)
    source = tmp_path / "paper.csv"
    source.write_text(CSV, encoding="utf-8")
    await run(driver.get, base + "/office/applications/import")
    await run(lambda: driver.find_element(By.ID, "file").send_keys(str(source)))
    await run(press, "Import")
    assert await run(notice) == "Imported 4 applications."

    # Window closed, the determina prepared by the clerk...
    clock.advance(days=1)
    await run(driver.get, base + "/office/round")
    await run(press, "Close the window now")
    await run(press, "Yes, close window 3 now")
    clock.advance(hours=1)
    await run(lambda: driver.find_element(By.ID, "determina-budget").send_keys("800"))
    await run(press, "Check the determina")
    # The simulator's figures first: 700 € is all the four households can be given.
    checked = str(await run(lambda: driver.find_element(By.TAG_NAME, "main").text))
    assert "Allocated: €700.00 to 3 households." in checked
    assert "€100.00 would stay unspent" in checked
    await run(lambda: driver.find_element(By.ID, "determina-confirm").send_keys("800"))
    await run(press, "Prepare the determina")
    assert "Another operator with the manager role must approve it." in str(await run(notice))
    page = str(await run(lambda: driver.page_source))
    assert "Approve act" not in page  # not for the one who prepared it

    # ... and approved by a manager, in a session of their own.
    await run(driver.delete_all_cookies)
    await run(_sign_in, driver, base, "bel.manager")
    await run(switch_to_english)
    await run(driver.get, base + "/office/round")
    # Beside "Approve": what the determina will allocate, recomputed now.
    waiting = str(
        await run(
            lambda: (
                driver.find_element(By.ID, "acts")
                .find_element(By.XPATH, "following-sibling::div")
                .text
            )
        )
    )
    assert "List 1: 1 household, €300.00." in waiting
    assert "Allocated: €700.00 to 3 households." in waiting and "Excluded: 1 household." in waiting
    await run(lambda: driver.set_window_size(1366, 768))
    width = await run(lambda: driver.execute_script("return document.documentElement.scrollWidth"))
    assert int(str(width)) <= 1366  # the figures do not push the page sideways
    await run(_submit_by, driver, "//button[starts-with(., 'Approve act')]")
    assert "approved and carried out" in str(await run(notice))

    # The determina's attachment, downloaded with the manager's session, read as text.
    link = await run(
        lambda: driver.find_element(By.PARTIAL_LINK_TEXT, "Attachment to the determina")
    )
    href = str(await run(lambda: link.get_attribute("href")))
    # The Cookie header exactly as the browser sends it: Chromium keeps a quoted value's
    # quotes, and handing the values to aiohttp's cookie jar would quote them once more.
    cookie_header = "; ".join(f"{c['name']}={c['value']}" for c in await run(driver.get_cookies))
    async with (
        aiohttp.ClientSession() as http,
        http.get(href, headers={"Cookie": cookie_header}) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/pdf"
        (tmp_path / "determina.pdf").write_bytes(await response.read())
    pdftotext = await asyncio.create_subprocess_exec(
        "pdftotext", "-layout", str(tmp_path / "determina.pdf"), "-", stdout=PIPE
    )
    output, _ = await pdftotext.communicate()
    assert pdftotext.returncode == 0
    text = output.decode("utf-8")
    assert "Attachment to the determina: tranche 1" in text
    assert "BEL-2026-000007" in text and "BEL-2026-000010" in text
    assert "€300.00" in text and "work income" in text
    assert make_cf(41) not in text

    # The dashboard, as the office sees it on a 1366x768 screen.
    await run(driver.get, base + "/office/")
    await run(lambda: driver.set_window_size(1366, 768))
    width = await run(lambda: driver.execute_script("return document.documentElement.scrollWidth"))
    assert int(str(width)) <= 1366  # nothing to scroll sideways
    target = SCREENSHOT if os.environ.get("BUONISPESA_UPDATE_SCREENSHOT") else tmp_path / "d.png"
    assert await run(driver.save_screenshot, str(target))
    assert target.stat().st_size > 10_000


async def test_an_upheld_appeal_is_corrected_and_approved_in_the_browser(
    demo_server: tuple[str, FakeClock], driver: WebDriver, sqlite_url: str
) -> None:
    """A chat application excluded for a pension, its appeal upheld: a clerk prepares the
    correction on the application's page, a manager approves it among the acts waiting on
    the appeals page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    from core.services import appeals, municipalities
    from tests.integration.office_helpers import Office, apply, close_approve_credit, person

    base, clock = demo_server
    pensioner = person(60, 2, pension=True)
    async with _demo_core(sqlite_url, clock) as core:
        async with core.uow() as uow:
            town = await municipalities.require(uow, "BEL")
            office = Office(core, clock, "BEL", town.id, [])
        [protocol] = await apply(office, pensioner)
        await close_approve_credit(office, 500_00)
        async with core.uow() as uow:
            town = await municipalities.require(uow, "BEL")
            citizen = await uow.citizens.by_codice_fiscale(town.id, pensioner.codice_fiscale)
            assert citizen is not None
            appeal = await appeals.file_appeal(uow, town, citizen, "invalidità", "sms", clock())
            await appeals.decide(
                uow, town, appeal.id, "upheld", "Invalidità.", clock(), "t", confirmed=True
            )
            await uow.commit()

    def sign_in(username: str) -> None:
        driver.delete_all_cookies()
        _sign_in(driver, base, username)

    def notice() -> str:
        return str(driver.find_element(By.CSS_SELECTOR, ".notice").text)

    def prepare() -> None:
        driver.get(f"{base}/office/applications/{protocol}")
        assert driver.find_element(By.ID, "appeal-correction").text == (
            "Correggi sul ricorso accolto"
        )
        Select(driver.find_element(By.ID, "appeal_has_pension")).select_by_value("no")
        driver.find_element(By.ID, "appeal_reason").send_keys("pensione di invalidità")
        _submit_by(driver, "//button[normalize-space()='Prepara la correzione']")

    await run(sign_in, "bel.clerk")
    await run(prepare)
    assert "Preparato: atto" in await run(notice)
    page = str(await run(lambda: driver.page_source))
    assert "Una correzione sul ricorso attende" in page

    await run(sign_in, "bel.manager")
    await run(driver.get, base + "/office/appeals")
    page = str(await run(lambda: driver.page_source))
    assert f"{protocol}: pensione di invalidità" in page
    await run(_submit_by, driver, '//button[starts-with(., "Approva l\'atto")]')
    assert "approvato" in await run(notice)
    await run(driver.get, f"{base}/office/applications/{protocol}")
    facts = str(await run(lambda: driver.find_element(By.CSS_SELECTOR, "dl.facts").text))
    assert "Pensione\nno" in facts


async def test_after_30_idle_minutes_the_sign_in_says_so_and_goes_back_to_the_page(
    demo_as_served: tuple[str, FakeClock], driver: WebDriver
) -> None:
    from selenium.webdriver.common.by import By

    base, clock = demo_as_served

    await run(driver.get, base + "/office/round")
    await run(_type_sign_in, driver, "bel.clerk")
    assert str(await run(lambda: driver.current_url)).endswith("/office/round")
    clock.advance(minutes=31)
    await run(_submit_by, driver, "//nav//a[@href='/office/applications']")
    assert "/office/sign-in?next=/office/applications" in str(await run(lambda: driver.current_url))
    notice = str(await run(lambda: driver.find_element(By.CSS_SELECTOR, ".notice").text))
    assert notice == (
        "La sessione è scaduta dopo 30 minuti senza attività: accedi di nuovo per continuare."
    )
    await run(_type_sign_in, driver, "bel.clerk")
    assert str(await run(lambda: driver.current_url)).endswith("/office/applications")
    assert await run(lambda: driver.find_element(By.TAG_NAME, "h1").text) == "Domande"


async def test_a_clerk_enters_a_paper_application_at_the_desk_in_the_browser(
    demo_server: tuple[str, FakeClock], driver: WebDriver, tmp_path: Path
) -> None:
    """A clerk at the desk types one paper form: a codice fiscale with a wrong check letter
    is said beside its field, what was typed stays; corrected, the application is entered,
    its page says so and the list of applications has it. The form with its problem and
    the entered application are photographed at 1366 and 390 px (in tmp_path)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    base, clock = demo_server
    clock.advance(minutes=5)  # the form is dated now: inside the demo's open window
    code = make_cf(51)
    wrong = code[:15] + ("B" if code[15] == "A" else "A")

    def fits(name: str) -> None:
        """The page at 1366x768 and 390x844: nothing to scroll sideways; photographed."""
        for width, height in ((1366, 768), (390, 844)):
            driver.set_window_size(width, height)
            scroll = int(driver.execute_script("return document.documentElement.scrollWidth"))
            inner = int(driver.execute_script("return window.innerWidth"))
            assert scroll <= inner, (name, width, scroll, inner)
            assert driver.save_screenshot(str(tmp_path / f"{name}-{width}.png"))

    def type_the_form() -> tuple[str, str, str, str]:
        driver.set_window_size(1366, 768)
        _sign_in(driver, base, "bel.clerk")
        driver.get(base + "/office/applications")
        _submit_by(driver, "//a[normalize-space()='Inserisci una domanda cartacea']")
        assert driver.find_element(By.TAG_NAME, "h1").text == "Inserisci una domanda cartacea"
        for name, value in (
            ("codice_fiscale", wrong.lower()),
            ("phone", "333 700 0051"),
            ("household_size", "2"),
            ("liquidity_eur", "1.500,00"),
            ("public_support_monthly_eur", "0"),
            ("rent_monthly_eur", "300.50"),
        ):
            driver.find_element(By.ID, name).send_keys(value)
        Select(driver.find_element(By.ID, "has_work_income")).select_by_value("no")
        Select(driver.find_element(By.ID, "has_pension")).select_by_value("no")
        _submit_by(driver, "//button[normalize-space()='Inserisci la domanda']")
        beside = driver.find_element(By.ID, "error-codice_fiscale").text
        field = driver.find_element(By.ID, "codice_fiscale")
        kept = str(driver.find_element(By.ID, "liquidity_eur").get_attribute("value"))
        invalid = str(field.get_attribute("aria-invalid"))
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
        fits("desk-form-refused")
        return beside, kept, invalid, str(field.get_attribute("value"))

    beside, kept, invalid, typed = await asyncio.to_thread(type_the_form)
    assert "l'ultima lettera (il carattere di controllo) non corrisponde" in beside, beside
    assert (kept, invalid, typed) == ("1.500,00", "true", wrong.lower())

    def correct_and_send() -> tuple[str, str, str]:
        driver.set_window_size(1366, 768)
        field = driver.find_element(By.ID, "codice_fiscale")
        field.clear()
        field.send_keys(code)
        _submit_by(driver, "//button[normalize-space()='Inserisci la domanda']")
        notice = driver.find_element(By.CSS_SELECTOR, ".notice").text
        fits("desk-form-entered")
        url = driver.current_url
        driver.set_window_size(1366, 768)
        driver.get(base + "/office/applications")
        return notice, url, str(driver.find_element(By.TAG_NAME, "main").text)

    notice, url, listed = await asyncio.to_thread(correct_and_send)
    protocol = url.rsplit("/", 1)[1]
    assert re.fullmatch(r"BEL-2026-\d{6}", protocol), url
    assert notice == f"Domanda cartacea {protocol} inserita."
    assert protocol in listed and code in listed


PAGES = (
    "/office/",
    "/office/applications",
    "/office/applications/BEL-2026-000001",
    "/office/round",
    "/office/round?window=1#tranches",
    "/office/round/window/close",
    "/office/shops",
    "/office/reimbursement",
    "/office/transparency",
    "/office/transparency?window=1",
    "/office/documents",
    "/office/audit?window=1",
    "/office/appeals",
    "/office/activity",
    "/office/applications/import",
    "/office/applications/new",
)
# Real data at its widest: a long username (64 characters), notes and reasons at their
# longest with words that do not break (an address, a reference), many columns.
LONG_USERNAME = "bel.operatrice-del-servizio-sociale.sportello-di-via-garibaldi-12"[:64]
UNBROKEN = "https://comune.belforte.mc.it/servizi-sociali/buoni-spesa/verifiche/BEL-2026"
LONG_NOTE = (
    f"Controllato con l'estratto conto e la dichiarazione ISEE: {UNBROKEN} "
    "la giacenza dichiarata non corrisponde a quella del conto corrente cointestato "
    "IT60X0542811101000000123456IT60X0542811101000000123456 alla data della domanda."
)[:300]
LONG_APPEAL = (
    "Chiedo il riesame perché la mia situazione è cambiata dopo la domanda: "
    f"{UNBROKEN}/allegati/certificato-di-disoccupazione-rilasciato-dal-centro-per-l-impiego "
    + "il contratto a termine è scaduto e non ho altre entrate; "
    * 6
)[:500]
BAD_CSV = (
    "codice_fiscale,phone,household_size,has_work_income,has_pension,liquidity_eur,"
    "public_support_monthly_eur,rent_monthly_eur,submitted_at\n"
    + "RSSMRA85T10A739UXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX,+39333700004100000000000,"
    "quattro,forse,boh,ottocento,0,0,2026-04-06T11:00:00\n" * 3
)


async def _one_paper_application_then_closed(
    uow: UnitOfWork, town: m.Municipality, someone: DemoCitizen, now: datetime
) -> None:
    """`someone`, a demo citizen, applies on paper for a household of two in the demo's
    open window, and the window closes."""
    from core.services import applications, municipalities

    await applications.submit_application(
        uow,
        town,
        applications.ApplicationInput(
            someone.codice_fiscale, someone.phone, 2, False, False, 0, 0, 0
        ),
        source="paper",
        now=now,
    )
    await municipalities.close_window(uow, town, now)


async def _long_values(core: Core, clock: FakeClock) -> None:
    """The demo town's audit, appeals and log filled at their widest: a sample of the
    closed window with a long note by an operator with a long name, a revocation with a
    long reason, an appeal waiting and one decided, both with long reasons."""
    from buonispesa.demo import DEMO_CITIZENS
    from core.services import appeals, audit, municipalities, operators

    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        long_one, _ = await operators.add_operator(
            uow, town, LONG_USERNAME, "clerk", clock(), password="x" * 12
        )
        sample = await audit.draw_sample(uow, town, 100, 20261204, clock(), window=1)
        for protocol in sample[:2]:
            await audit.record_check(
                uow, town, protocol, "discrepancy", LONG_NOTE, clock(), long_one
            )
        await audit.revoke(uow, town, sample[0], clock(), reason=LONG_NOTE)
        citizens = []
        for person in DEMO_CITIZENS[2:4]:
            citizen = await uow.citizens.by_codice_fiscale(town.id, person.codice_fiscale)
            assert citizen is not None
            citizens.append(citizen)
        for citizen in citizens:
            await appeals.file_appeal(uow, town, citizen, LONG_APPEAL, "sms", clock())
        decided = await uow.appeals.of_citizen(citizens[1].id)
        await appeals.decide(
            uow, town, decided[0].id, "rejected", LONG_NOTE, clock(), long_one, confirmed=True
        )
        await uow.commit()


async def test_the_office_fits_a_phone_and_a_desktop_without_sideways_scrolling(
    demo_server: tuple[str, FakeClock], driver: WebDriver, sqlite_url: str, tmp_path: Path
) -> None:
    """At 390x844 (a phone) and 1280x900 nothing is wider than the window: long values wrap,
    the application's and the reimbursement's tables stack, the report is tables; on the
    phone the header is one short band and the sections fold under "Menu". The demo's shop
    is owed a payment and a reimbursement waits, so those tables hold an IBAN and a form.
    The checks, appeals and log pages hold their widest values (an operator's 64-character
    name, notes and reasons at their longest with words that do not break) and stack on the
    phone, nothing scrolling inside them either; the import page lists a refused file's
    problems; on the desktop no button is squeezed into a column of letters."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    from buonispesa.demo import DEMO_CITIZENS
    from core.services import acts, municipalities
    from core.services.applications import ApplicationInput
    from tests.integration.office_helpers import Office, pay

    base, clock = demo_server
    async with _demo_core(sqlite_url, clock) as core:
        async with core.uow() as uow:
            town = await municipalities.require(uow, "BEL")
            shops = await uow.shops.search(town.id, approved_only=True)
            office = Office(core, clock, "BEL", town.id, [shop.id for shop in shops])
        buyer = DEMO_CITIZENS[0]
        await pay(
            office,
            office.shop_ids[0],
            ApplicationInput(buyer.codice_fiscale, buyer.phone, 4, False, False, 0, 0, 0),
            12_34,
        )
        async with core.uow() as uow:
            clerk = await uow.operators.by_username("bel.clerk")
            assert clerk is not None
            day = (clock() + timedelta(days=2)).date().isoformat()
            await acts.prepare(
                uow, clerk, acts.ActKind.REIMBURSEMENT, {"execution_date": day}, clock()
            )
            await uow.commit()
        await _long_values(core, clock)

    def widths(path: str, width: int, height: int, name: str) -> tuple[int, int]:
        driver.set_window_size(width, height)
        driver.get(base + path)
        assert "Non eseguito" not in driver.title, path
        scroll = int(driver.execute_script("return document.documentElement.scrollWidth"))
        inner = int(driver.execute_script("return window.innerWidth"))
        assert driver.save_screenshot(str(tmp_path / f"{name}.png"))
        if width >= 1280:  # room enough: no button squeezed into a column of letters
            squeezed = driver.execute_script(
                "return Array.from(document.querySelectorAll('main button'))"
                ".filter(b => b.getBoundingClientRect().height > 3 * "
                "parseFloat(getComputedStyle(b).lineHeight)).map(b => b.textContent)"
            )
            assert not squeezed, (path, squeezed)
        return scroll, inner

    def menu_on_phone() -> tuple[bool, bool, bool, int]:
        driver.set_window_size(390, 844)
        driver.get(base + "/office/shops")
        wide = driver.find_element(By.CSS_SELECTOR, "nav.sections.wide").is_displayed()
        link = driver.find_element(By.CSS_SELECTOR, "details.menu a[href='/office/round']")
        folded = link.is_displayed()
        driver.find_element(By.CSS_SELECTOR, "details.menu summary").click()
        opened = link.is_displayed()
        main = driver.find_element(By.ID, "main")
        driver.find_element(By.CSS_SELECTOR, "details.menu summary").click()
        return wide, folded, opened, int(main.location["y"])

    def refused_import(width: int, height: int, name: str) -> tuple[int, int, int]:
        """The import page after a file whose rows are all wrong: its list of problems."""
        driver.set_window_size(width, height)
        driver.get(base + "/office/applications/import")
        upload = tmp_path / "wrong.csv"
        upload.write_text(BAD_CSV, encoding="utf-8")
        driver.find_element(By.ID, "file").send_keys(str(upload))
        driver.find_element(By.CSS_SELECTOR, "form.narrow button[type=submit]").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".error li"))
        problems = len(driver.find_elements(By.CSS_SELECTOR, ".error li"))
        scroll = int(driver.execute_script("return document.documentElement.scrollWidth"))
        inner = int(driver.execute_script("return window.innerWidth"))
        assert driver.save_screenshot(str(tmp_path / f"{name}.png"))
        return scroll, inner, problems

    def widest_cell(path: str) -> int:
        """How far the widest table of the page reaches past its own box on a phone: a
        table that scrolls inside itself hides columns behind a sideways swipe."""
        driver.set_window_size(390, 844)
        driver.get(base + path)
        return int(
            driver.execute_script(
                "return Math.max(0, ...Array.from(document.querySelectorAll('table.data'))"
                ".map(t => t.scrollWidth - t.clientWidth))"
            )
        )

    def log_on_phone() -> tuple[list[str], str, int, int]:
        """The activity log's details on a phone: the reimbursement's shops one per line,
        each a name and an amount; the row holding them photographed for a look."""
        driver.set_window_size(390, 844)
        driver.get(base + "/office/activity")
        lines = driver.find_elements(By.CSS_SELECTOR, "dl.values ul.lines li")
        row = lines[0].find_element(By.XPATH, "./ancestor::tr")
        driver.execute_script("arguments[0].scrollIntoView()", row)
        assert row.screenshot(str(tmp_path / "phone-activity-shops.png"))
        values = " ".join(d.text for d in driver.find_elements(By.CSS_SELECTOR, "dl.values"))
        right = max(int(li.rect["x"] + li.rect["width"]) for li in lines)
        return (
            [li.text for li in lines],
            values,
            right,
            int(driver.execute_script("return window.innerWidth")),
        )

    await run(_sign_in_as_clerk, driver, base)
    lines, values, right, inner = await run(log_on_phone)
    assert lines and all(re.fullmatch(r".+: [\d.]+,\d\d\s€", line) for line in lines), lines
    assert any(line.startswith("Alimentari Da Rita: ") for line in lines), lines
    assert right <= inner, (right, inner)
    # Days as the office writes them (a fund entry's "ricevuto il"), no stored form.
    assert "ricevuto il:" in values and not re.search(r"\d{4}-\d\d-\d\d", values), values
    assert "[" not in values, values
    for index, path in enumerate(PAGES):
        for width, height, kind in ((390, 844, "phone"), (1280, 900, "desktop")):
            scroll, inner = await run(widths, path, width, height, f"{kind}-{index}")
            assert scroll <= inner, (path, kind, scroll, inner)
    for width, height, kind in ((390, 844, "phone"), (1280, 900, "desktop")):
        scroll, inner, problems = await run(refused_import, width, height, f"{kind}-import")
        assert problems >= 3 and scroll <= inner, (kind, scroll, inner)
    for path in ("/office/audit?window=1", "/office/appeals", "/office/activity"):
        assert await run(widest_cell, path) == 0, path
    wide, folded, opened, top = await run(menu_on_phone)
    assert not wide and not folded and opened
    assert top < 160  # the header and the folded menu: no longer ~400 px before the content


async def test_the_dashboard_with_acts_and_phone_changes_waiting_fits_a_phone(
    demo_server: tuple[str, FakeClock], driver: WebDriver, sqlite_url: str, tmp_path: Path
) -> None:
    """At 390x844 the dashboard with a determina (its warning), a phone change and a
    delegate waiting does not scroll sideways: both tables stack, each warning and each
    form sits in the value column beside its label, and the buttons are on screen."""
    from selenium.webdriver.common.by import By

    from buonispesa.demo import DEMO_CITIZENS
    from core.services import acts, municipalities, phone_changes

    base, clock = demo_server
    async with _demo_core(sqlite_url, clock) as core, core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        clerk = await uow.operators.by_username("bel.clerk")
        assert clerk is not None
        someone = DEMO_CITIZENS[0]
        await phone_changes.request(
            uow, clerk, town, someone.codice_fiscale, "+393339876501", clock()
        )
        await phone_changes.request_delegate(
            uow, clerk, town, someone.codice_fiscale, "+393339876502", clock()
        )
        # One household of the open window (a determina of nobody is refused), and
        # more than the lists can take (within the demo's fund): the act warns that
        # money stays unspent.
        other = DEMO_CITIZENS[1]
        await _one_paper_application_then_closed(uow, town, other, clock())
        await acts.prepare(
            uow,
            clerk,
            acts.ActKind.DETERMINA,
            {"budget_cents": 8_000_00, "confirm_cents": 8_000_00},
            clock(),
        )
        await uow.commit()

    def dashboard() -> tuple[int, int, list[int], list[int]]:
        driver.set_window_size(390, 844)
        driver.get(base + "/office/")
        if driver.title.startswith("Accedi") or "/sign-in" in driver.current_url:
            _sign_in_as_clerk(driver, base)
        assert driver.save_screenshot(str(tmp_path / "dashboard-phone.png"))
        scroll = int(driver.execute_script("return document.documentElement.scrollWidth"))
        inner = int(driver.execute_script("return window.innerWidth"))
        # Each warning's left edge: in the value column, right of the label's.
        columns = [
            int(left)
            for left in driver.execute_script(
                "return [...document.querySelectorAll('p.warning')].map(p => {"
                " const td = p.closest('td');"
                " return p.getBoundingClientRect().left - td.getBoundingClientRect().left; })"
            )
        ]
        rights = [
            int(button.rect["x"] + button.rect["width"])
            for button in driver.find_elements(By.CSS_SELECTOR, "table.stack button")
        ]
        return scroll, inner, columns, rights

    scroll, inner, columns, rights = await asyncio.to_thread(dashboard)
    assert scroll <= inner, (scroll, inner)
    assert columns and all(left > 50 for left in columns), columns
    assert len(rights) >= 3 and max(rights) <= inner, rights


async def test_approving_in_a_tab_left_open_says_the_act_was_already_carried_out(
    demo_server: tuple[str, FakeClock], driver: WebDriver, sqlite_url: str, tmp_path: Path
) -> None:
    """A manager approves a determina in a second tab, then clicks Approve on the page
    still open in the first: the answer says who approved it, when, and that it was carried
    out (not "approved or withdrawn", which sends a manager under pressure to ask for it
    again), and the tranche is approved once."""
    from selenium.webdriver.common.by import By
    from sqlalchemy import select

    from buonispesa.demo import DEMO_CITIZENS
    from core.services import acts, municipalities

    base, clock = demo_server
    async with _demo_core(sqlite_url, clock) as core, core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        clerk = await uow.operators.by_username("bel.clerk")
        assert clerk is not None
        someone = DEMO_CITIZENS[1]
        await _one_paper_application_then_closed(uow, town, someone, clock())
        act = await acts.prepare(
            uow, clerk, acts.ActKind.DETERMINA, {"budget_cents": 100_00}, clock()
        )
        await uow.commit()
    approve = f'//button[normalize-space()="Approva l\'atto {act.id}"]'

    def two_tabs() -> str:
        _sign_in(driver, base, "bel.manager")
        driver.get(base + "/office/round")
        first = driver.current_window_handle
        driver.switch_to.new_window("tab")
        driver.get(base + "/office/round")
        _submit_by(driver, approve)
        assert "approvato ed eseguito" in driver.find_element(By.CSS_SELECTOR, ".notice").text
        driver.switch_to.window(first)
        _submit_by(driver, approve)
        assert driver.save_screenshot(str(tmp_path / "approved-twice.png"))
        return " ".join(str(driver.find_element(By.TAG_NAME, "main").text).split())

    said = await asyncio.to_thread(two_tabs)
    assert f"L'atto {act.id} è già stato approvato da bel.manager il " in said, said
    assert "ed è stato eseguito: non c'è nulla da approvare di nuovo." in said, said
    assert "o ritirato" not in said, said
    async with _demo_core(sqlite_url, clock) as core, core.uow() as uow:
        allocations = list(await uow.session.scalars(select(m.Allocation.id)))
    assert len(allocations) == 2  # the demo's first window and this one's tranche, once


# Each protocol, codice fiscale and phone cell: how many lines its text takes (the distinct
# tops of its text's boxes), so that a value cut in the middle counts 2.
LINES_OF_CODES = """
return [...document.querySelectorAll(arguments[0])].map(cell => {
  const tops = new Set();
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const box of range.getClientRects()) tops.add(Math.round(box.top));
  }
  return [cell.textContent.trim(), tops.size];
});
"""


async def test_codici_fiscali_and_phones_are_never_cut_on_a_laptop_or_a_phone(
    demo_server: tuple[str, FakeClock], driver: WebDriver
) -> None:
    """The list of applications on an old laptop (1024 px) and a phone (390 px): each
    protocol, codice fiscale and phone on one line, as it is read out at the desk (cut in the
    middle, "RSSMRA85T10A" over "739J", it was misread); on the phone each application is a
    block, each value under its column's name, nothing to scroll sideways."""
    from selenium.webdriver.common.by import By

    base, _ = demo_server

    def lines_at(width: int) -> list[list[Any]]:
        driver.set_window_size(width, 800)
        driver.get(base + "/office/applications")
        table = driver.find_element(By.CSS_SELECTOR, "table.data")
        sideways = driver.execute_script(
            "return [arguments[0].scrollWidth, arguments[0].clientWidth]", table
        )
        assert sideways[0] <= sideways[1], (width, sideways)
        return list(driver.execute_script(LINES_OF_CODES, "table.data td.code"))

    await asyncio.to_thread(_sign_in_as_clerk, driver, base)
    for width in (1024, 390):
        cells = await asyncio.to_thread(lines_at, width)
        # The demo's six applications: protocol, codice fiscale, phone each.
        assert len(cells) == 18
        assert "RSSMRA85T10A739J" in [text for text, _ in cells]
        assert [cell for cell in cells if cell[1] != 1] == [], width
    label = await asyncio.to_thread(
        lambda: driver.find_element(By.CSS_SELECTOR, "td.code").get_attribute("data-label")
    )
    assert label == "Protocollo"


async def test_the_dashboards_cards_start_on_one_line(
    demo_server: tuple[str, FakeClock], driver: WebDriver, tmp_path: Path
) -> None:
    """The dashboard's cards are sections, and `section + section` pushed every card but the
    first ("Bando") 24 px down: side by side at 1366 px they start on one line, and on a
    phone one under the other with the grid's gap between each. The budget card's figures
    read as the demo's tranche gives them, what is left included."""

    from selenium.webdriver.common.by import By

    base, _ = demo_server

    def cards(width: int) -> list[tuple[int, int]]:
        driver.set_window_size(width, 900)
        driver.get(base + "/office/")
        assert driver.save_screenshot(str(tmp_path / f"cards-{width}.png"))
        found = driver.execute_script(
            "return Array.from(document.querySelectorAll('.cards > .card')).map(c => {"
            " const r = c.getBoundingClientRect();"
            " return [Math.round(r.top), Math.round(r.bottom)]; })"
        )
        return [(int(top), int(bottom)) for top, bottom in found]

    def budget(window: int) -> dict[str, str]:
        driver.get(f"{base}/office/?window={window}")
        rows = driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=h-money] tr")
        return {
            row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
            for row in rows
        }

    await asyncio.to_thread(_sign_in_as_clerk, driver, base)
    wide = await asyncio.to_thread(cards, 1366)
    assert len(wide) == 4 and len({top for top, _ in wide}) == 1, wide
    # The demo's first window: 2.000,00 € approved, 1.050,00 € allocated to its households,
    # what is left printed as back_office.Dashboard.left_cents gives it.
    figures = await asyncio.to_thread(budget, 1)
    assert figures == {
        "Budget approvato": "2.000,00 €",
        "Assegnato": "1.050,00 €",
        "Accreditato": "1.050,00 €",
        "Residuo": "950,00 €",
    }, figures
    narrow = await asyncio.to_thread(cards, 390)
    gaps = {after[0] - before[1] for before, after in pairwise(narrow)}
    assert len(narrow) == 4 and gaps == {16}, narrow


async def test_the_shops_and_the_tranches_stack_on_a_phone(
    demo_server: tuple[str, FakeClock], driver: WebDriver
) -> None:
    """On a phone the table of all shops and the round's tranches are blocks, each value
    under its column's name, as the applications are: the shops' table squeezed its six
    columns into 390 px, cutting names and words in the middle ("Alime/ntari", "appro/vato")
    and the partita IVA ("007431/10157"), and still scrolled sideways to reach the amount
    and the statement. Each partita IVA stays on one line, as it is read out."""

    base, _ = demo_server

    def on_phone(path: str) -> tuple[list[int], list[list[Any]]]:
        driver.set_window_size(390, 844)
        driver.get(base + path)
        sideways = driver.execute_script(
            "return Array.from(document.querySelectorAll('table.data'))"
            ".map(t => t.scrollWidth - t.clientWidth)"
        )
        return [int(s) for s in sideways], list(
            driver.execute_script(LINES_OF_CODES, "table.data td.code")
        )

    await asyncio.to_thread(_sign_in_as_clerk, driver, base)
    sideways, codes = await asyncio.to_thread(on_phone, "/office/shops")
    assert sideways and max(sideways) <= 0, sideways
    # The demo's four shops: each partita IVA on one line.
    assert len(codes) == 4 and "00743110157" in [text for text, _ in codes], codes
    assert [cell for cell in codes if cell[1] != 1] == [], codes
    sideways, _ = await asyncio.to_thread(on_phone, "/office/round")
    assert sideways and max(sideways) <= 0, sideways


async def test_protocols_are_never_cut_on_the_appeals_and_checks_pages(
    demo_server: tuple[str, FakeClock], driver: WebDriver, sqlite_url: str
) -> None:
    """On the appeals page at 1366 px the protocol broke at its hyphen ("BEL-2026-" over
    "000006") as it did in the list of applications: on the appeals and the checks pages,
    at 1366 and 390 px, each protocol is on one line, as it is read out at the desk."""

    base, clock = demo_server
    async with _demo_core(sqlite_url, clock) as core:
        await _long_values(core, clock)

    def protocols(path: str, width: int) -> list[list[Any]]:
        driver.set_window_size(width, 900)
        driver.get(base + path)
        cells = driver.execute_script(LINES_OF_CODES, "table.data td")
        return [cell for cell in cells if re.fullmatch(r"BEL-\d{4}-\d{6}", cell[0])]

    await asyncio.to_thread(_sign_in_as_clerk, driver, base)
    for path in ("/office/appeals", "/office/audit?window=1"):
        for width in (1366, 390):
            cells = await asyncio.to_thread(protocols, path, width)
            assert cells, (path, width)
            assert [cell for cell in cells if cell[1] != 1] == [], (path, width, cells)


def _economia_form(
    driver: Any, base: str, width: int, day: str, reference: str, amount: str
) -> None:
    """On the fund's page at `width` (844 px high on a phone, 768 on a laptop): the form of
    an economia opened, its day, reference and amount typed, and sent."""
    from selenium.webdriver.common.by import By

    driver.set_window_size(width, 844 if width < 500 else 768)
    driver.get(base + "/office/fund")
    form = driver.find_element(By.CSS_SELECTOR, "form input[name=kind][value=economia]")
    details = form.find_element(By.XPATH, "./ancestor::details")
    if details.get_attribute("open") is None:
        details.find_element(By.TAG_NAME, "summary").click()
    for name, value in (("act_on", day), ("reference", reference)):
        box = details.find_element(By.CSS_SELECTOR, f"input[name={name}]")
        box.clear()
        box.send_keys(value)
    details.find_element(By.CSS_SELECTOR, "input[name=amount]").send_keys(amount)
    _submit(driver, details.find_element(By.CSS_SELECTOR, "button[type=submit]"))


async def test_an_economia_s_bad_day_is_said_beside_it_on_a_phone_and_the_manager_sees_the_outcome(
    demo_server: tuple[str, FakeClock], driver: WebDriver, tmp_path: Path
) -> None:
    """On a phone (390x844), in Italian: the clerk opens the economia's form of the demo's
    credited tranche, types a day that does not exist and sends it; the fund's page comes
    back with the form open, the reference kept and why beside the day, nothing wider than
    the screen. Corrected, it is prepared; the manager reads, beside "Approva", what the
    approval frees and the fund's rest for new determine before and after."""
    from selenium.webdriver.common.by import By

    base, clock = demo_server
    today = clock().astimezone(ZoneInfo("Europe/Rome")).strftime("%d/%m/%Y")

    def send(day: str) -> tuple[str, str, bool, int, int]:
        _economia_form(driver, base, 390, day, "det. n. 45/2026", "500")
        errors = driver.find_elements(By.CSS_SELECTOR, "details[open] .field-error")
        assert driver.save_screenshot(str(tmp_path / f"fund-economia-{day[:2]}.png"))
        kept = driver.find_elements(By.CSS_SELECTOR, "details[open] input[name=reference]")
        return (
            errors[0].text if errors else "",
            kept[0].get_attribute("value") or "" if kept else "",
            bool(errors) and errors[0].is_displayed(),
            int(driver.execute_script("return document.documentElement.scrollWidth")),
            int(driver.execute_script("return window.innerWidth")),
        )

    await run(_sign_in_as_clerk, driver, base)
    said, kept, shown, scroll, inner = await run(send, "31/02/2026")
    assert shown and "31/02/2026" in said and "Non eseguito" not in str(driver.title), said
    assert kept == "det. n. 45/2026" and scroll <= inner, (kept, scroll, inner)
    said, _, shown, _, _ = await run(send, today)
    assert not shown, said
    assert "Preparato: atto" in str(
        await run(lambda: driver.find_element(By.CSS_SELECTOR, ".notice").text)
    )

    def as_manager() -> tuple[str, int, int]:
        driver.delete_all_cookies()
        _sign_in(driver, base, "bel.manager")
        driver.set_window_size(390, 844)
        driver.get(base + "/office/fund")
        main = driver.find_element(By.TAG_NAME, "main").text
        approve = driver.find_element(By.XPATH, "//button[starts-with(., 'Approva')]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'end'})", approve)
        assert driver.save_screenshot(str(tmp_path / "fund-economia-manager.png"))
        return (
            " ".join(main.split()),
            int(driver.execute_script("return document.documentElement.scrollWidth")),
            int(driver.execute_script("return window.innerWidth")),
        )

    main, scroll, inner = await run(as_manager)
    assert "Con l'approvazione si liberano 500,00 €: quanto resta per nuove determine passa da" in (
        main
    ), main
    assert "della tranche 1 restano non assegnati 450,00 €" in main, main
    assert scroll <= inner, (scroll, inner)


async def test_a_phone_the_citizens_chat_asked_says_what_approving_does_without_cutting_words(
    demo_server: tuple[str, FakeClock], driver: WebDriver, sqlite_url: str, tmp_path: Path
) -> None:
    """A number a demo citizen's Telegram chat shared waits on the manager's dashboard at
    1366 px: beside its buttons, what approving and withdrawing do; the explanation keeps a
    reading width, so no other cell of the row cuts a word ("telefon / o", "202 / 6")."""
    from sqlalchemy import update

    from buonispesa.demo import DEMO_CITIZENS
    from core.services import identity, municipalities

    base, clock = demo_server
    async with _demo_core(sqlite_url, clock) as core:
        async with core.uow() as uow:
            town = await municipalities.require(uow, "BEL")
            await uow.session.execute(
                update(m.Citizen)
                .where(m.Citizen.codice_fiscale == DEMO_CITIZENS[4].codice_fiscale)
                .values(phone=None, phone_proven_by=None, phone_proven_at=None)
                .values(telegram_chat_id="77")
            )
            await uow.commit()
        async with core.uow() as uow:
            with pytest.raises(identity.FirstNumberNeedsOffice):
                await identity.link_telegram(uow, town.id, "77", "+393339998877", clock())
            await uow.commit()

    def dashboard() -> tuple[str, list[str]]:
        driver.set_window_size(1366, 900)
        _sign_in(driver, base, "bel.manager")
        row = driver.find_element("css selector", "#phone-changes ~ div tr[id^=request-]")
        driver.execute_script("arguments[0].scrollIntoView()", row)
        assert driver.save_screenshot(str(tmp_path / "dashboard-chat-phone.png"))
        # A word whose letters lie on two lines: two boxes for one word's range.
        cut = driver.execute_script(
            "const cut = [];"
            "for (const td of arguments[0].querySelectorAll('td:not(:last-child)')) {"
            " const walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);"
            " for (let n = walk.nextNode(); n; n = walk.nextNode()) {"
            "  for (const m of n.data.matchAll(/\\S+/g)) {"
            "   const r = document.createRange();"
            "   r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);"
            "   if (r.getClientRects().length > 1) cut.push(m[0]); } } }"
            "return cut;",
            row,
        )
        return str(row.text), [str(word) for word in cut]

    text, cut = await run(dashboard)
    assert "la chat Telegram del cittadino" in text
    assert "Se approvato, diventa il suo telefono e la chat resta collegata" in " ".join(
        text.split()
    )
    assert cut == [], cut


async def test_a_second_economia_is_refused_and_a_second_approval_told_in_italian(
    demo_server: tuple[str, FakeClock], driver: WebDriver, tmp_path: Path
) -> None:
    """On a laptop (1366) and a phone (390), in Italian: while an economia waits, the clerk
    sends another one; the fund's page comes back (not "Non eseguito") with why in the
    determina's row, the form open with what was typed, and nothing wider than the screen.
    A manager approves the waiting economia in one tab, then again in a tab left open: the
    second click lands on the fund's page too, told that the act was already approved and
    carried out, and the economia is freed once."""
    from selenium.webdriver.common.by import By

    base, clock = demo_server
    today = clock().astimezone(ZoneInfo("Europe/Rome")).strftime("%d/%m/%Y")

    def send(amount: str, width: int) -> tuple[str, str, str, int, int]:
        _economia_form(driver, base, width, today, "det. 9/2026", amount)
        alerts = driver.find_elements(By.CSS_SELECTOR, "p.error[id^=eco-problem]")
        if alerts:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", alerts[0])
        assert driver.save_screenshot(str(tmp_path / f"fund-economia-twice-{width}.png"))
        kept = driver.find_elements(By.CSS_SELECTOR, "details[open] input[name=amount]")
        return (
            str(driver.title),
            alerts[0].text if alerts and alerts[0].is_displayed() else "",
            kept[0].get_attribute("value") or "" if kept else "",
            int(driver.execute_script("return document.documentElement.scrollWidth")),
            int(driver.execute_script("return window.innerWidth")),
        )

    await run(_sign_in_as_clerk, driver, base)
    title, said, _, _, _ = await run(send, "100", 1366)
    assert not said, said
    for width in (1366, 390):
        title, said, kept, scroll, inner = await run(send, "50", width)
        assert "Non eseguito" not in title, title
        assert "L'atto di economia" in said and "è già in attesa di approvazione" in said, said
        assert "Nulla è stato modificato." in said, said
        assert kept == "50" and scroll <= inner, (width, kept, scroll, inner)

    approve = "//button[starts-with(., 'Approva')]"

    def two_tabs(width: int) -> tuple[str, str, int, int]:
        driver.delete_all_cookies()
        _sign_in(driver, base, "bel.manager")
        driver.set_window_size(width, 844 if width < 500 else 768)
        driver.get(base + "/office/fund")
        first = driver.current_window_handle
        driver.switch_to.new_window("tab")
        driver.get(base + "/office/fund")
        _submit_by(driver, approve)
        driver.close()
        driver.switch_to.window(first)
        _submit_by(driver, approve)
        # The second click acts on nothing and lands where the first did, told why.
        notice = driver.find_element(By.CSS_SELECTOR, "p.notice")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", notice)
        assert driver.save_screenshot(str(tmp_path / f"fund-approved-twice-{width}.png"))
        main = driver.find_element(By.TAG_NAME, "main").text
        assert str(driver.current_url).endswith("/office/fund"), driver.current_url
        return (
            " ".join(str(notice.text).split()),
            " ".join(str(main).split()),
            int(driver.execute_script("return document.documentElement.scrollWidth")),
            int(driver.execute_script("return window.innerWidth")),
        )

    said, main, scroll, inner = await run(two_tabs, 390)
    assert "è già stato approvato da bel.manager" in said and "eseguito" in said, said
    assert "Non eseguito" not in str(driver.title) and scroll <= inner, (scroll, inner)
    assert "Liberati da economie (non più impegnati) 100,00 €" in main, main


async def test_the_transparency_report_says_what_economie_freed_beside_the_budget(
    demo_server: tuple[str, FakeClock], driver: WebDriver, sqlite_url: str, tmp_path: Path
) -> None:
    """The town frees 200 € of the demo's tranche (an economia, approved): the report's
    tranches table, in Italian on a laptop and a phone, says beside the budget what economie
    freed and what the determina still commits, nothing wider than the screen."""
    from selenium.webdriver.common.by import By

    from core.services import economia, municipalities

    base, clock = demo_server
    async with _demo_core(sqlite_url, clock) as core, core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        rest = (await economia.rests(uow, town))[-1]
        await economia.free(
            uow,
            town,
            rest.allocation_id,
            200_00,
            "det. n. 9/2026",
            clock().date(),
            clock(),
            actor="bel.manager",
            operator_id=None,
            act_id=None,
        )
        await uow.commit()
    budget = rest.budget_cents

    def report(width: int) -> tuple[str, int, int]:
        driver.set_window_size(width, 844 if width < 500 else 768)
        driver.get(base + f"/office/transparency?window={rest.window}")
        heading = driver.find_element(By.XPATH, "//h4[starts-with(., 'Tranche')]")
        table = heading.find_element(By.XPATH, "following-sibling::table[1]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", heading)
        assert driver.save_screenshot(str(tmp_path / f"transparency-economie-{width}.png"))
        return (
            # Its header too, which a phone shows beside each value (a stacked table).
            " ".join(str(table.get_attribute("textContent")).split()),
            int(driver.execute_script("return document.documentElement.scrollWidth")),
            int(driver.execute_script("return window.innerWidth")),
        )

    await run(_sign_in_as_clerk, driver, base)
    for width in (1366, 390):
        text, scroll, inner = await run(report, width)
        assert "Liberato da economie" in text and "Ancora impegnato" in text, text
        committed = f"{(budget - 200_00) // 100:,}".replace(",", ".") + ",00 €"
        assert "200,00 €" in text and committed in text, (committed, text)
        assert scroll <= inner, (width, scroll, inner)


async def test_an_economia_before_its_determina_a_week_day_and_a_hand_made_form_are_said(
    demo_server: tuple[str, FakeClock], driver: WebDriver, sqlite_url: str, tmp_path: Path
) -> None:
    """At 1366 and 390 px, in Italian: the clerk types the day before the demo's determina
    (said beside the day, with the determina's day), then an ISO week day (said as not a
    date), then sends the form with its determina taken out as a hand-made one would (said
    above the table); nothing wider than the screen, nothing prepared."""
    from selenium.webdriver.common.by import By
    from sqlalchemy import select

    from core.services import economia, municipalities

    base, clock = demo_server
    async with _demo_core(sqlite_url, clock) as core, core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        rest = (await economia.rests(uow, town))[-1]
    determina_day = rest.approved_at.astimezone(ZoneInfo("Europe/Rome")).date()
    before = f"{determina_day - timedelta(days=1):%d/%m/%Y}"

    def send(day: str, width: int, *, hand_made: bool = False) -> tuple[str, str, int, int]:
        driver.set_window_size(width, 844 if width < 500 else 768)
        driver.get(base + "/office/fund")
        form = driver.find_element(By.CSS_SELECTOR, "form input[name=kind][value=economia]")
        details = form.find_element(By.XPATH, "./ancestor::details")
        if details.get_attribute("open") is None:
            details.find_element(By.TAG_NAME, "summary").click()
        box = details.find_element(By.CSS_SELECTOR, "input[name=act_on]")
        box.clear()
        box.send_keys(day)
        details.find_element(By.CSS_SELECTOR, "input[name=reference]").send_keys("det. 9/2026")
        if hand_made:
            driver.execute_script(
                "arguments[0].remove()",
                details.find_element(By.CSS_SELECTOR, "input[name=allocation]"),
            )
        _submit(driver, details.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        said = driver.find_elements(
            By.CSS_SELECTOR, "p.error#eco-problem" if hand_made else "details[open] .field-error"
        )
        if said:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", said[0])
        name = "hand" if hand_made else day[:4].replace("/", "")
        assert driver.save_screenshot(str(tmp_path / f"fund-economia-{name}-{width}.png"))
        return (
            str(driver.title),
            said[0].text if said and said[0].is_displayed() else "",
            int(driver.execute_script("return document.documentElement.scrollWidth")),
            int(driver.execute_script("return window.innerWidth")),
        )

    await run(_sign_in_as_clerk, driver, base)
    for width in (1366, 390):
        title, said, scroll, inner = await run(send, before, width)
        assert "Non eseguito" not in title and scroll <= inner, (title, scroll, inner)
        assert f"prima del {determina_day:%d/%m/%Y}, il giorno della determina" in said, said
        _, said, scroll, inner = await run(send, "2026-W49-1", width)
        assert "2026-W49-1 non è una data" in said and scroll <= inner, said
        _, said, scroll, inner = await run(
            lambda w: send(f"{determina_day:%d/%m/%Y}", w, hand_made=True), width
        )
        assert "Il modulo non diceva di quale determina" in said and scroll <= inner, said
    async with _demo_core(sqlite_url, clock) as core, core.uow() as uow:
        kinds = await uow.session.scalars(select(m.OfficeAct.kind))
        assert "economia" not in set(kinds)


async def test_a_receipt_s_refused_amount_is_said_beside_it_and_nothing_typed_is_lost(
    demo_server: tuple[str, FakeClock], driver: WebDriver, tmp_path: Path
) -> None:
    """A clerk records the State's fund with a typo in the amount (three decimals, zero, a
    digit too many): the page is the fund's form again, on a desktop and on a phone, with
    why beside the amount and the amount, the description and the day as typed; before, it
    was a "Non eseguito" page and all of it had to be typed again."""
    from selenium.webdriver.common.by import By

    base, _ = demo_server

    def record(amount: str, width: int) -> dict[str, Any]:
        driver.set_window_size(width, 844 if width < 500 else 768)
        driver.get(base + "/office/fund")
        form = driver.find_element(By.ID, "fund-amount").find_element(By.XPATH, "./ancestor::form")
        form.find_element(By.ID, "fund-amount").send_keys(amount)
        form.find_element(By.ID, "fund-description").send_keys("Fondo statale, seconda quota")
        day = form.find_element(By.ID, "fund-day")
        day.clear()
        day.send_keys("03/04/2026")
        _submit(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        said = driver.find_elements(By.ID, "fund-amount-problem")
        if said:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", said[0])
        assert driver.save_screenshot(str(tmp_path / f"fund-amount-{len(amount)}-{width}.png"))
        return {
            "title": str(driver.title),
            "said": said[0].text if said and said[0].is_displayed() else "",
            "kept": [
                driver.find_element(By.ID, field).get_attribute("value")
                for field in ("fund-amount", "fund-description", "fund-day")
            ],
            "invalid": driver.find_element(By.ID, "fund-amount").get_attribute("aria-invalid"),
            "fits": int(driver.execute_script("return document.documentElement.scrollWidth"))
            <= int(driver.execute_script("return window.innerWidth")),
        }

    await run(_sign_in_as_clerk, driver, base)
    for width in (1366, 390):
        for amount, why in (
            ("1.500,125", "al massimo due decimali"),
            ("0", "maggiore di zero"),
            ("150.000.000", "non è un importo plausibile"),
        ):
            page = await run(record, amount, width)
            assert page["title"].startswith("Il fondo del Comune"), page
            assert why in page["said"], page
            assert page["kept"] == [amount, "Fondo statale, seconda quota", "03/04/2026"], page
            assert page["invalid"] == "true" and page["fits"], page


async def test_the_sample_is_drawn_only_after_the_page_that_says_it_cannot_be_undone(
    demo_server: tuple[str, FakeClock], driver: WebDriver, tmp_path: Path
) -> None:
    """ "Estrai" on the checks page draws nothing yet: a page says the first draw binds and
    that no draw can be undone, with the per cent and the seed typed, on a phone too; only
    its "Sì, estrai" draws. Before, one click drew the binding sample, a typo included."""
    from selenium.webdriver.common.by import By

    base, _ = demo_server

    def ask() -> tuple[str, str, bool]:
        driver.set_window_size(390, 844)
        driver.get(base + "/office/audit")
        driver.find_element(By.ID, "percent").send_keys("10")
        driver.find_element(By.ID, "seed").send_keys("20261206")
        _submit_by(driver, "//form[contains(@action, '/audit/draw')]//button")
        assert driver.save_screenshot(str(tmp_path / "audit-draw-confirm-390.png"))
        return (
            str(driver.find_element(By.TAG_NAME, "h1").text),
            str(driver.find_element(By.TAG_NAME, "main").text),
            int(driver.execute_script("return document.documentElement.scrollWidth")) <= 390,
        )

    await run(_sign_in_as_clerk, driver, base)
    heading, said, fits = await run(ask)
    assert heading == "Estrarre il campione del bando 1?" and fits, (heading, said)
    assert "Il 10 per cento delle domande del bando 1, estratte con il seme 20261206" in said
    assert "Un'estrazione non si può annullare né sostituire" in said, said
    # The page names the town in its header, as every other page does.
    town = await run(lambda: driver.find_element(By.CSS_SELECTOR, "header .town").text)
    assert town == "Belforte del Chienti", town
    await run(driver.get, base + "/office/audit")
    # Asked, not drawn: no sample names the seed (the form may offer it again, typed once).
    shown = str(await run(lambda: driver.find_element(By.TAG_NAME, "main").text))
    assert "20261206" not in shown, shown
    await run(ask)
    await run(_submit_by, driver, "//button[starts-with(., 'Sì, estrai il campione')]")
    notice = await run(lambda: driver.find_element(By.CSS_SELECTOR, ".notice").text)
    assert "estratta con seme 20261206; l'estrazione è registrata" in str(notice), notice
