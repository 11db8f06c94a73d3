"""Applications: search, one application's page, paper applications from a CSV."""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from core.dialogue.flows.citizen import movement_text
from core.domain.application_csv import (
    APPLICATION_COLUMNS,
    ROME,
    decode_csv,
    parse_application_fields,
    parse_applications_csv,
)
from core.domain.errors import Conflict, DomainError, Refusal
from core.domain.identity import looks_like_codice_fiscale
from core.domain.messages import Money, t, tn
from core.domain.money import parse_plain
from core.domain.spreadsheet import csv_record
from core.services import (
    activity,
    acts,
    appeal_remedy,
    application_desk,
    audit,
    back_office,
    cards,
    ledger,
    movements,
    paperwork,
    phone_changes,
)
from core.services.applications import ApplicationInput
from core.services.operators import Role, require_role
from core.services.outbox import reply_of
from core.services.paper_applications import ImportRefused
from core.storage import models as m
from office import personal
from office.keys import CORE
from office.pages import notify, refused_here, render, words_for
from office.refusals import describe, status_of
from office.security import operator_of
from office.views.dashboard import phone_change_rows
from office.views.forms import fields, see_other
from office.words import CHANNEL_NAMES, COLUMN_MEANINGS, DELIVERY_NAMES, Words, action_name

# The latest movements of a citizen's account on their application's page.
MOVEMENTS_ON_PAGE = 10

ASSIGNMENT_NAMES = {
    "1": t("List 1"),
    "2": t("List 2"),
    "excluded": t("Excluded"),
}
REASON_NAMES = {
    "work_income": t("work income"),
    "pension": t("pension"),
    "liquidity": t("liquidity above the limit"),
}


def _assigned(words: Words, line: m.AllocationLine) -> str:
    """A tranche's line as one application's list or exclusion, in the same words on the
    list of applications and on its page: "List 2", "Excluded: work income"."""
    if line.exclusion_reason in REASON_NAMES:
        reason = words.text(REASON_NAMES[line.exclusion_reason])
        return words.text(t("Excluded: {reason}", reason=reason))
    return words.text(ASSIGNMENT_NAMES[line.assignment])


def _state(words: Words, app: m.Application, decision: m.AllocationLine | None) -> str:
    """Where an application stands in the list of applications: revoked or withdrawn, else
    its latest tranche's list (an excluded one with why), else not assessed yet. "Valid"
    had stood for all of the last three, an application excluded for its savings too."""
    if app.revoked_at is not None:
        return words.text(t("Revoked"))
    if app.withdrawn_at is not None:
        return words.text(t("Withdrawn"))
    if decision is None:
        return words.text(t("Not assessed yet"))
    return _assigned(words, decision)


def history(
    words: Words,
    app: m.Application,
    lines: Sequence[tuple[m.AllocationLine, m.Allocation]],
    entries: Sequence[m.ActivityEntry],
) -> list[dict[str, Any]]:
    """The application's history, newest first. The activity log names this protocol only
    for what was done to this application alone (a correction, a phone, a revocation): an
    import names its file, a determina or a credit its tranche. So the application's own
    records add when it was received, each tranche that decided on it and each credit."""
    # Oldest first while gathering; then newest first, what happened at the same moment
    # (a tranche approved and credited together) in reverse order of happening.
    items: list[dict[str, Any]] = [
        {
            "created_at": entry.created_at,
            "actor": words.actor(entry.actor, entry.action),
            "action": action_name(words, entry.action),
        }
        for entry in reversed(entries)
    ]
    received = t("Application received ({channel})", channel=words.name(CHANNEL_NAMES, app.source))
    items.append({"created_at": app.submitted_at, "actor": "", "action": words.text(received)})
    for line, allocation in lines:
        if line.assignment == "excluded":
            # The determina approved the tranche's allocation; this household is out of it.
            # "Approved: excluded" in one breath read to a clerk as a contradiction.
            reason = REASON_NAMES.get(line.exclusion_reason or "")
            if reason is None:
                decided = t(
                    "Tranche {tranche}'s allocation approved: this household is excluded from it",
                    tranche=str(allocation.tranche),
                )
            else:
                decided = t(
                    "Tranche {tranche}'s allocation approved: this household is excluded from "
                    "it because of {reason}",
                    tranche=str(allocation.tranche),
                    reason=words.text(reason),
                )
        else:
            decided = t(
                "Tranche {tranche} approved: {list}, {amount}",
                tranche=str(allocation.tranche),
                list=words.text(ASSIGNMENT_NAMES[line.assignment]),
                amount=Money(line.amount_cents),
            )
        items.append(
            {"created_at": allocation.approved_at, "actor": "", "action": words.text(decided)}
        )
        if allocation.withdrawn_at is not None:
            withdrawn = t("Tranche {tranche} withdrawn", tranche=str(allocation.tranche))
            items.append(
                {
                    "created_at": allocation.withdrawn_at,
                    "actor": allocation.withdrawn_by or "",
                    "action": words.text(withdrawn),
                }
            )
        if allocation.credited_at is not None and line.amount_cents > 0:
            credited = t(
                "Credited {amount} (tranche {tranche})",
                amount=Money(line.amount_cents),
                tranche=str(allocation.tranche),
            )
            items.append(
                {"created_at": allocation.credited_at, "actor": "", "action": words.text(credited)}
            )
    order = {id(item): index for index, item in enumerate(items)}
    return sorted(items, key=lambda item: (item["created_at"], order[id(item)]), reverse=True)


def _names_a_person(query: str) -> bool:
    """Whether a search reads as a codice fiscale or a phone number rather than a protocol."""
    if back_office.reads_as_protocol(query):
        return False
    # Whatever parts its groups ("RSSMRA-85T10-A739J").
    if looks_like_codice_fiscale(back_office.searched_person(query)):
        return True
    text = "".join(query.split())
    digits = text.removeprefix("+")
    return digits.isdigit() and (text.startswith("+") or len(digits) >= 9)


async def search(request: web.Request) -> web.Response:
    operator = operator_of(request)
    core = request.app[CORE]
    query = request.query.get("q", "")
    words = await words_for(request)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        found = await back_office.search_applications(uow, operator, query)
        decided = await uow.read.latest_decisions([app.id for app, _ in found])
    rows = [
        {
            "protocol": app.protocol,
            "codice_fiscale": personal.codice_fiscale(operator, citizen.codice_fiscale),
            "phone": personal.phone(operator, citizen.phone),
            "household_size": app.household_size,
            "submitted_at": app.submitted_at,
            "source": words.name(CHANNEL_NAMES, app.source),
            "state": _state(words, app, decided.get(app.id)),
        }
        for app, citizen in found
    ]
    return await render(
        request,
        "applications.html",
        {
            "town": town,
            "rows": rows,
            "q": query,
            "may_prepare": operator.role != Role.VIEWER.value,
            "may_search_people": operator.role != Role.VIEWER.value,
            # A viewer's search looks at protocols only (search_applications): a codice
            # fiscale or a phone typed in would find nothing, and the page says why.
            "person_not_searched": operator.role == Role.VIEWER.value and _names_a_person(query),
        },
    )


async def application_page(request: web.Request) -> web.Response:
    refused = await refused_here(request)
    if refused is None:
        return await application_form(request)
    return await application_form(request, *refused)


async def application_form(
    request: web.Request, typed: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    """The application's page; after a refused phone or delegate, that form (`typed["form"]`:
    "phone" or "delegate") with the number typed (`typed["phone"]`) and why beside it
    (`typed["problem"]`)."""
    operator = operator_of(request)
    core = request.app[CORE]
    protocol = request.match_info["protocol"]
    words = await words_for(request)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        app, citizen = await back_office.application_of(uow, operator, protocol)
        desk = await application_desk.desk(uow, app, citizen)
        waiting = [
            item
            for item in await phone_changes.waiting(uow, operator.municipality_id)
            if item.citizen.id == citizen.id
        ]
        card_ready = desk.card_request
        if card_ready is not None and card_ready.status != phone_changes.APPROVED:
            card_ready = None  # still waiting for its approval: in the table above
        # Approved but not printed by its deadline: never printed; a new card may be asked.
        card_expired = None
        if card_ready is not None and cards.print_expired(card_ready, core.now()):
            card_expired, card_ready = card_ready, None
        printers = (
            [
                account.username
                for account in [
                    await uow.operators.by_id(card_ready.requested_by_id or 0),
                    await uow.operators.by_id(card_ready.decided_by_id or 0),
                ]
                if account is not None
            ]
            if card_ready is not None
            else []
        )
        lines = await uow.allocations.lines_for_application(app.id)
        # What the citizen has left and spent, as their SALDO tells them: the desk's
        # commonest question ("quanto mi resta?"). The movements (shops, days) are not
        # shown to a viewer.
        balance = await ledger.citizen_balance(uow, operator.municipality_id, citizen.id)
        moves = (
            await movements.citizen_movements(
                uow, operator.municipality_id, citizen.id, MOVEMENTS_ON_PAGE
            )
            if operator.role != Role.VIEWER.value
            else []
        )
        entries = await activity.history_of(uow, operator.municipality_id, app.protocol)
        revocations = [
            act
            for act in await acts.open_acts(uow, operator.municipality_id, acts.ActKind.REVOCATION)
            if act.params.get("protocol") == protocol
        ]
        corrections = [
            act
            for act in await acts.open_acts(
                uow, operator.municipality_id, acts.ActKind.APPEAL_CORRECTION
            )
            if act.params.get("protocol") == protocol
        ]
        # The letter is offered once there is a decision to write (the route refuses it
        # before, as paperwork.decision_letter does).
        letter_ready = await paperwork.is_decided(uow, app)
        # Offered as the service would take it (audit.check_revocable): an application
        # given nothing that no tranche can pay says why instead of offering the button.
        try:
            await audit.check_revocable(uow, town, app.protocol)
            not_revocable: DomainError | None = None
        except DomainError as refused:
            not_revocable = refused
        try:
            await appeal_remedy.check_correctable(uow, town, app.protocol)
            not_correctable: DomainError | None = None
        except DomainError as refused:
            not_correctable = refused
        decision_notice = [
            (row, reply_of(uow.keys, row)) for row in (await uow.read.decision_notices(app.id))[:1]
        ]
        outbox = list(
            await uow.read.messages_to(
                operator.municipality_id,
                [a for a in (citizen.phone, citizen.telegram_chat_id) if a],
                limit=20,
            )
        )
    tranches = [
        {
            "tranche": allocation.tranche,
            "list": _assigned(words, line),
            # Stored as euro with a dot ("12.50"), for list 2 only.
            "score": words.text(
                t("{amount} per member", amount=Money(parse_plain(line.score_text)))
            )
            if line.score_text
            else words.text(t("none: only list 2 is ranked by score")),
            "amount": line.amount_cents,
            "credited": allocation.credited_at,
        }
        for line, allocation in lines
    ]
    context: dict[str, Any] = {
        "town": town,
        "app": app,
        "source": words.name(CHANNEL_NAMES, app.source),
        "codice_fiscale": personal.codice_fiscale(operator, citizen.codice_fiscale),
        "phone": personal.phone(operator, citizen.phone),
        "tranches": tranches,
        "balance": balance,
        "movements": [words.text(movement_text(move, town.timezone)) for move in moves],
        "entries": history(words, app, lines, entries),
        "revocation_waiting": revocations[0] if revocations else None,
        "letter_ready": letter_ready,
        # Revoked or withdrawn: the facts above say so, and there is no section.
        "revocation_section": not_revocable is None
        or isinstance(not_revocable, audit.NothingToRevoke),
        "why_not_revocable": words.text(describe(not_revocable))
        if isinstance(not_revocable, audit.NothingToRevoke)
        else "",
        # The remedy of an upheld appeal (core.services.appeal_remedy): its act, or its form.
        "appeal_upheld": not_correctable is None
        or not_correctable.code != Refusal.APPEAL_NOT_UPHELD,
        "why_not_correctable": words.text(describe(not_correctable))
        if not_correctable is not None
        else "",
        "correction_waiting": corrections[0] if corrections else None,
        "notices": [
            {
                "created_at": message.created_at,
                "channel": words.name(CHANNEL_NAMES, message.channel),
                "status": words.name(DELIVERY_NAMES, message.status),
            }
            for message in outbox
        ],
        "decision": {
            "notified_at": app.decision_notified_at,
            "notice": [
                {
                    "text": " ".join(words.text(text) for text in reply.texts),
                    "channel": words.name(CHANNEL_NAMES, row.channel),
                    "status": words.name(DELIVERY_NAMES, row.status),
                }
                for row, reply in decision_notice
            ],
        },
        "may_prepare": operator.role != Role.VIEWER.value,
        "desk": desk,
        "why_frozen": words.text(describe(desk.not_changeable_because))
        if desk.not_changeable_because is not None
        else "",
        "delegate_phone": personal.phone(operator, desk.delegate_phone),
        "card_code": personal.card(operator, desk.card_code),
        "phone_changes": phone_change_rows(operator, waiting),
        # An approved card waits to be printed, once, by who asked it or who approved it.
        "card_ready": card_ready,
        "card_expired": card_expired,
        "card_printers": printers,
        "may_print_card": card_ready is not None and phone_changes.may_print(operator, card_ready),
        "may_withdraw_card": card_ready is not None
        and (
            operator.role == Role.MANAGER.value
            or (operator.id == card_ready.requested_by_id and operator.role != Role.VIEWER.value)
        ),
        "euro": _euro_field,
        "typed": typed or {},
    }
    return await render(request, "application.html", context, status=status)


def _euro_field(cents: int) -> str:
    """An amount as the correction form shows it to be typed again: 1234,56."""
    return f"{cents // 100},{cents % 100:02d}"


def _where(words: Words, line: int, column: str) -> str:
    """The line, and the column by its name in the file (the names are the format's, the
    same in every language) with what it holds in the operator's language."""
    meaning = COLUMN_MEANINGS.get(column)
    if meaning is not None:
        return words.text(
            t(
                "line {line}, column {column} ({meaning})",
                line=str(line),
                column=column,
                meaning=words.text(meaning),
            )
        )
    if column:
        return words("line {line}, column {column}", line=str(line), column=column)
    return words("line {line}", line=str(line))


async def import_page(request: web.Request) -> web.Response:
    operator = operator_of(request)
    async with request.app[CORE].uow() as uow:
        town = await back_office.town_of(uow, operator)
    return await render(request, "import.html", {"town": town, "problems": []})


# The example row of the template: a fictitious person (the codice fiscale of the
# Agenzia delle Entrate's examples), to be replaced by the real rows before importing.
EXAMPLE_ROW = {
    "codice_fiscale": "RSSMRA85T10A562S",
    "phone": "+393331234567",
    "household_size": "3",
    "has_work_income": "false",
    "has_pension": "false",
    "liquidity_eur": "1200.50",
    "public_support_monthly_eur": "0",
    "rent_monthly_eur": "350.00",
}


async def import_template(request: web.Request) -> web.Response:
    """The paper import's CSV: its header and one example row, in the format the import
    reads (comma-separated, euro with a dot, ISO dates), dated now in the town's time."""
    operator = operator_of(request)
    core = request.app[CORE]
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
    now = core.now().astimezone(ZoneInfo(town.timezone)).replace(microsecond=0, tzinfo=None)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=APPLICATION_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(csv_record({**EXAMPLE_ROW, "submitted_at": now.isoformat()}))
    return web.Response(
        body=buffer.getvalue().encode("utf-8"),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="paper-applications-{town.code}.csv"',
        },
    )


async def import_file(request: web.Request) -> web.StreamResponse:
    operator = operator_of(request)
    core = request.app[CORE]
    form = await request.post()
    upload = form.get("file")
    words = await words_for(request)
    if not isinstance(upload, web.FileField):
        raise Conflict(Refusal.OFFICE_BAD_FILE)
    text = decode_csv(upload.file.read())
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
    if text is None:
        # Back on the form, saying how to save a file the import reads.
        unreadable = words.text(
            t(
                "{file} is not a CSV text file (a spreadsheet or a zip file?). In Excel: File, "
                'Save as, type "CSV UTF-8 (comma delimited)", then import that file.',
                file=upload.filename or "?",
            )
        )
        return await render(
            request, "import.html", {"town": town, "problems": [unreadable]}, status=400
        )
    parsed = parse_applications_csv(text)
    if parsed.errors:
        problems = [
            words(
                "{where}: {problem}",
                where=_where(words, e.line, e.column),
                problem=words.text(e.text),
            )
            for e in parsed.errors
        ]
        return await render(
            request, "import.html", {"town": town, "problems": problems}, status=400
        )
    rows = [(ApplicationInput.from_row(row), row.submitted_at) for row in parsed.rows]
    async with core.uow() as uow:
        try:
            created = await back_office.import_applications(
                uow, operator, rows, core.now(), upload.filename or ""
            )
        except ImportRefused as refused:
            problems = [
                words(
                    "{where}: {problem}",
                    where=_where(words, parsed.rows[problem.index].line, problem.column),
                    problem=words.text(describe(problem.error)),
                )
                for problem in refused.problems
            ]
            return await render(
                request, "import.html", {"town": town, "problems": problems}, status=409
            )
    await notify(
        request,
        tn(
            "Imported {count} application.",
            "Imported {count} applications.",
            created,
        ),
    )
    raise see_other(request, "applications")


# The desk's form: one paper application, its fields named as the file's columns.
YES_NO_COLUMNS = ("has_work_income", "has_pension")
# The form's random name (secrets.token_urlsafe): what the page gave, nothing else.
FORM_NAME = re.compile(r"[A-Za-z0-9_-]{16,64}")


async def enter_page(request: web.Request) -> web.Response:
    """The desk's form for one paper application, dated now (Rome time, as it is read)."""
    operator = operator_of(request)
    core = request.app[CORE]
    require_role(operator, *back_office.PREPARERS)
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
    values = dict.fromkeys(APPLICATION_COLUMNS, "")
    values["submitted_at"] = core.now().astimezone(ROME).strftime("%d/%m/%Y %H:%M")
    return await _enter_form(request, town, values, {}, secrets.token_urlsafe(16))


async def _enter_form(
    request: web.Request,
    town: m.Municipality,
    values: dict[str, str],
    problems: dict[str, list[str]],
    form_name: str,
    status: int = 200,
) -> web.Response:
    """The form with what was typed, each problem beside its field (the whole
    application's, column "", above the form)."""
    return await render(
        request,
        "enter.html",
        {"town": town, "values": values, "problems": problems, "form_name": form_name},
        status=status,
    )


async def enter_post(request: web.Request) -> web.StreamResponse:
    """One paper application typed at the desk: read by the file's rules for a row, then
    entered by the import's service (back_office.enter_application). Any problem: the
    form again, what was typed kept, nothing written."""
    operator = operator_of(request)
    core = request.app[CORE]
    require_role(operator, *back_office.PREPARERS)
    words = await words_for(request)
    form = await fields(request)
    values = {name: form.get(name, "") for name in APPLICATION_COLUMNS}
    form_name = form.get("form_name", "")
    if not FORM_NAME.fullmatch(form_name):
        form_name = secrets.token_urlsafe(16)
    problems: dict[str, list[str]] = defaultdict(list)
    parsed = parse_application_fields(values)
    for error in parsed.errors:
        # The form offers yes and no only: "also sì/no, vero/falso" is the file's.
        text = CHOOSE_YES_OR_NO if error.column in YES_NO_COLUMNS else error.text
        problems[error.column].append(words.text(text))
    async with core.uow() as uow:
        town = await back_office.town_of(uow, operator)
        if parsed.errors:
            return await _enter_form(request, town, values, problems, form_name, status=400)
        [row] = parsed.rows
        try:
            entered = await back_office.enter_application(
                uow,
                operator,
                ApplicationInput.from_row(row),
                row.submitted_at,
                core.now(),
                form_name,
            )
        except ImportRefused as refused:
            for problem in refused.problems:
                problems[problem.column].append(words.text(describe(problem.error)))
            return await _enter_form(request, town, values, problems, form_name, status=409)
        except DomainError as refused:
            problems[""].append(words.text(describe(refused)))
            return await _enter_form(
                request, town, values, problems, form_name, status=status_of(refused)
            )
    if entered.again:
        said = t(
            "This form had already entered application {protocol}: it was not entered again.",
            protocol=entered.protocol,
        )
    else:
        said = t("Paper application {protocol} entered.", protocol=entered.protocol)
    await notify(request, said)
    raise see_other(request, "application", protocol=entered.protocol)


CHOOSE_YES_OR_NO = t("choose yes or no")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/applications", search, name="applications")
    app.router.add_get("/applications/import", import_page, name="import_page")
    app.router.add_get("/applications/import/template.csv", import_template, name="import_template")
    app.router.add_post("/applications/import", import_file, name="import_post")
    app.router.add_get("/applications/new", enter_page, name="enter_page")
    app.router.add_post("/applications/new", enter_post, name="enter_post")
    app.router.add_get("/applications/{protocol}", application_page, name="application")
