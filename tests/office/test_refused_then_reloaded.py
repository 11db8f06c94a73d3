"""A form refused beside its field (a new phone or a delegate, a shop's new name, a receipt
of the fund, a reimbursement's execution date) answers with a redirect to its page, which a
GET shows once with what was typed and why: reloading it sends nothing again (user trial,
7 Dec 2026: the page's address was the POST's, and a reload sent the form again)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from core.bootstrap import Core
from core.storage import models as m
from office.security import COOKIE_NAME
from tests.integration.office_helpers import person
from tests.integration.test_application_desk import paper
from tests.office.conftest import Towns, shop_owed, signed_in
from tests.office.harness import OfficeBrowser
from tests.office.test_refused_beside_the_field import beside


async def refused_then_reloaded(
    clerk: OfficeBrowser, action: str, form: dict[str, str], page: str, status: int
) -> tuple[str, str]:
    """Post the refused form; the answer sends to `page`, which says the refusal with its
    status once; the same address again shows the page as it is. Its text, then the
    reload's."""
    sent = await clerk.post(action, form, follow=False)
    assert sent.status == 303 and sent.headers["Location"] == page, (sent.status, sent.headers)
    shown = await clerk.get(page)
    assert shown.status == status and shown.url == page, (shown.status, shown.url)
    again = await clerk.get(page)
    assert again.status == 200 and again.url == page
    return shown.text, again.text


async def test_a_refused_number_is_shown_by_a_get_and_a_reload_sends_nothing(
    towns: Towns, core: Core
) -> None:
    without_phone = replace(person(1, 1), phone=None)
    [protocol] = await paper(towns.bel, without_phone)
    await paper(towns.bel, person(2, 1, phone="+393331112223"))
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    url = f"/office/applications/{protocol}"
    shown, reloaded = await refused_then_reloaded(
        clerk, f"{url}/phone", {"phone": "333 111 2223"}, url, 409
    )
    value, said = beside(shown, "phone")
    assert value == "333 111 2223" and "belongs to another citizen" in said
    assert beside(reloaded, "phone") == ("", "")
    shown, reloaded = await refused_then_reloaded(
        clerk, f"{url}/delegate", {"phone": "not a phone"}, url, 400
    )
    value, said = beside(shown, "delegate")
    assert value == "not a phone" and said
    assert beside(reloaded, "delegate") == ("", "")
    async with core.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(m.PhoneChange)) == 0


async def test_a_refused_shop_name_is_shown_by_a_get(towns: Towns, core: Core) -> None:
    [shop_id] = towns.bel.shop_ids
    clerk = await signed_in(towns.server, "bel.clerk")
    shown, reloaded = await refused_then_reloaded(
        clerk, "/office/shops/rename", {"shop": str(shop_id), "name": "🛒"}, "/office/shops", 409
    )
    value, said = beside(shown, "rename_name")
    assert value == "🛒" and said
    assert f'<option value="{shop_id}" selected>' in shown
    assert beside(reloaded, "rename_name") == ("", "")
    assert f'<option value="{shop_id}" selected>' not in reloaded


async def test_a_refused_receipt_and_execution_date_are_shown_by_a_get(
    towns: Towns, core: Core
) -> None:
    await shop_owed(towns)
    async with core.uow() as uow:
        entries = await uow.session.scalar(select(func.count()).select_from(m.FundEntry))
    clerk = await signed_in(towns.server, "bel.clerk")
    form = {"amount": "12,3,4", "description": "Regione, decreto 5", "received_on": "01/04/2026"}
    shown, reloaded = await refused_then_reloaded(clerk, "/office/fund", form, "/office/fund", 400)
    value, said = beside(shown, "fund-amount")
    assert value == "12,3,4" and said
    assert beside(shown, "fund-description") == ("Regione, decreto 5", "")
    assert beside(reloaded, "fund-amount") == ("", "")
    form = {"kind": "reimbursement", "execution_date": "2020-01-01"}
    shown, reloaded = await refused_then_reloaded(
        clerk, "/office/acts", form, "/office/reimbursement", 409
    )
    value, said = beside(shown, "execution-date")
    assert value == "2020-01-01" and "01/01/2020" in said
    assert beside(reloaded, "execution-date")[1] == ""
    async with core.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(m.OfficeAct)) == 0
        assert await uow.session.scalar(select(func.count()).select_from(m.FundEntry)) == entries


async def test_pages_of_text_typed_by_hand_never_sign_the_operator_out(towns: Towns) -> None:
    """The session is a cookie, which a browser drops above 4096 bytes: a refused field's
    text is kept only while it fits; the refusal is said all the same."""
    clerk = await signed_in(towns.server, "bel.clerk")
    form = {"amount": "12,3,4", "description": "è🛒" * 20_000, "received_on": "01/04/2026"}
    shown, _ = await refused_then_reloaded(clerk, "/office/fund", form, "/office/fund", 400)
    assert beside(shown, "fund-amount")[1]
    [cookie] = [c for c in clerk.client.session.cookie_jar if c.key == COOKIE_NAME]
    assert len(cookie.value) < 3500, len(cookie.value)
