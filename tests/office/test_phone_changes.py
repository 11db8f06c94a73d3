"""A new phone for an applicant with vouchers to spend, in the browser: a clerk asks it on
the application's page, a manager who did not ask approves it from the dashboard (four
eyes); the asker, a viewer and another town cannot."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import update

from core.bootstrap import Core
from core.services import allocation, municipalities
from core.storage import models as m
from tests.integration.office_helpers import close_approve_credit, person
from tests.integration.test_application_desk import paper
from tests.office.applicants import chat_asks_a_number
from tests.office.conftest import Towns, signed_in

NEW_PHONE = "+393334445556"


async def phone_of(core: Core, towns: Towns, cf: str) -> str | None:
    async with core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale(towns.bel.municipality_id, cf)
        assert citizen is not None
        return citizen.phone


def change_id(text: str) -> str:
    found = re.search(r"/office/phone-changes/(\d+)/withdraw", text)
    assert found is not None, text
    return found.group(1)


async def test_a_manager_other_than_the_asker_approves_a_new_phone(
    towns: Towns, core: Core
) -> None:
    applicant = person(1, 1)
    [protocol] = await paper(towns.bel, applicant)
    await close_approve_credit(towns.bel, 100_000_00)  # the applicant has vouchers now
    url = f"/office/applications/{protocol}"
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    page = await clerk.post(f"{url}/phone", {"phone": "333 444 5556"})
    assert page.status == 200 and "waits for the approval of a manager" in page.text
    assert await phone_of(core, towns, applicant.codice_fiscale) == applicant.phone
    # The page shows the change waiting instead of the form; the clerk may withdraw it only.
    assert f"{url}/phone" not in page.text and "***556" in page.text
    number = change_id(page.text)
    assert f"/office/phone-changes/{number}/approve" not in page.text
    refused = await clerk.post(f"/office/phone-changes/{number}/approve")
    assert refused.status == 403 and f"{NEW_PHONE}" not in refused.text

    viewer = await signed_in(towns.server, "bel.viewer")
    assert (await viewer.post(f"/office/phone-changes/{number}/approve")).status == 403
    stranger = await signed_in(towns.server, "cal.manager")
    assert (await stranger.post(f"/office/phone-changes/{number}/approve")).status == 404
    assert await phone_of(core, towns, applicant.codice_fiscale) == applicant.phone

    manager = await signed_in(towns.server, "bel.manager")
    await manager.post("/office/language", {"lang": "en"})
    dashboard = await manager.get("/office/")
    assert f"/office/phone-changes/{number}/approve" in dashboard.text
    assert protocol in dashboard.text and "bel.clerk" in dashboard.text
    page = await manager.post(f"/office/phone-changes/{number}/approve", {"back": "/office/"})
    assert page.status == 200 and page.url == "/office/"
    assert "The phone is recorded" in unescape(page.text)
    assert f"/office/phone-changes/{number}/approve" not in page.text
    assert await phone_of(core, towns, applicant.codice_fiscale) == NEW_PHONE
    # Again (a double click, an old tab): the same page, said done already, told once.
    again = await manager.post(f"/office/phone-changes/{number}/approve")
    assert again.status == 200 and again.url == "/office/"
    assert f"Request {number} was already approved: nothing was done twice." in again.text
    log = await manager.get("/office/activity")
    assert "new phone asked, waiting for a second operator" in log.text
    assert "new phone approved by a second operator" in log.text


async def test_the_asker_withdraws_and_may_ask_again(towns: Towns, core: Core) -> None:
    applicant = person(1, 1)
    [protocol] = await paper(towns.bel, applicant)
    await close_approve_credit(towns.bel, 100_000_00)
    url = f"/office/applications/{protocol}"
    manager = await signed_in(towns.server, "bel.manager")
    await manager.post("/office/language", {"lang": "en"})
    page = await manager.post(f"{url}/phone", {"phone": "333 444 5556"})
    number = change_id(page.text)
    # A manager who asked cannot approve it either.
    assert f"/office/phone-changes/{number}/approve" not in page.text
    own = await manager.post(f"/office/phone-changes/{number}/approve")
    assert own.status == 403 and "a manager other than you" in unescape(own.text)
    empty = await manager.post(f"/office/phone-changes/{number}/withdraw", {"reason": " "})
    assert empty.status == 409 and "Write the reason" in empty.text
    page = await manager.post(
        f"/office/phone-changes/{number}/withdraw", {"reason": "wrong number", "back": url}
    )
    assert page.status == 200 and page.url == url and "keeps the number" in page.text
    assert f"{url}/phone" in page.text  # the form is back
    assert await phone_of(core, towns, applicant.codice_fiscale) == applicant.phone


async def test_money_approved_but_not_credited_needs_a_second_operator(
    towns: Towns, core: Core
) -> None:
    applicant = person(1, 1)
    [protocol] = await paper(towns.bel, applicant)
    url = f"/office/applications/{protocol}"
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    # Nothing allocated, no balance: the clerk's change applies at once.
    page = await clerk.post(f"{url}/phone", {"phone": "333 444 5557"})
    assert page.status == 200 and "The phone is recorded" in unescape(page.text)
    assert await phone_of(core, towns, applicant.codice_fiscale) == "+393334445557"
    # The determina gives the household its vouchers; the credit has not run: balance 0.
    async with core.uow() as uow:
        town = await municipalities.require(uow, towns.bel.code)
        await municipalities.close_window(uow, town, towns.bel.clock())
        await uow.commit()
    towns.bel.clock.advance(days=1)
    async with core.uow() as uow:
        town = await municipalities.require(uow, towns.bel.code)
        await allocation.approve(uow, town, 100_000_00, towns.bel.clock())
        await uow.commit()
    page = await clerk.post(f"{url}/phone", {"phone": "333 444 5556"})
    assert page.status == 200 and "waits for the approval of a manager" in page.text
    assert "The phone is recorded" not in unescape(page.text)
    assert await phone_of(core, towns, applicant.codice_fiscale) == "+393334445557"
    number = change_id(page.text)
    manager = await signed_in(towns.server, "bel.manager")
    await manager.post("/office/language", {"lang": "en"})
    page = await manager.post(f"/office/phone-changes/{number}/approve", {"back": "/office/"})
    assert page.status == 200 and "The phone is recorded" in unescape(page.text)
    assert await phone_of(core, towns, applicant.codice_fiscale) == NEW_PHONE


async def test_a_first_phone_waiting_for_approval_says_only_the_new_number_was_told(
    towns: Towns, core: Core
) -> None:
    applicant = person(1, 1)
    [protocol] = await paper(towns.bel, applicant)
    await close_approve_credit(towns.bel, 100_000_00)  # the applicant has vouchers now
    async with core.uow() as uow:  # a household on file with no phone (paper, no number)
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.codice_fiscale == applicant.codice_fiscale)
            .values(phone=None)
        )
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.post(f"/office/applications/{protocol}/phone", {"phone": "333 444 5556"})
    text = unescape(page.text)
    assert page.status == 200 and "attende l'approvazione di un responsabile" in text
    assert "Il nuovo numero è stato avvisato; prima non c'era un numero." in text
    assert "vecchio" not in text


async def test_a_number_the_citizens_chat_proved_is_checked_by_one_operator_and_approved_by_another(
    towns: Towns, core: Core
) -> None:
    """A citizen known without a phone, with vouchers, whose Telegram chat (an older
    application's) shares its own contact: the number waits on the dashboard asked by the
    chat; an operator who checked the citizen says so, and a manager other than them
    approves it (docs/identity-and-consent.md §5). Trial 10: one manager approved it alone,
    and the chat may be that manager's own."""
    applicant = person(1, 1)
    [protocol] = await paper(towns.bel, applicant)
    await close_approve_credit(towns.bel, 100_000_00)
    number = await chat_asks_a_number(
        core, towns.bel.municipality_id, applicant.codice_fiscale, "77", NEW_PHONE
    )

    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    page = await clerk.get("/office/")
    assert "the citizen&#39;s Telegram chat" in page.text and "***556" in page.text
    assert f"/office/phone-changes/{number}/approve" not in page.text
    assert f"/office/phone-changes/{number}/withdraw" not in page.text
    assert f"/office/phone-changes/{number}/check" in page.text

    manager = await signed_in(towns.server, "bel.manager")
    application = await manager.get(f"/office/applications/{protocol}")
    assert "la chat Telegram del cittadino" in unescape(application.text)  # Italian, the default
    # Nobody checked it yet: no manager approves it alone, by the page or by a forged POST.
    assert f"/office/phone-changes/{number}/approve" not in application.text
    assert f"/office/phone-changes/{number}/check" in application.text
    alone = await manager.post(f"/office/phone-changes/{number}/approve", {"back": "/office/"})
    assert "un operatore che ha verificato il cittadino" in unescape(alone.text)
    assert await phone_of(core, towns, applicant.codice_fiscale) is None
    # Before the button: what approving and withdrawing do, in the office's Italian.
    said = " ".join(unescape(application.text).split())
    assert (
        "La chat Telegram collegata a questa domanda ha condiviso questo numero: prova che la "
        "chat ha il numero, non che sia del cittadino. Verificalo con il cittadino (una "
        "telefonata, un documento d'identità), poi dillo: lo approva un responsabile diverso "
        "da te. Se approvato, diventa il suo telefono e la chat resta collegata; se ritirato, "
        "è avvisata solo la chat."
    ) in said
    checked = await clerk.post(f"/office/phone-changes/{number}/check", {"back": "/office/"})
    assert checked.status == 200
    assert "checked by bel.clerk" in checked.text
    done = await manager.post(f"/office/phone-changes/{number}/approve", {"back": "/office/"})
    assert done.status == 200
    assert await phone_of(core, towns, applicant.codice_fiscale) == NEW_PHONE
