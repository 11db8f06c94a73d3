"""A button of the office clicked twice (a double click under pressure, the form sent again
from an old tab) acts once and lands the second click on the page the first landed on, with
a notice that it was done already: never a refusal page, a second act, a second entry in
the activity log or a second message (user trial, 7 Dec 2026: the second click of "Unlock"
and of "Ask for the card" showed a refusal). Each is tried with two clicks one after the
other and with two at once."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from html import unescape
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import apply, close_approve_credit, person
from tests.integration.test_application_desk import paper
from tests.office.applicants import chat_asks_a_number
from tests.office.conftest import Towns, lock_shop, signed_in
from tests.office.harness import OfficeBrowser, Page
from tests.office.test_audit_appeals import credited, file_appeal
from tests.office.test_four_eyes import closed_round_with_applications, prepare


async def counted(core: Core, action: str) -> tuple[int, int]:
    """The activity log's entries of `action`, and every message in the outbox."""
    async with core.uow() as uow:
        logged = await uow.session.scalar(
            select(func.count())
            .select_from(m.ActivityEntry)
            .where(m.ActivityEntry.action == action)
        )
        told = await uow.session.scalar(select(func.count()).select_from(m.OutboxMessage))
    return int(logged or 0), int(told or 0)


async def twice(browser: OfficeBrowser, url: str, at_once: bool) -> list[Page]:
    if at_once:
        return list(await asyncio.gather(browser.post(url), browser.post(url)))
    return [await browser.post(url), await browser.post(url)]


@pytest.mark.parametrize("at_once", [False, True], ids=["one after the other", "at once"])
async def test_unlock_clicked_twice_unlocks_once(towns: Towns, core: Core, at_once: bool) -> None:
    shop_id = towns.bel.shop_ids[0]
    await lock_shop(core, shop_id)
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    logged, told = await counted(core, "shop.unlock")
    pages = await twice(clerk, f"/office/shops/{shop_id}/unlock", at_once)
    for page in pages:
        assert page.status == 200 and page.url == "/office/shops", (page.status, page.url)
        assert "No shop is locked." in page.text
    said = " ".join(page.text for page in pages)
    assert "unlocked: it can charge again" in said
    assert "was already unlocked: it can charge; nothing was done twice." in said
    assert await counted(core, "shop.unlock") == (logged + 1, told)


async def test_unlock_of_another_towns_shop_is_still_not_found(towns: Towns, core: Core) -> None:
    shop_id = towns.bel.shop_ids[0]
    stranger = await signed_in(towns.server, "cal.clerk")
    assert (await stranger.post(f"/office/shops/{shop_id}/unlock")).status == 404
    viewer = await signed_in(towns.server, "bel.viewer")
    assert (await viewer.post(f"/office/shops/{shop_id}/unlock")).status == 403


@pytest.mark.parametrize("at_once", [False, True], ids=["one after the other", "at once"])
async def test_ask_for_the_card_clicked_twice_asks_once(
    towns: Towns, core: Core, at_once: bool
) -> None:
    [protocol] = await apply(towns.bel, person(7, 2))
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    logged, told = await counted(core, "card.request")
    url = f"/office/applications/{protocol}"
    pages = await twice(clerk, f"{url}/card", at_once)
    for page in pages:
        assert page.status == 200 and page.url == url, (page.status, page.url)
        assert "A card waits for a manager's approval" in unescape(page.text)
    said = " ".join(page.text for page in pages)
    assert "The card waits for the approval of a manager other than you" in said
    assert "The card was already asked (request " in said
    assert await counted(core, "card.request") == (logged + 1, told)
    async with core.uow() as uow:
        asked = await uow.session.scalar(
            select(func.count()).select_from(m.PhoneChange).where(m.PhoneChange.kind == "card")
        )
    assert asked == 1


async def delegate_asked(towns: Towns) -> tuple[str, str]:
    """An applicant whose delegate the clerk asked: the application's page, the request."""
    [protocol] = await apply(towns.bel, person(8, 2))
    clerk = await signed_in(towns.server, "bel.clerk")
    url = f"/office/applications/{protocol}"
    page = await clerk.post(f"{url}/delegate", {"phone": "333 999 8871"})
    assert page.status == 200 and page.url == url, (page.status, page.url)
    found = re.search(r'<tr id="request-(\d+)">', page.text)
    assert found is not None, page.text
    return url, found.group(1)


async def outbox_size(core: Core) -> int:
    return (await counted(core, ""))[1]


@pytest.mark.parametrize("at_once", [False, True], ids=["one after the other", "at once"])
async def test_approve_clicked_twice_approves_once(towns: Towns, core: Core, at_once: bool) -> None:
    url, number = await delegate_asked(towns)
    manager = await signed_in(towns.server, "bel.manager")
    await manager.post("/office/language", {"lang": "en"})
    before = await outbox_size(core)
    approve = f"/office/phone-changes/{number}/approve"
    form = {"back": url}
    if at_once:
        pages = list(await asyncio.gather(manager.post(approve, form), manager.post(approve, form)))
    else:
        pages = [await manager.post(approve, form)]
        told_once = await outbox_size(core) - before
        pages.append(await manager.post(approve, form))
        assert await outbox_size(core) - before == told_once
    for page in pages:
        assert page.status == 200 and page.url == url, (page.status, page.url)
    said = " ".join(page.text for page in pages)
    assert "Delegate registered" in said
    assert f"Request {number} was already approved: nothing was done twice." in said
    # The citizen and the delegate: told once each.
    assert await outbox_size(core) - before == 2
    assert (await counted(core, "citizen.delegate_approve"))[0] == 1


@pytest.mark.parametrize("at_once", [False, True], ids=["one after the other", "at once"])
async def test_withdraw_clicked_twice_withdraws_once(
    towns: Towns, core: Core, at_once: bool
) -> None:
    url, number = await delegate_asked(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    before = await outbox_size(core)
    withdraw = f"/office/phone-changes/{number}/withdraw"
    form = {"back": url, "reason": "asked by mistake"}
    if at_once:
        pages = list(await asyncio.gather(clerk.post(withdraw, form), clerk.post(withdraw, form)))
    else:
        pages = [await clerk.post(withdraw, form), await clerk.post(withdraw, form)]
    for page in pages:
        assert page.status == 200 and page.url == url, (page.status, page.url)
    said = " ".join(page.text for page in pages)
    assert "The delegate was not registered; the applicant was told." in said
    assert f"Request {number} was already withdrawn: nothing was done twice." in said
    assert await outbox_size(core) - before == 1  # the citizen, told once
    assert (await counted(core, "citizen.delegate_withdraw"))[0] == 1


async def chat_asked(towns: Towns, core: Core) -> str:
    """A number an applicant's Telegram chat shared, waiting for an operator's check."""
    applicant = person(9, 1)
    await apply(towns.bel, applicant)
    await close_approve_credit(towns.bel, 100_000_00)  # vouchers to spend: the office decides
    return await chat_asks_a_number(
        core, towns.bel.municipality_id, applicant.codice_fiscale, "79", "+393334445579"
    )


@pytest.mark.parametrize("at_once", [False, True], ids=["one after the other", "at once"])
async def test_check_clicked_twice_checks_once(towns: Towns, core: Core, at_once: bool) -> None:
    number = await chat_asked(towns, core)
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    logged, told = await counted(core, "citizen.phone_check")
    pages = await twice(clerk, f"/office/phone-changes/{number}/check", at_once)
    for page in pages:
        assert page.status == 200 and page.url == "/office/", (page.status, page.url)
        assert "checked by bel.clerk" in page.text
    said = " ".join(unescape(page.text) for page in pages)
    assert "You checked the number the citizen's chat shared" in said
    assert "You had already checked this number" in said
    assert await counted(core, "citizen.phone_check") == (logged + 1, told)


async def new_messages(core: Core, after: int) -> list[str]:
    """The addresses of the outbox's messages after the `after`-th."""
    async with core.uow() as uow:
        rows = await uow.session.scalars(
            select(m.OutboxMessage.address).order_by(m.OutboxMessage.id).offset(after)
        )
        return list(rows)


@pytest.mark.parametrize("at_once", [False, True], ids=["one after the other", "at once"])
async def test_an_act_approved_twice_runs_once(
    towns: Towns, core: Core, clock: FakeClock, at_once: bool
) -> None:
    await closed_round_with_applications(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    manager = await signed_in(towns.server, "bel.manager")
    await manager.post("/office/language", {"lang": "en"})
    determina = await prepare(clerk, kind="determina", budget="400")
    assert (await manager.post(f"/office/acts/{determina}/approve")).status == 200
    credit = await prepare(clerk, kind="credit")
    before = await outbox_size(core)
    pages = await twice(manager, f"/office/acts/{credit}/approve", at_once)
    for page in pages:
        assert page.status == 200 and page.url == "/office/round", (page.status, page.url)
    said = " ".join(page.text for page in pages)
    assert f"Act {credit} approved and carried out." in said
    assert f"Act {credit} was already approved by bel.manager on " in said
    assert (await counted(core, "credit.approve"))[0] == 1
    # Each household told of its credit once: no address hears it twice.
    told = await new_messages(core, before)
    assert told and len(told) == len(set(told)), told


@pytest.mark.parametrize("at_once", [False, True], ids=["one after the other", "at once"])
async def test_an_act_withdrawn_twice_is_withdrawn_once(
    towns: Towns, core: Core, clock: FakeClock, at_once: bool
) -> None:
    await closed_round_with_applications(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    determina = await prepare(clerk, kind="determina", budget="400")
    url = f"/office/acts/{determina}/withdraw"
    form = {"reason": "wrong budget"}
    if at_once:
        pages = list(await asyncio.gather(clerk.post(url, form), clerk.post(url, form)))
    else:
        pages = [await clerk.post(url, form), await clerk.post(url, form)]
    for page in pages:
        assert page.status == 200 and page.url == "/office/round", (page.status, page.url)
    said = " ".join(page.text for page in pages)
    assert f"Act {determina} withdrawn." in said
    assert f"Act {determina} was withdrawn by bel.clerk on " in said
    assert (await counted(core, "determina.withdraw"))[0] == 1


@pytest.mark.parametrize("at_once", [False, True], ids=["one after the other", "at once"])
async def test_a_window_closed_then_opened_twice_closes_and_opens_once(
    towns: Towns, core: Core, clock: FakeClock, at_once: bool
) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    for action, number, done in (("close", "1", "closed"), ("open", "2", "open")):
        form = {"number": number, "confirm": "yes", "days": "7"}
        url = f"/office/round/window/{action}"
        if at_once:
            pages = list(await asyncio.gather(clerk.post(url, form), clerk.post(url, form)))
        else:
            pages = [await clerk.post(url, form), await clerk.post(url, form)]
        for page in pages:
            assert page.status == 200 and page.url == "/office/round", (page.status, page.url)
        said = " ".join(page.text for page in pages)
        assert f"Application window {number} is {done}." in said
        assert f"Application window {number} was already {done}: nothing was done twice." in said
        assert (await counted(core, f"window.{action}"))[0] == 1
        clock.advance(minutes=1)


async def test_a_withdrawal_confirmed_twice_at_once_withdraws_once(
    towns: Towns, core: Core
) -> None:
    [protocol] = await paper(towns.bel, person(1, 1, phone="+393331112229"))
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    before = await outbox_size(core)
    url = f"/office/applications/{protocol}"
    form = {"reason": "Renounced in person", "confirm": "yes"}
    pages = await asyncio.gather(
        clerk.post(f"{url}/withdraw", form), clerk.post(f"{url}/withdraw", form)
    )
    for page in pages:
        assert page.status == 200 and page.url == url, (page.status, page.url)
    said = " ".join(page.text for page in pages)
    assert f"Application {protocol} withdrawn." in said
    assert f"Application {protocol} was already withdrawn: nothing was done twice." in said
    assert await new_messages(core, before) == ["+393331112229"]
    assert (await counted(core, "application.withdraw"))[0] == 1


async def test_an_appeal_decided_twice_at_once_is_decided_and_told_once(
    towns: Towns, core: Core
) -> None:
    await credited(towns)
    appeal = await file_appeal(core, 0, "Siamo in quattro, non in uno")
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    before = await outbox_size(core)
    url = f"/office/appeals/{appeal}/decide"
    form = {"outcome": "rejected", "reason": "Una persona all'anagrafe.", "confirm": "yes"}
    pages = await asyncio.gather(clerk.post(url, form), clerk.post(url, form))
    for page in pages:
        assert page.status == 200 and page.url == "/office/appeals", (page.status, page.url)
    said = " ".join(page.text for page in pages)
    assert f"Appeal {appeal}: rejected. The citizen has been told." in said
    assert f"Appeal {appeal} was already decided (rejected): nothing was done twice" in said
    assert len(await new_messages(core, before)) == 1


async def drafts(core: Core, kind: str) -> int:
    async with core.uow() as uow:
        found = await uow.session.scalar(
            select(func.count()).select_from(m.OfficeAct).where(m.OfficeAct.kind == kind)
        )
    return int(found or 0)


@pytest.mark.parametrize("at_once", [False, True], ids=["one after the other", "at once"])
async def test_an_act_prepared_twice_is_one_draft_and_lands_on_it(
    towns: Towns, core: Core, clock: FakeClock, at_once: bool
) -> None:
    await closed_round_with_applications(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    form = {"kind": "determina", "budget": "400"}
    if at_once:
        pages = list(
            await asyncio.gather(clerk.post("/office/acts", form), clerk.post("/office/acts", form))
        )
    else:
        pages = [await clerk.post("/office/acts", form), await clerk.post("/office/acts", form)]
    assert await drafts(core, "determina") == 1
    [act] = {
        int(found) for page in pages for found in re.findall(r"Prepared: act (\d+)\.", page.text)
    }
    for page in pages:
        assert page.status == 200 and page.url == "/office/round", (page.status, page.url)
        assert f"/office/acts/{act}/withdraw" in page.text  # the draft, listed as waiting
    said = " ".join(unescape(page.text) for page in pages)
    assert (
        f"You had already prepared act {act}: another operator with the manager role "
        "must approve it. Nothing was prepared twice." in said
    )
    assert (await counted(core, "determina.prepare"))[0] == 1


async def test_an_act_of_the_same_kind_prepared_by_another_is_still_refused(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await closed_round_with_applications(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    manager = await signed_in(towns.server, "bel.manager")
    await manager.post("/office/language", {"lang": "en"})
    await prepare(clerk, kind="determina", budget="400")
    page = await manager.post("/office/acts", {"kind": "determina", "budget": "400"})
    assert page.status == 409, (page.status, page.url)
    assert "An act of this kind is already waiting for approval" in page.text
    # Nor is a second click with another budget taken for the first: a typo, told as such.
    page = await clerk.post("/office/acts", {"kind": "determina", "budget": "500"})
    assert page.status == 409, (page.status, page.url)
    assert await drafts(core, "determina") == 1


async def cashier(
    core: Core,
    shop_id: int,
    *,
    address: str = "+393339990051",
    member_id: int | None = None,
    after: timedelta = timedelta(0),
) -> int:
    """A cashier of the shop (with `member_id`, the id SQLite gives again once the member
    who had it is removed: INTEGER PRIMARY KEY reuses the highest freed id)."""
    async with core.uow() as uow:
        member = m.ShopMember(
            id=member_id,
            shop_id=shop_id,
            channel="sms",
            address=address,
            role="cashier",
            created_at=core.now() + after,
        )
        uow.session.add(member)
        await uow.flush()
        await uow.commit()
        return member.id


@pytest.mark.parametrize("at_once", [False, True], ids=["one after the other", "at once"])
async def test_a_cashier_removed_twice_is_removed_and_told_once(
    towns: Towns, core: Core, at_once: bool
) -> None:
    shop_id = towns.bel.shop_ids[0]
    member_id = await cashier(core, shop_id)
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    before = await outbox_size(core)
    url = f"/office/shops/{shop_id}/members/{member_id}/remove"
    form = {"confirm": "yes", "since": await joined(core, member_id)}
    if at_once:
        pages = list(await asyncio.gather(clerk.post(url, form), clerk.post(url, form)))
    else:
        pages = [await clerk.post(url, form), await clerk.post(url, form)]
    for page in pages:
        assert page.status == 200 and page.url == "/office/shops", (page.status, page.url)
    said = " ".join(unescape(page.text) for page in pages)
    assert "SMS ***051 no longer works for" in said
    assert "SMS ***051 had already been removed from" in said
    assert "by bel.clerk on " in said and "nothing was done twice." in said
    # The cashier and the owner, told once each.
    assert len(await new_messages(core, before)) == 2
    assert (await counted(core, "shop.member_remove"))[0] == 1
    # The page that asks to confirm, opened again from an old tab: the same notice.
    page = await clerk.get(url)
    assert page.status == 200 and page.url == "/office/shops", (page.status, page.url)
    assert "had already been removed from" in unescape(page.text)


async def joined(core: Core, member_id: int) -> str:
    """When the member joined, as the shops page writes it in the removal's form."""
    async with core.uow() as uow:
        member = await uow.session.get(m.ShopMember, member_id)
        assert member is not None
        return member.created_at.isoformat()


async def test_an_old_tab_never_removes_the_cashier_who_got_the_id_again(
    towns: Towns, core: Core
) -> None:
    """The shops page names the member it removes by when they joined, beyond the id: a
    removal sent from a tab opened before the member left, once a new cashier holds the
    same id, is told as the removal already done and leaves the new cashier alone."""
    shop_id = towns.bel.shop_ids[0]
    member_id = await cashier(core, shop_id)
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    url = f"/office/shops/{shop_id}/members/{member_id}/remove"
    old_tab = {"confirm": "yes", "since": await joined(core, member_id)}
    page = await clerk.post(url, old_tab)
    assert "SMS ***051 no longer works for" in unescape(page.text)
    newer = await cashier(
        core, shop_id, address="+393339990077", member_id=member_id, after=timedelta(minutes=5)
    )
    assert newer == member_id
    for stale in (clerk.post(url, old_tab), clerk.get(f"{url}?since={quote(old_tab['since'])}")):
        page = await stale
        assert page.status == 200 and page.url == "/office/shops", (page.status, page.url)
        said = unescape(page.text)
        assert "SMS ***051 had already been removed from" in said, said
    assert (await counted(core, "shop.member_remove"))[0] == 1
    async with core.uow() as uow:
        still = await uow.session.get(m.ShopMember, member_id)
        assert still is not None and still.address == "+393339990077"
    # Its own button, or a form that does not say whom it means, asks to confirm, naming
    # the cashier the id is now.
    for form in ({}, {"confirm": "yes"}):
        page = await clerk.post(url, form)
        assert page.status == 200 and "Remove SMS ***077 from" in unescape(page.text), page.url
    page = await clerk.post(url, {"confirm": "yes", "since": await joined(core, member_id)})
    assert "SMS ***077 no longer works for" in unescape(page.text)


async def test_a_member_that_never_was_is_still_not_found(towns: Towns, core: Core) -> None:
    shop_id = towns.bel.shop_ids[0]
    clerk = await signed_in(towns.server, "bel.clerk")
    url = f"/office/shops/{shop_id}/members/999/remove"
    assert (await clerk.post(url, {"confirm": "yes"})).status == 404
    assert (await clerk.get(url)).status == 404
