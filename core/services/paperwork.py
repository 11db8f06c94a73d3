"""What the office's documents say, gathered from the database (the PDFs are drawn by
core.documents.paperwork): the determina's attachment, decision letters, receipts of paper
applications, shop statements. Every function stays within one municipality."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.domain.errors import Conflict, NotFound, Refusal
from core.domain.policy import Policy
from core.services import shops
from core.services.appeals import decision_moment
from core.services.municipalities import current_round, policy_of
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


@dataclass(frozen=True)
class DeterminaLine:
    protocol: str
    household_size: int
    assignment: str  # "1", "2", "excluded"
    score_text: str
    exclusion_reason: str | None
    amount_cents: int


@dataclass(frozen=True)
class Determina:
    town: str
    code: str
    round_number: int
    tranche: int
    budget_cents: int
    approved_at: datetime
    policy: Policy
    lines: list[DeterminaLine]  # by protocol

    @property
    def allocated_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


async def _tranche(
    uow: UnitOfWork, town: m.Municipality, tranche: int, window: int | None = None
) -> tuple[m.Round, m.Allocation]:
    """A tranche of the window numbered `window`, else of the current one."""
    if window is None:
        round_ = await current_round(uow, town.id)
        if round_ is None:
            raise NotFound(Refusal.ROUND_NONE)
    else:
        found = await uow.rounds.by_number(town.id, window)
        if found is None:
            raise NotFound(Refusal.ROUND_NOT_FOUND, number=window)
        round_ = found
    allocation = await uow.allocations.by_tranche(round_.id, tranche)
    if allocation is None:
        # Not "no approved tranche waits": the office asked for one that never was.
        raise NotFound(Refusal.ALLOCATION_TRANCHE_NOT_FOUND, tranche=tranche, window=round_.number)
    return round_, allocation


async def determina(
    uow: UnitOfWork, town: m.Municipality, tranche: int, window: int | None = None
) -> Determina:
    """The attachment to the determina of a tranche of the window numbered `window` (else
    the current one): protocols only, never a name or a codice fiscale."""
    round_, allocation = await _tranche(uow, town, tranche, window)
    rows = await uow.read.determina_lines(allocation.id)
    return Determina(
        town=town.name,
        code=town.code,
        round_number=round_.number,
        tranche=allocation.tranche,
        budget_cents=allocation.budget_cents,
        approved_at=allocation.approved_at,
        policy=policy_of(town),
        lines=[
            DeterminaLine(
                protocol=application.protocol,
                household_size=application.household_size,
                assignment=line.assignment,
                score_text=line.score_text,
                exclusion_reason=line.exclusion_reason,
                amount_cents=line.amount_cents,
            )
            for line, application in rows
        ],
    )


async def allocation_rows(
    uow: UnitOfWork, town: m.Municipality, tranche: int, window: int | None = None
) -> list[tuple[m.AllocationLine, m.Application, m.Citizen]]:
    """The allocation of a tranche with the applicants (the office's own export), of the
    window numbered `window` (else the current one)."""
    _, allocation = await _tranche(uow, town, tranche, window)
    return list(await uow.read.allocation_with_applicants(allocation.id))


@dataclass(frozen=True)
class Decision:
    """What was decided on one application, for its letter."""

    town: str
    protocol: str
    submitted_at: datetime
    source: str
    household_size: int
    assignment: str | None  # None: not allocated yet
    exclusion_reason: str | None
    amount_cents: int  # over every tranche
    revoked_at: datetime | None
    recover_cents: int
    withdrawn_at: datetime | None = None  # a paper application withdrawn by the office
    withdrawal_reason: str | None = None
    appeal_days: int = 30  # the municipality's policy.appeal_days, for "how to appeal"


class NotDecided(Conflict):
    """Nothing was decided on the application yet: its letter would print an outcome (and
    a time to appeal) that nobody decided."""

    code = Refusal.APPLICATION_NOT_DECIDED


async def is_decided(uow: UnitOfWork, application: m.Application) -> bool:
    """Whether there is a decision to write a letter about: the credit of a tranche that
    decided on the application, its revocation or the undoing of one (the moment its time
    to appeal runs from, appeals.decision_moment), or its withdrawal by the office. A tranche
    approved and not credited yet has told the applicant nothing: its credit does."""
    if application.withdrawn_at is not None:
        return True
    return await decision_moment(uow, application) is not None


async def _decision(uow: UnitOfWork, town: m.Municipality, application: m.Application) -> Decision:
    # Only the tranches credited (and so not withdrawn): one approved and not credited yet
    # has not decided anything the applicant was told, a withdrawn one never will.
    lines = [
        (line, tranche)
        for line, tranche in await uow.allocations.lines_for_application(application.id)
        if tranche.credited_at is not None and tranche.withdrawn_at is None
    ]
    last = lines[-1][0] if lines else None
    return Decision(
        town=town.name,
        protocol=application.protocol,
        submitted_at=application.submitted_at,
        source=application.source,
        household_size=application.household_size,
        assignment=last.assignment if last else None,
        exclusion_reason=last.exclusion_reason if last else None,
        amount_cents=sum(line.amount_cents for line, _ in lines),
        revoked_at=application.revoked_at,
        recover_cents=application.recover_cents,
        withdrawn_at=application.withdrawn_at,
        withdrawal_reason=application.withdrawal_reason,
        appeal_days=policy_of(town).appeal_days,
    )


async def application_in(uow: UnitOfWork, town: m.Municipality, protocol: str) -> m.Application:
    application = await uow.applications.by_protocol(protocol)
    if application is None or application.municipality_id != town.id:
        raise NotFound(Refusal.APPLICATION_NOT_FOUND, protocol=protocol)
    return application


async def decision(uow: UnitOfWork, town: m.Municipality, protocol: str) -> Decision:
    """The application as its receipt tells it, decided or not."""
    return await _decision(uow, town, await application_in(uow, town, protocol))


async def decision_letter(uow: UnitOfWork, town: m.Municipality, protocol: str) -> Decision:
    """What its decision letter says; refused before anything was decided."""
    application = await application_in(uow, town, protocol)
    if not await is_decided(uow, application):
        raise NotDecided(protocol=application.protocol)
    return await _decision(uow, town, application)


@dataclass(frozen=True)
class PaperLetters:
    """The letters to post for one window: its number names it on every letter."""

    town: str
    round_number: int
    decisions: list[Decision]
    undecided: int = 0  # paper applications of the window with nothing decided yet: no letter


async def _window(uow: UnitOfWork, town: m.Municipality, window: int | None) -> m.Round:
    """A window by its number, or the latest."""
    if window is None:
        round_ = await current_round(uow, town.id)
        if round_ is None:
            raise NotFound(Refusal.ROUND_NONE)
        return round_
    round_ = await uow.rounds.by_number(town.id, window)
    if round_ is None:
        raise NotFound(Refusal.ROUND_NOT_FOUND, number=window)
    return round_


async def paper_decisions(
    uow: UnitOfWork, town: m.Municipality, window: int | None = None
) -> PaperLetters:
    """One decision per paper application of a window (default: the latest) decided so far,
    to post."""
    round_ = await _window(uow, town, window)
    on_paper = [a for a in await uow.applications.in_round(round_.id) if a.source == "paper"]
    decided = [a for a in on_paper if await is_decided(uow, a)]
    return PaperLetters(
        town=town.name,
        round_number=round_.number,
        decisions=[await _decision(uow, town, application) for application in decided],
        undecided=len(on_paper) - len(decided),
    )


async def paper_windows(uow: UnitOfWork, town: m.Municipality) -> list[tuple[int, int]]:
    """Every window, the latest first, with how many applications came on paper in it."""
    return [
        (
            round_.number,
            sum(1 for a in await uow.applications.in_round(round_.id) if a.source == "paper"),
        )
        for round_ in reversed(await uow.rounds.of_municipality(town.id))
    ]


@dataclass(frozen=True)
class ShopStatement:
    town: str
    shop: str
    vat_number: str
    iban: str
    since: datetime
    until: datetime
    statement: shops.Statement
    payments: list[tuple[datetime, int, str]]  # when, cents, status


async def shop_statement(
    uow: UnitOfWork, town: m.Municipality, shop_id: int, since: datetime, until: datetime
) -> ShopStatement:
    shop = await uow.shops.by_id(shop_id)
    if shop is None or shop.municipality_id != town.id:
        raise NotFound(Refusal.SHOP_NOT_FOUND, shop_id=shop_id)
    charges = await uow.charges.of_shop(shop.id, since, until)
    return ShopStatement(
        town=town.name,
        shop=shop.name,
        vat_number=shop.vat_number,
        iban=shop.iban,
        since=since,
        until=until,
        statement=await shops.statement(uow, shop, since, until),
        payments=[
            (charge.confirmed_at or charge.created_at, charge.amount_cents, charge.status)
            for charge in charges
            if charge.status in ("confirmed", "refunded")
        ],
    )


async def tranches_by_window(
    uow: UnitOfWork, town: m.Municipality
) -> list[tuple[int, list[m.Allocation]]]:
    """Every window, the latest first, with its approved tranches, first to last: an
    earlier window's determina stays at hand once another window is open."""
    return [
        (round_.number, list(await uow.allocations.of_round(round_.id)))
        for round_ in reversed(await uow.rounds.of_municipality(town.id))
    ]


# The days a shop's statement may cover: any the service can have seen, with room to spare.
STATEMENT_DAYS = (date(2000, 1, 1), date(2099, 12, 31))


def statement_period(
    town: m.Municipality, now: datetime, first: date | None, last: date | None
) -> tuple[datetime, datetime]:
    """[first day 00:00, the day after the last 00:00) in the town's time; by default from
    the first of this month to today."""
    zone = ZoneInfo(town.timezone)
    today = now.astimezone(zone).date()
    for day in (first, last):
        # 9999-12-31 has no day after it, and 0001-01-01 no moment before it in UTC.
        if day is not None and not STATEMENT_DAYS[0] <= day <= STATEMENT_DAYS[1]:
            raise Conflict(
                Refusal.OFFICE_DAY_OUT_OF_RANGE,
                first=STATEMENT_DAYS[0].isoformat(),
                last=STATEMENT_DAYS[1].isoformat(),
            )
    return (
        datetime.combine(first or today.replace(day=1), time(), zone),
        datetime.combine((last or today) + timedelta(days=1), time(), zone),
    )
