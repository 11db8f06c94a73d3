"""Four eyes over HTTP: a clerk prepares, a different manager approves; nobody does both."""

from __future__ import annotations

import asyncio
import re
from html import unescape

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.services import allocation, ledger, municipalities
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.catalog import ROOT
from tests.integration.office_helpers import apply, person
from tests.office.conftest import Towns, signed_in
from tests.office.harness import OfficeBrowser

ACT = re.compile(r"/office/acts/(\d+)/withdraw")


async def closed_round_with_applications(towns: Towns, clock: FakeClock) -> list[str]:
    protocols = await apply(towns.bel, person(1, 4), person(2, 1, support_cents=30000))
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.post("/office/round/window/close", {"number": "1", "confirm": "yes"})
    assert page.status == 200 and page.url == "/office/round"
    clock.advance(hours=1)
    return protocols


async def prepare(browser: OfficeBrowser, **form: str) -> int:
    page = await browser.post("/office/acts", form)
    assert page.status == 200, page.text
    return int(ACT.findall(page.text)[-1])


def notice(html: str) -> str:
    """The notice the page shows once, as the operator reads it."""
    found = re.search(r'<p class="notice" role="status">(.*?)</p>', html, re.S)
    assert found, html[:2000]
    return unescape(found.group(1))


async def act_status(core: Core, act_id: int) -> str:
    async with core.uow() as uow:
        act = await uow.session.get(m.OfficeAct, act_id)
        assert act is not None
        return act.status


async def test_clerk_prepares_manager_approves_then_credit_the_same_way(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    protocols = await closed_round_with_applications(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    manager = await signed_in(towns.server, "bel.manager")
    act = await prepare(clerk, kind="determina", budget="400")
    page = await manager.get("/office/round")
    assert f"/office/acts/{act}/approve" in page.text
    page = await manager.post(f"/office/acts/{act}/approve")
    assert page.status == 200 and await act_status(core, act) == "approved"
    # The notice says that nobody has money yet, and where the credit is prepared.
    assert notice(page.text) == (
        f"Atto {act} approvato ed eseguito: la tranche 1 assegna 400,00\xa0€, ma nessuno è "
        "ancora accreditato. Ora prepara il suo accredito in «Prepara un atto», nella pagina "
        "Bando e tranche."
    )
    credit = await prepare(clerk, kind="credit")
    page = await manager.post(f"/office/acts/{credit}/approve")
    assert page.status == 200 and await act_status(core, credit) == "approved"
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(protocols[0])
        assert application is not None
        assert (
            await ledger.citizen_balance(uow, towns.bel.municipality_id, application.citizen_id)
            == 300_00
        )
        actions = list(
            await uow.session.scalars(
                select(m.ActivityEntry.action).where(
                    m.ActivityEntry.municipality_id == towns.bel.municipality_id
                )
            )
        )
    for action in ("window.close", "determina.prepare", "determina.approve", "credit.approve"):
        assert action in actions
    page = await manager.get("/office/")
    assert "400,00" in page.text  # the approved budget on the dashboard


async def test_a_clerk_cannot_approve(towns: Towns, core: Core, clock: FakeClock) -> None:
    await closed_round_with_applications(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    act = await prepare(clerk, kind="determina", budget="400")
    page = await clerk.get("/office/round")
    assert f"/office/acts/{act}/approve" not in page.text
    page = await clerk.post(f"/office/acts/{act}/approve")
    assert page.status == 403
    assert await act_status(core, act) == "prepared"
    async with core.uow() as uow:
        assert await uow.session.scalar(select(m.Allocation.id).limit(1)) is None


async def test_the_same_person_cannot_prepare_and_approve(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await closed_round_with_applications(towns, clock)
    manager = await signed_in(towns.server, "bel.manager")
    act = await prepare(manager, kind="determina", budget="400")
    page = await manager.post(f"/office/acts/{act}/approve")
    assert page.status == 403
    assert "quattro occhi" in page.text
    assert await act_status(core, act) == "prepared"
    other = await signed_in(towns.server, "bel.manager2")
    assert (await other.post(f"/office/acts/{act}/approve")).status == 200
    assert await act_status(core, act) == "approved"
    # Once only: a second click is told it was done, on the same page, and nothing runs.
    again = await other.post(f"/office/acts/{act}/approve")
    assert again.status == 200 and again.url == "/office/round"
    assert f"L'atto {act} è già stato approvato da bel.manager2 il " in unescape(again.text)


async def test_the_database_refuses_an_act_approved_by_its_preparer(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await closed_round_with_applications(towns, clock)
    manager = await signed_in(towns.server, "bel.manager")
    act = await prepare(manager, kind="determina", budget="400")
    async with core.uow() as uow:
        act_row = await uow.session.get(m.OfficeAct, act)
        assert act_row is not None
        with pytest.raises(IntegrityError):
            await uow.session.execute(
                update(m.OfficeAct)
                .where(m.OfficeAct.id == act)
                .values(status="approved", decided_by_id=act_row.prepared_by_id)
            )


async def test_a_viewer_cannot_prepare_and_a_draft_can_be_withdrawn(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await closed_round_with_applications(towns, clock)
    viewer = await signed_in(towns.server, "bel.viewer")
    assert (await viewer.post("/office/acts", {"kind": "determina", "budget": "400"})).status == 403
    assert (await viewer.post("/office/round/window/open")).status == 403
    clerk = await signed_in(towns.server, "bel.clerk")
    act = await prepare(clerk, kind="determina", budget="400")
    page = await clerk.post("/office/acts", {"kind": "determina", "budget": "500"})
    assert page.status == 409  # one draft of a kind at a time
    assert (await clerk.post(f"/office/acts/{act}/withdraw", {"reason": ""})).status == 409
    page = await clerk.post(f"/office/acts/{act}/withdraw", {"reason": "wrong budget"})
    assert page.status == 200 and await act_status(core, act) == "withdrawn"


async def test_another_towns_act_is_not_found(towns: Towns, clock: FakeClock) -> None:
    await closed_round_with_applications(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    act = await prepare(clerk, kind="determina", budget="400")
    stranger = await signed_in(towns.server, "cal.manager")
    assert (await stranger.post(f"/office/acts/{act}/approve")).status == 404
    assert (await stranger.post(f"/office/acts/{act}/withdraw", {"reason": "x"})).status == 404
    page = await stranger.get("/office/round")
    assert f"/office/acts/{act}/" not in page.text


async def test_a_determina_while_the_window_is_open_is_refused(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.post("/office/acts", {"kind": "determina", "budget": "400"})
    assert page.status == 409 and "Il bando è ancora aperto: chiudilo prima." in page.text
    page = await clerk.post("/office/acts", {"kind": "determina", "budget": "quattro"})
    assert page.status == 400


async def test_the_simulator_shows_several_budgets_side_by_side(
    towns: Towns, clock: FakeClock
) -> None:
    await closed_round_with_applications(towns, clock)
    viewer = await signed_in(towns.server, "bel.viewer")
    page = await viewer.get("/office/round?budget=100&budget=300&budget=1000")
    assert page.status == 200
    for amount in ("100,00", "300,00", "1.000,00"):
        assert amount in page.text
    page = await viewer.get("/office/round?budget=abc")
    assert page.status == 200 and 'class="error"' in page.text
    # Named as its box is labelled ("Budget 1 (euro)"), in Italian on the Italian page.
    said = " ".join(unescape(page.text).split())
    assert "Budget 1 (abc): Questo non è un importo." in said, said
    assert "not an amount" not in said


CREDIT_BUTTON = '<input type="hidden" name="kind" value="credit">'


async def test_the_credit_is_offered_only_when_an_approved_tranche_waits_for_it(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    """Not while the window is open, nor once its act waits or the tranche was credited or
    withdrawn: the page says why instead of a button that leads to a refusal."""
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/round")
    assert CREDIT_BUTTON not in page.text
    assert "Non c'è una tranche approvata in attesa di accredito." in unescape(page.text)
    await closed_round_with_applications(towns, clock)
    manager = await signed_in(towns.server, "bel.manager")
    determina = await prepare(clerk, kind="determina", budget="400")
    assert CREDIT_BUTTON not in (await clerk.get("/office/round")).text
    await manager.post(f"/office/acts/{determina}/approve")
    page = await clerk.get("/office/round")
    assert CREDIT_BUTTON in page.text and 'id="credit-refusal"' not in page.text
    credit = await prepare(clerk, kind="credit")
    page = await clerk.get("/office/round")
    assert CREDIT_BUTTON not in page.text
    assert "L'accredito della tranche approvata è preparato" in unescape(page.text)
    await manager.post(f"/office/acts/{credit}/approve")
    page = await clerk.get("/office/round")
    assert CREDIT_BUTTON not in page.text
    assert "Non c'è una tranche approvata in attesa di accredito." in unescape(page.text)


async def test_a_withdrawn_tranche_offers_no_credit(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await closed_round_with_applications(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    manager = await signed_in(towns.server, "bel.manager")
    determina = await prepare(clerk, kind="determina", budget="400")
    await manager.post(f"/office/acts/{determina}/approve")
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.withdraw(uow, town, core.now(), by="test")
        await uow.commit()
    page = await clerk.get("/office/round")
    assert CREDIT_BUTTON not in page.text
    assert "Non c'è una tranche approvata in attesa di accredito." in unescape(page.text)
    # The withdrawn tranche reads as withdrawn, by whom, never as one still to credit.
    row = re.search(r"<tr>\s*<td[^>]*>1</td>.*?</tr>", page.text, re.S)
    assert row is not None
    cells = " ".join(unescape(re.sub(r"<[^>]+>", " ", row.group(0))).split())
    assert "Ritirata il" in cells and "(test)" in cells and "mai accreditata" in cells, cells
    assert "non ancora" not in cells
    page = await clerk.post("/office/acts", {"kind": "credit"})
    assert page.status == 404  # what the button would have led to


async def test_a_double_click_prepares_one_draft_and_approves_it_once(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await closed_round_with_applications(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    form = {"kind": "determina", "budget": "400"}
    pages = await asyncio.gather(clerk.post("/office/acts", form), clerk.post("/office/acts", form))
    # The second click lands on the draft the first made (test_clicked_twice): one draft.
    assert [page.status for page in pages] == [200, 200], [p.text for p in pages]
    async with core.uow() as uow:
        [act] = await uow.session.scalars(select(m.OfficeAct.id))
    manager = await signed_in(towns.server, "bel.manager")
    other = await signed_in(towns.server, "bel.manager2")
    pages = await asyncio.gather(
        manager.post(f"/office/acts/{act}/approve"), other.post(f"/office/acts/{act}/approve")
    )
    assert [page.status for page in pages] == [200, 200], [p.text for p in pages]
    assert await act_status(core, act) == "approved"
    async with core.uow() as uow:
        assert len(list(await uow.session.scalars(select(m.Allocation.id)))) == 1
    # The second click is told the act was carried out, and by whom: not "approved or
    # withdrawn", which leaves a manager wondering whether the money moved.
    [second] = [page for page in pages if "è già stato approvato" in page.text]
    winner = "bel.manager2" if second is pages[0] else "bel.manager"
    said = " ".join(unescape(second.text).split())
    assert f"L'atto {act} è già stato approvato da {winner} il " in said, said
    assert "ed è stato eseguito: non c'è nulla da approvare di nuovo." in said, said


async def test_approving_an_act_withdrawn_meanwhile_says_who_withdrew_it_and_why(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await closed_round_with_applications(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    act = await prepare(clerk, kind="determina", budget="400")
    manager = await signed_in(towns.server, "bel.manager")
    assert f"/office/acts/{act}/approve" in (await manager.get("/office/round")).text
    page = await clerk.post(f"/office/acts/{act}/withdraw", {"reason": "fondi sbagliati"})
    assert page.status == 200
    page = await manager.post(f"/office/acts/{act}/approve")  # the page left open
    assert page.status == 409 and await act_status(core, act) == "withdrawn"
    said = " ".join(unescape(page.text).split())
    assert f"L'atto {act} è stato ritirato da bel.clerk il " in said, said
    assert "(motivo: fondi sbagliati): non è stato eseguito." in said, said
    async with core.uow() as uow:
        assert list(await uow.session.scalars(select(m.Allocation.id))) == []


def test_the_waiting_acts_and_requests_are_decided_with_the_one_macro() -> None:
    """The acts and the phone, delegate and card requests offer approve and withdraw
    through four_eyes.html: no page keeps its own copy of the two forms."""
    templates = ROOT / "office" / "templates"
    copies = [
        path.name
        for path in sorted(templates.glob("*.html"))
        if path.name != "four_eyes.html" and "may_approve" in path.read_text()
    ]
    assert copies == []
    users = sorted(
        path.name for path in templates.glob("*.html") if "{% call decision(" in path.read_text()
    )
    assert users == ["acts_waiting.html", "phone_changes.html"]
