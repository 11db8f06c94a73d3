"""The office's files and refusals (security trial): the refusal to withdraw someone else's act
saying who may, shops' IBANs masked for viewers and every download logged, uploads up to the
office's limit on the real `serve` application, no file kept by the browser."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook
from sqlalchemy import func, select

from buonispesa.server import WEBHOOK_MAX_BYTES, build_app
from buonispesa.settings import Settings
from core.bootstrap import Core
from core.domain import identity
from core.services import activity
from core.storage import models as m
from office.app import MAX_FORM_BYTES, MAX_UPLOAD_BYTES, build_office
from office.keys import OfficeConfig
from tests.conftest import FakeClock
from tests.factories import make_cf
from tests.office.conftest import Towns, shop_owed, signed_in
from tests.office.harness import OfficeBrowser, Page
from tests.office.pdf_text import pdf_text
from tests.office.test_applications import HEADER
from tests.office.test_four_eyes import closed_round_with_applications, prepare
from tests.office.test_shops_and_reimbursement import register

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
    shop_id = await shop_owed(towns)
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
    shop_id = await shop_owed(towns)
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


async def test_the_pages_show_an_iban_in_groups_of_four_and_the_files_in_one_run(
    towns: Towns, core: Core
) -> None:
    shop_id = await shop_owed(towns)
    iban = await shop_iban(core, shop_id)
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    # A registration to review shows its IBAN too.
    pending = await shop_iban(core, await register(core, "BEL", "Forno Nuovo", 77))
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/reimbursement")
    assert f'data-label="IBAN">{grouped}</td>' in page.text and iban not in page.text
    shops = await clerk.get("/office/shops")
    assert f"<dd>{' '.join(pending[i : i + 4] for i in range(0, 27, 4))}</dd>" in shops.text
    statement = pdf_text((await clerk.get(f"/office/shops/{shop_id}/statement.pdf")).body)
    assert grouped in statement
    # The files for machines keep it in one run, as the bank reads it.
    owed = await clerk.get("/office/reimbursement/owed.csv")
    assert [row["iban"] for row in csv.DictReader(io.StringIO(owed.body.decode("utf-8-sig")))] == [
        iban
    ]
    # A viewer reads it masked on the pages too.
    viewer = await signed_in(towns.server, "bel.viewer")
    page = await viewer.get("/office/reimbursement")
    assert f"{iban[:4]} **** {iban[-4:]}" in page.text and grouped not in page.text
    assert iban not in page.text
    shops = await viewer.get("/office/shops")
    assert pending not in shops.text and f"{pending[:4]} **** {pending[-4:]}" in shops.text


async def test_a_shops_statement_is_logged_and_a_viewer_reads_the_iban_masked(
    towns: Towns, core: Core
) -> None:
    shop_id = await shop_owed(towns)
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


async def test_no_file_of_the_office_is_kept_by_the_browser(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    _shop, act = await owed_and_paid(towns, core, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    for path in (
        "/office/applications.csv",
        "/office/applications.xlsx",
        "/office/reimbursement/owed.csv",
        f"/office/acts/{act}/sepa.xml",
        "/office/",
    ):
        page = await clerk.get(path)
        assert page.status == 200, path
        assert page.headers.get("Cache-Control") == "no-store", path
    style = await clerk.get("/office/static/office.css")
    assert style.status == 200 and style.headers.get("Cache-Control") != "no-store"


# A valid file as Excel saves one: two applications, then empty rows of separators.
EMPTY_ROW = ",,,,,,,,\n"


def paper_file(size: int) -> bytes:
    rows = HEADER + (
        f"{make_cf(31)},+393339000031,4,false,false,100,0,0,2026-04-06T10:10:00\n"
        f"{make_cf(32)},,2,no,no,0,300,100,2026-04-06T10:20:00\n"
    )
    padding = max(0, size - len(rows)) // len(EMPTY_ROW) + 1
    return (rows + EMPTY_ROW * padding).encode()


async def send_file(browser: OfficeBrowser, body: bytes, language: str = "it") -> Page:
    await browser.get("/office/applications/import")
    form = aiohttp.FormData()
    assert browser.csrf is not None
    form.add_field("csrf_token", browser.csrf)
    form.add_field("file", body, filename="paper.csv", content_type="text/csv")
    async with browser.client.post(
        "/office/applications/import",
        data=form,
        headers={"Referer": str(browser.client.make_url("/office/applications/import"))},
    ) as response:
        return Page(
            response.status, response.url.path_qs, await response.text(), dict(response.headers)
        )


async def count_applications(core: Core) -> int:
    async with core.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(m.Application)) or 0)


async def test_a_paper_file_of_some_megabytes_imports(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    body = paper_file(1_500_000)
    assert len(body) > 1_500_000
    page = await send_file(clerk, body)
    assert page.status == 200 and page.url == "/office/applications", page.text[:300]
    assert "Importate 2 domande." in page.text
    assert await count_applications(core) == 2


async def test_a_file_above_the_limit_gets_the_offices_page_and_nothing_is_imported(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    clock.advance(hours=1)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await send_file(clerk, paper_file(MAX_UPLOAD_BYTES + 1024))
    said = " ".join(unescape(re.sub(r"<[^>]+>", " ", page.text)).split())
    assert page.status == 413 and page.headers["Content-Type"].startswith("text/html")
    assert "Il file è troppo grande" in said and "20 MB" in said, said
    assert "Nessuna domanda è stata importata" in said, said
    assert "Maximum request body size" not in said
    assert page.headers.get("Cache-Control") == "no-store"
    assert await count_applications(core) == 0
    await clerk.client.post(
        "/office/language", data={"csrf_token": clerk.csrf, "lang": "en"}, allow_redirects=False
    )
    page = await send_file(clerk, paper_file(MAX_UPLOAD_BYTES + 1024))
    said = " ".join(unescape(re.sub(r"<[^>]+>", " ", page.text)).split())
    assert page.status == 413 and "The file is too large" in said and "20 MB" in said, said
    assert "Nothing was imported" in said
    assert await count_applications(core) == 0


async def test_the_sms_webhook_keeps_its_small_limit(core: Core, database_url: str) -> None:
    """The serve application with Twilio set up: the webhook reads the form to check its
    signature, within aiohttp's own 1 MiB, whatever the office accepts for its uploads."""
    settings = Settings(
        _env_file=None,
        BUONISPESA_DATABASE_URL=database_url,
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="secret-token",
        TWILIO_FROM_NUMBER="+390733905999",
        TWILIO_API_BASE_URL="http://127.0.0.1:9",
    )
    app = await build_app(
        core, settings, host="127.0.0.1", port=8080, with_telegram=False, deliver=False
    )
    async with TestClient(TestServer(app)) as client:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "forged",
        }
        small = await client.post("/sms/twilio", data=b"Body=ciao", headers=headers)
        assert small.status == 403  # read, and its signature refused
        huge = await client.post("/sms/twilio", data=b"Body=" + b"x" * 2_000_000, headers=headers)
        assert huge.status == 413


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


def said_on(page: Page) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def office_posts(core: Core) -> list[tuple[str, str]]:
    """(route name, an address of it) for every route of the office that takes a POST,
    its variable parts filled in (a form refused for its size is never looked at)."""
    office = build_office(core, OfficeConfig(secure_cookies=False))
    found = []
    for route in office.router.routes():
        if route.method != "POST" or route.name is None:
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.resource.canonical if route.resource else "")
        found.append((route.name, "/office" + path))
    return sorted(found)


async def test_every_form_of_the_office_above_its_limit_says_the_limit_in_the_operators_words(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    """Not only the import: every route that takes a form has the office's limit, and a body
    above it gets the office's page, in the operator's language, not aiohttp's text."""
    clock.advance(hours=1)
    posts = office_posts(core)
    assert len(posts) > 25 and ("import_post", "/office/applications/import") in posts
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.get("/office/")
    for name, path in posts:
        most = MAX_UPLOAD_BYTES if name == "import_post" else MAX_FORM_BYTES
        page = await clerk.post(path, {"note": "x" * most})
        said = said_on(page)
        assert page.status == 413 and page.headers["Content-Type"].startswith("text/html"), name
        assert "Maximum request body size" not in said and "Request Entity" not in said, name
        if name == "import_post":
            assert "Il file è troppo grande" in said and "20 MB" in said, said
        else:
            assert "Quanto inviato dal modulo è troppo grande: al massimo 1 MB." in said, said
    # Just below the limit, a form is read (and refused for what it says, not its size).
    page = await clerk.post("/office/fund", {"description": "x" * (MAX_FORM_BYTES - 4096)})
    assert page.status != 413
    await clerk.post("/office/language", {"lang": "en"})
    page = await clerk.post("/office/fund", {"description": "x" * MAX_FORM_BYTES})
    assert page.status == 413 and "What the form sent is too large: at most 1 MB." in said_on(page)
    # Someone not signed in, on the sign-in form: the same page.
    stranger = await towns.browser()
    page = await stranger.post("/office/sign-in", {"username": "x" * MAX_FORM_BYTES})
    assert page.status == 413 and "troppo grande: al massimo 1 MB" in said_on(page)


async def test_the_offices_limits_hold_whatever_the_root_application_reads(
    core: Core, database_url: str
) -> None:
    """aiohttp reads a body with the root application's client_max_size, whatever a
    sub-application says: the office mounted under a root that reads more (another
    integration, a webhook given more room) still reads its forms up to its own limit."""
    root = web.Application(client_max_size=4 * MAX_UPLOAD_BYTES)
    root.add_subapp("/office/", build_office(core, OfficeConfig(secure_cookies=False)))
    async with TestClient(TestServer(root)) as client:
        browser = OfficeBrowser(client)
        page = await browser.post("/office/sign-in", {"username": "x" * MAX_FORM_BYTES})
        assert page.status == 413, page.status
        assert "troppo grande: al massimo 1 MB" in said_on(page)
        await browser.get("/office/sign-in")
        page = await browser.post("/office/sign-in", {"username": "x" * 1000, "password": "y"})
        assert page.status == 401 and "troppo grande" not in said_on(page)  # read, refused


def test_serve_reads_its_webhooks_within_a_limit_it_names() -> None:
    assert WEBHOOK_MAX_BYTES == MAX_FORM_BYTES == 1024 * 1024
