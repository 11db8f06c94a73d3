"""The application's page shows and prints only its applicant's requests (a new phone, a
delegate, a card): an approved card waiting to be printed for one applicant once showed
on every page as that page's own ("A new phone (None) waits…", "Print the card and its
PIN"), and printing there made a PIN card for somebody nobody asked one for. And a number
asked for one household is refused for another when asked, not at the approval."""

from __future__ import annotations

from html import unescape

from core.bootstrap import Core
from tests.integration.office_helpers import close_approve_credit, person
from tests.integration.test_application_desk import paper
from tests.office.conftest import Towns, signed_in
from tests.office.test_application_desk import request_number

FIRST_PHONE = "+393334445556"
SECOND_PHONE = "+393334445557"
NEW_PHONE = "+393471230055"


async def test_a_card_waiting_for_one_applicant_is_not_on_anothers_page(
    towns: Towns, core: Core
) -> None:
    first, second = person(1, 1, phone=FIRST_PHONE), person(2, 1, phone=SECOND_PHONE)
    mine, theirs = await paper(towns.bel, first, second)
    await close_approve_credit(towns.bel, 100_000_00)  # both have vouchers: requests wait
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    manager = await signed_in(towns.server, "bel.manager")
    page = await clerk.post(f"/office/applications/{mine}/card")
    card = request_number(page.text, "card")
    page = await manager.post(f"/office/phone-changes/{card}/approve")
    assert page.status == 200

    url = f"/office/applications/{theirs}"
    page = await clerk.get(url)
    text = unescape(page.text)
    assert page.status == 200 and "None" not in text
    assert "waits for a manager's approval" not in text
    assert f"{url}/card.pdf" not in text and "Print the card and its codes" not in text
    assert f'action="{url}/phone"' in text and f'action="{url}/delegate"' in text
    assert f'action="{url}/card"' in text
    # Printing there, with or without the request's number: refused, no card made.
    for form in ({}, {"change": card}):
        refused = await clerk.post(f"{url}/card.pdf", form)
        assert refused.status == 409 and refused.headers["Content-Type"].startswith("text/html")
    assert "was not asked for this person" in unescape(refused.text)
    async with core.uow() as uow:
        for protocol in (mine, theirs):
            application = await uow.applications.by_protocol(protocol)
            assert application is not None
            citizen = await uow.citizens.by_id(application.citizen_id)
            assert citizen is not None and citizen.card_pin_hash is None
    # The other applicant asks a phone and a delegate as usual.
    page = await clerk.post(f"{url}/phone", {"phone": NEW_PHONE})
    assert page.status == 200 and "A new phone (***055) waits" in unescape(page.text)
    page = await clerk.post(f"{url}/delegate", {"phone": "+393471230066"})
    assert page.status == 200 and "A delegate (***066) waits" in unescape(page.text)

    # The same new phone for the first applicant: refused when asked, saying why.
    page = await clerk.post(f"/office/applications/{mine}/phone", {"phone": NEW_PHONE})
    assert page.status == 409
    assert "***055 is already asked for another household" in unescape(page.text)
    # A delegate equal to the applicant's own new phone asked: refused when asked.
    page = await clerk.post(f"{url}/delegate", {"phone": NEW_PHONE})
    assert page.status == 409
    assert "***055 is the new phone already asked for this citizen" in unescape(page.text)

    # The card prints on its own applicant's page, for them.
    page = await clerk.get(f"/office/applications/{mine}")
    assert f'name="change" value="{card}"' in page.text
    printed = await clerk.post(f"/office/applications/{mine}/card.pdf", {"change": card})
    assert printed.status == 200 and printed.body.startswith(b"%PDF")
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(mine)
        assert application is not None
        citizen = await uow.citizens.by_id(application.citizen_id)
        assert citizen is not None and citizen.card_pin_hash is not None
