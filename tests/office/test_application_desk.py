"""One application's page in the office: correct and withdraw a paper application, bind a
phone, ask, approve and remove a delegate, ask, approve and print the card (four eyes);
who may, CSRF, another town, bad input."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

import pytest
from sqlalchemy import delete, select

from core.bootstrap import Core
from core.domain.errors import Conflict, Refusal
from core.domain.messages import reply_from_json
from core.services import allocation, application_desk, delegates, municipalities
from core.services.delegates import DelegateSeen
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import apply, close_approve_credit, person
from tests.integration.test_application_desk import answers, paper
from tests.office.applicants import NEIGHBOUR, at_the_desk, citizen_of
from tests.office.conftest import Towns, signed_in
from tests.office.pdf_text import pdf_text

PHONE = "+393334445556"
DELEGATE = "+393339998887"
FORM = {
    "household_size": "3",
    "has_work_income": "no",
    "has_pension": "yes",
    "liquidity": "1.234,50",
    "public_support_monthly": "0",
    "rent_monthly": "450",
    "reason": "Copied wrongly from the paper form",
}


def shown_delegate(page: str) -> dict[str, str]:
    """The confirmation form of the page that asks to remove a delegate, as its button sends
    it: the delegate it showed (the delegation's id and its start)."""
    fields = dict(
        re.findall(r'<input type="hidden" name="(delegate|since)" value="([^"]*)">', page)
    )
    assert set(fields) == {"delegate", "since"}, page
    return {"confirm": "yes", **fields}


async def activity(core: Core, action: str) -> list[m.ActivityEntry]:
    async with core.uow() as uow:
        return list(
            await uow.session.scalars(
                select(m.ActivityEntry).where(m.ActivityEntry.action == action)
            )
        )


async def test_a_clerk_corrects_a_paper_application(towns: Towns, core: Core) -> None:
    [protocol] = await paper(towns.bel, person(1, 1))
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get(f"/office/applications/{protocol}")
    assert f"/office/applications/{protocol}/correct" in page.text
    page = await clerk.post(f"/office/applications/{protocol}/correct", FORM)
    assert page.status == 200 and page.url == f"/office/applications/{protocol}"
    corrected = await answers(core, protocol)
    assert (corrected.household_size, corrected.has_pension) == (3, True)
    assert (corrected.liquidity_cents, corrected.rent_monthly_cents) == (1_234_50, 450_00)
    [entry] = await activity(core, "application.correct")
    assert entry.after is not None and entry.after["reason"] == FORM["reason"]
    assert entry.before == {
        "household_size": 1,
        "has_pension": False,
        "liquidity_cents": 0,
        "rent_monthly_cents": 0,
    }


async def test_bad_input_says_what_and_changes_nothing(towns: Towns, core: Core) -> None:
    [protocol] = await paper(towns.bel, person(1, 1))
    before = await answers(core, protocol)
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    url = f"/office/applications/{protocol}/correct"
    for change, said in [
        ({"household_size": "three"}, "a whole number from 1 to 30"),
        ({"household_size": "0"}, "a whole number from 1 to 30"),
        ({"household_size": "9" * 5000}, "a whole number from 1 to 30"),
        ({"liquidity": "9" * 5000}, "Liquidity: write an amount in euro"),
        ({"liquidity": "a lot"}, "Liquidity: write an amount in euro"),
        ({"rent_monthly": "-5"}, "Rent a month: write an amount in euro"),
        ({"has_pension": "maybe"}, "Pension: choose yes or no."),
        ({"reason": " "}, "Write the reason."),
    ]:
        page = await clerk.post(url, {**FORM, **change})
        assert page.status == 409, (change, page.status)
        assert said in page.text, (change, page.text[-2000:])
    assert await answers(core, protocol) == before
    assert await activity(core, "application.correct") == []


async def test_viewers_another_town_and_missing_csrf_are_refused(towns: Towns, core: Core) -> None:
    [protocol] = await paper(towns.bel, person(1, 1, phone="+393331112223"))
    before = await answers(core, protocol)
    viewer = await signed_in(towns.server, "bel.viewer")
    page = await viewer.get(f"/office/applications/{protocol}")
    assert page.status == 200
    assert "/correct" not in page.text and "/card.pdf" not in page.text
    assert "+393331112223" not in page.text
    stranger = await signed_in(towns.server, "cal.clerk")
    clerk = await signed_in(towns.server, "bel.clerk")
    actions = {
        "correct": FORM,
        "withdraw": {"reason": "Renounced", "confirm": "yes"},
        "phone": {"phone": "3334445556"},
        "delegate": {"phone": "3334445557"},
        "delegate/remove": {},
        "card": {},
        "card.pdf": {},
    }
    for action, form in actions.items():
        url = f"/office/applications/{protocol}/{action}"
        refused = await viewer.post(url, form)
        assert refused.status == 403, action
        if action == "correct":  # the page says whom to ask, in the office's language
            assert "serve il ruolo di istruttore o di responsabile" in refused.text
        assert (await stranger.post(url, form)).status == 404, action
        assert (await clerk.post(url, form, csrf=False)).status == 403, action
    assert await answers(core, protocol) == before
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(protocol)
        assert application is not None and application.withdrawn_at is None
        citizen = await uow.citizens.by_id(application.citizen_id)
        assert citizen is not None
        assert citizen.phone == "+393331112223" and citizen.card_pin_hash is None
        assert await uow.delegates.of_citizen(citizen.id) is None
        assert (
            list(await uow.session.scalars(select(m.ActivityEntry.action)))
            # The setup's fund of each town (BEL, CAL), its operators, the sign-ins: no more.
            == ["fund.record"] * 2 + ["operator.add"] * 8 + ["operator.sign_in"] * 3
        )


async def test_withdraw_then_nothing_more_to_correct(towns: Towns, core: Core) -> None:
    [protocol] = await paper(towns.bel, person(1, 1, phone="+393331112223"))
    manager = await signed_in(towns.server, "bel.manager")  # a manager may, like a clerk
    url = f"/office/applications/{protocol}/withdraw"
    # The button first says what withdrawing means, with the reason typed, and changes
    # nothing.
    page = await manager.post(url, {"reason": "Renounced in person"})
    assert page.status == 200 and f"Ritirare la domanda {protocol}?" in unescape(page.text)
    assert 'name="confirm" value="yes"' in page.text
    assert 'name="reason" value="Renounced in person"' in page.text
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(protocol)
        assert application is not None and application.withdrawn_at is None
    page = await manager.post(url, {"reason": "Renounced in person", "confirm": "yes"})
    assert page.status == 200 and "Renounced in person" in page.text
    assert f"/office/applications/{protocol}/correct" not in page.text
    # The page speaks Italian: no stored code (paper, sms, pending, application.withdraw).
    text = unescape(page.text)
    assert "Ritirata il" in text and "(su carta)" in text
    assert "· domanda cartacea ritirata" in text and "application.withdraw" not in text
    # The town's sender may have taken the notice already: whichever state it shows, in
    # Italian, never the stored code.
    assert re.search(r"<td>SMS</td><td>(in attesa|in invio|inviato)</td>", text), text
    assert "pending" not in text and "sending" not in text
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(protocol)
        assert application is not None and application.withdrawn_at is not None
        told = await uow.session.scalar(
            select(m.OutboxMessage).where(m.OutboxMessage.address == "+393331112223")
        )
        assert told is not None
    # Sent again (a double click): the application's page again, nothing done twice.
    again = await manager.post(url, {"reason": "Renounced in person", "confirm": "yes"})
    assert again.status == 200 and again.url == f"/office/applications/{protocol}"
    assert f"La domanda {protocol} era già ritirata: niente è stato fatto due volte." in (
        unescape(again.text)
    )
    async with core.uow() as uow:
        told_all = await uow.session.scalars(
            select(m.OutboxMessage).where(m.OutboxMessage.address == "+393331112223")
        )
        assert len(list(told_all)) == 1
        logged = await uow.session.scalars(
            select(m.ActivityEntry).where(m.ActivityEntry.action == "application.withdraw")
        )
        assert len(list(logged)) == 1
    page = await manager.post(f"/office/applications/{protocol}/correct", FORM)
    assert page.status == 409
    assert (await answers(core, protocol)).household_size == 1
    page = await manager.get(f"/office/applications?q={protocol}")
    assert '<td data-label="Stato">Ritirata</td>' in page.text
    assert '<td data-label="Canale">su carta</td>' in page.text
    letter = pdf_text((await manager.get(f"/office/applications/{protocol}/letter.pdf")).body)
    letter = " ".join(letter.split())
    assert "è stata ritirata" in letter, letter and "Renounced in person" in letter


async def test_chat_and_frozen_applications_cannot_be_changed(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    [in_chat] = await apply(towns.bel, person(2, 1))
    [on_paper] = await paper(towns.bel, person(1, 1))
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get(f"/office/applications/{in_chat}")
    assert "/correct" not in page.text
    assert (await clerk.post(f"/office/applications/{in_chat}/correct", FORM)).status == 409
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.close_window(uow, town, clock())
        await uow.commit()
    clock.advance(days=1)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.approve(uow, town, 1_000_00, clock())
        await uow.commit()
    page = await clerk.get(f"/office/applications/{on_paper}")
    assert "/correct" not in page.text and "/withdraw" not in page.text
    for form in ({"reason": "late"}, {"reason": "late", "confirm": "yes"}):
        page = await clerk.post(f"/office/applications/{on_paper}/withdraw", form)
        assert page.status == 409
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(on_paper)
        assert application is not None and application.withdrawn_at is None


def request_number(text: str, kind: str) -> str:
    """The number of the request of this kind in the page's table of requests waiting."""
    what = {"delegate": "delegate", "card": "(card with codes|new card replacing the old one)"}
    cell = r"<td[^>]*>(?:<div>)?"  # a labelled cell stacks on a phone
    found = re.search(
        r'<tr id="request-(\d+)">\s*' + cell + r"\d+(?:</div>)?</td>\s*" + cell + what[kind], text
    )
    assert found is not None, text
    return found.group(1)


async def told(core: Core, phone: str) -> list[str]:
    async with core.uow() as uow:
        rows = await uow.outbox.for_address("sms", phone)
        return [reply_from_json(row.payload).texts[0].msgid for row in rows]


async def test_phone_delegate_and_card(towns: Towns, core: Core) -> None:
    without_phone = replace(person(1, 1), phone=None)
    clerk, url = await at_the_desk(towns, without_phone, NEIGHBOUR)
    protocol = url.rsplit("/", 1)[-1]
    page = await clerk.post(f"{url}/phone", {"phone": "333 111 2223"})
    assert page.status == 409 and "belongs to another citizen" in page.text
    page = await clerk.post(f"{url}/phone", {"phone": "not a phone"})
    assert page.status in (400, 409)
    # A shop's owner would receive the applicant's payment codes: refused, nothing bound.
    page = await clerk.post(f"{url}/phone", {"phone": "+393339000000"})
    assert page.status == 409 and "charges vouchers for a shop" in unescape(page.text)
    assert "The operation was refused" not in page.text
    citizen = await citizen_of(core, towns, without_phone)
    assert citizen is not None and citizen.phone is None
    page = await clerk.post(f"{url}/phone", {"phone": "333 444 5556"})
    assert page.status == 200 and "+393334445556" in page.text
    page = await clerk.post(f"{url}/delegate", {"phone": "333 444 5556"})
    assert page.status == 409  # the applicant's own phone
    page = await clerk.post(f"{url}/delegate", {"phone": "333 999 8887"})
    assert page.status == 200 and "waits for the approval of a manager" in page.text
    # Asked, not registered: the clerk alone gives the phone nothing.
    async with core.uow() as uow:
        assert await uow.delegates.of_citizen(citizen.id) is None
    assert "A delegate (***887) waits" in unescape(page.text)
    assert f"{url}/delegate/remove" not in page.text
    delegate_request = request_number(page.text, "delegate")
    refused = await clerk.post(f"/office/phone-changes/{delegate_request}/approve")
    assert refused.status == 403
    assert any("will send your payment codes to {phone}" in m for m in await told(core, PHONE))

    page = await clerk.post(f"{url}/card")
    assert page.status == 200 and "The card waits for the approval" in page.text
    card_request = request_number(page.text, "card")
    early = await clerk.post(f"{url}/card.pdf")  # nothing approved yet: no card, no PIN
    assert early.status == 409 and early.headers["Content-Type"].startswith("text/html")
    # Said as waiting for its approval, not as printed or withdrawn.
    for form in ({}, {"change": card_request}):
        early = await clerk.post(f"{url}/card.pdf", form)
        said = unescape(early.text)
        assert early.status == 409 and f"The card (request {card_request}) still waits" in said
        assert "printed already" not in said

    manager = await signed_in(towns.server, "bel.manager")
    await manager.post("/office/language", {"lang": "en"})
    dashboard = await manager.get("/office/")
    assert '<a href="#phone-changes">Delegates to approve</a>' in dashboard.text
    assert '<a href="#phone-changes">Cards to approve</a>' in dashboard.text
    for number in (delegate_request, card_request):
        page = await manager.post(f"/office/phone-changes/{number}/approve", {"back": url})
        assert page.status == 200 and page.url == url
    assert "+393339998887" in page.text and f"{url}/delegate/remove" in page.text
    assert any("registered {phone} as your delegate" in m for m in await told(core, PHONE))
    assert any("You are now the delegate" in m for m in await told(core, DELEGATE))
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(citizen.id)
        assert citizen is not None and citizen.card_pin_hash is None  # approved, not printed
    # The manager approved it and may print it, as may the clerk who asked: the clerk does.
    assert f"{url}/card.pdf" in page.text
    card = await clerk.post(f"{url}/card.pdf")
    assert card.status == 200 and card.headers["Content-Type"] == "application/pdf"
    assert card.body.startswith(b"%PDF")
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(citizen.id)
        assert citizen is not None and citizen.card_pin_hash is not None
        first = citizen.card_code
    assert first in pdf_text(card.body).replace(" ", "")
    # The page shows the card with its codes left, and a new card's codes: no PIN.
    shown = unescape((await clerk.get(url)).text)
    assert "Voucher card" in shown and "30 codes left" in shown and "PIN" not in shown
    assert "A new card gets a new number and new codes" in shown
    await clerk.post("/office/language", {"lang": "it"})
    shown = unescape((await clerk.get(url)).text)
    assert "Tessera buoni spesa" in shown and "30 codici rimasti" in shown
    assert "PIN" not in shown
    await clerk.post("/office/language", {"lang": "en"})
    # The codes are printed once: neither the clerk nor the approver gets them again.
    assert (await clerk.post(f"{url}/card.pdf")).status == 409
    assert (await manager.post(f"{url}/card.pdf")).status == 409
    # Whoever receives the citizen's notices hears of the card, with the office's name.
    town_name = "Comune di Belforte del Chienti"
    for phone in (PHONE, DELEGATE):
        [notice] = [m for m in await told(core, phone) if "with a slip of codes" in m]
        assert notice.startswith("{town}")
    async with core.uow() as uow:
        rows = await uow.outbox.for_address("sms", PHONE)
        assert any(town_name in str(reply_from_json(r.payload).texts[0].params) for r in rows)

    # A new card: asked, approved, printed by the approver; the old one stops working.
    page = await clerk.post(f"{url}/card", {"reissue": "yes"})
    assert page.status == 200
    number = request_number(page.text, "card")
    await manager.post(f"/office/phone-changes/{number}/approve", {"back": url})
    again = await manager.post(f"{url}/card.pdf")
    assert again.status == 200 and again.body.startswith(b"%PDF")
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(citizen.id)
        assert citizen is not None and citizen.card_code != first
    actions = [entry.actor for entry in await activity(core, "card.reissue")]
    assert actions == ["bel.manager"]
    # A card issued before the grids (only a PIN) is shown so, to reissue.
    async with core.uow() as uow:
        await uow.session.execute(delete(m.CardCode).where(m.CardCode.citizen_id == citizen.id))
        await uow.commit()
    shown = unescape((await clerk.get(url)).text)
    assert "(PIN only: reissue)" in shown and "codes left" not in shown
    assert any("new voucher card for you; the old one" in m for m in await told(core, PHONE))

    # Removing the delegate takes power away: one clerk, at once, both told; first the page
    # that says what it means (the codes waiting void, a new request to register one again),
    # and the service removes nothing unconfirmed (a hand-made form).
    page = await clerk.post(f"{url}/delegate/remove")
    shown = unescape(page.text)
    assert page.status == 200 and "Delegate removed" not in shown
    assert f"Remove the delegate +393339998887 of application {protocol}?" in shown
    assert "payments waiting for a code sent to that phone are cancelled" in shown
    assert 'name="confirm" value="yes"' in shown and "Yes, remove the delegate" in shown
    async with core.uow() as uow:
        operator = await uow.operators.by_username("bel.clerk")
        assert operator is not None
        with pytest.raises(Conflict) as unconfirmed:
            await application_desk.remove_delegate(
                uow, operator, protocol, core.now(), confirmed=False, seen=DelegateSeen()
            )
        assert unconfirmed.value.code == Refusal.OFFICE_NOT_CONFIRMED
        assert await uow.delegates.of_citizen(citizen.id) is not None
    assert not (await told(core, DELEGATE))[-1].startswith("You are no longer the delegate")
    # A confirmation that does not say which delegate it meant (a page of before) asks again.
    again = await clerk.post(f"{url}/delegate/remove", {"confirm": "yes"})
    assert again.status == 200 and "Delegate removed" not in again.text
    assert "Yes, remove the delegate" in unescape(again.text)
    page = await clerk.post(f"{url}/delegate/remove", shown_delegate(shown))
    assert page.status == 200 and "Delegate removed" in page.text
    async with core.uow() as uow:
        assert await uow.delegates.of_citizen(citizen.id) is None
    assert (await told(core, DELEGATE))[-1].startswith("You are no longer the delegate")
    assert [e.actor for e in await activity(core, "citizen.delegate_remove")] == ["bel.clerk"]
    assert f"{url}/delegate" in page.text  # the form is back

    # A viewer reads the page and the log without a phone or a card number in full.
    viewer = await signed_in(towns.server, "bel.viewer")
    for path in (url, "/office/activity", "/office/activity.csv"):
        page = await viewer.get(path)
        assert page.status == 200, path
        seen = page.text or page.body.decode("utf-8-sig")
        for secret in ("+393334445556", "3334445556", "+393339998887", citizen.card_code, first):
            assert secret not in seen, (path, secret)


async def test_the_asker_never_approves_and_only_the_two_print(towns: Towns, core: Core) -> None:
    applicant = person(1, 1, phone=PHONE)
    [protocol] = await paper(towns.bel, applicant)
    await close_approve_credit(towns.bel, 100_000_00)  # the applicant has vouchers
    url = f"/office/applications/{protocol}"
    manager = await signed_in(towns.server, "bel.manager")
    await manager.post("/office/language", {"lang": "en"})
    page = await manager.post(f"{url}/delegate", {"phone": "333 999 8887"})
    number = request_number(page.text, "delegate")
    own = await manager.post(f"/office/phone-changes/{number}/approve")
    assert own.status == 403 and "a manager other than you" in unescape(own.text)
    page = await manager.post(f"{url}/card")
    card_request = request_number(page.text, "card")
    other = await signed_in(towns.server, "bel.manager2")
    await other.post(f"/office/phone-changes/{card_request}/approve", {"back": url})
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(protocol)
        assert application is not None
        assert await uow.delegates.of_citizen(application.citizen_id) is None
    # A clerk who neither asked nor approved the card does not print its PIN.
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    page = await clerk.get(url)
    assert f"{url}/card.pdf" not in page.text and "bel.manager, bel.manager2" in page.text
    refused = await clerk.post(f"{url}/card.pdf")
    assert refused.status == 403 and "Only the operator who asked" in refused.text
    # Withdrawn before printing: no card, and the page offers a new request.
    page = await manager.post(
        f"/office/phone-changes/{card_request}/withdraw", {"reason": "Moved away", "back": url}
    )
    assert page.status == 200 and "The card request was withdrawn" in page.text
    assert (await manager.post(f"{url}/card.pdf")).status == 409
    assert url + '/card"' in page.text
    page = await manager.post(
        f"/office/phone-changes/{number}/withdraw", {"reason": "Wrong number", "back": url}
    )
    assert "The delegate was not registered" in page.text
    assert (await told(core, PHONE))[-1].startswith("{town}: {phone} will not be your delegate")
    async with core.uow() as uow:
        application = await uow.applications.by_protocol(protocol)
        assert application is not None
        citizen = await uow.citizens.by_id(application.citizen_id)
        assert citizen is not None and citizen.card_pin_hash is None
        assert await uow.delegates.of_citizen(citizen.id) is None


async def test_the_delegate_form_stays_while_a_phone_change_waits(towns: Towns, core: Core) -> None:
    [protocol] = await paper(towns.bel, person(1, 1, phone=PHONE))
    await close_approve_credit(towns.bel, 100_000_00)
    url = f"/office/applications/{protocol}"
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    page = await clerk.post(f"{url}/phone", {"phone": "333 444 5559"})
    assert "A new phone (***559) waits for a manager's approval" in unescape(page.text)
    assert f'action="{url}/phone"' not in page.text
    assert f'action="{url}/delegate"' in page.text and f'action="{url}/card"' in page.text


async def test_a_refused_delegate_or_card_says_why(towns: Towns, core: Core) -> None:
    """Each refusal of the desk names its reason, never "the operation was refused"."""
    clerk, url = await at_the_desk(towns, person(1, 1, phone="+393334445556"), NEIGHBOUR)
    shop_owner = "+393339000000"
    for phone, sentence in (
        ("333 444 5556", "is the citizen's own number"),
        ("333 111 2223", "belongs to another voucher holder"),
        (shop_owner, "charges vouchers for a shop"),
    ):
        page = await clerk.post(f"{url}/delegate", {"phone": phone})
        assert page.status == 409 and sentence in unescape(page.text), phone
        assert "The operation was refused" not in page.text
    page = await clerk.post(f"{url}/delegate", {"phone": "333 999 8887"})
    assert page.status == 200
    number = request_number(page.text, "delegate")
    page = await clerk.post(f"{url}/delegate", {"phone": "333 999 8888"})
    assert page.status == 409 and "already waits for approval" in page.text
    manager = await signed_in(towns.server, "bel.manager")
    await manager.post(f"/office/phone-changes/{number}/approve")
    page = await clerk.post(f"{url}/delegate", {"phone": "333 999 8888"})
    assert page.status == 409 and "already has delegate" in page.text
    assert (await clerk.post(f"{url}/card")).status == 200
    page = await clerk.post(f"{url}/card")  # a page loaded before the first request
    assert page.status == 200 and "The card was already asked (request " in page.text


async def test_the_history_survives_a_busy_office(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    """The page reads the entries about its protocol, not the newest of the whole log."""
    [protocol] = await paper(towns.bel, person(1, 1))
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    # Still admitted (no pension), so not yet assessed and revocable below: an excluded
    # application has nothing to revoke.
    page = await clerk.post(
        f"/office/applications/{protocol}/correct", {**FORM, "has_pension": "no"}
    )
    assert page.status == 200 and "paper application corrected" in page.text
    async with core.uow() as uow:
        for number in range(600):  # a busy day at the desk, about other applications
            uow.add(
                m.ActivityEntry(
                    municipality_id=towns.bel.municipality_id,
                    actor="bel.clerk",
                    action="citizen.delegate",
                    subject=f"BEL-OTHER-{number}",
                    created_at=clock(),
                )
            )
        await uow.commit()
    # An act naming the application is part of its history, its withdrawal too (whose
    # entry names only the act).
    form = {"kind": "revocation", "protocol": protocol, "reason": "ISEE falso"}
    page = await clerk.post("/office/acts", form)
    assert page.status == 200, page.text
    act = int(re.findall(r"/office/acts/(\d+)/withdraw", page.text)[-1])
    page = await clerk.post(f"/office/acts/{act}/withdraw", {"reason": "Prepared by mistake"})
    assert page.status == 200
    page = await clerk.get(f"/office/applications/{protocol}")
    assert page.status == 200 and "paper application corrected" in page.text
    # Its three entries, none of the other applications'.
    assert page.text.count(" · bel.clerk · ") == 3


async def test_an_approved_card_not_printed_in_7_days_expires_and_a_new_one_is_asked(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    """The page says until when the approved card prints; after it, printing is refused
    with the reason, the page says it expired and offers a new request, which goes."""
    applicant = person(1, 1, phone=PHONE)
    [protocol] = await paper(towns.bel, applicant)
    url = f"/office/applications/{protocol}"
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    page = await clerk.post(f"{url}/card")
    card_request = request_number(page.text, "card")
    manager = await signed_in(towns.server, "bel.manager")
    await manager.post(f"/office/phone-changes/{card_request}/approve", {"back": url})
    page = await clerk.get(url)
    deadline = re.search(r'<p id="card-deadline">([^<]*)</p>', page.text)
    assert deadline is not None
    assert unescape(deadline.group(1)).startswith("Print it by ")
    assert f"{url}/card.pdf" in page.text
    clock.advance(days=7)
    refused = await clerk.post(f"{url}/card.pdf")
    assert refused.status == 409
    assert f"Card request {card_request} was approved but not printed by " in refused.text
    assert "Ask for a new card" in refused.text
    page = await clerk.get(url)
    assert f"{url}/card.pdf" not in page.text and 'id="card-deadline"' not in page.text
    expired = re.search(r'<p class="error" id="card-expired">([^<]*)</p>', page.text)
    assert expired is not None and "it expired, and no card or codes were made" in expired.group(1)
    assert url + '/card"' in page.text  # a new request may be asked
    page = await clerk.post(f"{url}/card")
    assert page.status == 200 and "The card waits for the approval" in page.text
    assert request_number(page.text, "card") != card_request
    [logged] = await activity(core, "card.expired")
    assert logged.actor == "bel.clerk" and logged.before is not None
    assert logged.before["change"] == int(card_request)
    citizen = await citizen_of(core, towns, applicant)
    assert citizen is not None and citizen.card_pin_hash is None


async def test_the_same_new_phone_sent_twice_is_recorded_and_told_once(
    towns: Towns, core: Core
) -> None:
    clerk, url = await at_the_desk(towns, replace(person(1, 1), phone=None))
    assert (await clerk.post(f"{url}/phone", {"phone": "333 444 5557"}, follow=False)).status == 303
    page = await clerk.post(f"{url}/phone", {"phone": "+39 333 444 5557"})
    assert page.status == 409 and page.url == url  # beside the field, on the page's address
    assert (
        "is already this citizen's number, recorded by the office: nothing was changed and "
        "nobody was told again."
    ) in unescape(page.text)
    assert len(await told(core, "+393334445557")) == 1
    assert len(await activity(core, "citizen.phone")) == 1


async def test_an_old_tab_never_removes_the_delegate_who_came_after(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    """The page asking to remove a delegate was opened, then the delegate was replaced
    (removed, another registered: on SQLite the new delegation may even take the old one's
    id): its "Yes" removes nobody, and the page names the delegate now and asks again."""
    clerk, url = await at_the_desk(towns, person(1, 1, phone=PHONE), NEIGHBOUR)
    await clerk.post("/office/language", {"lang": "en"})
    protocol = url.rsplit("/", 1)[-1]
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        citizen = await uow.citizens.by_phone(town.id, PHONE)
        assert citizen is not None
        cf = citizen.codice_fiscale
        await delegates.add_delegate(uow, town, cf, DELEGATE, core.now())
        await uow.commit()
    old_tab = unescape((await clerk.post(f"{url}/delegate/remove")).text)
    assert "Remove the delegate +393339998887" in old_tab
    clock.advance(minutes=1)
    newcomer = "+393339998800"
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await delegates.remove_delegate(uow, town, cf, core.now())
        await delegates.add_delegate(uow, town, cf, newcomer, core.now())
        await uow.commit()
    page = await clerk.post(f"{url}/delegate/remove", shown_delegate(old_tab))
    shown = unescape(page.text)
    assert page.status == 409 and "Delegate removed" not in shown
    assert (
        f"The delegate of application {protocol} changed after your page was opened: it is "
        f"now {newcomer}. Nothing was done" in shown
    )
    assert f"Remove the delegate {newcomer} of application {protocol}?" in shown
    async with core.uow() as uow:
        delegate = await uow.delegates.of_citizen(citizen.id)
        assert delegate is not None and delegate.phone == newcomer
    assert not any(x.startswith("You are no longer") for x in await told(core, newcomer))
    assert await activity(core, "citizen.delegate_remove") == []
    # The page shown now names the newcomer: its button removes them, once.
    page = await clerk.post(f"{url}/delegate/remove", shown_delegate(shown))
    assert page.status == 200 and "Delegate removed" in page.text
    async with core.uow() as uow:
        assert await uow.delegates.of_citizen(citizen.id) is None
    assert [e.actor for e in await activity(core, "citizen.delegate_remove")] == ["bel.clerk"]
