"""Applications: submitted by chat, edited while the window is open, imported from paper."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from core.domain.application_csv import ApplicationRow
from core.domain.errors import Conflict, NotAllowed, NotFound, Refusal
from core.domain.identity import PhoneProof
from core.services.appeals import AppealWindow, appeal_window, decision_moment
from core.services.identity import claim_citizen
from core.services.municipalities import current_round, is_open
from core.services.paper_applications import ImportRefused, PaperRow, Progress, import_paper
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# Refusals of an import name every refused row (see core.services.paper_applications).
ImportRowError = ImportRefused

# Beyond these an answer is a typo, and could not even be stored (64-bit columns).
MAX_HOUSEHOLD_SIZE = 30
MAX_AMOUNT_CENTS = 10_000_000_00


@dataclass(frozen=True)
class ApplicationInput:
    """The answers a household gives, as the use cases take them (chat, paper, import).

    The service's shape: it carries what identifies the applicant (codice fiscale, phone,
    language) besides the household answers, and `validate` guards the rules a database
    column alone does not. `models.Application` is what is stored (with round, citizen,
    protocol and dates); `ApplicationFacts` and `ApplicationRow` are the domain's views for
    the allocation and the CSV file.
    """

    codice_fiscale: str
    phone: str | None
    household_size: int
    has_work_income: bool
    has_pension: bool
    liquidity_cents: int
    public_support_monthly_cents: int
    rent_monthly_cents: int
    language: str = "it"

    @classmethod
    def from_row(cls, row: ApplicationRow) -> ApplicationInput:
        """A paper application read from a CSV file (the CLI and the office's page)."""
        return cls(
            codice_fiscale=row.codice_fiscale,
            phone=row.phone or None,
            household_size=row.household_size,
            has_work_income=row.has_work_income,
            has_pension=row.has_pension,
            liquidity_cents=row.liquidity_cents,
            public_support_monthly_cents=row.public_support_monthly_cents,
            rent_monthly_cents=row.rent_monthly_cents,
        )

    def validate(self) -> None:
        if not 1 <= self.household_size <= MAX_HOUSEHOLD_SIZE:
            raise Conflict(
                Refusal.APPLICATION_BAD_HOUSEHOLD_SIZE,
                value=self.household_size,
                field="household_size",
            )
        for name in ("liquidity_cents", "public_support_monthly_cents", "rent_monthly_cents"):
            if getattr(self, name) < 0:
                raise Conflict(Refusal.APPLICATION_NEGATIVE_AMOUNT, field=name)
            if getattr(self, name) > MAX_AMOUNT_CENTS:
                raise Conflict(Refusal.APPLICATION_IMPLAUSIBLE_AMOUNT, field=name)


@dataclass(frozen=True)
class Answers:
    """The household's answers the office may correct (a paper application on its page,
    any application on an upheld appeal): the columns of the paper CSV but the codice
    fiscale and the date, which are the record's identity."""

    household_size: int
    has_work_income: bool
    has_pension: bool
    liquidity_cents: int
    public_support_monthly_cents: int
    rent_monthly_cents: int

    @classmethod
    def of(cls, application: m.Application) -> Answers:
        return cls(
            household_size=application.household_size,
            has_work_income=application.has_work_income,
            has_pension=application.has_pension,
            liquidity_cents=application.liquidity_cents,
            public_support_monthly_cents=application.public_support_monthly_cents,
            rent_monthly_cents=application.rent_monthly_cents,
        )

    def check(self, citizen: m.Citizen, application: m.Application, protocol: str) -> None:
        """Refuse answers that are not valid for this citizen, or that change nothing."""
        ApplicationInput(
            codice_fiscale=citizen.codice_fiscale, phone=citizen.phone, **asdict(self)
        ).validate()
        if self == Answers.of(application):
            raise Conflict(Refusal.APPLICATION_UNCHANGED, protocol=protocol)

    def write_to(self, application: m.Application) -> tuple[dict[str, object], dict[str, object]]:
        """Set these answers on the application; the fields that changed, before and after,
        for the activity log."""
        before, after = asdict(Answers.of(application)), asdict(self)
        changed = [name for name, value in after.items() if before[name] != value]
        for name in changed:
            setattr(application, name, after[name])
        return {name: before[name] for name in changed}, {name: after[name] for name in changed}


async def new_protocol(uow: UnitOfWork, municipality: m.Municipality, year: int) -> str:
    """The next protocol number of the municipality: CODE-YEAR-NNNNNN with the whole code,
    so MAC1 and MAC2 never share one (codes are unique, letters and digits only).

    Older versions used the first three letters of the code: numbers such a protocol
    already holds are skipped, so old protocols keep their value and nothing collides."""
    while True:
        number = await uow.municipalities.next_number(municipality.id, f"protocol-{year}")
        protocol = protocol_number(municipality, year, number)
        if await uow.applications.by_protocol(protocol) is None:
            return protocol


async def submit_application(
    uow: UnitOfWork,
    municipality: m.Municipality,
    data: ApplicationInput,
    *,
    source: str,
    now: datetime,
    submitted_at: datetime | None = None,
    require_open_window: bool = True,
    proof: PhoneProof = PhoneProof.OFFICE,
    telegram_user: str | None = None,
) -> m.Application:
    """Create the household's application in the current round; one per household and round.

    `proof` says how `data.phone` was proven (a paper application: by the office); the
    identity rules decide whether this phone may apply under this codice fiscale
    (core.services.identity: IdentityRefused otherwise)."""
    data.validate()
    round_ = await current_round(uow, municipality.id)
    if round_ is None or (require_open_window and not is_open(round_, now)):
        raise NotAllowed(Refusal.APPLICATION_WINDOW_CLOSED)
    citizen, _ = await claim_citizen(
        uow,
        municipality.id,
        data.codice_fiscale,
        phone=data.phone,
        proof=proof,
        now=now,
        telegram_user=telegram_user,
        language=data.language,
        channel=None if proof is PhoneProof.OFFICE else source,
    )
    if await uow.applications.for_citizen(round_.id, citizen.id) is not None:
        raise Conflict(Refusal.APPLICATION_ALREADY_APPLIED, codice_fiscale=citizen.codice_fiscale)
    protocol = await new_protocol(uow, municipality, (submitted_at or now).year)
    application = m.Application(
        municipality_id=municipality.id,
        round_id=round_.id,
        citizen_id=citizen.id,
        protocol=protocol,
        household_size=data.household_size,
        has_work_income=data.has_work_income,
        has_pension=data.has_pension,
        liquidity_cents=data.liquidity_cents,
        public_support_monthly_cents=data.public_support_monthly_cents,
        rent_monthly_cents=data.rent_monthly_cents,
        source=source,
        submitted_at=submitted_at or now,
        updated_at=now,
        recover_cents=0,
    )
    uow.add(application)
    await uow.flush()
    return application


async def edit_application(
    uow: UnitOfWork,
    municipality: m.Municipality,
    protocol: str,
    data: ApplicationInput,
    now: datetime,
) -> m.Application:
    """Change the answers of an application while its window is still open."""
    data.validate()
    application = await uow.applications.by_protocol(protocol)
    if application is None or application.municipality_id != municipality.id:
        raise NotFound(Refusal.APPLICATION_NOT_FOUND, protocol=protocol)
    round_ = await uow.rounds.by_id(application.round_id)
    if not is_open(round_, now):
        raise NotAllowed(Refusal.APPLICATION_WINDOW_CLOSED)
    if application.withdrawn_at is not None:
        raise Conflict(Refusal.APPLICATION_WITHDRAWN, protocol=protocol)
    application.household_size = data.household_size
    application.has_work_income = data.has_work_income
    application.has_pension = data.has_pension
    application.liquidity_cents = data.liquidity_cents
    application.public_support_monthly_cents = data.public_support_monthly_cents
    application.rent_monthly_cents = data.rent_monthly_cents
    application.updated_at = now
    return application


def protocol_number(municipality: m.Municipality, year: int, number: int) -> str:
    """CODE-YEAR-NNNNNN with the whole code: MAC1 and MAC2 never share a protocol."""
    return f"{municipality.code.upper()}-{year}-{number:06d}"


async def import_applications(
    uow: UnitOfWork,
    municipality: m.Municipality,
    rows: Sequence[tuple[ApplicationInput, datetime]],
    now: datetime,
    progress: Progress | None = None,
) -> int:
    """Paper applications: all rows or none (the caller commits only if this returns).

    Raises ImportRefused naming every refused row and column; returns how many were
    imported. The rules are those of one application (core.services.paper_applications)."""
    paper = [
        PaperRow(
            codice_fiscale=data.codice_fiscale,
            phone=data.phone,
            household_size=data.household_size,
            has_work_income=data.has_work_income,
            has_pension=data.has_pension,
            liquidity_cents=data.liquidity_cents,
            public_support_monthly_cents=data.public_support_monthly_cents,
            rent_monthly_cents=data.rent_monthly_cents,
            submitted_at=submitted_at,
        )
        for data, submitted_at in rows
    ]
    return await import_paper(
        uow,
        municipality,
        paper,
        now,
        protocol=protocol_number,
        validate=_validate_paper,
        progress=progress,
    )


def _validate_paper(row: PaperRow) -> None:
    ApplicationInput(
        codice_fiscale=row.codice_fiscale,
        phone=row.phone,
        household_size=row.household_size,
        has_work_income=row.has_work_income,
        has_pension=row.has_pension,
        liquidity_cents=row.liquidity_cents,
        public_support_monthly_cents=row.public_support_monthly_cents,
        rent_monthly_cents=row.rent_monthly_cents,
    ).validate()


@dataclass(frozen=True)
class ApplicationStatus:
    protocol: str
    submitted_at: datetime
    assignment: str | None  # "1", "2", "excluded" once an allocation is approved
    exclusion_reason: str | None
    amount_cents: int  # total approved over all tranches
    credited_cents: int  # of which already credited
    revoked: bool
    window_open: bool
    withdrawn_at: datetime | None = None  # withdrawn by the office (a paper application)
    # Whether the decision may be, or is being, appealed.
    appeal: AppealWindow = field(default_factory=AppealWindow)
    # Set when `appeal` is about the application before this one: this one waits for its
    # decision, and the one before may still be appealed (or is being).
    appeal_protocol: str | None = None


async def status_of(uow: UnitOfWork, citizen: m.Citizen, now: datetime) -> ApplicationStatus | None:
    application = await uow.applications.latest_for_citizen(citizen.id)
    if application is None:
        return None
    town = await uow.municipalities.by_id(application.municipality_id)
    assert town is not None  # foreign key
    appeal = await appeal_window(uow, town, application, now)
    appeal_protocol = None
    if appeal == AppealWindow() and await decision_moment(uow, application) is None:
        earlier = [
            a
            for a in await uow.applications.of_citizen(citizen.id)
            if a.municipality_id == town.id and a.id != application.id
        ]
        if earlier:
            window = await appeal_window(uow, town, earlier[-1], now)
            if window != AppealWindow():
                appeal, appeal_protocol = window, earlier[-1].protocol
    lines = [
        (line, alloc)
        for line, alloc in await uow.allocations.lines_for_application(application.id)
        if alloc.withdrawn_at is None  # a withdrawn determina never gave anything
    ]
    round_ = await uow.rounds.by_id(application.round_id)
    last = lines[-1][0] if lines else None
    return ApplicationStatus(
        protocol=application.protocol,
        submitted_at=application.submitted_at,
        assignment=last.assignment if last else None,
        exclusion_reason=last.exclusion_reason if last else None,
        amount_cents=sum(line.amount_cents for line, _ in lines),
        credited_cents=sum(line.amount_cents for line, alloc in lines if alloc.credited_at),
        revoked=application.revoked_at is not None,
        window_open=is_open(round_, now),
        withdrawn_at=application.withdrawn_at,
        appeal=appeal,
        appeal_protocol=appeal_protocol,
    )


async def in_current_round(
    uow: UnitOfWork, municipality_id: int, citizen_id: int
) -> m.Application | None:
    """The household's application in the municipality's current round, if it made one."""
    round_ = await current_round(uow, municipality_id)
    if round_ is None:
        return None
    return await uow.applications.for_citizen(round_.id, citizen_id)


async def answers_of(uow: UnitOfWork, protocol: str) -> ApplicationInput:
    """The answers of an application as they stand, to be changed (see edit_application)."""
    application = await uow.applications.by_protocol(protocol)
    if application is None:
        raise NotFound(Refusal.APPLICATION_NOT_FOUND, protocol=protocol)
    citizen = await uow.citizens.by_id(application.citizen_id)
    assert citizen is not None  # an application always belongs to a citizen (foreign key)
    return ApplicationInput(
        codice_fiscale=citizen.codice_fiscale,
        phone=citizen.phone,
        language=citizen.language,
        **asdict(Answers.of(application)),
    )
