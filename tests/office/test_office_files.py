"""The office's files and refusals (security trial): the refusal to withdraw someone else's act
saying who may, shops' IBANs masked for viewers and every download logged."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from core.bootstrap import Core
from core.domain import identity
from core.services import activity
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import apply, close_approve_credit, pay, person
from tests.office.conftest import Towns, signed_in
from tests.office.pdf_text import pdf_text
from tests.office.test_four_eyes import closed_round_with_applications, prepare

ACT = re.compile(r"/office/acts/(\d+)/withdraw")


async def shop_iban(core: Core, shop_id: int) -> str:
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, shop_id)
        assert shop is not None
        return shop.iban


async def downloads(core: Core, municipality_id: int) -> list[tuple[str, str, Any]]:
    async with core.uow() as uow:
        entries = await activity.entries(uow, municipality_id, limit=None)
    return [
        (entry.actor, entry.subject, entry.after)
        for entry in reversed(entries)
        if entry.action == "export.download"
    ]


async def owed_and_paid(towns: Towns, core: Core, clock: FakeClock) -> tuple[int, int]:
    """A shop owed 42,50 €, reimbursed by an approved act: (the shop, the act)."""
    buyer = person(1, 2)
    await apply(towns.bel, buyer)
    await close_approve_credit(towns.bel, 1_000_00)
    shop_id = towns.bel.shop_ids[0]
    await pay(towns.bel, shop_id, buyer, 42_50)
    clerk = await signed_in(towns.server, "bel.clerk")
    today = clock().date().isoformat()
    page = await clerk.post("/office/acts", {"kind": "reimbursement", "execution_date": today})
    act = int(ACT.findall(page.text)[-1])
    manager = await signed_in(towns.server, "bel.manager")
    assert (await manager.post(f"/office/acts/{act}/approve")).status == 200
    return shop_id, act


def test_an_iban_is_masked_to_its_country_check_digits_and_last_four() -> None:
    assert identity.mask_iban("IT60X0542811101000000123456") == "IT60 **** 3456"
    assert identity.mask_iban("it60 x054 2811 1010 0000 0123 456") == "IT60 **** 3456"


async def test_what_shops_are_owed_is_logged_and_a_viewer_reads_the_iban_masked(
    towns: Towns, core: Core
) -> None:
    buyer = person(1, 2)
    await apply(towns.bel, buyer)
    await close_approve_credit(towns.bel, 1_000_00)
    shop_id = towns.bel.shop_ids[0]
    await pay(towns.bel, shop_id, buyer, 42_50)
    iban = await shop_iban(core, shop_id)
    clerk = await signed_in(towns.server, "bel.clerk")
    owed = await clerk.get("/office/reimbursement/owed.csv")
    rows = list(csv.DictReader(io.StringIO(owed.body.decode("utf-8-sig"))))
    assert [row["iban"] for row in rows] == [iban]
    viewer = await signed_in(towns.server, "bel.viewer")
    owed = await viewer.get("/office/reimbursement/owed.csv")
    rows = list(csv.DictReader(io.StringIO(owed.body.decode("utf-8-sig"))))
    assert [row["iban"] for row in rows] == [f"{iban[:4]} **** {iban[-4:]}"]
    assert iban not in owed.body.decode("utf-8-sig")
    sheet = await viewer.get("/office/reimbursement/owed.xlsx")
    cells = [
        str(cell)
        for row in load_workbook(io.BytesIO(sheet.body)).active.iter_rows(values_only=True)
        for cell in row
    ]
    assert f"{iban[:4]} **** {iban[-4:]}" in cells and iban not in cells
    assert await downloads(core, towns.bel.municipality_id) == [
        ("bel.clerk", "owed-BEL.csv", {"file": "owed-BEL.csv", "rows": 1, "masked": False}),
        ("bel.viewer", "owed-BEL.csv", {"file": "owed-BEL.csv", "rows": 1, "masked": True}),
        ("bel.viewer", "owed-BEL.xlsx", {"file": "owed-BEL.xlsx", "rows": 1, "masked": True}),
    ]


async def test_a_shops_statement_is_logged_and_a_viewer_reads_the_iban_masked(
    towns: Towns, core: Core
) -> None:
    buyer = person(1, 2)
    await apply(towns.bel, buyer)
    await close_approve_credit(towns.bel, 1_000_00)
    shop_id = towns.bel.shop_ids[0]
    await pay(towns.bel, shop_id, buyer, 42_50)
    iban = await shop_iban(core, shop_id)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get(f"/office/shops/{shop_id}/statement.pdf")
    assert page.status == 200 and iban in pdf_text(page.body).replace(" ", "")
    viewer = await signed_in(towns.server, "bel.viewer")
    page = await viewer.get(f"/office/shops/{shop_id}/statement.pdf")
    text = pdf_text(page.body)
    assert page.status == 200 and f"{iban[:4]} **** {iban[-4:]}" in text
    assert iban not in text.replace(" ", "")
    file = f"statement-{shop_id}.pdf"
    assert await downloads(core, towns.bel.municipality_id) == [
        ("bel.clerk", file, {"file": file, "rows": 1, "masked": False}),
        ("bel.viewer", file, {"file": file, "rows": 1, "masked": True}),
    ]


async def test_a_viewer_cannot_download_a_sepa_file(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    _shop, act = await owed_and_paid(towns, core, clock)
    viewer = await signed_in(towns.server, "bel.viewer")
    page = await viewer.get("/office/reimbursement")
    assert page.status == 200 and "sepa.xml" not in page.text
    before = await downloads(core, towns.bel.municipality_id)
    refused = await viewer.get(f"/office/acts/{act}/sepa.xml")
    assert refused.status == 403
    assert "Il tuo account può solo consultare" in unescape(refused.text)
    async with core.uow() as uow:
        run = (await uow.session.scalars(select(m.Settlement))).one()
    assert (await viewer.get(f"/office/reimbursement/runs/{run.id}/sepa.xml")).status == 403
    assert await downloads(core, towns.bel.municipality_id) == before
    clerk = await signed_in(towns.server, "bel.clerk")
    assert (await clerk.get(f"/office/acts/{act}/sepa.xml")).status == 200


async def test_withdrawing_someone_elses_act_says_who_may(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await closed_round_with_applications(towns, clock)
    preparer = await signed_in(towns.server, "bel.manager")
    act = await prepare(preparer, kind="determina", budget="400")
    for username in ("bel.clerk", "bel.viewer"):
        other = await signed_in(towns.server, username)
        page = await other.post(f"/office/acts/{act}/withdraw", {"reason": "not needed"})
        said = unescape(page.text)
        assert page.status == 403, username
        assert "Solo chi ha il ruolo di responsabile può farlo" not in said, username
        assert (
            "Solo un o una responsabile, o chi ha preparato questo atto, può ritirarlo" in said
        ), said
