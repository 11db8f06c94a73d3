"""Actions on one application's page: correct or withdraw a paper application, bind a phone,
add a delegate, issue and print the card. Each calls core.services.application_desk (the
rules, the role and the activity log live there); a refusal becomes a page that says it and
nothing is written."""

from __future__ import annotations

from aiohttp import web

from core.domain.errors import Conflict, InvalidAmount, Refusal
from core.domain.messages import Text, t
from core.domain.money import parse_euro
from core.services import application_desk
from core.services.application_desk import Answers
from core.services.identity import Rebinding
from office.keys import CORE
from office.pages import notify, words_for
from office.security import operator_of
from office.views.forms import back_or, fields, see_other

YES_NO = {"yes": True, "no": False}


def _yes_no(form: dict[str, str], name: str) -> bool:
    value = YES_NO.get(form.get(name, ""))
    if value is None:
        raise Conflict(Refusal.OFFICE_BAD_CHOICE, field=name)
    return value


def _household_size(text: str) -> int:
    if not text.isdigit():
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
    async with core.uow() as uow:
        await application_desk.withdraw(uow, operator, protocol, form.get("reason", ""), core.now())
    await notify(request, t("Application {protocol} withdrawn.", protocol=protocol))
    raise see_other(request, "application", protocol=protocol)


async def bind_phone(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    protocol = request.match_info["protocol"]
    form = await fields(request)
    async with core.uow() as uow:
        asked = await application_desk.bind_phone(
            uow, operator, protocol, form.get("phone", ""), core.now()
        )
    if asked.waiting is not None:
        await notify(
            request,
            t(
                "The applicant has vouchers to spend: the new phone waits for the approval "
                "of a manager other than you. The old and the new number were told."
            ),
        )
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


async def approve_phone(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    async with core.uow() as uow:
        done = await application_desk.approve_phone(uow, operator, _change_id(request), core.now())
    await notify(request, _phone_recorded(done))
    raise back_or(request, form, "dashboard")


async def withdraw_phone(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await fields(request)
    async with core.uow() as uow:
        await application_desk.withdraw_phone(
            uow, operator, _change_id(request), form.get("reason", ""), core.now()
        )
    await notify(
        request, t("The phone change was withdrawn; the applicant keeps the number they have.")
    )
    raise back_or(request, form, "dashboard")


async def add_delegate(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    protocol = request.match_info["protocol"]
    form = await fields(request)
    async with core.uow() as uow:
        await application_desk.add_delegate(
            uow, operator, protocol, form.get("phone", ""), core.now()
        )
    await notify(
        request,
        t(
            "Delegate registered: payment codes and receipts go to that phone. The citizen "
            "and the delegate were told."
        ),
    )
    raise see_other(request, "application", protocol=protocol)


async def card(request: web.Request) -> web.StreamResponse:
    """Issue the card and answer with its PDF, the one `admin card` writes. A POST, not a
    link: every issue makes a new number and PIN, which a prefetch must not do."""
    # fpdf and segno only when a card is printed.
    from core.documents.card import card_pdf

    operator = operator_of(request)
    core = request.app[CORE]
    protocol = request.match_info["protocol"]
    form = await fields(request)
    words = await words_for(request)
    async with core.uow() as uow:
        # The PIN exists in clear only in the page, made before the commit and sent only
        # once it succeeded: a printed card always matches the database.
        _, body = await application_desk.issue_card(
            uow,
            operator,
            protocol,
            core.now(),
            reissue=form.get("reissue") == "yes",
            render=lambda card: card_pdf(card, words.language),
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
    change = r"/phone-changes/{change:\d{1,9}}"
    app.router.add_post(f"{change}/approve", approve_phone, name="phone_change_approve")
    app.router.add_post(f"{change}/withdraw", withdraw_phone, name="phone_change_withdraw")
    app.router.add_post(f"{base}/card.pdf", card, name="application_card")
