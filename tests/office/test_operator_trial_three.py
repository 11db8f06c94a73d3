"""A third operator's day in the office (Italian, at the desk and on a phone): what a tired
operator tripped on. The round page offered "Apri un nuovo bando" while the approved tranche
still waited for its credit, a button that could only be refused; a search by the
applicant's surname found nothing and did not say why; an unexpected error was aiohttp's
English "500 Internal Server Error", with no way back to the office."""

from __future__ import annotations

from html import unescape

import pytest

from core.bootstrap import Core
from core.services import allocation, back_office, municipalities
from tests.integration.office_helpers import apply, person
from tests.office.conftest import Towns, signed_in


async def test_the_round_says_the_credit_comes_before_a_new_window(
    towns: Towns, core: Core
) -> None:
    await apply(towns.bel, person(1, 2), person(2, 1))
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/round/window/close", {"number": "1", "confirm": "yes"})
    towns.bel.clock.advance(days=1)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.approve(uow, town, 200_00, towns.bel.clock())
        await uow.commit()
    said = unescape((await clerk.get("/office/round")).text)
    # Said in place of the button, which could only be refused.
    assert (
        "La tranche 1 è approvata ma non ancora accreditata: accreditala, o ritirala, "
        "prima di aprire un nuovo bando." in said
    ), said
    assert 'action="/office/round/window/open"' not in said
    await clerk.post("/office/language", {"lang": "en"})
    said = unescape((await clerk.get("/office/round")).text)
    assert "Tranche 1 is approved and not credited yet: credit it, or withdraw it" in said
    # Credited, the button is back.
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.credit(uow, town, towns.bel.clock())
        await uow.commit()
    said = unescape((await clerk.get("/office/round")).text)
    assert 'action="/office/round/window/open"' in said
    assert "not credited yet" not in said


async def test_a_search_by_name_says_applications_hold_no_names(towns: Towns) -> None:
    await apply(towns.bel, person(1, 2))
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/applications?q=Rossi")
    said = unescape(page.text)
    assert page.status == 200
    assert "0 domande trovate" in said
    assert (
        "Nessuna domanda trovata per «Rossi». Le domande non riportano nomi: cerca per "
        "protocollo, codice fiscale o telefono." in said
    ), said
    # What was typed is shown as text, never as markup.
    page = await clerk.get("/office/applications?q=<b>Rossi</b>")
    assert "«&lt;b&gt;Rossi&lt;/b&gt;»" in page.text and "<b>Rossi" not in page.text
    # A search that finds something, or none typed, says nothing of the kind.
    for query in ("", "BEL"):
        page = await clerk.get(f"/office/applications?q={query}")
        assert "non riportano nomi" not in unescape(page.text), query
    await clerk.post("/office/language", {"lang": "en"})
    said = unescape((await clerk.get("/office/applications?q=Rossi")).text)
    assert 'No application found for "Rossi". Applications hold no names' in said
    viewer = await signed_in(towns.server, "bel.viewer")
    said = unescape((await viewer.get("/office/applications?q=Rossi")).text)
    assert "Le domande non riportano nomi: cerca per protocollo." in said, said


async def test_an_unexpected_error_is_the_offices_page_with_a_way_back(
    towns: Towns, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(back_office, "dashboard", broken)
    page = await clerk.get("/office/round")
    said = unescape(page.text)
    assert page.status == 500
    assert "Internal Server Error" not in said and "Server got itself in trouble" not in said
    assert "Errore imprevisto del programma" in said, said
    assert 'href="/office/"' in said  # the way back: the dashboard
    assert "a bug" not in said  # nothing of the program's insides on the page
    assert any("a bug" in str(record.exc_info) for record in caplog.records)
    # Redirects and refusals are what they were: the same page after the language…
    page = await clerk.post("/office/language", {"lang": "en"})
    assert "Unexpected error in the program" in unescape(page.text)
    # … and an application that does not exist is still the not-found page.
    page = await clerk.get("/office/applications/BEL-2026-999999")
    assert page.status == 404


async def test_signing_out_says_so_once(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.post("/office/sign-out")
    said = unescape(page.text)
    assert page.url.startswith("/office/sign-in"), page.url
    # The sign-in page looked the same before and after: had the click worked?
    assert "Hai chiuso la sessione dell'ufficio su questo browser." in said, said
    said = unescape((await clerk.get("/office/sign-in")).text)
    assert "Hai chiuso la sessione" not in said
    # Signed out for good: a page leads to the sign-in.
    page = await clerk.get("/office/round")
    assert page.url.startswith("/office/sign-in"), page.url


async def test_a_page_inside_a_section_is_marked_in_the_menu(towns: Towns) -> None:
    """One application's page, the desk's form, closing the window: the bar marked no section
    and the phone's menu read "Menu" alone, as if the operator had left "Domande"."""
    [protocol] = await apply(towns.bel, person(1, 2))
    clerk = await signed_in(towns.server, "bel.clerk")
    for path, href, label in (
        (f"/office/applications/{protocol}", "/office/applications", "Domande"),
        ("/office/applications/new", "/office/applications", "Domande"),
        ("/office/round/window/close", "/office/round", "Bando e tranche"),
        ("/office/applications", "/office/applications", "Domande"),
        ("/office/", "/office/", "Cruscotto"),
    ):
        said = unescape((await clerk.get(path)).text)
        assert f'<a href="{href}" aria-current="page">{label}</a>' in said, path
        assert said.count('aria-current="page"') == 2, path  # the bar and the phone's menu
        assert f"Menu: {label}</summary>" in said.replace("\n", ""), path
    # A protocol that is not found is still under "Domande", where its way back is.
    said = unescape((await clerk.get("/office/applications/BEL-2026-999999")).text)
    assert 'aria-current="page">Domande' in said


async def test_who_wrote_from_a_chat_is_said_in_words(towns: Towns, core: Core) -> None:
    """An appeal written in the chat: the application's history and the activity log named
    its author "chat:sms", the program's own code, beside operators' usernames."""
    from core.services import appeals
    from tests.integration.office_helpers import close_approve_credit

    [protocol] = await apply(towns.bel, person(1, 2))
    await close_approve_credit(towns.bel, 500_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        citizen = await uow.citizens.by_codice_fiscale(town.id, person(1, 2).codice_fiscale)
        assert citizen is not None
        await appeals.file_appeal(
            uow, town, citizen, "ho perso il lavoro", "sms", towns.bel.clock()
        )
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    for path in (f"/office/applications/{protocol}", "/office/activity"):
        said = unescape((await clerk.get(path)).text)
        assert "chat:sms" not in said, path
        assert "dalla chat (SMS)" in said, path
    await clerk.post("/office/language", {"lang": "en"})
    said = unescape((await clerk.get("/office/activity")).text)
    assert "from the chat (SMS)" in said


async def test_the_desks_phone_field_says_it_replaces_the_phone_on_record(towns: Towns) -> None:
    """An application with a phone showed an empty "Telefono verificato allo sportello" and
    "Registra il telefono" under it: did it add a second number, or replace the first?"""
    from dataclasses import replace

    [with_phone] = await apply(towns.bel, person(1, 2))
    [without] = await apply(towns.bel, replace(person(2, 1), phone=None))
    clerk = await signed_in(towns.server, "bel.clerk")
    said = unescape((await clerk.get(f"/office/applications/{with_phone}")).text)
    phone = person(1, 2).phone
    assert f"Nuovo telefono verificato allo sportello (con un documento), al posto di {phone}" in (
        said
    ), said
    assert ">Sostituisci il telefono</button>" in said
    said = unescape((await clerk.get(f"/office/applications/{without}")).text)
    assert "Telefono verificato allo sportello (con un documento)" in said
    assert ">Registra il telefono</button>" in said and "al posto di" not in said
