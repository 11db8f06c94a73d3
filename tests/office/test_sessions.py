"""The office's sessions over HTTP: signing out ends them for a copied cookie too, they
expire idle or at their lifetime (the sign-in says so and goes back to the page), a
password change ends the others, and the password page says what is wrong."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.bootstrap import Core
from core.services import activity, municipalities, operators
from tests.conftest import FakeClock
from tests.office.conftest import PASSWORD, Towns, signed_in
from tests.office.harness import OfficeBrowser, OfficeServer, Page, office_server
from tests.office.test_sign_in import error_of

COOKIE = "buonispesa_office"
EXPIRED = "La sessione è scaduta: accedi di nuovo per continuare."
IDLE = "La sessione è scaduta dopo 30 minuti senza attività: accedi di nuovo per continuare."


@pytest.fixture
async def office(towns: Towns, core: Core, database_url: str) -> AsyncIterator[OfficeServer]:
    """The towns' office with the session rules `serve` sets (not the towns' lasting ones)."""
    async with office_server(core, database_url) as server:
        yield server


def session_cookie(browser: OfficeBrowser) -> str:
    return next(c.value for c in browser.client.session.cookie_jar if c.key == COOKIE)


async def with_cookie(office: OfficeServer, cookie: str, path: str) -> Page:
    """What another browser holding a copy of the cookie gets."""
    thief = await office.browser()
    return await thief.get(path, follow=False, headers={"Cookie": f"{COOKIE}={cookie}"})


async def test_a_cookie_copied_before_sign_out_gets_the_sign_in_page_after(
    office: OfficeServer,
) -> None:
    browser = await signed_in(office, "bel.clerk")
    copied = session_cookie(browser)
    page = await with_cookie(office, copied, "/office/applications?q=RSSMRA")
    assert page.status == 200  # the copy works while the session is on
    await browser.post("/office/sign-out")
    page = await with_cookie(office, copied, "/office/applications?q=RSSMRA")
    assert page.status == 303
    assert page.headers["Location"].startswith("/office/sign-in?next=/office/applications")
    page = await browser.get("/office/applications", follow=False)
    assert page.status == 303


async def test_idle_for_30_minutes_the_session_expires_and_sign_in_goes_back_to_the_page(
    office: OfficeServer, clock: FakeClock
) -> None:
    browser = await signed_in(office, "bel.clerk")
    clock.advance(minutes=25)
    assert (await browser.get("/office/round")).url == "/office/round"
    clock.advance(minutes=25)  # 50 minutes after the sign-in, 25 after the last page
    assert (await browser.get("/office/round")).url == "/office/round"
    clock.advance(minutes=31)
    page = await browser.get("/office/activity?page=2")
    assert page.url == "/office/sign-in?next=/office/activity?page%3D2"
    assert IDLE in page.text
    again = await browser.get("/office/sign-in")
    assert IDLE not in again.text  # said once
    page = await browser.post(
        "/office/sign-in",
        {"username": "bel.clerk", "password": PASSWORD, "next": "/office/activity?page=2"},
    )
    assert page.status == 200 and page.url == "/office/activity?page=2"


async def test_the_session_ends_10_hours_after_sign_in_even_in_use(
    office: OfficeServer, clock: FakeClock
) -> None:
    browser = await signed_in(office, "bel.viewer")
    for _ in range(20):  # a page every 29 minutes: 9 hours 40 minutes
        clock.advance(minutes=29)
        assert (await browser.get("/office/")).url == "/office/"
    clock.advance(minutes=21)
    page = await browser.get("/office/")
    assert page.url == "/office/sign-in?next=/office/" and EXPIRED in page.text


async def test_a_form_sent_after_expiry_is_not_done_and_the_sign_in_returns_to_its_page(
    office: OfficeServer, clock: FakeClock
) -> None:
    browser = await signed_in(office, "bel.clerk")
    await browser.get("/office/round")
    clock.advance(minutes=31)
    page = await browser.post("/office/password", {"current": PASSWORD, "new": "x", "repeat": "x"})
    assert page.url == "/office/sign-in?next=/office/round" and IDLE in page.text
    # The sign-in keeps its CSRF protection: without the token it is refused.
    refused = await browser.post(
        "/office/sign-in", {"username": "bel.clerk", "password": PASSWORD}, csrf=False
    )
    assert refused.status == 403
    page = await browser.post(
        "/office/sign-in",
        {"username": "bel.clerk", "password": PASSWORD, "next": "/office/round"},
    )
    assert page.url == "/office/round"
    assert "csrf_token" in page.text and browser.csrf is not None


async def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(
    office: OfficeServer,
) -> None:
    desk = await signed_in(office, "bel.manager")
    other = await signed_in(office, "bel.manager")
    await desk.get("/office/password")
    page = await desk.post(
        "/office/password",
        {
            "current": PASSWORD,
            "new": "quiet river under stone",
            "repeat": "quiet river under stone",
        },
    )
    assert page.url == "/office/" and "Password cambiata" in page.text
    assert (await desk.get("/office/round")).url == "/office/round"
    page = await other.get("/office/round")
    assert page.url.startswith("/office/sign-in") and EXPIRED in page.text


async def test_disabling_an_operator_ends_their_session(office: OfficeServer, core: Core) -> None:
    browser = await signed_in(office, "bel.clerk")
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await operators.disable(uow, town, "bel.clerk", core.now(), "cli:admin")
        await uow.commit()
    page = await browser.get("/office/applications")
    assert page.url.startswith("/office/sign-in") and EXPIRED in page.text
    assert (await browser.sign_in("bel.clerk", PASSWORD)).status == 401


async def test_the_password_page_says_what_is_wrong_in_italian(office: OfficeServer) -> None:
    browser = await signed_in(office, "bel.clerk")
    await browser.get("/office/password")
    cases = [
        (
            {"current": "not it", "new": "quiet river under stone"},
            "La password attuale non è giusta: scrivi quella con cui hai fatto l'accesso.",
        ),
        (
            {"current": PASSWORD, "new": "aaaaaaaaaaaa"},
            "Questa password è troppo facile da indovinare",
        ),
        (
            {"current": PASSWORD, "new": "Belforte 2026 ok"},
            "La nuova password non deve contenere il nome del Comune.",
        ),
        (
            {"current": PASSWORD, "new": "bel.clerk forever"},
            "La nuova password non deve contenere il tuo nome utente.",
        ),
    ]
    for form, said in cases:
        page = await browser.post("/office/password", {**form, "repeat": form["new"]})
        assert page.status == 400 and error_of(page).replace("&#39;", "'").startswith(said)
        assert "Nome utente" not in error_of(page)
    page = await browser.post(
        "/office/password",
        {"current": PASSWORD, "new": "quiet river under stone", "repeat": "quiet river"},
    )
    assert page.status == 400 and error_of(page) == "Le due nuove password non sono uguali."
    # Nothing was changed: the old password still signs in.
    assert (await (await office.browser()).sign_in("bel.clerk", PASSWORD)).url == "/office/"


async def _with_stolen_cookie(office: OfficeServer, victim: OfficeBrowser) -> OfficeBrowser:
    thief = await office.browser()
    stolen = next(c for c in victim.client.session.cookie_jar if c.key == COOKIE)
    thief.client.session.cookie_jar.update_cookies(
        {COOKIE: stolen}, victim.client.make_url("/office/")
    )
    page = await thief.get("/office/password")
    assert page.url == "/office/password"  # the copy works while the session is on
    return thief


LOCKED_OUT = "Troppe password attuali sbagliate: le tue sessioni sono state chiuse"


async def test_wrong_current_passwords_count_as_wrong_sign_ins_and_end_every_session(
    office: OfficeServer, core: Core
) -> None:
    """A stolen session cookie cannot guess the password on the password page: its wrong
    current passwords count with the wrong sign-ins of browsers the operator never used,
    and the fifth in a row locks those browsers out and ends every session of the
    operator, logged."""
    desk = await signed_in(office, "bel.manager")
    other = await signed_in(office, "bel.manager")
    stranger = await office.browser()
    for _ in range(2):  # two wrong sign-ins from elsewhere
        assert (await stranger.sign_in("bel.manager", "not the password")).status == 401
    thief = await _with_stolen_cookie(office, desk)
    wrong = {"current": "guess one two three", "new": "quiet river under stone"}
    for left in (2, 1):
        page = await thief.post("/office/password", {**wrong, "repeat": wrong["new"]})
        assert page.status == 400
        assert error_of(page).replace("&#39;", "'") == (
            "La password attuale non è giusta: scrivi quella con cui hai fatto l'accesso. "
            "Tentativi sbagliati rimasti prima dell'uscita da tutti i computer e del blocco "
            f"per 15 minuti: {left}."
        )
    page = await thief.post("/office/password", {**wrong, "repeat": wrong["new"]})
    assert page.url == "/office/sign-in" and LOCKED_OUT in page.text
    # Every session of the operator ended: the thief's copy, the desk's, the other's.
    assert (await thief.get("/office/round")).url.startswith("/office/sign-in")
    for browser in (desk, other):
        page = await browser.get("/office/round")
        assert page.url.startswith("/office/sign-in") and EXPIRED in page.text
    # The same lock as five wrong sign-ins: no browser the operator never used signs in,
    # not even with the right password; the desk's browser (known) does.
    assert (await (await office.browser()).sign_in("bel.manager", PASSWORD)).status == 401
    assert (await desk.sign_in("bel.manager", PASSWORD)).url == "/office/"
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        logged = [
            entry
            for entry in await activity.entries(uow, town.id)
            if entry.action == "operator.password_change_locked"
        ]
    assert len(logged) == 1
    assert logged[0].subject == "bel.manager"
    assert logged[0].after is not None and logged[0].after["sessions_ended"] == 2
    assert logged[0].after["browser"] == "unknown"
    # The password did not change.
    assert (await desk.sign_in("bel.manager", wrong["new"])).status == 401


async def test_wrong_current_passwords_from_the_operators_own_browser_lock_only_it(
    office: OfficeServer,
) -> None:
    """Wrong current passwords from the operator's own browser count for that browser:
    four, then the right one changes the password; in English the lock is said too."""
    desk = await signed_in(office, "bel.clerk")
    await desk.post("/office/language", {"lang": "en", "next": "/office/password"})
    wrong = {"current": "guess one two three", "new": "quiet river under stone"}
    for left in (4, 3, 2, 1):
        page = await desk.post("/office/password", {**wrong, "repeat": wrong["new"]})
        assert page.status == 400 and error_of(page).endswith(f"for 15 minutes: {left}.")
    page = await desk.post("/office/password", {**wrong, "repeat": wrong["new"]})
    assert page.url == "/office/sign-in"
    assert "Too many wrong current passwords: you were signed out on every computer" in page.text
    # This browser is locked out; one the clerk never used is not (its own count).
    assert (await desk.sign_in("bel.clerk", PASSWORD)).status == 401
    assert (await (await office.browser()).sign_in("bel.clerk", PASSWORD)).url == "/office/"
