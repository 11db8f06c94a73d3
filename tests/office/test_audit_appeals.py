"""The office over HTTP: checks' outcomes, sums to recover, undoing a revocation under four
eyes, and the queue of appeals with its decisions sent back to the citizen."""

from __future__ import annotations

import io
import re
from html import unescape

from openpyxl import load_workbook
from sqlalchemy import select

from core.bootstrap import Core
from core.i18n import render_text
from core.services import allocation, appeals, audit, ledger, municipalities
from core.services.outbox import reply_of
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import outbox_to
from tests.integration.office_helpers import apply, ask, close_approve_credit, pay, person
from tests.office.conftest import Towns, signed_in
from tests.office.harness import OfficeBrowser

ACT = re.compile(r"/office/acts/(\d+)/withdraw")
PEOPLE = [person(n) for n in range(1, 4)]


async def credited(towns: Towns) -> list[str]:
    protocols = await apply(towns.bel, *PEOPLE)
    await close_approve_credit(towns.bel, 450_00)
    return protocols


async def prepare(browser: OfficeBrowser, **form: str) -> int:
    page = await browser.post("/office/acts", form)
    assert page.status == 200, page.text
    return int(ACT.findall(page.text)[-1])


async def application(core: Core, protocol: str) -> m.Application:
    async with core.uow() as uow:
        found = await uow.applications.by_protocol(protocol)
        assert found is not None
        return found


async def test_outcomes_are_recorded_by_clerks_and_shown_on_the_audit_page(
    towns: Towns, core: Core
) -> None:
    protocols = await credited(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.post(
        "/office/audit/draw", {"window": "1", "percent": "100", "seed": "3", "confirm": "yes"}
    )
    assert page.status == 200
    assert "non ancora controllata" in page.text
    page = await clerk.post(
        "/office/audit/check",
        {"protocol": protocols[0], "outcome": "discrepancy", "note": "conto non dichiarato"},
    )
    assert page.status == 200 and page.url == "/office/audit"
    assert "difformità riscontrata: conto non dichiarato" in page.text
    assert "bel.clerk" in page.text
    # Refused, and nothing changed: a viewer, no CSRF token, another town's operator.
    viewer = await signed_in(towns.server, "bel.viewer")
    form = {"protocol": protocols[1], "outcome": "confirmed"}
    assert (await viewer.post("/office/audit/check", form)).status == 403
    assert (await clerk.post("/office/audit/check", form, csrf=False)).status == 403
    stranger = await signed_in(towns.server, "cal.clerk")
    assert (await stranger.post("/office/audit/check", form)).status == 404
    assert (await clerk.post("/office/audit/check", {**form, "outcome": "boh"})).status == 409
    async with core.uow() as uow:
        checks = list(await uow.session.scalars(select(m.AuditCheck)))
        logged = list(
            await uow.session.scalars(
                select(m.ActivityEntry).where(m.ActivityEntry.action == "audit.check")
            )
        )
    assert [(c.outcome, c.note) for c in checks] == [("discrepancy", "conto non dichiarato")]
    assert [e.actor for e in logged] == ["bel.clerk"]


async def test_sums_to_recover_download_and_the_undo_needs_a_second_manager(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    protocols = await credited(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    manager = await signed_in(towns.server, "bel.manager")
    manager2 = await signed_in(towns.server, "bel.manager2")
    revocation = await prepare(clerk, kind="revocation", protocol=protocols[0], reason="ISEE falso")
    assert (await manager.post(f"/office/acts/{revocation}/approve")).status == 200
    page = await clerk.get("/office/audit")
    assert protocols[0] in page.text and "ISEE falso" in page.text
    csv = await clerk.get("/office/audit/to-recover.csv")
    assert csv.status == 200 and csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.body.decode("utf-8-sig").splitlines()
    assert lines[0] == ("protocol,revoked_at_utc,credited_eur,returned_eur,to_recover_eur,reason")
    assert lines[1].startswith(f"{protocols[0]},") and ",150.00,150.00,0.00,ISEE falso" in lines[1]
    xlsx = await clerk.get("/office/audit/to-recover.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.body)).active
    assert sheet is not None and sheet["A2"].value == protocols[0]
    # Another town sees nothing of it.
    stranger = await signed_in(towns.server, "cal.manager")
    assert protocols[0] not in (await stranger.get("/office/audit/to-recover.csv")).body.decode()

    clock.advance(hours=1)
    undo = await prepare(
        manager, kind="revocation_undo", protocol=protocols[0], reason="persona sbagliata"
    )
    page = await manager.get("/office/audit")
    assert f"/office/acts/{undo}/withdraw" in page.text
    assert (await clerk.post(f"/office/acts/{undo}/approve")).status == 403  # a clerk
    assert (await manager.post(f"/office/acts/{undo}/approve")).status == 403  # the preparer
    assert (await manager2.post(f"/office/acts/{undo}/approve", csrf=False)).status == 403
    assert (await stranger.post(f"/office/acts/{undo}/approve")).status == 404
    assert (await application(core, protocols[0])).revoked_at is not None
    sent_before = len(await outbox_to(core, PEOPLE[0].phone or ""))

    page = await manager2.post(f"/office/acts/{undo}/approve")

    assert page.status == 200 and page.url == "/office/audit"
    assert (await application(core, protocols[0])).revoked_at is None
    messages = await outbox_to(core, PEOPLE[0].phone or "")
    assert len(messages) == sent_before + 1
    assert "150,00" in render_text(reply_of(core.keys, messages[-1]).texts[0], "it")
    async with core.uow() as uow:
        assert (await ledger.verify(uow, towns.bel.municipality_id)).ok
    # Undoing the undone: refused, clearly, and nothing prepared.
    page = await clerk.post(
        "/office/acts", {"kind": "revocation_undo", "protocol": protocols[0], "reason": "ancora"}
    )
    assert page.status == 409 and "già stata annullata" in page.text
    page = await clerk.post(
        "/office/acts", {"kind": "revocation_undo", "protocol": protocols[1], "reason": "x"}
    )
    assert page.status == 409 and "non è revocata" in page.text


async def test_the_manager_approving_a_revocation_sees_what_it_takes_back(
    towns: Towns, core: Core
) -> None:
    """Beside "Approve", a revocation says what goes back to the fund, what was already
    spent and is to recover, and the payment waiting for a code it cancels; before, the
    manager saw only the protocol and the reason."""
    protocols = await credited(towns)
    shop = towns.bel.shop_ids[0]
    await pay(towns.bel, shop, PEOPLE[0], 40_50)
    await ask(towns.bel, shop, PEOPLE[0].codice_fiscale, 10_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    manager = await signed_in(towns.server, "bel.manager")
    revocation = await prepare(clerk, kind="revocation", protocol=protocols[0], reason="ISEE falso")
    # Money is written with a no-break space before the euro sign.
    page = unescape((await manager.get("/office/audit")).text).replace("\xa0", " ")
    assert "Tolti dai buoni del cittadino e restituiti al fondo: 109,50 €." in page
    assert "Già spesi, da recuperare dal nucleo: 40,50 €." in page
    assert "Annullato: 1 pagamento in attesa del codice del cittadino." in page
    english = await signed_in(towns.server, "bel.manager2")
    await english.post("/office/language", {"lang": "en"})
    page = unescape((await english.get("/office/audit")).text).replace("\xa0", " ")
    assert "Taken back from the citizen's vouchers to the fund: €109.50." in page
    assert (await manager.post(f"/office/acts/{revocation}/approve")).status == 200
    revoked = await application(core, protocols[0])
    assert revoked.revoked_at is not None and revoked.recover_cents == 40_50


async def file_appeal(core: Core, data_index: int, reason: str) -> int:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        citizen = await uow.citizens.by_codice_fiscale(town.id, PEOPLE[data_index].codice_fiscale)
        assert citizen is not None
        appeal = await appeals.file_appeal(uow, town, citizen, reason, "sms", core.now())
        await uow.commit()
        return appeal.id


async def test_the_queue_of_appeals_and_a_decision_sent_back_to_the_citizen(
    towns: Towns, core: Core
) -> None:
    protocols = await credited(towns)
    appeal = await file_appeal(core, 0, "Siamo in quattro, non in uno: malattia grave")
    viewer = await signed_in(towns.server, "bel.viewer")
    page = await viewer.get("/office/appeals")
    assert page.status == 200 and protocols[0] in page.text
    assert "malattia" not in page.text  # the citizen's words are not for viewers
    assert "appeal_decide" not in page.text and f"/office/appeals/{appeal}/decide" not in page.text
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/appeals")
    assert "malattia grave" in page.text and f"/office/appeals/{appeal}/decide" in page.text
    form = {"outcome": "rejected", "reason": "Il nucleo risulta di una persona all'anagrafe."}
    assert (await viewer.post(f"/office/appeals/{appeal}/decide", form)).status == 403
    assert (await clerk.post(f"/office/appeals/{appeal}/decide", form, csrf=False)).status == 403
    stranger = await signed_in(towns.server, "cal.clerk")
    assert protocols[0] not in (await stranger.get("/office/appeals")).text
    assert (await stranger.post(f"/office/appeals/{appeal}/decide", form)).status == 404
    assert (await clerk.post(f"/office/appeals/{appeal}/decide", {"outcome": "x"})).status == 409
    sent_before = len(await outbox_to(core, PEOPLE[0].phone or ""))

    # The button first shows what will be sent, and sends nothing.
    page = await clerk.post(f"/office/appeals/{appeal}/decide", form)
    assert page.status == 200 and page.url == f"/office/appeals/{appeal}/decide"
    assert "Decidi il ricorso" in page.text and "all&#39;anagrafe" in page.text
    assert len(await outbox_to(core, PEOPLE[0].phone or "")) == sent_before

    page = await clerk.post(f"/office/appeals/{appeal}/decide", {**form, "confirm": "yes"})

    assert page.status == 200 and page.url == "/office/appeals"
    assert "respinto" in page.text and "all&#39;anagrafe" in page.text
    messages = await outbox_to(core, PEOPLE[0].phone or "")
    assert len(messages) == sent_before + 1
    said = render_text(reply_of(core.keys, messages[-1]).texts[0], messages[-1].language)
    assert protocols[0] in said and "respinto" in said and "all'anagrafe" in said
    assert (await clerk.post(f"/office/appeals/{appeal}/decide", form)).status == 409
    # The same decision confirmed again (a double click, an old tab): the appeals page with
    # a notice, nothing sent twice.
    sent = {**form, "confirm": "yes"}
    again = await clerk.post(f"/office/appeals/{appeal}/decide", sent)
    assert again.status == 200 and again.url == "/office/appeals"
    assert f"Il ricorso {appeal} era già deciso (" in unescape(again.text)
    assert len(await outbox_to(core, PEOPLE[0].phone or "")) == sent_before + 1
    # The other decision, from a tab left open: refused, nothing sent.
    other = {**sent, "outcome": "upheld"}
    assert (await clerk.post(f"/office/appeals/{appeal}/decide", other)).status == 409
    assert len(await outbox_to(core, PEOPLE[0].phone or "")) == sent_before + 1
    async with core.uow() as uow:
        logged = [
            (e.actor, e.action)
            for e in await uow.session.scalars(
                select(m.ActivityEntry)
                .where(m.ActivityEntry.action.like("appeal.%"))
                .order_by(m.ActivityEntry.id)
            )
        ]
    assert logged == [("chat:sms", "appeal.file"), ("bel.clerk", "appeal.rejected")]


OPTION = re.compile(r'<option value="([^"]*)"( selected)?>')


def default_choice(page_text: str, select_id: str) -> str:
    """The value a browser submits for a <select> nobody touched: the option marked
    selected, else the first."""
    start = page_text.index(f'<select id="{select_id}"')
    options = OPTION.findall(page_text[start : page_text.index("</select>", start)])
    chosen: str = next((value for value, selected in options if selected), options[0][0])
    return chosen


async def test_the_appeal_decision_has_no_default_and_submitting_none_changes_nothing(
    towns: Towns, core: Core
) -> None:
    await credited(towns)
    appeal = await file_appeal(core, 0, "Siamo in quattro")
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/appeals")
    assert default_choice(page.text, f"outcome-{appeal}") == ""  # neither upheld nor rejected
    sent_before = len(await outbox_to(core, PEOPLE[0].phone or ""))

    page = await clerk.post(
        f"/office/appeals/{appeal}/decide", {"outcome": "", "reason": "Di corsa"}
    )

    assert page.status == 409 and "Scegli la decisione: accolto o respinto." in page.text
    assert len(await outbox_to(core, PEOPLE[0].phone or "")) == sent_before
    async with core.uow() as uow:
        found = await uow.appeals.by_id(appeal)
        decided = await uow.session.scalars(
            select(m.ActivityEntry).where(
                m.ActivityEntry.action.in_(("appeal.upheld", "appeal.rejected"))
            )
        )
        assert found is not None and found.status == "open" and list(decided) == []


DASHBOARD_APPEALS = re.compile(r'<a href="/office/appeals">([^<]+)</a></th><td>(\d+)</td>')


async def test_the_dashboard_counts_the_appeals_waiting_for_every_role(
    towns: Towns, core: Core
) -> None:
    await credited(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    assert DASHBOARD_APPEALS.findall((await clerk.get("/office/")).text) == [
        ("Ricorsi da decidere", "0")
    ]
    first = await file_appeal(core, 0, "Siamo in quattro")
    await file_appeal(core, 1, "Ho perso il lavoro dopo la domanda")
    for name in ("bel.viewer", "bel.clerk", "bel.manager"):
        browser = await signed_in(towns.server, name)
        page = await browser.get("/office/")
        assert page.status == 200
        assert DASHBOARD_APPEALS.findall(page.text) == [("Ricorsi da decidere", "2")], name
        assert "Siamo in quattro" not in page.text
    form = {"outcome": "upheld", "reason": "Nucleo corretto all'anagrafe.", "confirm": "yes"}
    assert (await clerk.post(f"/office/appeals/{first}/decide", form)).status == 200
    assert DASHBOARD_APPEALS.findall((await clerk.get("/office/")).text) == [
        ("Ricorsi da decidere", "1")
    ]
    # Another town's dashboard counts its own appeals only.
    stranger = await signed_in(towns.server, "cal.clerk")
    assert DASHBOARD_APPEALS.findall((await stranger.get("/office/")).text) == [
        ("Ricorsi da decidere", "0")
    ]


async def test_a_revocation_prepared_on_the_application_page_waits_on_the_audit_page(
    towns: Towns, core: Core
) -> None:
    """Prepared from the application's page, the clerk stays there; the checks page lists it
    among the acts waiting, and a manager approves it from there and stays there too."""
    protocols = await credited(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    here = f"/office/applications/{protocols[0]}"
    page = await clerk.get(here)
    assert f'name="back" value="{here}"' in page.text
    page = await clerk.post(
        "/office/acts",
        {"kind": "revocation", "protocol": protocols[0], "reason": "ISEE falso", "back": here},
    )
    assert page.status == 200 and page.url == here
    assert "Una revoca attende l" in page.text and 'href="/office/audit#acts"' in page.text
    manager = await signed_in(towns.server, "bel.manager")
    page = await manager.get("/office/audit")
    [act] = ACT.findall(page.text)
    assert "Nulla in attesa" not in page.text.split('id="acts"')[1]
    assert f"{protocols[0]}: ISEE falso" in page.text
    assert 'name="back" value="/office/audit"' in page.text
    page = await manager.post(f"/office/acts/{act}/approve", {"back": "/office/audit"})
    assert page.status == 200 and page.url == "/office/audit"
    assert (await application(core, protocols[0])).revoked_at is not None
    assert "Nulla in attesa" in page.text.split('id="acts"')[1]
    # Only the office's own pages: another site is never a way back.
    page = await clerk.post(
        "/office/acts",
        {
            "kind": "revocation",
            "protocol": protocols[1],
            "reason": "x",
            "back": "https://example.org/",
        },
    )
    assert page.status == 200 and page.url == "/office/audit"


async def test_an_upheld_appeal_is_remedied_by_a_correction_a_second_manager_approves(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    """A chat application excluded for a pension: its appeal upheld, a clerk prepares the
    correction on its page, a manager approves it on the appeals page, and the next
    tranche pays it."""
    pensioner = person(7, 2, pension=True)
    [protocol] = await apply(towns.bel, pensioner)
    await close_approve_credit(towns.bel, 450_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    here = f"/office/applications/{protocol}"
    assert 'value="appeal_correction"' not in (await clerk.get(here)).text
    form = {
        "kind": "appeal_correction",
        "protocol": protocol,
        "household_size": "2",
        "has_work_income": "no",
        "has_pension": "no",
        "liquidity": "0",
        "public_support_monthly": "0",
        "rent_monthly": "0",
        "reason": "pensione di invalidità, non di vecchiaia",
        "back": here,
    }
    page = await clerk.post("/office/acts", form)
    assert page.status == 409 and "non ha un ricorso accolto" in page.text
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        citizen = await uow.citizens.by_codice_fiscale(town.id, pensioner.codice_fiscale)
        assert citizen is not None
        appeal = await appeals.file_appeal(uow, town, citizen, "invalidità", "sms", clock())
        await uow.commit()
    decided = {"outcome": "upheld", "reason": "È una pensione di invalidità.", "confirm": "yes"}
    assert (await clerk.post(f"/office/appeals/{appeal.id}/decide", decided)).status == 200
    page = await clerk.get(here)
    assert 'value="appeal_correction"' in page.text and "Correggi sul ricorso accolto" in page.text
    viewer = await signed_in(towns.server, "bel.viewer")
    assert 'value="appeal_correction"' not in (await viewer.get(here)).text
    assert (await viewer.post("/office/acts", form)).status == 403

    page = await clerk.post("/office/acts", form)

    assert page.status == 200 and page.url == here
    assert "Una correzione sul ricorso attende" in page.text
    manager = await signed_in(towns.server, "bel.manager")
    page = await manager.get("/office/appeals")
    [act] = ACT.findall(page.text)
    assert f"{protocol}: pensione di invalidità" in page.text
    # What changes, before → after, then what stays.
    assert "Pensione: sì → no; invariati: Componenti: 2; Reddito da lavoro: no" in unescape(
        page.text
    )
    assert (await clerk.post(f"/office/acts/{act}/approve")).status == 403
    stranger = await signed_in(towns.server, "cal.manager")
    assert (await stranger.post(f"/office/acts/{act}/approve")).status == 404
    page = await manager.post(f"/office/acts/{act}/approve", {"back": "/office/appeals"})
    assert page.status == 200 and page.url == "/office/appeals"
    corrected = await application(core, protocol)
    assert (corrected.has_pension, corrected.decision_notified_at) == (False, None)
    page = await clerk.get(here)
    assert "domanda corretta su ricorso accolto" in page.text

    clock.advance(days=1)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.approve(uow, town, 450_00, clock())
        await allocation.credit(uow, town, clock())
        await uow.commit()
    async with core.uow() as uow:
        assert (
            await ledger.citizen_balance(uow, towns.bel.municipality_id, corrected.citizen_id) > 0
        )
        assert (await ledger.verify(uow, towns.bel.municipality_id)).ok


async def test_the_undo_act_shows_what_goes_back_and_the_tranche_it_will_not_pay(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    protocols = await apply(towns.bel, *PEOPLE)
    await close_approve_credit(towns.bel, 300_00)  # tranche 1 pays part of what is due
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.approve(uow, town, 150_00, clock())  # tranche 2: the rest
        # Revoked between tranche 2's determina and its credit: tranche 2 skips it.
        await audit.revoke(uow, town, protocols[0], clock(), reason="ISEE falso")
        await allocation.credit(uow, town, clock())
        await uow.commit()
    first = await application(core, protocols[0])
    async with core.uow() as uow:
        paid = {
            tranche.tranche: line.amount_cents
            for line, tranche in await uow.allocations.lines_for_application(first.id)
        }
    assert paid == {1: 100_00, 2: 50_00}, paid
    clerk = await signed_in(towns.server, "bel.clerk")
    manager = await signed_in(towns.server, "bel.manager")
    await prepare(clerk, kind="revocation_undo", protocol=protocols[0], reason="persona sbagliata")
    for where in ("/office/audit", "/office/"):
        text = unescape((await manager.get(where)).text).replace("\xa0", " ")
        assert "Torna sui buoni del cittadino: 100,00 €" in text
        assert (
            "La tranche 2 è stata accreditata mentre la domanda era revocata: i suoi 50,00 € "
            "non verranno pagati dopo l'annullamento." in text
        )
    english = await signed_in(towns.server, "bel.manager2")
    await english.post("/office/language", {"lang": "en"})
    text = unescape((await english.get("/office/audit")).text).replace("\xa0", " ")
    assert "Back on the citizen's vouchers: €100.00" in text
    assert "Tranche 2 was credited while the application stood revoked" in text
