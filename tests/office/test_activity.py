"""The activity log: written by every action, readable and downloadable, never editable."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from core.bootstrap import Core
from core.services import act_figures, activity, fund, municipalities
from core.storage import models as m
from tests.integration.office_helpers import apply, close_approve_credit, person
from tests.office.conftest import Towns, signed_in
from tests.office.harness import OfficeServer


async def test_the_log_shows_only_the_own_town(office: OfficeServer) -> None:
    await signed_in(office, "cal.clerk")
    browser = await signed_in(office, "bel.viewer")
    page = await browser.get("/office/activity")
    assert page.status == 200
    assert "bel.viewer" in page.text and "cal.clerk" not in page.text


async def test_the_log_downloads_as_csv_and_xlsx(office: OfficeServer) -> None:
    browser = await signed_in(office, "bel.clerk")
    page = await browser.get("/office/activity.csv")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(page.body.decode("utf-8-sig"))))
    assert [row["action"] for row in rows][-1] == "operator.sign_in"
    assert {row["operator"] for row in rows} >= {"cli", "bel.clerk"}
    assert all(row["operator"] != "cal.clerk" for row in rows)
    page = await browser.get("/office/activity.xlsx")
    assert page.status == 200
    sheet = load_workbook(io.BytesIO(page.body)).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["id", "when_utc", "operator", "action"]
    assert values[-1][3] == "operator.sign_in"
    assert len(values) == len(rows) + 1


async def test_nobody_can_change_or_delete_an_entry(core: Core, office: OfficeServer) -> None:
    for statement in (
        update(m.ActivityEntry).values(actor="someone else"),
        delete(m.ActivityEntry),
    ):
        async with core.uow() as uow:
            with pytest.raises(DBAPIError, match="append-only"):
                await uow.session.execute(statement)
                await uow.commit()


async def test_before_and_after_read_as_italian_labels_and_the_csv_keeps_the_json(
    core: Core, office: OfficeServer
) -> None:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await activity.record(
            uow,
            town.id,
            "bel.clerk",
            "appeal.rejected",
            subject="BEL-2026-000001",
            before={"appeal": 1, "status": "open"},
            after={
                "appeal": 1,
                "citizen_told": True,
                "status": "rejected",
                "restored_cents": 12345,
                "mystery_key": "as stored",
            },
            now=core.now(),
        )
        await uow.commit()
    browser = await signed_in(office, "bel.clerk")

    page = await browser.get("/office/activity")

    assert '"citizen_told"' not in page.text and "{&#34;" not in page.text
    for label, value in (
        ("ricorso n.", "1"),
        ("stato", "in attesa di decisione"),
        ("stato", "respinto"),
        ("cittadino avvisato", "sì"),
        ("restituito al cittadino", "123,45\xa0€"),
        ("mystery_key", "as stored"),  # a key without a label shows as it is
    ):
        assert f"<dt>{label}:</dt> <dd>{value}</dd>" in page.text, label
    rows = list(
        csv.DictReader(
            io.StringIO((await browser.get("/office/activity.csv")).body.decode("utf-8-sig"))
        )
    )
    after = next(row["after"] for row in rows if row["action"] == "appeal.rejected")
    assert after == (
        '{"appeal": 1, "citizen_told": true, "mystery_key": "as stored", '
        '"restored_cents": 12345, "status": "rejected"}'
    )


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


async def _details(core: Core, office: OfficeServer, language: str) -> str:
    """The log with a fund entry, a reimbursement prepared for two shops, a determina for a
    day and a cashier removed: the page's Before and After cells, in one language."""
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        entry = await fund.record(
            uow, town, 950_000, "Ordinanza 658", date(2026, 3, 20), core.now(), actor="cli:t"
        )
        owed = act_figures.reimbursement_of(
            (
                act_figures.ShopAmount(3, "Alimentari Da Rita", 120_50),
                act_figures.ShopAmount(5, "Forno Il Chienti", 80_00),
            )
        )
        params = {"until": core.now().isoformat(), **act_figures.reimbursement_params(owed)}
        await activity.record(
            uow,
            town.id,
            "bel.clerk",
            "reimbursement.prepare",
            subject="#7",
            after=params,
            now=core.now(),
        )
        await activity.record(
            uow,
            town.id,
            "bel.clerk",
            "determina.prepare",
            subject="#8",
            after={"execution_date": "2026-03-31", "protocols": ["BEL-1", "BEL-2", "BEL-3"]},
            now=core.now(),
        )
        await activity.record(
            uow,
            town.id,
            "bel.owner",
            "shop.member_remove",
            subject="Alimentari Da Rita",
            before={"member": "SMS ***567", "since": "2026-02-01T09:30:00+00:00"},
            now=core.now(),
        )
        await uow.commit()
    assert entry.id
    browser = await signed_in(office, "bel.clerk")
    if language == "en":
        await browser.post("/office/language", {"lang": "en"})
    page = await browser.get("/office/activity")
    cells = re.findall(r'<dl class="values">(.*?)</dl>', page.text, re.S)
    return html.unescape(" ".join(cells))


async def test_every_detail_reads_as_the_office_writes_it_in_italian(
    core: Core, office: OfficeServer
) -> None:
    text = await _details(core, office, "it")

    assert not ISO_DAY.search(text), text
    assert "[" not in text and "]" not in text, text
    assert "20/03/2026" in text and "31/03/2026" in text
    assert "9.500,00\xa0€" in text
    assert "Alimentari Da Rita: 120,50\xa0€" in text and "Forno Il Chienti: 80,00\xa0€" in text
    assert "BEL-1, BEL-2 e BEL-3" in text


async def test_every_detail_reads_as_the_office_writes_it_in_english(
    core: Core, office: OfficeServer
) -> None:
    text = await _details(core, office, "en")

    assert not ISO_DAY.search(text), text
    assert "[" not in text and "]" not in text, text
    assert "20/03/2026" in text and "31/03/2026" in text
    assert "€9,500.00" in text
    assert "Alimentari Da Rita: €120.50" in text
    assert "BEL-1, BEL-2 and BEL-3" in text


async def test_a_download_of_personal_data_is_in_the_log(towns: Towns, core: Core) -> None:
    await apply(towns.bel, person(1, 4), person(2, 2), person(3, 1, work=True))
    await close_approve_credit(towns.bel, 400_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    for path in (
        "/office/applications.csv",
        "/office/applications.xlsx",
        "/office/round/tranche/1/allocation.csv",
        "/office/audit/to-recover.csv",
    ):
        assert (await clerk.get(path)).status == 200, path
    viewer = await signed_in(towns.server, "bel.viewer")
    assert (await viewer.get("/office/applications.csv")).status == 200
    async with core.uow() as uow:
        entries = await activity.entries(uow, towns.bel.municipality_id, limit=None)
    downloads = [
        (entry.actor, entry.subject, entry.after)
        for entry in reversed(entries)
        if entry.action == "export.download"
    ]
    assert downloads == [
        (
            "bel.clerk",
            "applications-BEL.csv",
            {"file": "applications-BEL.csv", "rows": 3, "masked": False},
        ),
        (
            "bel.clerk",
            "applications-BEL.xlsx",
            {"file": "applications-BEL.xlsx", "rows": 3, "masked": False},
        ),
        (
            "bel.clerk",
            "allocation-BEL-1.csv",
            {"file": "allocation-BEL-1.csv", "rows": 3, "masked": False},
        ),
        (
            "bel.clerk",
            "to-recover-BEL.csv",
            {"file": "to-recover-BEL.csv", "rows": 0, "masked": False},
        ),
        (
            "bel.viewer",
            "applications-BEL.csv",
            {"file": "applications-BEL.csv", "rows": 3, "masked": True},
        ),
    ]
    # The office reads it in its words, like every entry.
    page = await clerk.get("/office/activity")
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())
    assert "file con dati personali scaricato" in text
    assert "file: allocation-BEL-1.csv" in text and "righe: 3" in text
    assert "codice fiscale, telefono e IBAN oscurati: sì" in text
    rows = list(
        csv.DictReader(
            io.StringIO((await clerk.get("/office/activity.csv")).body.decode("utf-8-sig"))
        )
    )
    assert [row["subject"] for row in rows if row["action"] == "export.download"] == [
        "applications-BEL.csv",
        "applications-BEL.xlsx",
        "allocation-BEL-1.csv",
        "to-recover-BEL.csv",
        "applications-BEL.csv",
    ]
