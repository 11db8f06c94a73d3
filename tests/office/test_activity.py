"""The activity log: written by every action, readable and downloadable, never editable."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from core.bootstrap import Core
from core.services import activity, municipalities
from core.storage import models as m
from tests.office.conftest import signed_in
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
        ("persona avvisata", "sì"),
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
