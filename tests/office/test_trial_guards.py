"""A user trial's findings in the office: the desk refuses a phone that cannot receive the
payment codes by SMS (a landline, the town's own SMS number), and a new window is not
opened while the closed one has applications no tranche decided."""

from __future__ import annotations

from dataclasses import replace
from html import unescape

from core.bootstrap import Core
from core.services import municipalities
from tests.factories import make_cf
from tests.integration.office_helpers import person
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
