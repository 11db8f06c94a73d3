"""A user trial's findings in the office: the desk refuses a phone that cannot receive the
payment codes by SMS (a landline, the town's own SMS number), and a new window is not
opened while the closed one has applications no tranche decided."""

from __future__ import annotations

from dataclasses import replace
from html import unescape

from core.bootstrap import Core
from core.services import allocation, municipalities
from tests.factories import make_cf
from tests.integration.office_helpers import apply, person
from tests.integration.test_application_desk import paper
from tests.office.conftest import Towns, signed_in
from tests.office.test_applications import HEADER, count_applications, upload

TOWN_MOBILE = "+393401234567"  # the town's SMS number, a mobile as Italian Twilio numbers are


async def test_the_desk_refuses_a_landline_and_the_towns_number(towns: Towns, core: Core) -> None:
    async with core.uow() as uow:
        await municipalities.update_municipality(uow, "BEL", sms_number=TOWN_MOBILE)
        await uow.commit()
    [protocol] = await paper(towns.bel, replace(person(1, 1), phone=None))
    clerk = await signed_in(towns.server, "bel.clerk")
    url = f"/office/applications/{protocol}"
    for typed, said in (
        ("0733 905000", "Questo è un numero fisso: i codici arrivano per SMS, serve un cellulare."),
        ("+44 20 7123 4567", "Questo è un numero fisso"),
        ("800 123 456", "Questo numero non riceve SMS: i codici arrivano per SMS"),
        (TOWN_MOBILE, "Questo è il numero SMS del Comune: i codici arrivano per SMS"),
    ):
        for action in ("phone", "delegate"):
            page = await clerk.post(f"{url}/{action}", {"phone": typed})
            assert page.status in (400, 409), (typed, action, page.status)
            assert said in unescape(page.text), (typed, action)
            assert "L'operazione è stata rifiutata" not in unescape(page.text)
    page = await clerk.get(url)
    assert "***000" not in page.text and "***234" not in page.text
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(protocol)
        assert application is not None
        citizen = await uow.citizens.by_id(application.citizen_id)
        assert citizen is not None and citizen.phone is None
        assert await uow.delegates.of_citizen(citizen.id) is None
        assert await uow.phone_changes.waiting_for(citizen, "delegate") is None
    # A foreign mobile is taken: a resident may have a foreign SIM.
    page = await clerk.post(f"{url}/phone", {"phone": "+44 7911 123456"})
    assert page.status == 200 and "+447911123456" in page.text


async def test_a_paper_import_with_a_landline_is_refused_whole(towns: Towns, core: Core) -> None:
    towns.bel.clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    rows = (
        f"{make_cf(21)},+393339000021,1,no,no,0,0,0,2026-04-06T10:10:00\n"
        f"{make_cf(22)},0733 905000,1,no,no,0,0,0,2026-04-06T10:20:00\n"
    )
    page = await upload(clerk, HEADER + rows)
    said = unescape(page.text)
    assert page.status in (400, 409), page.status
    assert "riga 3" in said and "Questo è un numero fisso" in said, said
    assert await count_applications(core) == 0


async def windows(core: Core) -> int:
    async with core.uow() as uow:
        return len(await uow.rounds.of_municipality(1))


async def test_no_new_window_while_the_closed_one_was_never_allocated(
    towns: Towns, core: Core
) -> None:
    await apply(towns.bel, person(1, 2), person(2, 1))
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.post("/office/round/window/close", {"confirm": "yes", "number": "1"})
    assert page.status == 200 and "Il bando 1 è chiuso." in page.text
    # Said before the button is pressed…
    said = unescape((await clerk.get("/office/round")).text)
    assert "Il bando 1 ha 2 domande mai assegnate: approva la loro tranche prima di" in said
    # … in place of the button, which could only be refused ("Apri un nuovo bando");
    assert 'action="/office/round/window/open"' not in said
    # … and pressing it anyway opens nothing.
    page = await clerk.post("/office/round/window/open", {"days": "3"})
    said = unescape(page.text)
    assert page.status == 409, page.status
    assert (
        "Il bando 1 ha 2 domande mai assegnate: approva prima la loro tranche. "
        "Non è stato aperto nulla." in said
    ), said
    assert await windows(core) == 1
    assert "Bando 1, chiuso" in unescape((await clerk.get("/office/")).text)
    await clerk.post("/office/language", {"lang": "en"})
    page = await clerk.post("/office/round/window/open", {"days": "3"})
    assert "Window 1 has 2 applications never allocated" in unescape(page.text)
    # Approved, the tranche still waits for its credit: the older guard, now in words too.
    towns.bel.clock.advance(days=1)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.approve(uow, town, 200_00, towns.bel.clock())
        await uow.commit()
    page = await clerk.post("/office/round/window/open", {"days": "3"})
    assert page.status == 409 and "Tranche 1 is approved but not credited" in page.text
    assert "The operation was refused" not in page.text
    # Once a tranche decided them and was credited, the next window opens.
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.credit(uow, town, towns.bel.clock())
        await uow.commit()
    page = await clerk.get("/office/round")
    assert "never allocated" not in page.text
    assert 'action="/office/round/window/open"' in page.text
    page = await clerk.post(
        "/office/round/window/open", {"days": "3", "number": "2", "confirm": "yes"}
    )
    assert page.status == 200 and "Application window 2 is open." in page.text
    assert await windows(core) == 2
