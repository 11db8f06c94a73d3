"""Documents: the determina's attachment, decision letters, receipts, shop statements (PDF),
and the tables of applications and allocations (CSV and .xlsx)."""

from __future__ import annotations

import dataclasses
from datetime import date
from zoneinfo import ZoneInfo

from aiohttp import web

from core.documents import paperwork as documents
from core.domain.application_csv import italian_day
from core.domain.errors import Conflict, Refusal
from core.services import activity, back_office, paperwork
from core.services.operators import may_see_personal_data
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from office import personal
from office.keys import CORE
from office.pages import render, words_for
from office.security import operator_of
from office.tables import Column, Table


def pdf(body: bytes, name: str) -> web.Response:
    # Inline: the browser shows it; its own buttons download or print it.
    return web.Response(
        body=body,
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": f'inline; filename="{name}.pdf"',
        },
    )


async def personal_file(
    request: web.Request, uow: UnitOfWork, operator: m.Operator, table: Table
) -> web.Response:
    """A table of people's data as the file asked for, written in the activity log (who,
    which file, how many rows) in the transaction that read it."""
    response = table.response(request.match_info["format"])
    file = f"{table.name}.{'xlsx' if request.match_info['format'] == 'xlsx' else 'csv'}"
    await activity.exported(
        uow,
        operator.municipality_id,
        operator,
        file,
        rows=len(table.rows),
        masked=not may_see_personal_data(operator),
        now=request.app[CORE].now(),
    )
    return response


async def documents_page(request: web.Request) -> web.Response:
    operator = operator_of(request)
    async with request.app[CORE].uow() as uow:
        town = await back_office.town_of(uow, operator)
        tranches = [
            (number, [allocation.tranche for allocation in allocations])
            for number, allocations in await paperwork.tranches_by_window(uow, town)
        ]
        windows = await paperwork.paper_windows(uow, town)
    return await render(
        request,
        "documents.html",
        {
            "town": town,
            "tranches": tranches,
            "any_tranche": any(numbers for _, numbers in tranches),
            "windows": windows,
        },
    )


async def determina(request: web.Request) -> web.Response:
    operator = operator_of(request)
    words = await words_for(request)
    tranche = int(request.match_info["tranche"])
    window = window_asked(request)
    async with request.app[CORE].uow() as uow:
        town = await back_office.town_of(uow, operator)
        data = await paperwork.determina(uow, town, tranche, window)
    return pdf(
        documents.determina_pdf(data, words.language),
        f"determina-{town.code}-{tranche}{window_suffix(window)}",
    )


async def allocation_file(request: web.Request) -> web.Response:
    operator = operator_of(request)
    tranche = int(request.match_info["tranche"])
    window = window_asked(request)
    async with request.app[CORE].uow() as uow:
        town = await back_office.town_of(uow, operator)
        rows = await paperwork.allocation_rows(uow, town, tranche, window)
        table = Table(
            name=f"allocation-{town.code}-{tranche}{window_suffix(window)}",
            columns=[
                Column("protocol"),
                Column("codice_fiscale"),
                Column("list"),
                Column("score"),
                Column("exclusion_reason"),
                Column("amount_eur", money=True),
            ],
            rows=[
                [
                    app.protocol,
                    personal.codice_fiscale(operator, citizen.codice_fiscale),
                    line.assignment,
                    line.score_text,
                    line.exclusion_reason or "",
                    line.amount_cents,
                ]
                for line, app, citizen in rows
            ],
        )
        return await personal_file(request, uow, operator, table)


async def applications_file(request: web.Request) -> web.Response:
    operator = operator_of(request)
    async with request.app[CORE].uow() as uow:
        town = await back_office.town_of(uow, operator)
        found = await back_office.search_applications(uow, operator, "", limit=None)
        table = Table(
            name=f"applications-{town.code}",
            columns=[
                Column("protocol"),
                Column("codice_fiscale"),
                Column("phone"),
                Column("household_size"),
                Column("has_work_income"),
                Column("has_pension"),
                Column("liquidity_eur", money=True),
                Column("public_support_monthly_eur", money=True),
                Column("rent_monthly_eur", money=True),
                Column("submitted_at"),
                Column("source"),
                Column("revoked"),
            ],
            rows=[
                [
                    app.protocol,
                    personal.codice_fiscale(operator, citizen.codice_fiscale),
                    personal.phone(operator, citizen.phone),
                    app.household_size,
                    str(app.has_work_income).lower(),
                    str(app.has_pension).lower(),
                    app.liquidity_cents,
                    app.public_support_monthly_cents,
                    app.rent_monthly_cents,
                    # The town's clock time, as its pages and the import read it, to the
                    # second (the page shows 28/11/2026 02:56, not 01:56:36.674104 UTC).
                    app.submitted_at.astimezone(ZoneInfo(town.timezone)).replace(microsecond=0),
                    app.source,
                    str(app.revoked_at is not None).lower(),
                ]
                for app, citizen in reversed(found)
            ],
        )
        return await personal_file(request, uow, operator, table)


async def decision_letter(request: web.Request) -> web.Response:
    operator = operator_of(request)
    words = await words_for(request)
    protocol = request.match_info["protocol"]
    core = request.app[CORE]
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        decision = await paperwork.decision_letter(uow, town, protocol)
    body = documents.decision_letters_pdf([decision], words.language, core.now())
    return pdf(body, f"decision-{protocol}")


def window_suffix(window: int | None) -> str:
    """A file of a window named in the address says which (a tranche's number repeats)."""
    return f"-window-{window}" if window is not None else ""


def window_asked(request: web.Request) -> int | None:
    """The window named by ?window=N (a positive number), or None: the latest."""
    text = request.query.get("window", "")
    if not text:
        return None
    # Digits only, and few of them: int() of thousands of digits is refused by Python.
    if not (text.isascii() and text.isdigit() and len(text) <= 9 and int(text) > 0):
        raise Conflict(Refusal.OFFICE_BAD_WINDOW)
    return int(text)


async def paper_letters(request: web.Request) -> web.Response:
    operator = operator_of(request)
    words = await words_for(request)
    core = request.app[CORE]
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        letters = await paperwork.paper_decisions(uow, town, window_asked(request))
    body = documents.decision_letters_pdf(
        letters.decisions,
        words.language,
        core.now(),
        town=letters.town,
        window=letters.round_number,
        undecided=letters.undecided,
    )
    return pdf(body, f"decisions-paper-{town.code}-{letters.round_number}")


async def receipt(request: web.Request) -> web.Response:
    operator = operator_of(request)
    words = await words_for(request)
    protocol = request.match_info["protocol"]
    async with request.app[CORE].uow() as uow:
        town = await back_office.town_of(uow, operator)
        decision = await paperwork.decision(uow, town, protocol)
    return pdf(documents.receipt_pdf(decision, words.language), f"receipt-{protocol}")


def _day(value: str | None, today: date) -> date | None:
    if not value:
        return None
    day = italian_day(value)  # as the desk's form reads a date: 31/12/2026 or 2026-12-31
    if day is None:
        raise Conflict(Refusal.OFFICE_BAD_DATE, example=today.isoformat(), value=value)
    return day


async def shop_statement(request: web.Request) -> web.Response:
    operator = operator_of(request)
    words = await words_for(request)
    core = request.app[CORE]
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        today = core.now().astimezone(ZoneInfo(town.timezone)).date()
        since, until = paperwork.statement_period(
            town,
            core.now(),
            _day(request.query.get("from"), today),
            _day(request.query.get("to"), today),
        )
        data = await paperwork.shop_statement(
            uow, town, int(request.match_info["shop"]), since, until
        )
        # The shop's P.IVA and IBAN (often one person's business): a viewer's IBAN is
        # masked, and the download is logged as every file of personal data.
        data = dataclasses.replace(data, iban=personal.iban_shown(operator, data.iban))
        name = f"statement-{request.match_info['shop']}"
        await activity.exported(
            uow,
            operator.municipality_id,
            operator,
            f"{name}.pdf",
            rows=len(data.payments),
            masked=not may_see_personal_data(operator),
            now=core.now(),
        )
    return pdf(documents.shop_statement_pdf(data, words.language), name)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/documents", documents_page, name="documents")
    app.router.add_get(
        r"/round/tranche/{tranche:\d{1,9}}/determina.pdf", determina, name="determina_pdf"
    )
    app.router.add_get(
        r"/round/tranche/{tranche:\d{1,9}}/allocation.{format:csv|xlsx}",
        allocation_file,
        name="allocation_file",
    )
    app.router.add_get(
        r"/applications.{format:csv|xlsx}", applications_file, name="applications_file"
    )
    app.router.add_get("/documents/paper-letters.pdf", paper_letters, name="paper_letters")
    app.router.add_get(
        "/applications/{protocol}/letter.pdf", decision_letter, name="decision_letter"
    )
    app.router.add_get("/applications/{protocol}/receipt.pdf", receipt, name="receipt")
    app.router.add_get(
        r"/shops/{shop:\d{1,9}}/statement.pdf", shop_statement, name="shop_statement"
    )
