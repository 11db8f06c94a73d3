"""Paper applications imported in bulk: every row checked against the same rules as one
application submitted in a chat, then all written with a few statements, or none.

The rules checked for each row, each refusal naming its row and column:
- the application is dated inside the round's window, and not in the future;
- the answers are plausible (ApplicationInput.validate);
- the codice fiscale has not applied in this round, and appears once in the import;
- the phone the office proved on paper may be bound to this codice fiscale
  (core.services.identity.decide_claim: a phone of another household is refused, as is a
  codice fiscale already bound to another phone), appears once in the import, and
  receives SMS (no landline, no municipality's own SMS number: the payment codes go
  there);
- no number is given to a known citizen while a new phone the office asked for them waits
  for a second operator (core.services.phone_changes): the change decides the number; nor
  a number a waiting request names (a new phone or a delegate: asked_numbers);
- no first number is given to a known citizen with money to spend
  (identity.money_at_stake, the rule of identity.rebind_phone): one operator alone would
  choose who receives the payment codes; a second operator approves a change instead;
- no tranche of the round has been approved yet: the list the determina froze must not
  change behind it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stdnum.it import codicefiscale

from core.domain.errors import Conflict, DomainError, InvalidIdentifier, NotAllowed, Refusal
from core.domain.identity import (
    PhoneProof,
    mask_phone,
    normalize_codice_fiscale,
    normalize_phone,
    require_sms_phone,
)
from core.services.asked_numbers import asked_refusal
from core.services.identity import IdentityRefused, decide_claim, money_at_stake, new_card_code
from core.services.municipalities import current_round
from core.services.unit_of_work import PaperImportRepository, UnitOfWork
from core.storage import models as m

# How often the caller hears about progress while writing (rows).
PROGRESS_STEP = 1000


@dataclass(frozen=True)
class RowProblem:
    index: int  # 0-based position in the rows given
    column: str  # the CSV column the problem is in ("" for the whole row)
    error: DomainError


class ImportRefused(DomainError):
    """Rows the rules refuse; nothing was written. `problems` in row order."""

    code = Refusal.APPLICATION_IMPORT_REFUSED

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(count=len(problems))
        self.problems = list(problems)

    @property
    def index(self) -> int:
        """The first refused row."""
        return self.problems[0].index

    @property
    def cause(self) -> DomainError:
        return self.problems[0].error


@dataclass(frozen=True)
class PaperRow:
    """One paper application, as the import service takes it."""

    codice_fiscale: str
    phone: str | None
    household_size: int
    has_work_income: bool
    has_pension: bool
    liquidity_cents: int
    public_support_monthly_cents: int
    rent_monthly_cents: int
    submitted_at: datetime


Progress = Callable[[int, int], None]  # (rows done, rows in all)


def _opened_by(round_: m.Round, submitted_at: datetime) -> bool:
    """Whether the window was open when the paper was handed in. A time written to the
    minute (no seconds, as paper is stamped: "10:00") is a whole minute: a paper of the
    minute the window opened in (at 10:00:37, when the office pressed the button) is in it,
    since nobody can tell it came before."""
    opens = round_.opens_at
    if submitted_at.second == 0 and submitted_at.microsecond == 0:
        opens = opens.replace(second=0, microsecond=0)
    return opens <= submitted_at


async def import_paper(
    uow: UnitOfWork,
    municipality: m.Municipality,
    rows: Sequence[PaperRow],
    now: datetime,
    *,
    protocol: Callable[[m.Municipality, int, int], str],
    validate: Callable[[PaperRow], None],
    progress: Progress | None = None,
) -> int:
    """Import all rows or none (the caller commits only if this returns). Returns how many.

    `protocol(municipality, year, number)` numbers applications like a chat application;
    `validate` checks one row's answers like a chat application (raises DomainError)."""
    round_ = await current_round(uow, municipality.id)
    if round_ is None:
        raise NotAllowed(Refusal.ROUND_NONE)
    # The window's row held until the commit, before anything is read: two imports naming
    # the same person at once (a file sent twice, the desk's form and a file) run one after
    # the other, and the second is refused as already applied instead of failing on the
    # unique application (on PostgreSQL; SQLite has one writer already).
    await uow.rounds.lock(round_.id)
    store = uow.paper_import
    if await store.has_allocation(round_.id):
        raise NotAllowed(Refusal.APPLICATION_IMPORT_AFTER_APPROVAL, round=round_.number)

    problems: list[RowProblem] = []
    codes: list[str | None] = []
    phones: list[str | None] = []
    for index, row in enumerate(rows):
        codes.append(_checked(index, "codice_fiscale", _codice_fiscale, row, problems))
        phones.append(_checked(index, "phone", _phone, row, problems) if row.phone else None)
        try:
            validate(row)
        except DomainError as error:
            problems.append(RowProblem(index, _column_of(error), error))
        if row.submitted_at > now:
            future = Conflict(
                Refusal.APPLICATION_DATED_IN_FUTURE, submitted_at=row.submitted_at.isoformat()
            )
            problems.append(RowProblem(index, "submitted_at", future))
        elif not _opened_by(round_, row.submitted_at) or row.submitted_at > round_.closes_at:
            outside = Conflict(
                Refusal.APPLICATION_OUTSIDE_WINDOW,
                submitted_at=row.submitted_at.isoformat(),
                opens_at=round_.opens_at.isoformat(),
                closes_at=round_.closes_at.isoformat(),
            )
            problems.append(RowProblem(index, "submitted_at", outside))
    _repeated(codes, "codice_fiscale", "application.repeated_codice_fiscale", problems)
    _repeated(phones, "phone", "application.repeated_phone", problems)

    known_codes = await store.citizens_by_codice_fiscale(
        municipality.id, sorted({code for code in codes if code})
    )
    # The known citizens a row would give another number: held until the commit, as the
    # office's request for a new phone holds its citizen (phone_changes.request), then
    # read again. A change asked at this moment is then seen below, or waits for this
    # import and finds the number it bound.
    renumbered = sorted(
        {
            known_codes[code].id
            for code, phone in zip(codes, phones, strict=True)
            if code in known_codes and phone is not None and known_codes[code].phone != phone
        }
    )
    await store.lock_citizens(renumbered)
    changes = await store.phone_changes_waiting(renumbered)
    # Read after the lock, as rebind_phone reads it after holding its citizen. Only the
    # known citizens without a phone a row would give one: a handful in a large import.
    first_numbers = [
        known_codes[code]
        for code, phone in zip(codes, phones, strict=True)
        if code in known_codes and phone is not None and known_codes[code].phone is None
    ]
    at_stake = {citizen.id for citizen in first_numbers if await money_at_stake(uow, citizen, now)}
    holders = await store.citizens_by_phone(
        municipality.id, sorted({phone for phone in phones if phone})
    )
    of_shops = await store.shop_phones(
        municipality.id, sorted({phone for phone in phones if phone})
    )
    # A waiting request is the one claim on its number until it is decided (asked_numbers).
    # The numbers are not held here, as the office's one-at-a-time callers hold theirs
    # (an import binds thousands; PostgreSQL keeps every advisory lock until the commit).
    asked = await store.asked_phones(municipality.id, sorted({phone for phone in phones if phone}))
    applied = await store.applied_in_round(
        round_.id, sorted(citizen.id for citizen in known_codes.values())
    )
    # A known person's own delegate's number is never their own phone too (one phone speaks
    # for one person; the database refuses it, migration 0042_citizen_not_own_delegate).
    delegated = await store.delegates_of(sorted(citizen.id for citizen in known_codes.values()))
    town_numbers = {town.sms_number for town in await uow.municipalities.all() if town.sms_number}
    for index, (code, phone) in enumerate(zip(codes, phones, strict=True)):
        if code is None:
            continue
        if phone is not None and phone in town_numbers:
            own = Conflict(Refusal.PHONE_TOWN_NUMBER, phone=mask_phone(phone))
            problems.append(RowProblem(index, "phone", own))
            continue
        if phone is not None and phone in of_shops:
            shop = Conflict(Refusal.IDENTITY_PHONE_IS_SHOP, phone=mask_phone(phone))
            problems.append(RowProblem(index, "phone", shop))
            continue
        existing = known_codes.get(code)
        change = changes.get(existing.id) if existing is not None else None
        if change is not None and existing is not None and phone != existing.phone:
            # While a change waits no other number is bound (the asked one neither: that
            # would skip its second operator); without a phone the paper goes in.
            waits = Conflict(
                Refusal.APPLICATION_PHONE_CHANGE_WAITING,
                change_id=change.id,
                phone=change.phone_masked or "",
            )
            problems.append(RowProblem(index, "phone", waits))
            continue
        claimed = asked.get(phone) if phone is not None else None
        if claimed is not None and (existing is None or existing.phone != phone):
            # As the office's one-at-a-time callers are refused (asked_numbers.refuse_asked).
            known_id = existing.id if existing is not None else None
            refusal = asked_refusal(claimed, known_id, "phone")
            if refusal is not None:
                problems.append(RowProblem(index, "phone", refusal))
                continue
        if (
            phone is not None
            and existing is not None
            and existing.phone is None
            and delegated.get(existing.id) == phone
        ):
            own = Conflict(Refusal.IDENTITY_PHONE_IS_DELEGATE, phone=mask_phone(phone))
            problems.append(RowProblem(index, "phone", own))
            continue
        claim = decide_claim(
            existing,
            holders.get(phone) if phone else None,
            None,
            phone=phone,
            telegram_user=None,
            proof=PhoneProof.OFFICE,
        )
        if claim.refusal is not None:
            column = "phone" if claim.refusal == "phone_bound" else "codice_fiscale"
            problems.append(RowProblem(index, column, IdentityRefused(claim.refusal)))
        elif existing is not None and existing.id in applied:
            again = Conflict(Refusal.APPLICATION_ALREADY_APPLIED, codice_fiscale=code)
            problems.append(RowProblem(index, "codice_fiscale", again))
        elif existing is not None and existing.id in at_stake and phone is not None:
            # A first number chosen by one operator would receive the payment codes: as in
            # rebind_phone, a second operator approves it (a change asked on the
            # application's page); without a phone the paper goes in.
            alone = NotAllowed(
                Refusal.APPLICATION_PHONE_NEEDS_APPROVAL, codice_fiscale=existing.codice_fiscale
            )
            problems.append(RowProblem(index, "phone", alone))
    if problems:
        problems.sort(key=lambda problem: problem.index)
        raise ImportRefused(problems)

    await _write(
        uow, store, municipality, round_, rows, codes, phones, known_codes, now, protocol, progress
    )
    return len(rows)


async def _write(
    uow: UnitOfWork,
    store: PaperImportRepository,
    municipality: m.Municipality,
    round_: m.Round,
    rows: Sequence[PaperRow],
    codes: Sequence[str | None],
    phones: Sequence[str | None],
    known: dict[str, m.Citizen],
    now: datetime,
    protocol: Callable[[m.Municipality, int, int], str],
    progress: Progress | None,
) -> None:
    total = len(rows)
    office = PhoneProof.OFFICE.value
    new_citizens: list[dict[str, Any]] = []
    phones_to_bind: list[dict[str, Any]] = []
    lines_to_bind: list[int] = []  # the row of each phone to bind
    for index, (code, phone) in enumerate(zip(codes, phones, strict=True)):
        assert code is not None  # refused above otherwise
        existing = known.get(code)
        if existing is None:
            new_citizens.append(
                {
                    "municipality_id": municipality.id,
                    "codice_fiscale": code,
                    "phone": phone,
                    "phone_proven_by": office if phone else None,
                    "phone_proven_at": now if phone else None,
                    "telegram_chat_id": None,
                    "language": "it",
                    "card_code": new_card_code(),
                    "created_at": now,
                }
            )
        elif phone and existing.phone is None:
            phones_to_bind.append(
                {"cid": existing.id, "new_phone": phone, "proven_by": office, "proven_at": now}
            )
            lines_to_bind.append(index)
    citizen_ids = {code: citizen.id for code, citizen in known.items()}
    citizen_ids |= await store.insert_citizens(new_citizens)
    given = await store.bind_phones(phones_to_bind)
    # A citizen a chat gave a phone since the rows were read keeps it (the statement binds
    # only an empty phone): that row's paper was decided on a citizen who is no longer
    # there, so it is refused like any other, by its line, and nothing is imported (the
    # caller does not commit). Imported again, the row meets the number the chat bound.
    # (The citizens a row gives a number are held since they were read: lock_citizens;
    # this is the statement's own account of what it did, whoever forgot to hold them.)
    missed = [
        RowProblem(index, "phone", Conflict(Refusal.APPLICATION_PHONE_BOUND_MEANWHILE))
        for index, row in zip(lines_to_bind, phones_to_bind, strict=True)
        if row["cid"] not in given
    ]
    if missed:
        raise ImportRefused(missed)
    # The identity log, as claim_citizen writes it for one application (phones masked):
    # only the numbers the statements gave.
    bound = [(row["codice_fiscale"], row["phone"]) for row in new_citizens if row["phone"]]
    bound += [
        (_code_of(known, row["cid"]), row["new_phone"])
        for row in phones_to_bind
        if row["cid"] in given
    ]
    await store.insert_identity_events(
        [
            {
                "municipality_id": municipality.id,
                "citizen_id": citizen_ids[code],
                "kind": "phone_bound",
                "proof": office,
                "channel": None,
                "phone": mask_phone(phone),
                "previous_phone": None,
                "actor": "office",
                "created_at": now,
            }
            for code, phone in bound
        ]
    )

    # Protocol numbers: one block per year, handed out in the file's order.
    by_year = Counter(row.submitted_at.year for row in rows)
    next_number = {
        year: await store.reserve_numbers(municipality.id, f"protocol-{year}", count)
        for year, count in sorted(by_year.items())
    }
    batch: list[dict[str, Any]] = []
    done = 0
    for row, code in zip(rows, codes, strict=True):
        assert code is not None
        year = row.submitted_at.year
        number = next_number[year]
        next_number[year] = number + 1
        batch.append(
            {
                "municipality_id": municipality.id,
                "round_id": round_.id,
                "citizen_id": citizen_ids[code],
                "protocol": protocol(municipality, year, number),
                "household_size": row.household_size,
                "has_work_income": row.has_work_income,
                "has_pension": row.has_pension,
                "liquidity_cents": row.liquidity_cents,
                "public_support_monthly_cents": row.public_support_monthly_cents,
                "rent_monthly_cents": row.rent_monthly_cents,
                "source": "paper",
                "submitted_at": row.submitted_at,
                "updated_at": now,
                "revoked_at": None,
                "recover_cents": 0,
            }
        )
        if len(batch) == PROGRESS_STEP * 10:
            await store.insert_applications(batch)
            done += len(batch)
            batch = []
            if progress is not None:
                progress(done, total)
    await store.insert_applications(batch)
    if progress is not None:
        progress(total, total)
    # Objects loaded before the bulk statements do not know about them.
    uow.expire_all()


def _code_of(known: dict[str, m.Citizen], citizen_id: int) -> str:
    return next(code for code, citizen in known.items() if citizen.id == citizen_id)


_E164 = re.compile(r"\+[1-9]\d{7,14}")
_CODICE_FISCALE = re.compile(
    r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]"
)


def _phone(value: str) -> str:
    # Rows from the CSV parser are E.164 already, checked by phonenumbers there: checking
    # 100,000 of them again would take longer than writing them. Anything else is checked.
    # Whether the number receives SMS is checked here for every row (about 20 µs each).
    return require_sms_phone(value if _E164.fullmatch(value) else normalize_phone(value))


def _codice_fiscale(value: str) -> str:
    # Likewise: a canonical code with the right check letter was validated by the parser.
    if _CODICE_FISCALE.fullmatch(value) and codicefiscale.calc_check_digit(value[:15]) == value[15]:
        return value
    return normalize_codice_fiscale(value)


def _checked(
    index: int,
    column: str,
    normalize: Callable[[str], str],
    row: PaperRow,
    problems: list[RowProblem],
) -> str | None:
    raw = row.codice_fiscale if column == "codice_fiscale" else row.phone or ""
    try:
        return normalize(raw)
    except InvalidIdentifier as error:
        problems.append(RowProblem(index, column, error))
        return None


def _repeated(
    values: Sequence[str | None], column: str, code: str, problems: list[RowProblem]
) -> None:
    first: dict[str, int] = {}
    for index, value in enumerate(values):
        if value is None:
            continue
        if value in first:
            error = Conflict(code, line_index=first[value], value=value)
            problems.append(RowProblem(index, column, error))
        else:
            first[value] = index


def _column_of(error: DomainError) -> str:
    """The CSV column a validation error is about."""
    field = str(error.params.get("field", ""))
    columns = defaultdict(
        str,
        {
            "liquidity_cents": "liquidity_eur",
            "public_support_monthly_cents": "public_support_monthly_eur",
            "rent_monthly_cents": "rent_monthly_eur",
            "household_size": "household_size",
        },
    )
    return columns[field]
