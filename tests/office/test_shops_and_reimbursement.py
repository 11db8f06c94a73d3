"""Shops in the office: registrations reviewed with a reason; reimbursement under four eyes."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from html import unescape

from sqlalchemy import select

from core.bootstrap import Core
from core.domain.sepa import summarize
from core.domain.shops import ShopCategory
from core.services import ledger, municipalities
from core.services.shops import ShopInput, register_shop
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import make_partita_iva
from tests.integration.office_helpers import italian_iban, pay
from tests.office.conftest import BUYER, Towns, lock_shop, shop_owed, signed_in
from tests.office.test_four_eyes import notice

ACT = re.compile(r"/office/acts/(\d+)/withdraw")
SEEN = re.compile(r'name="seen" value="([0-9a-f]+)"')


def said(html: str) -> str:
    """The page's text, tags dropped and spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def register(core: Core, code: str, name: str, index: int) -> int:
    async with core.uow() as uow:
        town = await municipalities.require(uow, code)
        shop = await register_shop(
            uow,
            town.id,
            ShopInput(
                name=name,
                vat_number=make_partita_iva(index),
                category=ShopCategory.BAKERY,
                address="Via Garibaldi 2",
                town="Belforte del Chienti",
                postcode="62020",
                latitude=None,
                longitude=None,
                iban=italian_iban(index),
            ),
            owner_channel="sms",
            owner_address=f"+39333{8000000 + index:07d}",
            now=core.now(),
        )
        await uow.commit()
        return shop.id


async def shop_status(core: Core, shop_id: int) -> tuple[str, str | None]:
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, shop_id)
        assert shop is not None
        return shop.status, shop.refusal_reason


async def test_pending_shops_are_approved_or_refused_with_a_reason(
    towns: Towns, core: Core
) -> None:
    bakery = await register(core, "BEL", "Forno Nuovo", 31)
    other = await register(core, "BEL", "Bar Centrale", 32)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/shops")
    assert "Forno Nuovo" in page.text and "Bar Centrale" in page.text
    assert (await clerk.post(f"/office/shops/{other}/refuse", {"reason": ""})).status == 409
    page = await clerk.post(f"/office/shops/{other}/refuse", {"reason": "Non vende alimentari"})
    assert page.status == 200
    assert await shop_status(core, other) == ("refused", "Non vende alimentari")
    assert (await clerk.post(f"/office/shops/{bakery}/approve")).status == 200
    assert (await shop_status(core, bakery))[0] == "approved"
    viewer = await signed_in(towns.server, "bel.viewer")
    third = await register(core, "BEL", "Frutta Bio", 33)
    assert (await viewer.post(f"/office/shops/{third}/approve")).status == 403
    stranger = await signed_in(towns.server, "cal.clerk")
    assert (await stranger.post(f"/office/shops/{third}/approve")).status == 404
    assert (await shop_status(core, third))[0] == "pending"
    page = await stranger.get("/office/shops")
    assert "Frutta Bio" not in page.text


async def test_reimbursement_draft_second_person_approval_and_sepa_file(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    shop_id = await shop_owed(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/reimbursement")
    assert "42,50" in page.text
    owed = await clerk.get("/office/reimbursement/owed.csv")
    rows = list(csv.DictReader(io.StringIO(owed.body.decode("utf-8-sig"))))
    assert [(row["shop_id"], row["amount_eur"]) for row in rows] == [(str(shop_id), "42.50")]
    today = clock().date().isoformat()
    page = await clerk.post("/office/acts", {"kind": "reimbursement", "execution_date": today})
    assert page.status == 200
    act = int(ACT.findall(page.text)[-1])
    assert (await clerk.post(f"/office/acts/{act}/approve")).status == 403
    async with core.uow() as uow:
        assert await ledger.shop_balance(uow, towns.bel.municipality_id, shop_id) == 42_50
    manager = await signed_in(towns.server, "bel.manager")
    page = await manager.post(f"/office/acts/{act}/approve")
    assert page.status == 200
    # Nothing is paid until the bank has the file: the notice says so, and where it is.
    day = clock().strftime("%d/%m/%Y")
    assert notice(page.text) == (
        f"Atto {act} approvato ed eseguito: 42,50\xa0€ ai negozi. Ora scarica il suo file SEPA "
        "in «Rimborsi disposti», nella pagina Rimborsi, e caricalo nella banca: i negozi sono "
        f"pagati il {day}, quando la banca lo ha ricevuto."
    )
    async with core.uow() as uow:
        assert await ledger.shop_balance(uow, towns.bel.municipality_id, shop_id) == 0
    page = await manager.get("/office/reimbursement")
    assert f"/office/acts/{act}/sepa.xml" in page.text
    sepa = await clerk.get(f"/office/acts/{act}/sepa.xml")
    assert sepa.status == 200 and sepa.headers["Content-Type"].startswith("application/xml")
    assert summarize(sepa.body) == (1, 42_50)
    stranger = await signed_in(towns.server, "cal.manager")
    assert (await stranger.get(f"/office/acts/{act}/sepa.xml")).status == 404
    page = await clerk.post("/office/acts", {"kind": "reimbursement", "execution_date": today})
    assert page.status == 409  # nothing is owed any more


async def test_reimbursement_refused_for_a_shop_name_sepa_cannot_write(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    shop_id = await shop_owed(towns)
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, shop_id)
        assert shop is not None
        shop.name = "🍞🥖"
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    today = clock().date().isoformat()
    page = await clerk.post("/office/acts", {"kind": "reimbursement", "execution_date": today})
    act = int(ACT.findall(page.text)[-1])
    manager = await signed_in(towns.server, "bel.manager")
    page = await manager.post(f"/office/acts/{act}/approve")
    assert page.status == 409
    assert "🍞🥖" in page.text  # the message names the shop (in the operator's language)
    assert "Traceback" not in page.text
    async with core.uow() as uow:
        assert await ledger.shop_balance(uow, towns.bel.municipality_id, shop_id) == 42_50
        assert list(await uow.session.scalars(select(m.Settlement))) == []


async def test_a_shop_name_is_corrected_on_the_shops_page(towns: Towns, core: Core) -> None:
    shop_id = towns.bel.shop_ids[0]
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/shops")
    assert "/office/shops/rename" in page.text
    await clerk.post("/office/language", {"lang": "en"})
    for name, said in (("🍞🥖", "has no letter or digit"), ("x" * 41, "at most 40"), (" ", "")):
        page = await clerk.post("/office/shops/rename", {"shop": str(shop_id), "name": name})
        assert page.status == 409 and said in page.text, name
    assert (await clerk.post("/office/shops/rename", {"shop": "x", "name": "A"})).status == 404
    viewer = await signed_in(towns.server, "bel.viewer")
    assert "/office/shops/rename" not in (await viewer.get("/office/shops")).text
    form = {"shop": str(shop_id), "name": "Forno Đặng"}
    assert (await viewer.post("/office/shops/rename", form)).status == 403
    stranger = await signed_in(towns.server, "cal.clerk")
    assert (await stranger.post("/office/shops/rename", form)).status == 404
    assert (await clerk.post("/office/shops/rename", form, csrf=False)).status == 403
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, shop_id)
        assert shop is not None and shop.name == "Alimentari Nò0"
    page = await clerk.post("/office/shops/rename", form)
    assert page.status == 200 and "Forno Đặng" in page.text
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, shop_id)
        assert shop is not None and shop.name == "Forno Đặng"
        [entry] = await uow.session.scalars(
            select(m.ActivityEntry).where(m.ActivityEntry.action == "shop.rename")
        )
        assert (entry.actor, entry.before, entry.after) == (
            "bel.clerk",
            {"name": "Alimentari Nò0"},
            {"name": "Forno Đặng"},
        )


async def test_a_locked_shop_is_shown_and_the_office_lifts_the_lock(
    towns: Towns, core: Core
) -> None:
    shop_id = towns.bel.shop_ids[0]
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/shops")
    assert "Nessun negozio è bloccato." in page.text
    await lock_shop(core, shop_id)
    page = await clerk.get("/office/shops")
    assert (
        "Non può incassare finché non lo sblocchi: 10 codici di pagamento sbagliati in 24 ore."
        in page.text
    )
    viewer = await signed_in(towns.server, "bel.viewer")
    assert "10 codici di pagamento sbagliati" in (await viewer.get("/office/shops")).text
    assert (await viewer.post(f"/office/shops/{shop_id}/unlock")).status == 403
    stranger = await signed_in(towns.server, "cal.clerk")
    assert (await stranger.post(f"/office/shops/{shop_id}/unlock")).status == 404
    page = await clerk.post(f"/office/shops/{shop_id}/unlock")
    assert page.status == 200 and "Nessun negozio è bloccato." in page.text
    # A second unlock (a double click, a page left open) finds it unlocked: the same page,
    # a notice, and nothing logged again.
    again = await clerk.post(f"/office/shops/{shop_id}/unlock")
    assert again.status == 200 and again.url == "/office/shops"
    assert "Nessun negozio è bloccato." in again.text
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, shop_id)
        assert shop is not None and shop.blocked_at is None
        [entry] = (
            await uow.session.scalars(
                select(m.ActivityEntry).where(m.ActivityEntry.action == "shop.unlock")
            )
        ).all()
    assert entry.actor == "bel.clerk"
    assert entry.before == {"blocked_at": core.now().isoformat(), "wrong_codes": 10}
    activity = await clerk.get("/office/activity")
    assert "negozio sbloccato dopo codici di pagamento sbagliati" in activity.text


async def test_the_office_removes_a_cashier_from_the_shops_page(towns: Towns, core: Core) -> None:
    shop_id = towns.bel.shop_ids[0]
    async with core.uow() as uow:
        member = m.ShopMember(
            shop_id=shop_id,
            channel="sms",
            address="+393339990050",
            role="cashier",
            created_at=core.now(),
        )
        uow.session.add(member)
        await uow.flush()
        member_id, since = member.id, member.created_at.isoformat()
        owner_id = next(x.id for x in await uow.shops.members_of(shop_id) if x.role == "owner")
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/shops")
    assert "SMS ***050, alla cassa" in page.text and "+393339990050" not in page.text
    assert f"/office/shops/{shop_id}/members/{member_id}/remove" in page.text
    # The owner has no button, and a forged post for them is refused.
    assert f"/members/{owner_id}/remove" not in page.text
    yes = {"confirm": "yes"}
    for form in ({}, yes):
        refused = await clerk.post(f"/office/shops/{shop_id}/members/{owner_id}/remove", form)
        assert "Il titolare non può essere tolto dal negozio" in refused.text
    url = f"/office/shops/{shop_id}/members/{member_id}/remove"
    viewer = await signed_in(towns.server, "bel.viewer")
    stranger = await signed_in(towns.server, "cal.clerk")
    for form in ({}, yes):
        assert (await viewer.post(url, form)).status == 403
        assert (await stranger.post(url, form)).status == 404
    # The button first says what removing means, and removes nobody.
    page = await clerk.post(url)
    assert page.status == 200 and page.url == url
    assert "Togliere SMS ***050 da" in unescape(page.text)
    async with core.uow() as uow:
        assert len(await uow.shops.members_of(shop_id)) == 2
    # The confirmation names the cashier by when they joined, as the page wrote it.
    yes = {"confirm": "yes", "since": since}
    page = await clerk.post(url, yes)
    assert page.status == 200 and "SMS ***050 non lavora più per" in page.text
    # Sent again (a double click): the cashier is gone, nothing is done twice.
    again = await clerk.post(url, yes)
    assert again.status == 200 and again.url == "/office/shops"
    assert "Niente è stato fatto due volte." in unescape(again.text)
    async with core.uow() as uow:
        assert [x.id for x in await uow.shops.members_of(shop_id)] == [owner_id]
        [entry] = (
            await uow.session.scalars(
                select(m.ActivityEntry).where(m.ActivityEntry.action == "shop.member_remove")
            )
        ).all()
    assert entry.actor == "bel.clerk"
    activity = await clerk.get("/office/activity")
    assert "persona tolta dalla cassa di un negozio" in activity.text


async def test_the_approver_sees_each_shop_and_pays_what_was_prepared(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    shop_id = await shop_owed(towns, 12_50)
    clerk = await signed_in(towns.server, "bel.clerk")
    # A date in the past is refused when prepared, said the Italian way; nothing waits.
    page = await clerk.post(
        "/office/acts", {"kind": "reimbursement", "execution_date": "2020-01-01"}
    )
    assert page.status == 409
    assert "La data di esecuzione 01/01/2020 è nel passato" in said(page.text), said(page.text)
    async with core.uow() as uow:
        assert list(await uow.session.scalars(select(m.OfficeAct))) == []

    day = (clock() + timedelta(days=6)).date()
    page = await clerk.post(
        "/office/acts", {"kind": "reimbursement", "execution_date": day.isoformat()}
    )
    assert page.status == 200
    act = int(ACT.findall(page.text)[-1])
    manager = await signed_in(towns.server, "bel.manager")
    page = await manager.get("/office/reimbursement")
    text = said(page.text)
    assert f"Data di esecuzione {day:%d/%m/%Y}" in text, text
    assert "Alimentari Nò0: 12,50 €" in text, text
    assert "Totale: 12,50 € a 1 negozio." in text, text
    seen = SEEN.findall(page.text)
    assert len(seen) == 1

    await pay(towns.bel, shop_id, BUYER, 7_00)  # after preparation, before approval
    page = await manager.get("/office/reimbursement")
    text = said(page.text)
    assert "Totale: 12,50 € a 1 negozio." in text, text
    assert "7,00 €" in text and "prossimo rimborso" in text, text
    page = await manager.post(f"/office/acts/{act}/approve", {"seen": seen[0]})
    assert page.status == 200
    sepa = await manager.get(f"/office/acts/{act}/sepa.xml")
    assert summarize(sepa.body) == (1, 12_50)
    async with core.uow() as uow:
        assert await ledger.shop_balance(uow, towns.bel.municipality_id, shop_id) == 7_00


async def test_an_execution_date_years_ahead_is_refused_on_the_page(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await shop_owed(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    today = clock().date()
    latest = today + timedelta(days=90)
    page = await clerk.get("/office/reimbursement")
    assert f"Giorno/mese/anno, dal {today:%d/%m/%Y} al {latest:%d/%m/%Y}." in said(page.text)
    for day in (date(9999, 12, 31), latest + timedelta(days=1)):
        form = {"kind": "reimbursement", "execution_date": day.isoformat()}
        page = await clerk.post("/office/acts", form)
        assert page.status == 409, day
        text = " ".join(unescape(re.sub(r"<[^>]+>", " ", page.text)).split())
        assert (
            f"La data di esecuzione {day:%d/%m/%Y} è troppo lontana: scegli un giorno entro "
            f"il {latest:%d/%m/%Y}." in text
        ), text
    async with core.uow() as uow:
        assert list(await uow.session.scalars(select(m.OfficeAct))) == []
    page = await clerk.post(
        "/office/acts", {"kind": "reimbursement", "execution_date": latest.isoformat()}
    )
    assert page.status == 200 and ACT.findall(page.text)


async def test_the_prepare_button_gives_way_to_a_note_while_a_reimbursement_waits(
    towns: Towns, clock: FakeClock
) -> None:
    """A second "Prepare" while one waits could only be refused on a page of its own: the
    form is not offered, and the page says what to do instead."""
    await shop_owed(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    form = 'name="kind" value="reimbursement"'
    assert form in (await clerk.get("/office/reimbursement")).text
    today = clock().date().isoformat()
    page = await clerk.post("/office/acts", {"kind": "reimbursement", "execution_date": today})
    assert page.status == 200
    page = await clerk.get("/office/reimbursement")
    assert form not in page.text
    assert "già in attesa di approvazione" in unescape(page.text)


async def test_the_shops_table_adds_up_what_they_are_owed_as_the_reimbursement_does(
    towns: Towns, core: Core
) -> None:
    first = await shop_owed(towns)
    second = await register(core, "BEL", "Forno Nuovo", 31)
    await register(core, "BEL", "Bar Centrale", 32)  # pending: owed nothing
    clerk = await signed_in(towns.server, "bel.clerk")
    assert (await clerk.post(f"/office/shops/{second}/approve")).status == 200
    await pay(towns.bel, second, BUYER, 10_00)
    page = await clerk.get("/office/shops")
    footer = re.search(r"<tfoot>(.*?)</tfoot>", page.text, re.S)
    assert footer, page.text
    cells = [
        unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", footer.group(1), re.S)
    ]
    assert cells == ["Totale", "52,50\xa0€", ""], cells
    shown = await clerk.get("/office/reimbursement")
    assert '<td class="num">52,50\xa0€</td></tr></tfoot>' in shown.text
    assert first != second
