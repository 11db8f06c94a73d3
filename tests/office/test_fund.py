"""The fund page over HTTP: a town with no fund is told how to record it and prepares no
determina; a clerk records receipts and corrects one; the approver sees the fund, what is
committed and what is left beside "Approve"; a viewer only reads."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from html import unescape

import pytest

from core.bootstrap import Core
from core.services import allocation as allocation_service
from core.services import municipalities
from tests.conftest import FakeClock
from tests.integration.office_helpers import (
    apply,
    close_approve_credit,
    close_window,
    open_round,
    person,
)
from tests.office.conftest import add_operators, signed_in
from tests.office.harness import LASTING_SESSIONS, OfficeBrowser, OfficeServer, office_server

ACT = re.compile(r"/office/acts/(\d+)/approve")


@pytest.fixture
async def unfunded(core: Core, clock: FakeClock, database_url: str) -> AsyncIterator[OfficeServer]:
    """BEL with two households in a closed window and no fund recorded yet."""
    bel = await open_round(core, clock, code="BEL", fund_cents=None)
    await add_operators(core, "BEL")
    await apply(bel, person(1, 4), person(2, 1))
    async with office_server(core, database_url, office_config=LASTING_SESSIONS) as server:
        clerk = await signed_in(server, "bel.clerk")
        page = await clerk.post("/office/round/window/close", {"number": "1", "confirm": "yes"})
        assert page.status == 200
        clock.advance(hours=1)
        yield server


@pytest.fixture
async def clerk(unfunded: OfficeServer) -> OfficeBrowser:
    """BEL's clerk, signed in to the unfunded town and reading the office in English."""
    return await english(unfunded, "bel.clerk")


async def english(server: OfficeServer, username: str) -> OfficeBrowser:
    browser = await signed_in(server, username)
    await browser.post("/office/language", {"lang": "en", "next": "/office/"})
    return browser


async def economia_form(
    clerk: OfficeBrowser, amount: str, act_on: str | None = None
) -> tuple[str, dict[str, str]]:
    """The first determina the fund's page offers an economia for, and a form freeing
    `amount` of it under the town's act det. n. 12/2026 (of day `act_on`, when given)."""
    page = await clerk.get("/office/fund")
    found = re.search(r'name="allocation" value="(\d+)"', page.text)
    assert found is not None
    allocation = found.group(1)
    form = {
        "kind": "economia",
        "allocation": allocation,
        "amount": amount,
        "reference": "det. n. 12/2026",
    }
    if act_on is not None:
        form["act_on"] = act_on
    return allocation, form


def flat(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def test_no_fund_then_recorded_then_a_determina_within_it(
    unfunded: OfficeServer,
    clerk: OfficeBrowser,
) -> None:
    manager = await english(unfunded, "bel.manager")

    page = await clerk.get("/office/fund")
    assert page.status == 200 and "No fund is recorded yet" in page.text
    # The determina's check says why and where; nothing can be prepared.
    page = await clerk.get("/office/round?determina=450")
    assert "No fund is recorded for this municipality" in page.text
    assert 'href="/office/fund"' in page.text and 'value="determina"' not in page.text
    page = await clerk.post("/office/acts", {"kind": "determina", "budget": "450"})
    assert page.status == 409 and "No fund is recorded for this municipality" in page.text

    form = {
        "amount": "400",
        "description": "Fondo di solidarietà alimentare",
        "received_on": "2026-03-20",
    }
    page = await clerk.post("/office/fund", form)
    assert page.status == 200 and page.url == "/office/fund"
    assert "Recorded in the fund: €400.00 (entry 1)." in page.text
    text = flat(page.text)
    assert "Fondo di solidarietà alimentare" in text and "bel.clerk" in text
    assert "Left for new determine €400.00" in text
    # The day received as every other date of the office, not as the form sends it.
    assert "1 20/03/2026 Fondo di solidarietà alimentare €400.00" in text, text
    assert "2026-03-20" not in text

    # The tester's budget: refused with the amounts, in the check and at preparation.
    page = await clerk.post("/office/acts", {"kind": "determina", "budget": "9999999"})
    assert page.status == 409
    assert (
        "The budget €9,999,999.00 is more than what is left of the municipality's fund: "
        "€400.00 (fund €400.00, of which €0.00 already committed"
    ) in flat(page.text)

    page = await clerk.post(
        "/office/acts", {"kind": "determina", "budget": "400", "confirm": "400"}
    )
    assert page.status == 200, page.text
    page = await manager.get("/office/round")
    act = ACT.findall(page.text)[-1]
    text = flat(page.text)
    assert "Fund of the municipality: €400.00." in text
    assert "Already committed by other determine (approved or waiting): €0.00." in text
    assert "Left in the fund for this determina: €400.00." in text
    page = await clerk.get("/office/fund")
    assert "Committed by determine waiting for approval €400.00" in flat(page.text)
    page = await manager.post(f"/office/acts/{act}/approve")
    assert page.status == 200 and f"Act {act} approved" in page.text
    page = await clerk.get("/office/fund")
    text = flat(page.text)
    assert "Committed by determine approved €400.00" in text
    assert "Left for new determine €0.00" in text


async def test_a_correction_is_a_new_entry_and_the_log_keeps_both(
    unfunded: OfficeServer,
    clerk: OfficeBrowser,
) -> None:
    viewer = await english(unfunded, "bel.viewer")
    form = {"amount": "1.000", "description": "Stato", "received_on": "2026-03-20"}
    assert (await clerk.post("/office/fund", form)).status == 200
    page = await clerk.post(
        "/office/fund/1/correct",
        {"amount": "", "description": "Registrato per errore", "received_on": "2026-03-21"},
    )
    assert page.status == 200
    text = flat(page.text)
    assert "Entry 1 corrected: €1,000.00 taken back (entry 2)." in text
    assert "corrects entry 1" in text and "-€1,000.00" in text
    assert "Left for new determine €0.00" in text
    page = await clerk.post(
        "/office/fund/1/correct", {"description": "Ancora", "received_on": "2026-03-21"}
    )
    assert page.status == 409 and "Entry 1 holds €0.00" in page.text
    # Entry 1 offers no correction any more: said above the entries, not lost with its form.
    above = re.search(r'id="entry-problem"[^>]*>([^<]*)<', page.text)
    assert above is not None and "Entry 1 holds €0.00" in unescape(above.group(1)), page.text
    # A correction of a receipt that still holds money: refused beside the field it is about,
    # its form open, what was typed kept.
    assert (await clerk.post("/office/fund", {**form, "received_on": "2026-03-22"})).status == 200
    page = await clerk.post(
        "/office/fund/3/correct",
        {"amount": "2.000", "description": "Troppo", "received_on": "2026-03-22"},
    )
    beside = re.search(r'id="fix-amount-3-problem">([^<]*)<', page.text)
    assert page.status == 409 and beside is not None, page.text
    assert "Entry 3 holds €1,000.00" in unescape(beside.group(1)), beside.group(1)
    assert "<details open" in page.text and 'value="Troppo"' in page.text
    assert 'value="2.000"' in page.text and 'aria-invalid="true"' in page.text
    page = await clerk.post(
        "/office/fund", {"amount": "0", "description": "x", "received_on": "2026-03-21"}
    )
    assert page.status == 409 and "The amount must be more than zero." in page.text
    page = await clerk.get("/office/activity")
    assert "money recorded in the fund" in page.text and "fund entry corrected" in page.text
    # A viewer reads the fund and records nothing.
    page = await viewer.get("/office/fund")
    assert page.status == 200 and "Registrato per errore" in page.text
    assert 'action="/office/fund"' not in page.text
    assert (await viewer.post("/office/fund", form)).status == 403
    # Told it may not, before anything about what was typed.
    for where in ("/office/fund", "/office/fund/1/correct"):
        page = await viewer.post(where, {"amount": "x", "description": "", "received_on": "20"})
        assert page.status == 403 and "date" not in page.text.lower(), where


async def test_the_fund_page_speaks_italian(unfunded: OfficeServer) -> None:
    clerk = await signed_in(unfunded, "bel.clerk")  # the office speaks Italian unless told
    form = {"amount": "1234,5", "description": "Stato", "received_on": "2026-03-20"}
    page = await clerk.post("/office/fund", form)
    assert page.status == 200 and "1.234,50" in page.text
    assert "Il fondo del Comune" in page.text and "Registrato nel fondo" in page.text


async def test_a_receipt_typed_twice_is_shown_again_with_a_box_to_record_it_anyway(
    clerk: OfficeBrowser,
) -> None:
    form = {"amount": "1.500,00 €", "description": "prova", "received_on": "2026-04-04"}
    assert (await clerk.post("/office/fund", form)).status == 200
    before = flat((await clerk.get("/office/fund")).text)
    page = await clerk.post("/office/fund", form)
    assert page.status == 409
    assert (
        "Entry 1 already records €1,500.00 received on" in flat(page.text)
        and "tick the box to record it again" in page.text
    )
    assert 'name="again"' in page.text and 'value="prova"' in page.text
    assert 'value="2026-04-04"' in page.text
    assert flat((await clerk.get("/office/fund")).text) == before
    page = await clerk.post("/office/fund", {**form, "again": "yes"})
    assert page.status == 200 and "Recorded in the fund: €1,500.00 (entry 2)." in page.text
    assert "Left for new determine €3,000.00" in flat(page.text)


async def test_the_day_received_is_typed_day_first_as_at_the_desk(
    unfunded: OfficeServer, core: Core
) -> None:
    # The clock: 6 April 2026.
    clerk = await signed_in(unfunded, "bel.clerk")  # in Italian
    page = await clerk.get("/office/fund")
    assert 'name="received_on" value="06/04/2026"' in page.text and 'type="date"' not in page.text
    # Not a date: said in Italian beside the field, everything typed kept; nothing recorded.
    form = {"amount": "1.500,00", "description": "Fondo statale", "received_on": "31/02/2026"}
    page = await clerk.post("/office/fund", form)
    assert page.status == 409
    assert (
        "31/02/2026 non è una data: scrivila come giorno/mese/anno in cifre, per esempio "
        "06/04/2026, oppure come anno-mese-giorno, 2026-04-06." in flat(page.text)
    ), flat(page.text)
    assert 'value="31/02/2026"' in page.text and 'value="1.500,00"' in page.text
    assert 'value="Fondo statale"' in page.text and 'aria-invalid="true"' in page.text
    assert "Nessun fondo registrato" in flat(page.text)
    # 12/03/2026 is the 12th of March, as at the desk.
    page = await clerk.post("/office/fund", {**form, "received_on": "12/03/2026"})
    assert page.status == 200, flat(page.text)
    async with core.uow() as uow:
        town = await uow.municipalities.by_code("BEL")
        assert town is not None
        [entry] = await uow.fund.of_municipality(town.id)
    assert entry.received_on == date(2026, 3, 12)
    # The correction's day too: a bad one kept in its own form, opened.
    fix = {"amount": "100", "description": "Errore", "received_on": "1/13/2026"}
    page = await clerk.post(f"/office/fund/{entry.id}/correct", fix)
    assert page.status == 409 and "1/13/2026 non è una data" in flat(page.text)
    assert f'id="fix-day-{entry.id}" name="received_on" value="1/13/2026"' in page.text
    assert "<details open>" in page.text
    page = await clerk.post(f"/office/fund/{entry.id}/correct", {**fix, "received_on": "2/4/2026"})
    assert page.status == 200, flat(page.text)
    async with core.uow() as uow:
        town = await uow.municipalities.by_code("BEL")
        assert town is not None
        days = sorted(x.received_on for x in await uow.fund.of_municipality(town.id))
    assert days == [date(2026, 3, 12), date(2026, 4, 2)]


async def test_a_receipt_dated_in_the_future_or_long_ago_is_refused(
    clerk: OfficeBrowser,
) -> None:
    # The clock: 6 April 2026.
    for day, sentence in (
        ("2027-06-01", "is still to come"),
        ("9999-12-31", "is still to come"),
        ("0001-01-01", "when the money for these vouchers began"),
    ):
        form = {"amount": "100", "description": "x", "received_on": day}
        page = await clerk.post("/office/fund", form)
        assert page.status == 409 and sentence in page.text, day
    page = await clerk.get("/office/fund")
    assert "No fund is recorded yet" in page.text


async def test_a_correction_of_a_correction_names_its_receipt(
    clerk: OfficeBrowser,
) -> None:
    form = {"amount": "1.000", "description": "Stato", "received_on": "2026-03-20"}
    assert (await clerk.post("/office/fund", form)).status == 200
    fix = {"amount": "100", "description": "Errore", "received_on": "2026-03-21"}
    assert (await clerk.post("/office/fund/1/correct", fix)).status == 200
    page = await clerk.post("/office/fund/2/correct", fix)
    assert page.status == 409
    assert "Entry 2 is a correction of entry 1: to take back more, or less, correct entry 1." in (
        flat(page.text)
    )
    assert "Left for new determine €900.00" in flat((await clerk.get("/office/fund")).text)


async def test_a_determina_that_pays_nobody_is_not_prepared(
    unfunded: OfficeServer,
    clerk: OfficeBrowser,
) -> None:
    # The two households of the unfunded town: 300 € and 150 €.
    manager = await english(unfunded, "bel.manager")
    form = {"amount": "1.000", "description": "Stato", "received_on": "2026-03-20"}
    assert (await clerk.post("/office/fund", form)).status == 200
    page = await clerk.post("/office/acts", {"kind": "determina", "budget": "450"})
    assert page.status == 200, page.text
    act = ACT.findall((await manager.get("/office/round")).text)[-1]
    assert (await manager.post(f"/office/acts/{act}/approve")).status == 200
    assert (await clerk.post("/office/acts", {"kind": "credit"})).status == 200
    act = ACT.findall((await manager.get("/office/round")).text)[-1]
    page = await manager.post(f"/office/acts/{act}/approve")
    assert page.status == 200 and f"Act {act} approved" in page.text
    # The check says so and offers no "Prepare"; preparing anyway is refused.
    page = await clerk.get("/office/round?determina=100")
    assert "With the budget €100.00 this tranche would pay nobody" in flat(page.text)
    assert 'value="determina"' not in page.text
    page = await clerk.post(
        "/office/acts", {"kind": "determina", "budget": "100", "confirm": "100"}
    )
    assert page.status == 409
    assert "With the budget €100.00 this tranche would pay nobody" in flat(page.text)
    text = flat((await clerk.get("/office/fund")).text)
    assert "Committed by determine waiting for approval €0.00" in text
    assert "Left for new determine €550.00" in text


async def test_a_receipt_or_a_budget_of_a_digit_typo_is_refused_and_nothing_recorded(
    unfunded: OfficeServer,
    clerk: OfficeBrowser,
) -> None:
    form = {"amount": "999999999999", "description": "Stato", "received_on": "2026-03-20"}
    page = await clerk.post("/office/fund", form)
    assert page.status == 409
    said = flat(page.text)
    assert "€999,999,999,999.00 is not a plausible amount: at most €50,000,000.00 per" in said
    assert "Recorded in the fund" not in page.text
    page = await clerk.get("/office/fund")
    assert "No fund is recorded yet" in page.text
    # The limit itself is recorded, twice: the fund could cover a larger budget.
    for text in ("Stato", "Regione"):
        form = {"amount": "50000000", "description": text, "received_on": "2026-03-20"}
        page = await clerk.post("/office/fund", form)
        assert page.status == 200 and "Recorded in the fund: €50,000,000.00" in page.text
    page = await clerk.post("/office/acts", {"kind": "determina", "budget": "99999999999"})
    assert page.status == 409
    said = flat(page.text)
    assert "€99,999,999,999.00 is not a plausible budget: at most €50,000,000.00" in said
    page = await clerk.get("/office/round?determina=50000000.01")
    assert "is not a plausible budget: at most €50,000,000.00" in flat(page.text)
    assert 'value="determina"' not in page.text
    # The simulator says the same limit.
    page = await clerk.get("/office/round?budget=50000000.01")
    assert "It is not a plausible budget: at most €50,000,000.00." in flat(page.text)
    manager = await english(unfunded, "bel.manager")
    page = await manager.get("/office/round")
    assert not ACT.findall(page.text)  # nothing prepared


async def test_a_correction_sent_twice_takes_the_money_back_once(
    clerk: OfficeBrowser,
) -> None:
    form = {"amount": "1.000", "description": "Stato", "received_on": "2026-03-20"}
    assert (await clerk.post("/office/fund", form)).status == 200
    fix = {"amount": "100,00", "description": "errore", "received_on": "2026-03-21"}
    assert (await clerk.post("/office/fund/1/correct", fix, follow=False)).status == 303
    page = await clerk.post("/office/fund/1/correct", fix, follow=False)
    assert page.status == 409
    assert (
        "Entry 2 already takes back €100.00 of entry 1 with this description. Nothing was "
        "taken back: if this is another correction, say why in other words."
    ) in flat(page.text)
    text = flat((await clerk.get("/office/fund")).text)
    assert "Left for new determine €900.00" in text and "(entry 3)" not in text
    # Said in other words, it is another correction.
    page = await clerk.post("/office/fund/1/correct", {**fix, "description": "errore, bis"})
    assert page.status == 200 and "Left for new determine €800.00" in flat(page.text)


@pytest.fixture
async def credited(core: Core, clock: FakeClock, database_url: str) -> AsyncIterator[OfficeServer]:
    """BEL with a tranche of 1.000,00 € credited to two households of one (150 € each): the
    determina left 700,00 € unassigned."""
    bel = await open_round(core, clock, code="BEL")
    await add_operators(core, "BEL")
    await apply(bel, person(1), person(2))
    await close_approve_credit(bel, 1_000_00)
    async with office_server(core, database_url, office_config=LASTING_SESSIONS) as server:
        yield server


async def test_an_economia_is_prepared_on_the_fund_page_and_approved_by_a_manager(
    credited: OfficeServer,
) -> None:
    clerk = await english(credited, "bel.clerk")
    page = await clerk.get("/office/fund")
    text = flat(page.text)
    assert "What the determine left unassigned" in text
    assert "Tranche 1 of window 1 €1,000.00 €300.00 €0.00 €700.00" in text, text
    assert "Freed by economie (no longer committed) €0.00" in text
    allocation = re.search(r'name="allocation" value="(\d+)"', page.text)
    assert allocation is not None
    form = {
        "kind": "economia",
        "allocation": allocation.group(1),
        "reference": "det. n. 12/2026",
        "act_on": "07/04/2026",
    }

    # More than the rest: refused, said, nothing prepared.
    page = await clerk.post("/office/acts", {**form, "amount": "700,01"})
    assert page.status == 409, page.text
    assert "at most what the determina left unassigned: €700.00" in flat(page.text)

    page = await clerk.post("/office/acts", {**form, "amount": ""})
    assert page.status == 200 and page.url == "/office/fund"
    text = flat(page.text)
    assert "Prepared: act 1." in text
    assert "Free €700.00 of tranche 1 of window 1: det. n. 12/2026 of 07/04/2026" in text, text
    # Waiting, it frees nothing; the clerk has no button to approve it.
    assert "Freed by economie (no longer committed) €0.00" in text
    assert not ACT.search(page.text)

    manager = await english(credited, "bel.manager")
    page = await manager.get("/office/fund")
    assert ACT.search(page.text)
    assert "left unassigned now €700.00" in flat(page.text)
    page = await manager.post("/office/acts/1/approve", {})
    assert page.status == 200 and page.url == "/office/fund"
    text = flat(page.text)
    assert "Act 1 approved and carried out." in text
    assert "Freed by economie (no longer committed) €700.00" in text
    assert "Tranche 1 of window 1 €1,000.00 €300.00 €700.00 €0.00" in text, text
    assert "07/04/2026 det. n. 12/2026 Tranche 1 of window 1 €700.00 bel.manager" in text, text
    # A second economia of the same determina: nothing left, the form is gone.
    assert 'name="allocation"' not in page.text


async def test_an_economia_s_wrong_field_is_said_beside_it_and_the_approver_sees_the_outcome(
    credited: OfficeServer,
) -> None:
    """A bad day, a missing reference, too much: the fund's page again, the economia's form
    open with what was typed, why beside the wrong field (not the generic refusal page), and
    nothing prepared. The manager sees, before approving, what the approval frees and what
    is left for new determine afterwards, as the page's own figures then say."""
    clerk = await english(credited, "bel.clerk")
    allocation, form = await economia_form(clerk, "200", act_on="07/04/2026")
    for field, wrong, said in (
        ("act_on", "31/02/2026", "31/02/2026"),
        ("act_on", "31/12/2030", "is still to come"),
        ("reference", " ", "reference"),
        ("amount", "700,01", "at most what the determina left unassigned: €700.00"),
        ("amount", "dodici", "This is not an amount"),
    ):
        page = await clerk.post("/office/acts", {**form, field: wrong})
        assert page.status in (400, 409, 422), (field, wrong, page.status)
        ids = {"act_on": "eco-day-", "reference": "eco-ref-", "amount": "eco-amount-"}
        problem = re.search(
            rf'<span class="field-error" role="alert" id="{ids[field]}{allocation}-problem">'
            r"([^<]*)</span>",
            page.text,
        )
        assert problem is not None, (field, wrong, flat(page.text))
        assert said in unescape(problem.group(1)), (field, problem.group(1))
        assert "Not carried out" not in page.text and "<details open>" in page.text
        kept = {key: value for key, value in {**form, field: wrong}.items() if value.strip()}
        for key in ("amount", "reference", "act_on"):
            if key in kept:
                assert f'value="{kept[key]}"' in unescape(page.text), (key, kept[key])
    page = await clerk.get("/office/fund")
    assert "Prepared: act" not in page.text and "Free €" not in flat(page.text)

    page = await clerk.post("/office/acts", form)
    assert "Prepared: act 1." in flat(page.text)
    manager = await english(credited, "bel.manager")
    page = await manager.get("/office/fund")
    text = flat(page.text)
    left = re.search(r"Left for new determine (€[\d,.]+)", text)
    assert left is not None
    assert (
        f"Approving it frees €200.00: what is left for new determine goes from {left.group(1)}"
        " to " in text
    ), text
    after = re.search(r"goes from €[\d,.]+ to (€[\d,.]+); €500.00 of tranche 1 stays", text)
    assert after is not None, text
    page = await manager.post("/office/acts/1/approve", {})
    assert f"Left for new determine {after.group(1)}" in flat(page.text)


def said_in(page_text: str, element_id: str) -> str:
    """The text of the alert with this id on the page, flattened ("" when there is none)."""
    # (Other attributes may follow the id: the focus a refusal takes, tabindex, autofocus.)
    found = re.search(
        rf'<p class="error" role="alert" id="{element_id}"[^>]*>([^<]*)</p>', page_text
    )
    return unescape(found.group(1)) if found else ""


async def test_an_economia_refused_as_an_act_is_said_on_the_fund_page_beside_it(
    credited: OfficeServer, core: Core, clock: FakeClock
) -> None:
    """The act refused, not a field: another economia waiting, the determina not credited,
    nothing left, a determina that is not the town's; its approval refused (approved in
    another tab, by the manager who prepared it), its withdrawal without a reason. Each is
    said on the fund's page beside the determina or the act, in the operator's language,
    with "nothing was changed", never on the general refusal page; nothing is prepared,
    freed or withdrawn by them."""
    clerk = await english(credited, "bel.clerk")
    allocation, form = await economia_form(clerk, "200", act_on="07/04/2026")
    assert "Prepared: act 1." in flat((await clerk.post("/office/acts", form)).text)

    # A second economia while the first waits: said in the determina's row, its form open.
    page = await clerk.post("/office/acts", {**form, "amount": "100"})
    assert page.status == 409 and "Not done" not in page.text, flat(page.text)
    said = said_in(page.text, f"eco-problem-{allocation}")
    assert "Economia act 1 is already waiting for approval" in said, said
    assert "Nothing was changed." in said, said
    assert "<details open>" in page.text and 'value="100"' in page.text
    assert "Free €100.00" not in flat(page.text)

    # Its approval by the manager who prepared it: refused beside the act, which still waits.
    manager = await english(credited, "bel.manager")
    await manager.post("/office/acts/1/withdraw", {"reason": "asked again below"})
    page = await manager.post("/office/acts", form)
    assert "Prepared: act 2." in flat(page.text)
    page = await manager.post("/office/acts/2/approve", {"back": "/office/fund"})
    assert page.status == 403 and "Not done" not in page.text, flat(page.text)
    said = said_in(page.text, "act-problem-2")
    assert "another manager must approve it" in said and "Nothing was changed." in said, said
    # A withdrawal without a reason (spaces only): beside the act too.
    page = await manager.post("/office/acts/2/withdraw", {"reason": "  "})
    assert "Not done" not in page.text and "Write the reason." in said_in(
        page.text, "act-problem-2"
    ), flat(page.text)

    # Approved by another manager, then again (a double click, a tab left open): the fund's
    # page again with a notice of who approved it, not a refusal; freed once.
    second = await english(credited, "bel.manager2")
    assert "Act 2 approved" in flat((await second.post("/office/acts/2/approve", {})).text)
    page = await second.post("/office/acts/2/approve", {})
    assert page.status == 200 and page.url == "/office/fund", (page.status, page.url)
    said = flat(page.text)
    assert "already approved by bel.manager2" in said and "carried out" in said, said
    assert "Freed by economie (no longer committed) €200.00" in flat(page.text)

    # Nothing left once the rest is freed: a form sent from a page left open.
    page = await clerk.post("/office/acts", {**form, "amount": ""})
    assert "Prepared: act 3." in flat(page.text)
    assert "approved" in flat((await second.post("/office/acts/3/approve", {})).text)
    page = await clerk.post("/office/acts", {**form, "amount": "50"})
    assert page.status == 409 and "Not done" not in page.text, flat(page.text)
    said = said_in(page.text, f"eco-problem-{allocation}")
    assert "has nothing left to free" in said, said

    # A determina that is not the town's: said above the table.
    page = await clerk.post("/office/acts", {**form, "allocation": "9999"})
    assert page.status == 404 and "Not done" not in page.text, flat(page.text)
    assert "No determina 9999" in said_in(page.text, "eco-problem"), flat(page.text)

    # Nothing prepared by the refusals: acts 1 (withdrawn), 2 and 3 (approved) only.
    page = await clerk.get("/office/fund")
    assert "Nothing is waiting." in flat(page.text)
    assert "Freed by economie (no longer committed) €700.00" in flat(page.text)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        assert len(list(await uow.fund.economie(town.id))) == 2


async def test_an_economia_of_a_determina_not_credited_is_refused_in_its_row(
    core: Core, clock: FakeClock, database_url: str
) -> None:
    """A determina approved and not credited yet: its row offers no economia (withdrawing
    it gives its budget back); a form sent for it anyway (a page open since before the
    approval's credit was undone, a forged one) is refused in that row, nothing prepared."""
    bel = await open_round(core, clock, code="BEL")
    await add_operators(core, "BEL")
    await apply(bel, person(1, 4), person(2, 1))
    await close_window(bel)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        approved, _ = await allocation_service.approve(uow, town, 1_000_00, clock())
        await uow.commit()
    async with office_server(core, database_url, office_config=LASTING_SESSIONS) as server:
        clerk = await english(server, "bel.clerk")
        page = await clerk.post(
            "/office/acts",
            {
                "kind": "economia",
                "allocation": str(approved.id),
                "reference": "det. n. 12/2026",
                "act_on": "07/04/2026",
            },
        )
        assert page.status == 409 and "Not done" not in page.text, flat(page.text)
        said = said_in(page.text, f"eco-problem-{approved.id}")
        assert "is not credited yet" in said and "Nothing was changed." in said, said
        assert "Nothing is waiting." in flat(page.text)


async def test_every_bad_day_of_an_economia_is_said_beside_its_field(
    credited: OfficeServer,
) -> None:
    """The shapes of a bad day a clerk types (empty, with a time, a two-digit year, dots,
    a day that does not exist in either order, the year 0000, long before the vouchers,
    still to come), alone and while another economia waits: each is said beside the day,
    never on the general refusal page, nothing prepared."""
    clerk = await english(credited, "bel.clerk")
    allocation, form = await economia_form(clerk, "100")
    days = (
        "",
        "6/4/2026 10:00",
        "06/04/26",
        "6.4.2026",
        "31/02/2026",
        "2026-02-30",
        "01/01/0000",
        "01/01/2019",
        "06/04/9999",
    )
    for waiting in (False, True):
        if waiting:
            page = await clerk.post("/office/acts", {**form, "act_on": "07/04/2026"})
            assert "Prepared: act 1." in flat(page.text)
        for day in days:
            page = await clerk.post("/office/acts", {**form, "act_on": day})
            assert page.status in (400, 409) and "Not done" not in page.text, (day, waiting)
            problem = re.search(rf'id="eco-day-{allocation}-problem">([^<]*)</span>', page.text)
            assert problem is not None and problem.group(1).strip(), (day, waiting)
    page = await clerk.get("/office/fund")
    assert flat(page.text).count("Free €100.00") == 1  # act 1, and nothing else


async def test_an_economia_dated_before_its_determina_is_said_beside_the_day(
    credited: OfficeServer,
) -> None:
    """The determina was approved on 07/04/2026: an act freeing its rest dated the day before
    is refused beside the day, in English and in Italian, with the determina's day, and
    nothing is prepared."""
    clerk = await english(credited, "bel.clerk")
    allocation, form = await economia_form(clerk, "200", act_on="06/04/2026")
    page = await clerk.post("/office/acts", form)
    assert page.status == 409 and "Not done" not in page.text, flat(page.text)
    problem = re.search(rf'id="eco-day-{allocation}-problem">([^<]*)</span>', page.text)
    assert problem is not None, flat(page.text)
    said = unescape(problem.group(1))
    assert "06/04/2026" in said and "before 07/04/2026, the day of the determina" in said, said
    assert 'value="06/04/2026"' in page.text
    italian = await signed_in(credited, "bel.clerk")
    page = await italian.post("/office/acts", form)
    problem = re.search(rf'id="eco-day-{allocation}-problem">([^<]*)</span>', page.text)
    assert problem is not None and "prima del 07/04/2026" in unescape(problem.group(1))
    page = await clerk.get("/office/fund")
    assert "Prepared: act" not in page.text and "Free €" not in flat(page.text)


async def test_a_day_in_another_shape_than_the_desk_s_is_refused_beside_it(
    credited: OfficeServer,
) -> None:
    """Only day/month/year and year-month-day in the digits 0-9 are days: an ISO week day,
    Arabic-Indic or Persian digits, a compact or ordinal ISO day are refused beside the
    field with the shape to write, nothing prepared."""
    clerk = await english(credited, "bel.clerk")
    allocation, form = await economia_form(clerk, "100")
    for day in (
        "2026-W15-1",
        "2026W151",
        "٠٦/٠٤/٢٠٢٦",
        "۰۶/۰۴/۲۰۲۶",
        "٢٠٢٦-٠٤-٠٦",
        "20260406",
        "2026-096",
    ):
        page = await clerk.post("/office/acts", {**form, "act_on": day})
        assert page.status in (400, 409) and "Not done" not in page.text, (day, page.status)
        problem = re.search(rf'id="eco-day-{allocation}-problem">([^<]*)</span>', page.text)
        assert problem is not None, (day, flat(page.text))
        said = unescape(problem.group(1))
        assert "write it as day/month/year" in said and "or as year-month-day" in said, said
    page = await clerk.get("/office/fund")
    assert "Prepared: act" not in page.text and "Free €" not in flat(page.text)


async def test_a_hand_made_or_stale_economia_form_is_told_on_the_page_in_both_languages(
    credited: OfficeServer, core: Core
) -> None:
    """A form that names no determina (hand-made, a page saved long ago), with or without a
    bad day; a form of a determina whose rest was freed since, with a bad day; a form that
    names no act at all: each answers with a sentence that says what to do, in English and
    in Italian, above the table or in the determina's row, "nothing was changed", and
    nothing is prepared."""
    clerk = await english(credited, "bel.clerk")
    italian = await signed_in(credited, "bel.clerk")
    allocation, form = await economia_form(clerk, "", act_on="07/04/2026")
    for missing in ({"allocation": ""}, {"allocation": "abc"}, {"act_on": "31/02/2026"}):
        sent = {**form, **missing}
        if "allocation" not in missing:
            del sent["allocation"]
        page = await clerk.post("/office/acts", sent)
        assert page.status == 409 and "Not done" not in page.text, flat(page.text)
        said = said_in(page.text, "eco-problem")
        assert "The form did not say which determina" in said, (missing, flat(page.text))
        assert "Nothing was changed." in said, said
        page = await italian.post("/office/acts", sent)
        said = said_in(page.text, "eco-problem")
        assert "Il modulo non diceva di quale determina" in said, (missing, said)
        assert "Nulla è stato modificato." in said, said

    # The whole rest freed by another clerk's act, then this page's form sent with a bad
    # day: the determina has nothing left, said in its row (it shows no form any more).
    assert "Prepared: act 1." in flat((await clerk.post("/office/acts", form)).text)
    manager = await english(credited, "bel.manager")
    assert "Act 1 approved" in flat((await manager.post("/office/acts/1/approve", {})).text)
    page = await clerk.post("/office/acts", {**form, "act_on": "31/02/2026", "amount": "5"})
    assert page.status == 409 and "Not done" not in page.text, flat(page.text)
    said = said_in(page.text, f"eco-problem-{allocation}")
    assert "has nothing left to free" in said and "Nothing was prepared" in said, flat(page.text)

    # No act named at all: the refusal page says what to do, not "there is no such act".
    for kind in ({}, {"kind": "economy"}):
        sent = {key: value for key, value in form.items() if key != "kind"} | kind
        page = await clerk.post("/office/acts", sent)
        assert page.status == 409, page.status
        assert "The form did not say which act to prepare" in flat(page.text), flat(page.text)
        page = await italian.post("/office/acts", sent)
        assert "Il modulo non diceva quale atto preparare" in flat(page.text), flat(page.text)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        assert len(list(await uow.acts.recent(town.id, 10))) == 1
