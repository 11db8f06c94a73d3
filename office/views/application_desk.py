"""Actions on one application's page: correct or withdraw a paper application, bind a phone,
ask or remove a delegate, ask and print the card, approve or withdraw what waits under four
eyes. Each calls core.services.application_desk (the rules, the role and the activity log
live there); a refusal becomes a page that says it and nothing is written (a refused number
beside its field, on the application's page shown again by a GET)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from core.domain.errors import Conflict, DomainError, InvalidAmount, InvalidIdentifier, Refusal
from core.domain.messages import Text, t
from core.domain.money import parse_euro
from core.services import application_desk, delegates
from core.services.application_desk import Answers
from core.services.identity import Rebinding
from office import personal
from office.keys import CORE
from office.pages import (
    forget_the_way_back,
    kept_for_the_way_back,
    notify,
    refused_again,
    render,
    words_for,
)
from office.refusals import describe, status_of
from office.security import operator_of
from office.views.forms import back_or, fields, see_other

YES_NO = {"yes": True, "no": False}


def _yes_no(form: dict[str, str], name: str) -> bool:
    value = YES_NO.get(form.get(name, ""))
    if value is None:
        raise Conflict(Refusal.OFFICE_BAD_CHOICE, field=name)
    return value


def _household_size(text: str) -> int:
    # A few digits at most: int() refuses thousands, and the service says 1 to 30.
    if not (text.isascii() and text.isdigit() and len(text) <= 3):
        raise Conflict(Refusal.APPLICATION_BAD_HOUSEHOLD_SIZE, value=text, field="household_size")
    return int(text)


def _euro(form: dict[str, str], name: str) -> int:
    try:
        return parse_euro(form.get(name, ""))
    except InvalidAmount as error:
        raise Conflict(Refusal.OFFICE_BAD_AMOUNT, field=name) from error


def answers_of(form: dict[str, str]) -> Answers:
    """The household's answers as typed on the form (euro as written in Italy: 1.234,56)."""
    return Answers(
        household_size=_household_size(form.get("household_size", "")),
        has_work_income=_yes_no(form, "has_work_income"),
        has_pension=_yes_no(form, "has_pension"),
        liquidity_cents=_euro(form, "liquidity"),
        public_support_monthly_cents=_euro(form, "public_support_monthly"),
        rent_monthly_cents=_euro(form, "rent_monthly"),
    )


async def correct(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    protocol = request.match_info["protocol"]
    form = await fields(request)
    async with core.uow() as uow:
        await application_desk.correct(
            uow, operator, protocol, answers_of(form), form.get("reason", ""), core.now()
        )
    await notify(request, t("Application {protocol} corrected.", protocol=protocol))
    raise see_other(request, "application", protocol=protocol)


async def withdraw(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    protocol = request.match_info["protocol"]
    form = await fields(request)
    reason = form.get("reason", "")
    if form.get("confirm") != "yes":
        # The button of the application's page: first the page that says what
        # withdrawing means, with the reason typed. Its refusals are said here first.
        async with core.uow() as uow:
            application, why = await application_desk.withdrawable(uow, operator, protocol, reason)
            page = await render(
                request, "application_withdraw.html", {"app": application, "reason": why}
            )
        # "No, go back" finds the reason in its field, to correct rather than type again.
        await kept_for_the_way_back(
            request, "application", {"form": "withdraw", "reason": reason}, protocol=protocol
        )
        return page
    try:
        async with core.uow() as uow:
            await application_desk.withdraw(
                uow, operator, protocol, reason, core.now(), confirmed=True
            )
        await forget_the_way_back(request)
    except Conflict as error:
        # The service refuses a second withdrawal under the window's lock, nothing written;
        # the second click of a double click (an old tab) lands where the first landed.
        if error.code != Refusal.APPLICATION_WITHDRAWN:
            raise
        await notify(
            request,
            t(
                "Application {protocol} was already withdrawn: nothing was done twice.",
                protocol=protocol,
            ),
        )
        raise see_other(request, "application", protocol=protocol) from None
    await notify(request, t("Application {protocol} withdrawn.", protocol=protocol))
    raise see_other(request, "application", protocol=protocol)


# The refusals of the number typed for a new phone or a delegate (malformed, no mobile,
# another person's, a shop's, the applicant's own...): said beside the field with the number
# kept, as the fund's forms do. The service judges; a refusal of the request itself (one
# already waiting, a role) keeps the page that says it.
PHONE_REFUSALS = frozenset(
    {
        Refusal.IDENTITY_PHONE_OF_ANOTHER,
        Refusal.IDENTITY_PHONE_IS_DELEGATE,
        Refusal.IDENTITY_PHONE_IS_SHOP,
        Refusal.IDENTITY_PHONE_ALREADY,
        Refusal.PHONE_TOWN_NUMBER,
        Refusal.REQUEST_NUMBER_ASKED,
        Refusal.REQUEST_NUMBER_OWN,
        Refusal.DELEGATE_OWN_PHONE,
        Refusal.DELEGATE_PHONE_TAKEN,
        Refusal.DELEGATE_PHONE_IS_CITIZEN,
        Refusal.DELEGATE_PHONE_IS_SHOP,
    }
)


def about_the_number(error: DomainError) -> bool:
    if isinstance(error, InvalidIdentifier):
        return error.kind == "phone"
    return error.code in PHONE_REFUSALS


async def _number_refused(
    request: web.Request, which: str, typed: str, error: DomainError
) -> web.HTTPSeeOther:
    """The application's page again by a GET (a reload sends nothing), that form open with
    the number typed and why beside it."""
    words = await words_for(request)
    said = {"form": which, "problem": words.text(describe(error))}
    return await refused_again(
        request,
        "application",
        {"phone": typed},
        said,
        status_of(error),
        protocol=request.match_info["protocol"],
    )


async def bind_phone(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    protocol = request.match_info["protocol"]
    form = await fields(request)
    typed = form.get("phone", "")
    try:
        async with core.uow() as uow:
            asked = await application_desk.bind_phone(uow, operator, protocol, typed, core.now())
    except DomainError as error:
        # Said once the unit of work is closed (SQLite's lock), nothing written.
        if not about_the_number(error):
            raise
        raise await _number_refused(request, "phone", typed, error) from None
    if asked.waiting is not None:
        # Only a number on file is told of the request (phone_changes.request).
        told = (
            t(
                "The applicant has vouchers to spend: the new phone waits for the approval "
                "of a manager other than you. The old and the new number were told."
            )
            if asked.waiting.previous_masked
            else t(
                "The applicant has vouchers to spend: the new phone waits for the approval "
                "of a manager other than you. The new number was told; there was no old one."
            )
        )
        await notify(request, told)
        raise see_other(request, "application", protocol=protocol)
    done = asked.applied
    assert done is not None
    await notify(request, _phone_recorded(done))
    raise see_other(request, "application", protocol=protocol)


def _phone_recorded(done: Rebinding) -> Text:
    if done.telegram_unlinked:
        return t(
            "The phone is recorded; the applicant was told by SMS. The Telegram chat linked "
            "through the old number was unlinked: the person shares the new contact in the "
            "bot to link it again."
        )
    return t("The phone is recorded; the applicant was told by SMS.")


def _change_id(request: web.Request) -> int:
    # The route's pattern admits digits only (at most 9): anything else is not found.
    return int(request.match_info["change"])


async def approve_request(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    async with core.uow() as uow:
        done = await application_desk.approve_request(
            uow, operator, _change_id(request), core.now()
        )
    if done.already:
        await notify(
            request,
            t(
                "Request {number} was already approved: nothing was done twice.",
                number=str(done.change.id),
            ),
        )
    elif done.rebinding is not None:
        await notify(request, _phone_recorded(done.rebinding))
    elif done.delegate is not None:
        await notify(
            request,
            t(
                "Delegate registered: payment codes and receipts go to that phone. The citizen "
                "and the delegate were told."
            ),
        )
    else:
        await notify(
            request,
            t(
                "Card approved: the operator who asked it, or you, prints it once from the "
                "application's page and hands it to the holder in person."
            ),
        )
    raise back_or(request, form, "dashboard")


async def check_request(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    async with core.uow() as uow:
        checked = await application_desk.check_chat_request(
            uow, operator, _change_id(request), core.now()
        )
    await notify(
        request,
        t(
            "You had already checked this number: it waits for the approval of a manager "
            "other than you."
        )
        if checked.already
        else t(
            "You checked the number the citizen's chat shared: it waits for the approval of a "
            "manager other than you."
        ),
    )
    raise back_or(request, form, "dashboard")


async def withdraw_request(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    async with core.uow() as uow:
        done = await application_desk.withdraw_request(
            uow, operator, _change_id(request), form.get("reason", ""), core.now()
        )
    if done.already:
        await notify(
            request,
            t(
                "Request {number} was already withdrawn: nothing was done twice.",
                number=str(done.change.id),
            ),
        )
        raise back_or(request, form, "dashboard")
    withdrawn = {
        "phone": t("The phone change was withdrawn; the applicant keeps the number they have."),
        "delegate": t("The delegate was not registered; the applicant was told."),
    }
    await notify(request, withdrawn.get(done.change.kind, t("The card request was withdrawn.")))
    raise back_or(request, form, "dashboard")


async def add_delegate(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    protocol = request.match_info["protocol"]
    form = await fields(request)
    typed = form.get("phone", "")
    try:
        async with core.uow() as uow:
            await application_desk.add_delegate(uow, operator, protocol, typed, core.now())
    except DomainError as error:
        if not about_the_number(error):
            raise
        raise await _number_refused(request, "delegate", typed, error) from None
    await notify(
        request,
        t(
            "The delegate waits for the approval of a manager other than you; until then "
            "payment codes do not go to that phone. The applicant was told."
        ),
    )
    raise see_other(request, "application", protocol=protocol)


def _delegate_seen(form: dict[str, str]) -> delegates.DelegateSeen | None:
    """The delegate the confirmation page showed (its id and when it began); None when the
    form does not say (a page of before, a hand-made form)."""
    shown, since = form.get("delegate", ""), form.get("since", "")
    if not (shown.isascii() and shown.isdigit() and len(shown) <= 9):
        return None
    try:
        began = datetime.fromisoformat(since)
    except ValueError:
        return None
    return delegates.DelegateSeen(delegate_id=int(shown), since=began)


async def _confirm_removal(
    request: web.Request, protocol: str, status: int = 200
) -> web.StreamResponse:
    """The page that says what removing the applicant's delegate means, naming the delegate
    now, whose id and start its button carries."""
    operator = operator_of(request)
    async with request.app[CORE].uow() as uow:
        delegate = await application_desk.removable_delegate(uow, operator, protocol)
    return await render(
        request,
        "application_delegate_remove.html",
        {
            "protocol": protocol,
            "delegate_phone": personal.phone(operator, delegate.phone),
            "delegate_id": delegate.id,
            "delegate_since": delegate.created_at.isoformat(),
        },
        status=status,
    )


async def remove_delegate(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    protocol = request.match_info["protocol"]
    form = await fields(request)
    seen = _delegate_seen(form)
    if form.get("confirm") != "yes" or seen is None:
        # The button of the application's page: first the page that says what removing
        # means (the codes waiting void, a new request to register one again). A
        # confirmation that does not say which delegate it meant is asked again.
        return await _confirm_removal(request, protocol)
    try:
        async with core.uow() as uow:
            await application_desk.remove_delegate(
                uow, operator, protocol, core.now(), confirmed=True, seen=seen
            )
    except Conflict as error:
        if error.code != Refusal.DELEGATE_CHANGED:
            raise
        # An old tab: the delegate it showed was replaced meanwhile. Nothing was done; the
        # page names the delegate now and asks again.
        async with core.uow() as uow:
            now_delegate = await application_desk.removable_delegate(uow, operator, protocol)
        await notify(
            request,
            t(
                "The delegate of application {protocol} changed after your page was opened: "
                "it is now {phone}. Nothing was done; remove {phone} only if you mean to.",
                protocol=protocol,
                phone=personal.phone(operator, now_delegate.phone),
            ),
        )
        return await _confirm_removal(request, protocol, status=409)
    await notify(
        request,
        t("Delegate removed: payment codes go to the applicant again. Both were told."),
    )
    raise see_other(request, "application", protocol=protocol)


async def request_card(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    protocol = request.match_info["protocol"]
    form = await fields(request)
    async with core.uow() as uow:
        asked = await application_desk.request_card(
            uow, operator, protocol, core.now(), reissue=form.get("reissue") == "yes"
        )
    await notify(
        request,
        t(
            "The card was already asked (request {number}): nothing was done twice.",
            number=str(asked.change.id),
        )
        if asked.already
        else t(
            "The card waits for the approval of a manager other than you; then you or the "
            "manager print it here, once."
        ),
    )
    raise see_other(request, "application", protocol=protocol)


async def card(request: web.Request) -> web.StreamResponse:
    """Print the approved card: answer with its PDF, the one `admin card` writes. A POST,
    not a link: printing makes the card's number and PIN, once, which a prefetch must not
    do."""
    # fpdf and segno only when a card is printed.
    from core.documents.card import card_pdf

    operator = operator_of(request)
    core = request.app[CORE]
    protocol = request.match_info["protocol"]
    words = await words_for(request)
    form = await fields(request)
    # The request the page showed: the service prints it only if it is this applicant's.
    shown = form.get("change", "")
    async with core.uow() as uow:
        # The PIN exists in clear only in the page, made before the commit and sent only
        # once it succeeded: a printed card always matches the database.
        _, body = await application_desk.print_card(
            uow,
            operator,
            protocol,
            core.now(),
            render=lambda card: card_pdf(card, words.language),
            change_id=int(shown)
            if shown.isascii() and shown.isdigit() and len(shown) <= 9
            else None,
        )
    return web.Response(
        body=body,
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="card-{protocol}.pdf"',
            "Cache-Control": "no-store",
        },
    )


def add_routes(app: web.Application) -> None:
    base = "/applications/{protocol}"
    app.router.add_post(f"{base}/correct", correct, name="application_correct")
    app.router.add_post(f"{base}/withdraw", withdraw, name="application_withdraw")
    app.router.add_post(f"{base}/phone", bind_phone, name="application_phone")
    app.router.add_post(f"{base}/delegate", add_delegate, name="application_delegate")
    app.router.add_post(
        f"{base}/delegate/remove", remove_delegate, name="application_delegate_remove"
    )
    # The requests under four eyes (a phone, a delegate, a card) share their numbers.
    change = r"/phone-changes/{change:\d{1,9}}"
    app.router.add_post(f"{change}/approve", approve_request, name="phone_change_approve")
    app.router.add_post(f"{change}/withdraw", withdraw_request, name="phone_change_withdraw")
    app.router.add_post(f"{change}/check", check_request, name="phone_change_check")
    app.router.add_post(f"{base}/card", request_card, name="application_card_request")
    app.router.add_post(f"{base}/card.pdf", card, name="application_card")
