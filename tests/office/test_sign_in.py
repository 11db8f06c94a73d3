"""Signing in to the office over HTTP: sessions, CSRF, one-time passwords, the lock-out."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.bootstrap import Core
from core.services import municipalities, operators
from core.storage import models as m
from tests.conftest import FakeClock
from tests.office.conftest import PASSWORD, Towns, signed_in
from tests.office.harness import CSRF, OfficeServer, Page, office_server


async def test_without_a_session_every_page_sends_to_the_sign_in(office: OfficeServer) -> None:
    browser = await office.browser()
    for path in ("/office/", "/office/activity", "/office/activity.csv"):
        page = await browser.get(path, follow=False)
        assert page.status == 303
        assert page.headers["Location"].startswith("/office/sign-in?next=")
    page = await browser.get("/office/")
    assert page.url.startswith("/office/sign-in")
    assert '<label for="username">' in page.text and '<label for="password">' in page.text


async def test_the_office_path_without_slash_goes_to_the_office(office: OfficeServer) -> None:
    browser = await office.browser()
    page = await browser.get("/office", follow=False)
    assert page.status == 308 and page.headers["Location"] == "/office/"


async def test_sign_in_shows_the_dashboard_of_the_own_town(office: OfficeServer) -> None:
    browser = await signed_in(office, "bel.clerk")
    page = await browser.get("/office/")
    assert page.status == 200
    assert "Comune di Belforte del Chienti" in page.text and "Calimera" not in page.text
    assert "bel.clerk" in page.text


async def test_the_session_cookie_is_httponly_strict_and_limited_to_the_office(
    office: OfficeServer,
) -> None:
    browser = await office.browser()
    await browser.get("/office/sign-in")
    async with browser.client.post(
        "/office/sign-in",
        data={"username": "bel.clerk", "password": PASSWORD, "csrf_token": browser.csrf},
        allow_redirects=False,
    ) as response:
        cookie = next(
            value
            for value in response.headers.getall("Set-Cookie")
            if value.startswith("buonispesa_office=")
        )
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/office" in cookie
    assert "Secure" not in cookie  # plain http in this test; see the https test below
    assert PASSWORD not in cookie and "bel.clerk" not in cookie  # encrypted


async def test_behind_https_the_cookie_is_secure(core: Core, database_url: str) -> None:
    async with office_server(core, database_url, "https://comune.example.it") as server:
        browser = await server.browser()
        async with browser.client.get("/office/sign-in") as response:
            assert "Secure" in response.headers["Set-Cookie"]


async def test_behind_https_the_device_cookie_is_secure_too(
    towns: Towns, core: Core, database_url: str
) -> None:
    async with office_server(core, database_url, "https://comune.example.it") as server:
        browser = await server.browser()
        async with browser.client.get("/office/sign-in") as response:
            session = response.cookies["buonispesa_office"]
            token = CSRF.search(await response.text())
        assert token is not None
        # The test client keeps no Secure cookie over plain http: the session goes by hand.
        async with browser.client.post(
            "/office/sign-in",
            data={"username": "bel.clerk", "password": PASSWORD, "csrf_token": token.group(1)},
            headers={"Cookie": f"buonispesa_office={session.value}"},
            allow_redirects=False,
        ) as response:
            assert response.status == 303
            assert response.cookies["buonispesa_office_device"]["secure"]


async def test_a_form_without_the_csrf_token_is_refused_with_403(office: OfficeServer) -> None:
    browser = await office.browser()
    page = await browser.post(
        "/office/sign-in", {"username": "bel.clerk", "password": PASSWORD}, csrf=False
    )
    assert page.status == 403
    browser = await signed_in(office, "bel.clerk")
    for path in ("/office/sign-out", "/office/language", "/office/password"):
        page = await browser.post(path, {}, csrf=False)
        assert page.status == 403, path
    page = await browser.post("/office/sign-out", {"csrf_token": "forged"}, csrf=False)
    assert page.status == 403
    page = await browser.get("/office/")
    assert page.status == 200 and page.url == "/office/"  # still signed in: nothing happened


REFUSED = "Nome utente o password sbagliati, oppure troppi tentativi: riprova più tardi."
ERROR = re.compile(r'<p class="error"[^>]*>([^<]*)</p>')


def error_of(page: Page) -> str:
    found = ERROR.search(page.text)
    return found.group(1) if found else ""


async def test_wrong_password_is_refused_with_the_same_words_as_an_unknown_user(
    office: OfficeServer,
) -> None:
    browser = await office.browser()
    wrong = await browser.sign_in("bel.clerk", "not the password")
    unknown = await browser.sign_in("nobody.here", "not the password")
    assert wrong.status == unknown.status == 401
    assert error_of(wrong) == error_of(unknown) == REFUSED


async def test_a_locked_account_answers_as_an_unknown_username_does(
    office: OfficeServer,
) -> None:
    """Else whoever tries five passwords learns which usernames exist."""
    browser = await office.browser()
    for _ in range(operators.MAX_FAILED_SIGN_INS):
        await browser.sign_in("bel.viewer", "guess")
    locked = await browser.sign_in("bel.viewer", PASSWORD)
    unknown = await browser.sign_in("nobody.here", PASSWORD)
    assert locked.status == unknown.status == 401
    assert error_of(locked) == error_of(unknown) == REFUSED
    assert locked.text.replace("bel.viewer", "nobody.here") == unknown.text


async def test_five_failures_lock_the_account_for_15_minutes(
    office: OfficeServer, core: Core, clock: FakeClock
) -> None:
    browser = await office.browser()
    for _ in range(operators.MAX_FAILED_SIGN_INS):
        page = await browser.sign_in("bel.manager", "guess")
        assert page.status == 401
    page = await browser.sign_in("bel.manager", PASSWORD)
    assert page.status == 401 and error_of(page) == REFUSED  # the right password is refused
    clock.advance(minutes=14)
    assert (await browser.sign_in("bel.manager", PASSWORD)).status == 401
    clock.advance(minutes=1, seconds=1)
    page = await browser.sign_in("bel.manager", PASSWORD)
    assert page.status == 200 and page.url == "/office/"
    async with core.uow() as uow:
        entries = await uow.session.scalars(
            select(m.ActivityEntry.action).where(m.ActivityEntry.subject == "bel.manager")
        )
        assert "operator.locked" in list(entries)


async def test_other_accounts_are_not_locked_by_someone_elses_failures(
    office: OfficeServer,
) -> None:
    browser = await office.browser()
    for _ in range(operators.MAX_FAILED_SIGN_INS):
        await browser.sign_in("bel.manager", "guess")
    await signed_in(office, "bel.manager2")


async def test_a_one_time_password_must_be_changed_first(office: OfficeServer, core: Core) -> None:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        _, once = await operators.add_operator(uow, town, "bel.new", "clerk", core.now())
        await uow.commit()
    browser = await office.browser()
    page = await browser.sign_in("bel.new", once)
    assert page.url == "/office/password"
    page = await browser.get("/office/")
    assert page.url == "/office/password"  # nothing else until it is changed
    page = await browser.post(
        "/office/password", {"current": once, "new": "short", "repeat": "short"}
    )
    assert page.status == 400
    page = await browser.post(
        "/office/password",
        {"current": once, "new": "a much longer secret", "repeat": "a much longer secret"},
    )
    assert page.status == 200 and page.url == "/office/"
    other = await office.browser()
    assert (await other.sign_in("bel.new", once)).status == 401
    assert (await other.sign_in("bel.new", "a much longer secret")).url == "/office/"


async def test_sign_out_ends_the_session(office: OfficeServer) -> None:
    browser = await signed_in(office, "bel.viewer")
    page = await browser.post("/office/sign-out")
    assert page.url.startswith("/office/sign-in")
    page = await browser.get("/office/", follow=False)
    assert page.status == 303


async def test_the_language_switch_speaks_english(office: OfficeServer) -> None:
    browser = await signed_in(office, "bel.clerk")
    page = await browser.get("/office/")
    assert '<html lang="it">' in page.text and '<h2 id="h-window">Bando</h2>' in page.text
    page = await browser.post("/office/language", {"lang": "en", "next": "/office/"})
    assert page.url == "/office/"
    assert '<html lang="en">' in page.text and "Application window" in page.text


async def test_an_open_redirect_after_sign_in_is_not_followed(office: OfficeServer) -> None:
    browser = await office.browser()
    await browser.get("/office/sign-in")
    page = await browser.post(
        "/office/sign-in",
        {"username": "bel.clerk", "password": PASSWORD, "next": "https://evil.example/"},
        follow=False,
    )
    assert page.status == 303 and page.headers["Location"] == "/office/"


async def test_the_manager_at_the_office_pc_signs_in_while_strangers_are_locked_out(
    office: OfficeServer,
) -> None:
    office_pc = await signed_in(office, "bel.manager")
    await office_pc.post("/office/sign-out")
    strangers = [await office.browser() for _ in range(2)]
    for attempt in range(operators.MAX_FAILED_SIGN_INS):
        page = await strangers[attempt % 2].sign_in("bel.manager", "guess")
        assert page.status == 401 and error_of(page) == REFUSED
    for stranger in strangers:  # even with the right password
        page = await stranger.sign_in("bel.manager", PASSWORD)
        assert page.status == 401 and error_of(page) == REFUSED
    page = await office_pc.sign_in("bel.manager", PASSWORD)
    assert page.status == 200 and page.url == "/office/"
    assert "bel.manager" in page.text


async def test_the_device_cookie_is_httponly_strict_lasting_and_kept_after_sign_out(
    office: OfficeServer,
) -> None:
    browser = await office.browser()
    await browser.get("/office/sign-in")
    async with browser.client.post(
        "/office/sign-in",
        data={"username": "bel.clerk", "password": PASSWORD, "csrf_token": browser.csrf},
        allow_redirects=False,
    ) as response:
        device = response.cookies["buonispesa_office_device"]
    assert device["httponly"] and device["samesite"] == "Strict" and device["path"] == "/office"
    assert int(device["max-age"]) >= 30 * 24 * 3600 and PASSWORD not in device.value
    await browser.get("/office/")
    await browser.post("/office/sign-out")
    kept = [c for c in browser.client.session.cookie_jar if c.key == "buonispesa_office_device"]
    assert [c.value for c in kept] == [device.value]
