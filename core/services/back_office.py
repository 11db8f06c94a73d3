"""What an operator does in the back-office that is not a four-eyes act: the application
window, paper applications, shop registrations. Each verb checks the operator's role and
writes its activity-log entry in the same transaction as the change.

Also the read side the office looks at: the dashboard's figures and application search,
always within the operator's own municipality.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.domain.errors import Conflict, InvalidIdentifier, NotAllowed, NotFound, Refusal
from core.domain.identity import normalize_codice_fiscale, normalize_phone
from core.domain.shops import MemberRole, ShopStatus
from core.services import (
    activity,
    applications,
    audit,
    charges,
    municipalities,
    security,
    shop_members,
    shops,
)
from core.services.applications import ApplicationInput
from core.services.operators import Role, require_role
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

PREPARERS = (Role.CLERK, Role.MANAGER)


async def town_of(uow: UnitOfWork, operator: m.Operator) -> m.Municipality:
    town = await uow.municipalities.by_id(operator.municipality_id)
    assert town is not None  # a foreign key
    return town


@dataclass(frozen=True)
class WindowDone:
    """The window the office opened or closed; `already`: the window the page named was
    so before this click (the second of a double click, an old tab), and nothing was
    written or logged this time."""

    round: m.Round
    already: bool


async def _window_held(uow: UnitOfWork, town: m.Municipality) -> m.Round | None:
    """The town's latest window, read under the town's row lock (as opening and closing
    take it): of a double click the second waits for the first's commit, then sees it."""
    await uow.fund.lock(town.id)
    latest = await uow.rounds.latest(town.id)
    if latest is not None:
        await uow.refresh(latest)
    return latest


async def open_window(
    uow: UnitOfWork,
    operator: m.Operator,
    now: datetime,
    days: int | None = None,
    *,
    confirmed: bool,
    expected_number: int,
) -> WindowDone:
    """Open a new window. From then on the office works on it (the determina, the credit,
    the imports) and the one before is history, so the operator must have confirmed it on
    the page that says so (municipalities.check_open_window): an unconfirmed request is
    refused and changes nothing, and so is one whose window (`expected_number`, the number
    that page showed) is no longer the next. That very window open already: `already`."""
    require_role(operator, *PREPARERS)
    if not confirmed:
        raise Conflict(Refusal.WINDOW_NOT_CONFIRMED, action="open")
    town = await town_of(uow, operator)
    latest = await _window_held(uow, town)
    if (
        latest is not None
        and latest.number == expected_number
        and latest.opens_at <= now < latest.closes_at
    ):
        return WindowDone(latest, already=True)
    round_ = await municipalities.open_window(uow, town, now, days, expected_number=expected_number)
    await activity.by_operator(
        uow,
        operator,
        "window.open",
        subject=f"{town.code} {round_.number}",
        after={"opens_at": round_.opens_at.isoformat(), "closes_at": round_.closes_at.isoformat()},
        now=now,
    )
    await uow.commit()
    return WindowDone(round_, already=False)


async def close_window(
    uow: UnitOfWork, operator: m.Operator, now: datetime, *, confirmed: bool, expected_number: int
) -> WindowDone:
    """Close the open window before its end. It cannot be reopened (only a new window can
    be opened), so the operator must have confirmed it knowing that: an unconfirmed request
    is refused and changes nothing, and so is one whose window (`expected_number`, the
    number the page showed) is no longer the open one. That very window closed already,
    and no other opened since: `already`."""
    require_role(operator, *PREPARERS)
    if not confirmed:
        raise Conflict(Refusal.WINDOW_NOT_CONFIRMED, action="close")
    town = await town_of(uow, operator)
    latest = await _window_held(uow, town)
    if latest is not None and latest.number == expected_number and latest.closes_at <= now:
        return WindowDone(latest, already=True)
    before = {"closes_at": latest.closes_at.isoformat()} if latest else None
    round_ = await municipalities.close_window(uow, town, now, expected_number=expected_number)
    await activity.by_operator(
        uow,
        operator,
        "window.close",
        subject=f"{town.code} {round_.number}",
        before=before,
        after={"closes_at": round_.closes_at.isoformat()},
        now=now,
    )
    await uow.commit()
    return WindowDone(round_, already=False)


async def import_applications(
    uow: UnitOfWork,
    operator: m.Operator,
    rows: Sequence[tuple[ApplicationInput, datetime]],
    now: datetime,
    file_name: str = "",
) -> int:
    """Paper applications, all or none (paper_applications.ImportRefused names every refused
    row). Returns how many were imported."""
    require_role(operator, *PREPARERS)
    town = await town_of(uow, operator)
    if await municipalities.current_round(uow, town.id) is None:
        raise NotFound(Refusal.ROUND_NONE)
    count = await applications.import_applications(uow, town, rows, now)
    await activity.by_operator(
        uow,
        operator,
        "applications.import",
        subject=file_name[:100],
        after={"count": count},
        now=now,
    )
    await uow.commit()
    return count


@dataclass(frozen=True)
class Entered:
    """The application a desk form entered; `again`: the same form had entered it before
    (a double click, a page sent again), and nothing was written this time."""

    protocol: str
    again: bool


async def enter_application(
    uow: UnitOfWork,
    operator: m.Operator,
    data: ApplicationInput,
    submitted_at: datetime,
    now: datetime,
    form: str,
) -> Entered:
    """One paper application typed at the desk: the import's rules and writing, for one row
    (applications.import_applications: paper_applications.ImportRefused names the refused
    columns and nothing is written), logged with its protocol and `form`, the random name
    the page gave the form it was typed on. The same form sent again (a double click, a
    page sent twice) enters nothing: it returns the application that form entered."""
    require_role(operator, *PREPARERS)
    town = await town_of(uow, operator)
    round_ = await municipalities.current_round(uow, town.id)
    if round_ is None:
        raise NotFound(Refusal.ROUND_NONE)
    # Held until the commit, as a determina's approval and a correction hold it: the same
    # form sent twice at once runs one after the other, and the second finds the first's
    # application here (on PostgreSQL; SQLite has one writer already).
    round_id = round_.id  # the import expires the objects it loaded
    await uow.rounds.lock(round_id)
    if form:
        entered = await _entered_with(uow, operator, round_id, data.codice_fiscale, form)
        if entered is not None:
            return Entered(entered, again=True)
    await applications.import_applications(uow, town, [(data, submitted_at)], now)
    citizen = await uow.citizens.by_codice_fiscale(
        operator.municipality_id, normalize_codice_fiscale(data.codice_fiscale)
    )
    assert citizen is not None  # written just now
    application = await uow.applications.for_citizen(round_id, citizen.id)
    assert application is not None
    await activity.by_operator(
        uow,
        operator,
        "application.enter",
        subject=application.protocol,
        after={"form": form},
        now=now,
    )
    await uow.commit()
    return Entered(application.protocol, again=False)


async def _entered_with(
    uow: UnitOfWork, operator: m.Operator, round_id: int, codice_fiscale: str, form: str
) -> str | None:
    """The protocol of this person's application in the window if this operator entered it
    with this form, else None."""
    try:
        code = normalize_codice_fiscale(codice_fiscale)
    except InvalidIdentifier:
        return None
    citizen = await uow.citizens.by_codice_fiscale(operator.municipality_id, code)
    if citizen is None:
        return None
    application = await uow.applications.for_citizen(round_id, citizen.id)
    if application is None:
        return None
    for entry in await uow.activity.about(operator.municipality_id, [application.protocol], 50):
        if (
            entry.action == "application.enter"
            and entry.operator_id == operator.id
            and (entry.after or {}).get("form") == form
        ):
            return application.protocol
    return None


async def approve_shop(
    uow: UnitOfWork, operator: m.Operator, shop_id: int, now: datetime
) -> m.Shop:
    require_role(operator, *PREPARERS)
    # Read under the row's lock: of a double click the second sees the first's decision.
    before = await uow.shops.locked(shop_id)
    status = before.status if before is not None else None
    shop = await shops.approve_shop(uow, operator.municipality_id, shop_id, now)
    if shop.status == status:
        return shop  # decided already (a double click): nothing changed, nothing logged
    await activity.by_operator(
        uow,
        operator,
        "shop.approve",
        subject=f"{shop.id} {shop.name}",
        before={"status": status},
        after={"status": shop.status},
        now=now,
    )
    await uow.commit()
    return shop


async def refuse_shop(
    uow: UnitOfWork, operator: m.Operator, shop_id: int, reason: str, now: datetime
) -> m.Shop:
    require_role(operator, *PREPARERS)
    # Read under the row's lock: of a double click the second sees the first's decision.
    before = await uow.shops.locked(shop_id)
    status = before.status if before is not None else None
    shop = await shops.refuse_shop(uow, operator.municipality_id, shop_id, reason, now)
    if shop.status == status:
        return shop  # decided already (a double click): nothing changed, nothing logged
    await activity.by_operator(
        uow,
        operator,
        "shop.refuse",
        subject=f"{shop.id} {shop.name}",
        before={"status": status},
        after={"status": shop.status, "reason": shop.refusal_reason},
        now=now,
    )
    await uow.commit()
    return shop


async def rename_shop(
    uow: UnitOfWork, operator: m.Operator, shop_id: int, name: str, now: datetime
) -> tuple[str, m.Shop]:
    """Correct a shop's name (`admin shops rename`), e.g. as on its bank account."""
    require_role(operator, *PREPARERS)
    renamed = await shops.rename_shop(
        uow,
        operator.municipality_id,
        shop_id,
        name,
        now,
        actor=operator.username,
        operator_id=operator.id,
    )
    await uow.commit()
    return renamed


@dataclass(frozen=True)
class Unlocked:
    """The shop the office unlocked; `already`: it could charge already (the second click of
    a double click, an old tab), and nothing was written or logged this time."""

    shop: m.Shop
    already: bool


async def unlock_shop(
    uow: UnitOfWork, operator: m.Operator, shop_id: int, now: datetime
) -> Unlocked:
    """Lift a shop's lock for wrong payment codes (as `admin shops unlock`), logged. A shop
    of the town that is not locked is not refused here, unlike the command line: the page's
    button sent twice lands where the first landed."""
    require_role(operator, *PREPARERS)
    # Read under the row's lock: of a double click the second waits, then finds it unlocked.
    before = await uow.shops.locked(shop_id)
    if (
        before is not None
        and before.municipality_id == operator.municipality_id
        and security.lock_of(before, now, 0) is None
    ):
        return Unlocked(before, already=True)
    shop = await charges.unlock_shop(uow, operator.municipality_id, shop_id, by=operator, now=now)
    await uow.commit()
    return Unlocked(shop, already=False)


@dataclass(frozen=True)
class Removable:
    """A cashier the office may remove, as the page that asks to confirm it names them."""

    shop: m.Shop
    member: m.ShopMember
    label: str


async def removable_member(
    uow: UnitOfWork,
    operator: m.Operator,
    shop_id: int,
    member_id: int,
    *,
    joined_at: datetime | None = None,
) -> Removable:
    """The cashier removing would remove, with the refusals removing would give (another
    town's shop, no such member, the owner, a member who joined at another moment than
    `joined_at`: see shop_members.remove_member), before the office asks to confirm it."""
    require_role(operator, *PREPARERS)
    shop = await uow.shops.by_id(shop_id)
    if shop is None or shop.municipality_id != operator.municipality_id:
        raise NotFound(Refusal.SHOP_NOT_FOUND, shop_id=shop_id)
    member = next((x for x in await uow.shops.members_of(shop.id) if x.id == member_id), None)
    if member is None or (joined_at is not None and member.created_at != joined_at):
        raise await shop_members.member_not_found(uow, shop, member_id)
    if member.role == MemberRole.OWNER.value:
        raise NotAllowed(Refusal.SHOP_OWNER_NOT_REMOVABLE)
    return Removable(shop, member, shop_members.member_label(member))


async def remove_shop_member(
    uow: UnitOfWork,
    operator: m.Operator,
    shop_id: int,
    member_id: int,
    now: datetime,
    *,
    confirmed: bool,
    joined_at: datetime | None = None,
) -> shop_members.Removed:
    """Remove a cashier from a shop (as `admin shops remove-member`), logged. It cannot be
    undone (the cashier joins again only with a new code), so the operator must have
    confirmed it on the page that says so: an unconfirmed request is refused and changes
    nothing. `joined_at`: when the member the page showed joined (the id alone may name a
    newer cashier on SQLite: shop_members.remove_member)."""
    require_role(operator, *PREPARERS)
    if not confirmed:
        raise Conflict(Refusal.OFFICE_NOT_CONFIRMED, action="remove")
    removed = await shop_members.remove_member(
        uow,
        operator.municipality_id,
        shop_id,
        member_id,
        by=operator,
        now=now,
        joined_at=joined_at,
    )
    await uow.commit()
    return removed


# --- what the office reads ----------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    round_number: int | None
    window_open: bool
    opens_at: datetime | None
    closes_at: datetime | None
    days_left: int | None  # whole days until the window closes (0 on its last day)
    applications: int
    by_state: dict[str, int]  # "1", "2", "excluded", "not_allocated", "revoked", "withdrawn"
    budget_cents: int  # approved budgets of the round's tranches not withdrawn
    allocated_cents: int  # what those tranches allocated
    credited_cents: int
    outbox_backlog: int
    shops_pending: int
    acts_waiting: int
    appeals_open: int = 0  # appeals waiting for a decision (a count: no personal data)
    withdrawn_tranches: int = 0  # how many tranches budget_cents leaves out

    @property
    def left_cents(self) -> int:
        """What the approved budget leaves that its tranches did not allocate (the page's
        "Left"): worked out here with the other figures, so the page only prints it."""
        return self.budget_cents - self.allocated_cents


@dataclass(frozen=True)
class WindowFigures:
    """What one window holds: its applications by state and its tranches' money."""

    applications: int
    by_state: dict[str, int]  # "1", "2", "excluded", "not_allocated", "revoked", "withdrawn"
    budget_cents: int  # the budgets of the tranches not withdrawn (one withdrawn gave it back)
    allocated_cents: int  # what those tranches allocated
    credited_cents: int
    withdrawn_tranches: int  # how many tranches the money leaves out


async def window_figures(uow: UnitOfWork, round_: m.Round | None) -> WindowFigures:
    """The figures of a window (all zero for none): the dashboard's, and what the page and
    the command that open a new window say the one before holds. A withdrawn tranche gave
    its budget back and paid nothing: its money is left out, as the round page's total
    leaves it out (tranches)."""
    by_state = {"1": 0, "2": 0, "excluded": 0, "not_allocated": 0, "revoked": 0, "withdrawn": 0}
    total = budget = allocated = credited = withdrawn = 0
    if round_ is not None:
        apps = await uow.applications.in_round(round_.id)
        total = len(apps)
        tranches = list(await uow.allocations.of_round(round_.id))
        standing = [tranche for tranche in tranches if tranche.withdrawn_at is None]
        withdrawn = len(tranches) - len(standing)
        budget = sum(tranche.budget_cents for tranche in standing)
        sums = await uow.allocations.standing_sums(round_.id)
        allocated, credited = sums.allocated_cents, sums.credited_cents
        # The latest tranche standing decides the lists: a withdrawn one assigned nobody.
        last = standing[-1] if standing else None
        assignments: dict[int, str] = {}
        if last is not None:
            for line in await uow.allocations.lines(last.id):
                assignments[line.application_id] = line.assignment
        for app in apps:
            if app.revoked_at is not None:
                by_state["revoked"] += 1
            elif app.withdrawn_at is not None:
                by_state["withdrawn"] += 1
            else:
                by_state[assignments.get(app.id, "not_allocated")] += 1
    return WindowFigures(
        applications=total,
        by_state=by_state,
        budget_cents=budget,
        allocated_cents=allocated,
        credited_cents=credited,
        withdrawn_tranches=withdrawn,
    )


async def _window_numbered(
    uow: UnitOfWork, town: m.Municipality, window: int | None
) -> m.Round | None:
    """Window number `window`, else the latest (None before the first); an unknown number
    is not found."""
    if window is None:
        return await municipalities.current_round(uow, town.id)
    round_ = await uow.rounds.by_number(town.id, window)
    if round_ is None:
        raise NotFound(Refusal.ROUND_NOT_FOUND, number=window)
    return round_


async def dashboard(
    uow: UnitOfWork, operator: m.Operator, now: datetime, window: int | None = None
) -> Dashboard:
    """The figures of window number `window` (default: the latest) and the work waiting in
    the municipality. An unknown window is not found."""
    town = await town_of(uow, operator)
    round_ = await _window_numbered(uow, town, window)
    figures = await window_figures(uow, round_)
    backlog = await uow.read.outbox_backlog(town.id)
    pending_shops = await uow.read.shops_with_status(town.id, ShopStatus.PENDING)
    waiting = await uow.read.acts_waiting(town.id)
    appeals_open = await uow.read.appeals_open(town.id)
    window_open = municipalities.is_open(round_, now)
    days_left = None
    if round_ is not None and window_open:
        days_left = max(0, (round_.closes_at - now).days)
    return Dashboard(
        round_number=round_.number if round_ else None,
        window_open=window_open,
        opens_at=round_.opens_at if round_ else None,
        closes_at=round_.closes_at if round_ else None,
        days_left=days_left,
        applications=figures.applications,
        by_state=figures.by_state,
        budget_cents=figures.budget_cents,
        allocated_cents=figures.allocated_cents,
        credited_cents=figures.credited_cents,
        outbox_backlog=backlog,
        shops_pending=pending_shops,
        acts_waiting=waiting,
        appeals_open=appeals_open,
        withdrawn_tranches=figures.withdrawn_tranches,
    )


# A whole protocol written without its leading zeros (protocol_number writes six digits),
# its parts parted by a dash, a space, a slash or a dot as it is noted down ("BEL 2026 7",
# "BEL/2026/7").
_SHORT_PROTOCOL = re.compile(
    r"(?P<code>[A-Z][A-Z0-9]*)[-\s/.]+(?P<year>\d{4})[-\s/.]+(?P<number>\d{1,6})"
)
# What parts the groups of a codice fiscale copied off a card or a letter: spaces, dashes,
# dots, slashes ("RSSMRA-85T10-A739J"). A codice fiscale has none of them.
_GROUPING = re.compile(r"[\s\-./]+")


def reads_as_protocol(query: str) -> bool:
    """Whether a search is a whole protocol, however its parts are parted."""
    return _SHORT_PROTOCOL.fullmatch(query.strip().upper()) is not None


def searched_person(query: str) -> str:
    """A search for a codice fiscale as it is compared: in capitals, without the marks that
    part its groups."""
    return _GROUPING.sub("", query.strip().upper())


async def search_applications(
    uow: UnitOfWork, operator: m.Operator, query: str, limit: int | None = 100
) -> list[tuple[m.Application, m.Citizen]]:
    """By protocol, codice fiscale or phone (whole or in part); empty: the newest.

    A viewer cannot search by codice fiscale or phone: that would reveal them one guess at
    a time."""
    text = query.strip().upper()
    # "BEL-2026-7", as a protocol is read out or noted down: the protocol BEL-2026-000007.
    if (short := _SHORT_PROTOCOL.fullmatch(text)) is not None:
        text = f"{short['code']}-{short['year']}-{int(short['number']):06d}"
    codice_fiscale = phone = phone_digits = None
    if text and operator.role != Role.VIEWER.value:
        # Copied off a health card in groups ("RSSMRA 85T10 A739J", "RSSMRA-85T10-A739J"):
        # a codice fiscale has no spaces, dashes, dots or slashes.
        codice_fiscale = searched_person(text)
        digits = "".join(ch for ch in text if ch.isdigit() or ch == "+")
        if len(digits) >= 3:
            try:
                phone = normalize_phone(digits)
            except InvalidIdentifier:  # not a whole number: match the digits typed
                phone_digits = digits
    return list(
        await uow.read.search_applications(
            operator.municipality_id,
            protocol=text,
            codice_fiscale=codice_fiscale,
            phone=phone,
            phone_digits=phone_digits,
            limit=limit,
        )
    )


async def application_of(
    uow: UnitOfWork, operator: m.Operator, protocol: str
) -> tuple[m.Application, m.Citizen]:
    """One application of the operator's municipality; another town's is not found."""
    application = await uow.applications.by_protocol(protocol)
    if application is None or application.municipality_id != operator.municipality_id:
        raise NotFound(Refusal.APPLICATION_NOT_FOUND, protocol=protocol)
    citizen = await uow.citizens.by_id(application.citizen_id)
    assert citizen is not None
    return application, citizen


# --- checks on declarations ----------------------------------------------------------------


class RedrawNeedsReason(Conflict):
    """The first draw of a window is the binding one: drawing again must say why."""

    code = "audit.redraw_needs_reason"


async def windows(uow: UnitOfWork, operator: m.Operator) -> list[m.Round]:
    """The municipality's application windows, the first one first."""
    return list(await uow.rounds.of_municipality(operator.municipality_id))


def window_choices(windows: Sequence[m.Round], now: datetime) -> list[tuple[int, bool]]:
    """The windows an office page lets the operator choose from (the dashboard, the round):
    each number and whether it is open now, the latest first."""
    return [(w.number, municipalities.is_open(w, now)) for w in reversed(windows)]


@dataclass(frozen=True)
class Tranches:
    """A window's tranches, the first first, withdrawn ones too, and their total."""

    window: m.Round | None
    rows: list[m.Allocation]
    budget_cents: int  # the budgets of the tranches not withdrawn (one withdrawn gave it back)
    withdrawn: int  # how many tranches budget_cents leaves out


async def tranches(uow: UnitOfWork, operator: m.Operator, window: int | None = None) -> Tranches:
    """Window number `window` (default: the latest; None before the first) and its
    tranches. An unknown window is not found."""
    round_ = await _window_numbered(uow, await town_of(uow, operator), window)
    if round_ is None:
        return Tranches(None, [], 0, 0)
    rows = list(await uow.allocations.of_round(round_.id))
    standing = [row for row in rows if row.withdrawn_at is None]
    return Tranches(
        window=round_,
        rows=rows,
        budget_cents=sum(row.budget_cents for row in standing),
        withdrawn=len(rows) - len(standing),
    )


async def samples(uow: UnitOfWork, round_: m.Round) -> list[m.AuditSample]:
    """The draws of a window, the binding (first) one first."""
    return list(await uow.audit_samples.of_round(round_.id))


async def draw_sample(
    uow: UnitOfWork,
    operator: m.Operator,
    window_typed: str,
    percent: str,
    seed_typed: str,
    now: datetime,
    reason: str = "",
    *,
    confirmed: bool,
) -> list[str]:
    """Draw the sample of declarations to check in the window numbered `window_typed`
    (closed), with the seed typed. The first draw of a window binds; a later one is
    recorded too, with its reason, but does not replace it. Neither can be undone, so the
    operator must have confirmed it on the page that says so: an unconfirmed request is
    refused (after what was typed is checked) and draws nothing. The role is checked before
    what was typed, so a viewer is told only that."""
    require_role(operator, *PREPARERS)
    # The draw is about a named window: never "the latest", which may be open meanwhile.
    if not (window_typed.isdigit() and len(window_typed) <= 9):
        raise Conflict(Refusal.AUDIT_NO_WINDOW)
    window = int(window_typed)
    try:
        seed = int(seed_typed)
    except ValueError as exc:
        raise audit.InvalidSampleRequest(seed=seed_typed) from exc
    town = await town_of(uow, operator)
    round_ = await audit.window_of(uow, town, window)
    earlier = await samples(uow, round_)
    why = " ".join(reason.split())
    if earlier and not why:
        raise RedrawNeedsReason()
    if not confirmed:
        await audit.checked_request(uow, town, percent, seed, now, window)
        raise Conflict(Refusal.OFFICE_NOT_CONFIRMED, action="draw")
    protocols = await audit.draw_sample(uow, town, percent, seed, now, window)
    await activity.by_operator(
        uow,
        operator,
        "audit.redraw" if earlier else "audit.draw",
        subject=f"seed {seed}",
        after={
            "window": window,
            "percent": percent,
            "seed": seed,
            "protocols": protocols,
            "reason": why or None,
        },
        now=now,
    )
    await uow.commit()
    return protocols
