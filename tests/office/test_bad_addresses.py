"""Addresses typed or edited by hand with values no page can use (a day in year 9999, a
budget of thousands of digits, a page past any log) get the office's own Italian refusal,
never a server error, and change nothing; a window's number is asked for as such."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest

from core.bootstrap import Core
from core.domain.errors import Conflict, InvalidAmount
from core.domain.money import parse_euro
from core.services import municipalities, paperwork
from tests.office.conftest import Towns, signed_in


def said(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ").split())


def test_an_amount_of_more_than_fifteen_digits_of_euro_is_refused_as_too_large() -> None:
    assert parse_euro("999999999999999") == 999999999999999_00
    for text in ("9" * 16, "9" * 27, "9" * 5000, "1" + "0" * 20 + ",50"):
        with pytest.raises(InvalidAmount) as refused:
            parse_euro(text)
        assert refused.value.reason == "too_large"
    # Leading zeros are no size, and no way to write an amount either (a till's 0250).
    with pytest.raises(InvalidAmount) as refused:
        parse_euro("0" * 30 + "12,50")
    assert refused.value.reason == "not_a_number"


async def test_a_statement_period_the_calendar_cannot_hold_is_refused(
    towns: Towns, core: Core
) -> None:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
    for first, last in ((date(1, 1, 1), None), (None, date(9999, 12, 31))):
        with pytest.raises(Conflict) as refused:
            paperwork.statement_period(town, core.now(), first, last)
        assert refused.value.params == {"first": "2000-01-01", "last": "2099-12-31"}
    shop = towns.bel.shop_ids[0]
    clerk = await signed_in(towns.server, "bel.clerk")
    for query in ("to=9999-12-31", "from=0001-01-01"):
        page = await clerk.get(f"/office/shops/{shop}/statement.pdf?{query}")
        assert page.status == 409, query
        assert "Scegli un giorno dal 01/01/2000 al 31/12/2099." in said(page.text), query


async def test_a_budget_of_too_many_digits_is_refused_on_the_round_page(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/round?determina=" + "9" * 27)
    assert page.status == 200 and 'role="alert"' in page.text
    assert "Importo troppo grande" in said(page.text)
    page = await clerk.get("/office/round?budget=" + "9" * 5000 + "&budget=400")
    assert page.status == 200
    assert "Importo troppo grande" in said(page.text)
    page = await clerk.post(
        "/office/acts", {"kind": "determina", "budget": "9" * 27, "confirm": "9" * 27}
    )
    assert page.status == 400 and "Importo troppo grande" in said(page.text)


async def test_a_page_of_the_log_past_any_log_is_refused(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/activity?page=999999999999999999999")
    assert page.status == 409
    assert "Scrivi un numero di pagina da 1 a 1.000.000." in said(page.text)
    assert (await clerk.get("/office/activity?page=2")).status == 200


async def test_a_window_number_is_asked_for_as_a_window(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    for path in (
        "/office/transparency?window=abc",
        "/office/transparency?window=-1",
        "/office/transparency?window=" + "9" * 5000,
        "/office/documents/paper-letters.pdf?window=-1",
        "/office/audit?window=xyz",
        "/office/?window=abc",
    ):
        page = await clerk.get(path)
        assert page.status == 409, path
        text = said(page.text)
        assert "Scrivi il numero di un bando: un numero intero, almeno 1." in text, path
        assert "giorni" not in text, path


async def test_a_shop_id_of_too_many_digits_is_no_shop(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    for shop in ("9" * 12, "9" * 5000):
        page = await clerk.post("/office/shops/rename", {"shop": shop, "name": "Forno"})
        assert page.status == 404, len(shop)
