"""Who removed a cashier from a chat, as the office says it. The activity log stores the
chat that acted as "telegram:12345" or "sms:+39…": the notice of a removal already done,
the activity log's page and the application's history say it as the shop's owner or the
cashier, on their channel with the number masked as the shops page shows members, in both
languages; a viewer's download of the log never holds the full number."""

from __future__ import annotations

from html import unescape

import pytest

from core.bootstrap import Core
from core.services import shop_members
from core.storage import models as m
from tests.office.conftest import Towns, signed_in

OWNER = ("telegram", "55512345")
CASHIER = ("sms", "+393339990051")


async def _member(core: Core, shop_id: int, chat: tuple[str, str], role: str) -> int:
    async with core.uow() as uow:
        member = m.ShopMember(
            shop_id=shop_id, channel=chat[0], address=chat[1], role=role, created_at=core.now()
        )
        uow.session.add(member)
        await uow.flush()
        await uow.commit()
        return member.id


async def _removed_from_chat(core: Core, shop_id: int, member_id: int, by: tuple[str, str]) -> None:
    """The removal as the chat's CASSIERI (the owner) or ESCI (the cashier) makes it."""
    async with core.uow() as uow:
        shop = await uow.shops.by_id(shop_id)
        assert shop is not None
        await shop_members.remove_member(
            uow,
            shop.municipality_id,
            shop_id,
            member_id,
            by=f"{by[0]}:{by[1]}",
            now=core.now(),
            by_chat=by,
        )
        await uow.commit()


@pytest.mark.parametrize(
    ("lang", "notice", "who"),
    [
        (
            "en",
            "SMS ***051 had already been removed from {shop} by the shop's owner "
            "(Telegram ***345) on ",
            "the shop's owner (Telegram ***345)",
        ),
        (
            "it",
            "SMS ***051 non lavorava già più per {shop}: l'ha tolto il titolare del negozio "
            "(Telegram ***345) il ",
            "il titolare del negozio (Telegram ***345)",
        ),
    ],
)
async def test_a_removal_by_the_owner_s_chat_names_the_owner_not_the_chat_s_number(
    towns: Towns, core: Core, lang: str, notice: str, who: str
) -> None:
    shop_id = towns.bel.shop_ids[0]
    await _member(core, shop_id, OWNER, "owner")
    cashier = await _member(core, shop_id, CASHIER, "cashier")
    await _removed_from_chat(core, shop_id, cashier, OWNER)
    async with core.uow() as uow:
        shop = await uow.shops.by_id(shop_id)
        assert shop is not None
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": lang})
    # The clerk's old tab: the removal's page sends the clerk to the shops, with the notice.
    page = await clerk.post(f"/office/shops/{shop_id}/members/{cashier}/remove", {"confirm": "yes"})
    said = unescape(page.text)
    assert page.url == "/office/shops" and notice.format(shop=shop.name) in said, said
    assert "55512345" not in said and "telegram:" not in said
    log = unescape((await clerk.get("/office/activity")).text)
    assert who in log and "telegram:" not in log and "55512345" not in log


async def test_a_cashier_who_left_is_said_to_have_left(towns: Towns, core: Core) -> None:
    shop_id = towns.bel.shop_ids[0]
    cashier = await _member(core, shop_id, CASHIER, "cashier")
    await _removed_from_chat(core, shop_id, cashier, CASHIER)
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    page = await clerk.post(f"/office/shops/{shop_id}/members/{cashier}/remove", {"confirm": "yes"})
    said = unescape(page.text)
    assert "SMS ***051 had already left " in said and "nothing was done twice." in said
    assert "+393339990051" not in said and "sms:" not in said
    log = unescape((await clerk.get("/office/activity")).text)
    assert "the cashier themselves (SMS ***051)" in log and "+393339990051" not in log
    # The clerk's download keeps who it was as stored; a viewer's says it in words.
    table = (await clerk.get("/office/activity.csv")).text
    assert "sms:+393339990051" in table
    viewer = await signed_in(towns.server, "bel.viewer")
    await viewer.post("/office/language", {"lang": "it"})
    table = (await viewer.get("/office/activity.csv")).text
    assert "+393339990051" not in table and "il cassiere stesso (SMS ***051)" in table
