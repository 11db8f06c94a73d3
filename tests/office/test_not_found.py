"""An office address that names no page (a malformed id, a typo) is the office's own
not-found page, in the operator's language, not aiohttp's bare "404: Not Found"."""

from __future__ import annotations

from html import unescape

from tests.office.conftest import Towns, signed_in

MALFORMED = [
    ("post", "/office/appeals/abc/decide"),
    ("post", "/office/acts/abc/approve"),
    ("post", "/office/acts/1x/withdraw"),
    ("post", "/office/appeals/99999999999999999999999/decide"),
    ("get", "/office/acts/abc/sepa.xml"),
    ("post", "/office/shops/abc/approve"),
    ("get", "/office/shops/abc/statement.pdf"),
    ("get", "/office/no-such-page"),
]


async def test_malformed_ids_get_the_offices_not_found_page_in_the_operators_language(
    towns: Towns,
) -> None:
    manager = await signed_in(towns.server, "bel.manager")
    for method, path in MALFORMED:
        if method == "get":
            page = await manager.get(path)
        else:
            page = await manager.post(path, {"outcome": "upheld", "reason": "x"})
        assert page.status == 404, (path, page.text)
        assert "404: Not Found" not in page.text, path
        said = unescape(page.text)
        assert "Questa pagina non esiste nell'ufficio: controlla l'indirizzo." in said, path
        assert "Torna al cruscotto" in page.text, path
    await manager.post("/office/language", {"lang": "en", "next": "/office/"})
    page = await manager.post("/office/appeals/abc/decide", {"outcome": "upheld"})
    assert page.status == 404
    assert "This page does not exist in the office: check the address." in page.text


async def test_an_address_for_another_method_is_a_405_page_and_unsigned_visitors_sign_in(
    towns: Towns,
) -> None:
    manager = await signed_in(towns.server, "bel.manager")
    # A button's address reloaded or pasted (a card's PDF after its download): still a
    # 405 with its Allow header, but the office's page saying what to do, in Italian.
    for path in ("/office/appeals/1/decide", "/office/applications/BEL-2026-000001/card.pdf"):
        page = await manager.get(path)
        assert page.status == 405, path
        assert page.headers["Allow"] == "POST"
        assert "405: Method Not Allowed" not in page.text
        said = unescape(page.text)
        assert "Questo indirizzo è di un pulsante e non si apre da solo" in said, said
        assert "Torna al cruscotto" in page.text
    visitor = await towns.browser()
    page = await visitor.get("/office/appeals/abc/decide", follow=False)
    assert page.status == 303
    assert page.headers["Location"].startswith("/office/sign-in")


async def test_a_refused_form_links_back_to_the_page_it_was_on_and_never_off_the_office(
    towns: Towns,
) -> None:
    manager = await signed_in(towns.server, "bel.manager")
    await manager.get("/office/appeals?status=open")
    page = await manager.post("/office/appeals/abc/decide", {"outcome": "upheld"})
    assert page.status == 404
    assert 'href="/office/appeals?status=open"' in page.text
    assert "Torna alla pagina da cui venivi" in page.text
    assert "Torna al cruscotto" in page.text

    # A Referer from another site, or outside the office, gives no way back but the dashboard.
    for referer in ("https://evil.example/office/appeals", "http://127.0.0.1:1/office/x"):
        page = await manager.post(
            "/office/appeals/abc/decide", {"outcome": "upheld"}, headers={"Referer": referer}
        )
        assert page.status == 404
        assert "evil.example" not in page.text
        assert "Torna alla pagina da cui venivi" not in page.text, referer
        assert "Torna al cruscotto" in page.text
    # A page refused on its own address (a reload) does not link to itself.
    page = await manager.get("/office/no-such-page")
    page = await manager.get("/office/no-such-page")
    assert "Torna alla pagina da cui venivi" not in page.text


async def test_nothing_was_changed_is_said_once_and_only_after_a_form(towns: Towns) -> None:
    manager = await signed_in(towns.server, "bel.manager")
    page = await manager.post("/office/appeals/abc/decide", {"outcome": "upheld"})
    assert unescape(page.text).count("Nulla è stato modificato.") == 1
    page = await manager.get("/office/no-such-page")
    assert "Nulla è stato modificato." not in unescape(page.text)


async def test_a_refusal_that_says_what_was_not_done_is_not_followed_by_nothing_changed(
    towns: Towns,
) -> None:
    """ "Non è stato registrato nulla. Nulla è stato modificato." said the same thing twice."""
    clerk = await signed_in(towns.server, "bel.clerk")
    form = {"amount": "99999999", "description": "Fondo", "received_on": "2026-03-20"}
    page = await clerk.post("/office/fund", form)
    said = unescape(page.text)
    assert page.status in (400, 409) and "Non è stato registrato nulla." in said, said
    assert "Nulla è stato modificato." not in said
