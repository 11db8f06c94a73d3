"""One paper application typed at the desk: the CSV row's fields and rules, through the
import's service; each problem beside its field, what was typed kept, nothing written on
any problem; CSRF, roles, the same form sent twice (one after the other and at once)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.ledger import PostingKind
from core.services import ledger
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import make_cf
from tests.integration.office_helpers import person
from tests.integration.test_application_desk import paper
from tests.office.conftest import Towns, signed_in
from tests.office.harness import OfficeBrowser, Page

NEW = "/office/applications/new"
FORM_NAME = re.compile(r'name="form_name" value="([^"]+)"')


def form(**changes: str) -> dict[str, str]:
    """A paper form as a clerk types it: the codice fiscale in small letters with spaces,
    a national phone number, euro with a comma or a dot, the date as in Italy."""
    values = {
        "codice_fiscale": " ".join(re.findall(".{1,4}", make_cf(31).lower())),
        "phone": "333 900 0031",
        "household_size": "3",
        "has_work_income": "no",
        "has_pension": "yes",
        "liquidity_eur": "1.234,50",
        "public_support_monthly_eur": "120.5",
        "rent_monthly_eur": "350",
        "submitted_at": "06/04/2026 10:30",
    }
    return {**values, **changes}


async def page_form(browser: OfficeBrowser) -> str:
    """Open the form as the desk does; the name the page gave it."""
    page = await browser.get(NEW)
    assert page.status == 200, page.status
    found = FORM_NAME.search(page.text)
    assert found is not None
    return found.group(1)


async def send(browser: OfficeBrowser, values: dict[str, str], name: str | None = None) -> Page:
    if name is None:
        name = await page_form(browser)
    return await browser.post(NEW, {**values, "form_name": name})


def beside(page: Page, field: str) -> str:
    """The problem the page says beside one field ("" when none)."""
    found = re.search(rf'<span class="field-error" id="error-{field}">(.*?)</span>', page.text)
    return unescape(found.group(1)) if found else ""


def typed(page: Page, field: str) -> str:
    found = re.search(rf'<input id="{field}" name="{field}" [^>]*value="([^"]*)"', page.text)
    assert found is not None, field
    return unescape(found.group(1))


async def count(core: Core, model: Any) -> int:
    async with core.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def entries(core: Core) -> list[m.ActivityEntry]:
    async with core.uow() as uow:
        return list(
            await uow.session.scalars(
                select(m.ActivityEntry).where(m.ActivityEntry.action == "application.enter")
            )
        )


async def test_a_clerk_enters_one_paper_application(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    listed = await clerk.get("/office/applications")
    assert f'href="{NEW}"' in listed.text
    page = await clerk.get(NEW)
    # Dated now, as the import reads it (Rome time): 09:00 UTC is 11:00 in Rome.
    assert typed(page, "submitted_at") == "06/04/2026 11:00"
    page = await send(clerk, form())
    assert page.status == 200, (page.status, page.url)
    assert page.url.startswith("/office/applications/BEL-2026-")
    protocol = page.url.rsplit("/", 1)[1]
    assert f"Domanda cartacea {protocol} inserita." in unescape(page.text)
    assert "domanda cartacea inserita allo sportello" in page.text  # its history
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(protocol)
        assert application is not None
        citizen = await uow.citizens.by_id(application.citizen_id)
    assert citizen is not None and citizen.codice_fiscale == make_cf(31)
    assert (citizen.phone, citizen.phone_proven_by) == ("+393339000031", "office")
    assert application.source == "paper"
    assert (application.household_size, application.has_work_income) == (3, False)
    assert application.has_pension is True
    assert application.liquidity_cents == 1_234_50
    assert application.public_support_monthly_cents == 120_50
    assert application.rent_monthly_cents == 350_00
    submitted = application.submitted_at
    if submitted.tzinfo is None:  # SQLite keeps UTC without its zone
        submitted = submitted.replace(tzinfo=UTC)
    assert submitted == datetime(2026, 4, 6, 8, 30, tzinfo=UTC)  # 10:30 in Rome
    [entry] = await entries(core)
    assert (entry.actor, entry.subject) == ("bel.clerk", protocol)
    # The list of applications has it.
    listed = await clerk.get("/office/applications")
    assert protocol in listed.text and make_cf(31) in listed.text


async def test_each_problem_is_said_beside_its_field_and_nothing_is_saved(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    wrong = form(
        codice_fiscale=make_cf(32)[:15] + ("A" if make_cf(32)[15] != "A" else "B"),
        phone="12345",
        household_size="0",
        has_work_income="",
        liquidity_eur="12,345",
        public_support_monthly_eur="",
        rent_monthly_eur="-5",
        submitted_at="31/02/2026 10:00",
    )
    page = await send(clerk, wrong)
    assert page.status == 400
    said = unescape(page.text)
    assert "Non è stato salvato nulla" in said
    assert "l'ultima lettera (il carattere di controllo)" in beside(page, "codice_fiscale")
    assert beside(page, "phone").startswith("numero di telefono non valido")
    assert "almeno 1" in beside(page, "household_size")
    assert beside(page, "has_work_income") == "scegli sì o no"
    assert beside(page, "has_pension") == ""
    assert "più di due decimali" in beside(page, "liquidity_eur")
    assert "scrivi 0" in beside(page, "public_support_monthly_eur")
    assert "negativo" in beside(page, "rent_monthly_eur")
    assert "31/12/2026 10:00" in beside(page, "submitted_at")
    # The field is marked, and what was typed is kept, the right answers too.
    assert 'id="household_size" name="household_size" type="text" value="0"' in page.text
    assert re.search(r'id="household_size"[^>]*aria-invalid="true"', page.text)
    assert typed(page, "liquidity_eur") == "12,345"
    assert typed(page, "codice_fiscale") == wrong["codice_fiscale"]
    assert typed(page, "submitted_at") == "31/02/2026 10:00"
    assert re.search(r'<option value="yes" selected>', page.text)  # the pension's yes
    assert await count(core, m.Application) == 0
    assert await count(core, m.Citizen) == 0
    assert await entries(core) == []
    # In English for an operator who reads English.
    await clerk.post("/office/language", {"lang": "en"})
    page = await send(clerk, wrong)
    assert page.status == 400
    assert "Nothing was saved: correct what is marked" in unescape(page.text)
    assert beside(page, "has_work_income") == "choose yes or no"
    assert beside(page, "phone").startswith("not a valid phone number")
    assert "the last letter (the check character)" in beside(page, "codice_fiscale")


async def test_the_imports_rules_refuse_beside_the_field(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    """Who already applied, a phone of another household, a date outside the window: the
    import's refusals, each beside its field; nothing written."""
    await paper(towns.bel, person(33, 1, phone="+393339000033"))
    clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await send(clerk, form(codice_fiscale=make_cf(33), phone=""))
    assert page.status == 409
    assert "ha già presentato" in beside(page, "codice_fiscale"), beside(page, "codice_fiscale")
    page = await send(clerk, form(phone="+39 333 900 0033", submitted_at="05/04/2026 10:00"))
    assert page.status == 409
    assert "appartiene a un altro nucleo" in beside(page, "phone"), beside(page, "phone")
    dated = beside(page, "submitted_at")
    assert "fuori dal periodo del bando" in dated, dated
    assert beside(page, "codice_fiscale") == ""
    assert typed(page, "phone") == "+39 333 900 0033"
    assert await count(core, m.Application) == 1  # the one applied before
    assert await entries(core) == []


async def test_no_number_is_given_while_a_new_phone_waits_for_approval(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    """A person the office knows without a phone, a new phone for them asked and waiting
    for a second operator: the form giving them another number is refused beside the phone,
    saying what to do, everything typed kept; without the phone it is entered."""
    async with core.uow() as uow:
        citizen = m.Citizen(
            municipality_id=towns.bel.municipality_id,
            codice_fiscale=make_cf(31),
            language="it",
            card_code="BELCARD31",
            created_at=clock(),
        )
        uow.add(citizen)
        await uow.flush()
        clerk_row = await uow.operators.by_username("bel.clerk")
        assert clerk_row is not None
        change = m.PhoneChange(
            municipality_id=towns.bel.municipality_id,
            citizen_id=citizen.id,
            kind="phone",
            reissue=False,
            subject=f"citizen #{citizen.id}",
            phone="+393339000099",
            phone_masked="***099",
            status="waiting",
            requested_by_id=clerk_row.id,
            requested_at=clock(),
        )
        uow.add(change)
        await uow.commit()
    clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await send(clerk, form())
    assert page.status == 409
    said = beside(page, "phone")
    assert f"***099) attende l'approvazione di un secondo operatore (richiesta {change.id})" in said
    assert "Prima approva o ritira la richiesta, oppure lascia vuoto il telefono" in said
    assert beside(page, "codice_fiscale") == ""
    assert typed(page, "phone") == form()["phone"]
    assert typed(page, "liquidity_eur") == form()["liquidity_eur"]
    assert await count(core, m.Application) == 0
    await _entered_without_a_number(clerk, core, towns)


async def _entered_without_a_number(clerk: OfficeBrowser, core: Core, towns: Towns) -> None:
    """The same form with its phone left empty goes in, and the person still has no number."""
    page = await send(clerk, form(phone=""))
    assert page.status == 200 and page.url.startswith("/office/applications/BEL-2026-")
    async with core.uow() as uow:
        known = await uow.citizens.by_codice_fiscale(towns.bel.municipality_id, make_cf(31))
        assert known is not None and known.phone is None


async def test_no_first_number_is_given_while_there_is_money_to_spend(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    """A person the office knows without a phone who has vouchers to spend: one clerk's
    form gives them no number (it would receive the payment codes), refused beside the
    phone in the office's language, saying why and what to do, everything typed kept;
    without the phone it is entered, still without a number."""
    async with core.uow() as uow:
        citizen = m.Citizen(
            municipality_id=towns.bel.municipality_id,
            codice_fiscale=make_cf(31),
            language="it",
            card_code="BELCARD31",
            created_at=clock(),
        )
        uow.add(citizen)
        await uow.flush()
        await ledger.post(
            uow,
            municipality_id=towns.bel.municipality_id,
            kind=PostingKind.ALLOCATION,
            from_owner=0,
            to_owner=citizen.id,
            amount_cents=150_00,
            now=clock(),
        )
        await uow.commit()
    clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await send(clerk, form())
    assert page.status == 409
    said = beside(page, "phone")
    assert said.startswith("Il richiedente ha ancora somme da spendere"), said
    assert "serve l'approvazione di un secondo operatore" in said
    assert "Lascia vuoto il telefono: la domanda viene inserita senza" in said
    assert "chiedi il nuovo telefono nella pagina della domanda" in said
    assert beside(page, "codice_fiscale") == ""
    for field in ("phone", "liquidity_eur", "submitted_at", "rent_monthly_eur"):
        assert typed(page, field) == form()[field]
    assert await count(core, m.Application) == 0
    await _entered_without_a_number(clerk, core, towns)


async def test_the_same_form_sent_twice_enters_one_application(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    name = await page_form(clerk)
    first = await send(clerk, form(), name)
    again = await send(clerk, form(), name)
    assert first.status == again.status == 200
    assert again.url == first.url  # the application it entered
    protocol = first.url.rsplit("/", 1)[1]
    assert (
        f"Questo modulo aveva già inserito la domanda {protocol}: non è stata inserita di nuovo."
        in unescape(again.text)
    )
    assert await count(core, m.Application) == 1
    assert len(await entries(core)) == 1
    # A double click: both at once, another person's form.
    name = await page_form(clerk)
    other = form(codice_fiscale=make_cf(34), phone="")
    pages = await asyncio.gather(send(clerk, other, name), send(clerk, other, name))
    assert [page.status for page in pages] == [200, 200], [page.status for page in pages]
    assert pages[0].url == pages[1].url and pages[0].url != first.url
    assert await count(core, m.Application) == 2
    assert len(await entries(core)) == 2
    # A new form for the same person is the import's refusal, not a silent success.
    page = await send(clerk, other)
    assert page.status == 409 and beside(page, "codice_fiscale")
    assert await count(core, m.Application) == 2


async def test_without_csrf_or_as_a_viewer_nothing_is_entered(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    name = await page_form(clerk)
    page = await clerk.post(NEW, {**form(), "form_name": name}, csrf=False)
    assert page.status == 403
    viewer = await signed_in(towns.server, "bel.viewer")
    assert (await viewer.get(NEW)).status == 403
    assert f'href="{NEW}"' not in (await viewer.get("/office/applications")).text
    page = await viewer.post(NEW, {**form(), "form_name": name})
    assert page.status == 403
    assert await count(core, m.Application) == 0
