"""The office's paperwork over HTTP: PDFs that say the right things, tables in two formats."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from core.bootstrap import Core
from core.services import charges, municipalities
from tests.conftest import FakeClock
from tests.factories import make_cf, owner_chat
from tests.integration.office_helpers import apply, close_approve_credit, pay, person
from tests.office.conftest import Towns, signed_in
from tests.office.pdf_text import pdf_pages, pdf_text


async def allocated(towns: Towns) -> list[str]:
    people = [
        person(1, 4),  # list 1: 300 €
        person(2, 2, support_cents=30000, rent_cents=10000),  # list 2
        person(3, 1, work=True),  # excluded
    ]
    protocols = await apply(towns.bel, *people)
    await close_approve_credit(towns.bel, 400_00)
    return protocols


async def test_the_determina_attachment_lists_protocols_amounts_and_criteria_only(
    towns: Towns,
) -> None:
    protocols = await allocated(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/round/tranche/1/determina.pdf")
    assert page.status == 200 and page.headers["Content-Type"] == "application/pdf"
    text = pdf_text(page.body)
    for protocol in protocols:
        assert protocol in text
    for expected in ("Allegato alla determina", "300,00", "100,00", "OCDPC", "Lista 1", "Esclusi"):
        assert expected in text, expected
    assert "reddito da lavoro" in text
    for number in range(1, 4):  # no codice fiscale of anybody
        assert make_cf(number) not in text
    stranger = await signed_in(towns.server, "cal.clerk")
    assert (await stranger.get("/office/round/tranche/1/determina.pdf")).status == 404


async def test_decision_letter_and_receipt_say_the_outcome_and_how_to_appeal(
    towns: Towns,
) -> None:
    protocols = await allocated(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    text = pdf_text((await clerk.get(f"/office/applications/{protocols[0]}/letter.pdf")).body)
    assert protocols[0] in text and "ammessa" in text and "300,00" in text and "TAR" in text
    text = pdf_text((await clerk.get(f"/office/applications/{protocols[2]}/letter.pdf")).body)
    assert "non è ammessa" in text and "reddito da lavoro" in text
    await clerk.post("/office/language", {"lang": "en", "next": "/office/"})
    text = pdf_text((await clerk.get(f"/office/applications/{protocols[1]}/receipt.pdf")).body)
    assert protocols[1] in text and "Receipt of your application" in text


async def test_the_decision_letter_says_how_to_appeal_from_the_chat_within_the_policy_days(
    towns: Towns, core: Core
) -> None:
    protocols = await allocated(towns)
    async with core.uow() as uow:
        policy = municipalities.default_policy_text().replace(
            "appeal_days = 30", "appeal_days = 21"
        )
        await municipalities.update_municipality(uow, "BEL", policy_toml=policy)
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    text = " ".join(
        pdf_text((await clerk.get(f"/office/applications/{protocols[0]}/letter.pdf")).body).split()
    )
    assert "scrivi RICORSO (o APPEAL) e il motivo" in text and "entro 21 giorni dalla" in text
    assert "TAR" in text  # besides the text that was there
    # How to pay: right for a card with codes and for an old PIN card alike.
    assert "o con la tua tessera buoni spesa e il codice che ti chiede il cassiere" in text
    assert "PIN" not in text
    await clerk.post("/office/language", {"lang": "en", "next": "/office/"})
    text = " ".join(
        pdf_text((await clerk.get(f"/office/applications/{protocols[2]}/letter.pdf")).body).split()
    )
    assert "write APPEAL (or RICORSO)" in text and "within 21 days of the decision" in text


async def test_letters_for_everyone_who_applied_on_paper(towns: Towns, core: Core) -> None:
    await allocated(towns)  # chat applications: no letter to post
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/documents/paper-letters.pdf")
    text = pdf_text(page.body)
    assert page.status == 200 and "Nel bando 1 nessuno ha fatto domanda su carta." in text
    assert "Comune di Comune di Belforte del Chienti" in text  # the town, never a blank
    assert pdf_pages(page.body) == 1


async def test_a_shop_statement_for_a_period(towns: Towns, clock: FakeClock) -> None:
    buyer = person(1, 2)
    await apply(towns.bel, buyer)
    await close_approve_credit(towns.bel, 1_000_00)
    shop_id = towns.bel.shop_ids[0]
    await pay(towns.bel, shop_id, buyer, 12_34)
    refunded = await pay(towns.bel, shop_id, buyer, 5_67)
    async with towns.bel.core.uow() as uow:
        by = await owner_chat(uow, shop_id)
        await charges.refund_charge(uow, charge_id=refunded, shop_id=shop_id, by=by, now=clock())
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    day = clock().date().isoformat()
    page = await clerk.get(f"/office/shops/{shop_id}/statement.pdf?from={day}&to={day}")
    text = pdf_text(page.body)
    assert page.status == 200 and "Alimentari Nò0" in text and "12,34" in text
    # Money given back to a customer is a "storno"; "rimborso" is the town paying the shop.
    assert "Storni ai clienti" in text and "Stornato ai clienti" in text
    assert "stornato al cliente" in text and "Rimborsati" not in text
    assert (await clerk.get(f"/office/shops/{shop_id}/statement.pdf?from=ieri")).status == 409
    stranger = await signed_in(towns.server, "cal.clerk")
    assert (await stranger.get(f"/office/shops/{shop_id}/statement.pdf")).status == 404


async def test_every_table_downloads_as_csv_and_as_xlsx(towns: Towns) -> None:
    await allocated(towns)
    manager = await signed_in(towns.server, "bel.manager")
    for path in (
        "/office/applications",
        "/office/round/tranche/1/allocation",
        "/office/reimbursement/owed",
        "/office/activity",
    ):
        as_csv = await manager.get(path + ".csv")
        as_xlsx = await manager.get(path + ".xlsx")
        assert as_csv.status == as_xlsx.status == 200, path
        rows = list(csv.reader(io.StringIO(as_csv.body.decode("utf-8-sig"))))
        sheet = load_workbook(io.BytesIO(as_xlsx.body)).active
        assert sheet is not None
        cells = [["" if c.value is None else c.value for c in row] for row in sheet.iter_rows()]
        assert len(cells) == len(rows), path
        assert [str(c) for c in cells[0]] == rows[0], path
    allocation = await manager.get("/office/round/tranche/1/allocation.csv")
    lines = list(csv.DictReader(io.StringIO(allocation.body.decode("utf-8-sig"))))
    assert [(line["list"], line["amount_eur"]) for line in lines] == [
        ("1", "300.00"),
        ("2", "100.00"),
        ("excluded", "0.00"),
    ]


async def test_an_earlier_windows_determina_stays_listed_once_another_window_is_open(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    protocols = await allocated(towns)  # window 1, tranche 1
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.open_window(uow, town, clock(), days=4)
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/documents")
    assert page.status == 200
    text = page.text
    # The newest window first: window 2 has no tranche yet, window 1 has its determina.
    assert text.index("Bando 2") < text.index("Bando 1")
    link = "/office/round/tranche/1/determina.pdf?window=1"
    assert link in text
    determina = await clerk.get(link)
    assert determina.status == 200 and protocols[0] in pdf_text(determina.body)
    table = await clerk.get("/office/round/tranche/1/allocation.csv?window=1")
    assert table.status == 200 and protocols[0] in table.body.decode("utf-8-sig")
    assert (await clerk.get("/office/round/tranche/1/determina.pdf?window=3")).status == 404
    assert (await clerk.get("/office/round/tranche/1/determina.pdf?window=x")).status == 409
