"""What a determina, a credit or a reimbursement act will do, recomputed from the services.

The clerk sees it before preparing a determina, the manager beside "Approve" (the round
page, the dashboard); approval checks the act against it again (core.services.acts). A
determina is the allocation the budget simulator computes (allocation.simulate, the same
function allocation.approve freezes); a credit counts the lines crediting.credit_tranche
pays and the notices it and notify_unpaid queue (crediting.notice_destination decides
the credit notices, outbox.citizen_channel the decisions, which go despite a STOP). A
reimbursement is what each shop is owed at its preparation (the cut-off): the act
records it and pays exactly that (core.services.reimbursement.settle). Nothing here writes.

`state` is a short fingerprint of who would get how much (for the undoing of a revocation,
what it gives back and what it leaves unpaid): an act records it when prepared,
the office page sends the one it showed with "Approve", so an approval never runs on
figures other than those the approver saw (docs/rounds-and-tranches.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from core.domain.allocation import Assignment
from core.domain.errors import Conflict, NotFound, Refusal
from core.domain.fund import FundPosition, budget_fits
from core.services import allocation, audit, fund
from core.services.crediting import notice_destination
from core.services.municipalities import current_round
from core.services.outbox import citizen_channel
from core.services.reimbursement import pending_reimbursements
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DeterminaFigures:
    """The tranche a determina with this budget would approve, as the simulator shows it."""

    tranche: int
    budget_cents: int
    list1: int
    list1_cents: int
    list2: int
    list2_cents: int
    excluded: int
    households: int  # receiving something
    allocated_cents: int
    # What would stay unspent because every household would already get all that is still
    # due to it (the rules cannot give more); 0 when the budget is all used (to the unit).
    unspent_cents: int
    # No household would get money nor be decided by it (allocation.pays_nobody): refused.
    pays_nobody: bool
    state: str
    # The town's fund, what the other determine (approved, or prepared and waiting) commit
    # of it and what is left for this one; None when the town recorded no fund.
    fund: FundPosition | None = None

    @property
    def left_cents(self) -> int:
        return self.budget_cents - self.allocated_cents

    @property
    def within_fund(self) -> bool:
        return self.fund is not None and budget_fits(self.fund, self.budget_cents)


@dataclass(frozen=True)
class CreditFigures:
    """What crediting the tranche waiting would pay and tell."""

    tranche: int
    households: int
    total_cents: int
    notices: int
    state: str
    # Households the determina gave money to whose application was revoked since: the
    # credit skips them (crediting.credit_tranche), so it pays less than the determina says.
    skipped_households: int = 0
    skipped_cents: int = 0


@dataclass(frozen=True)
class ShopAmount:
    shop_id: int
    name: str
    cents: int


@dataclass(frozen=True)
class ReimbursementFigures:
    """What a reimbursement pays each shop: owed now, or recorded by an act at its cut-off."""

    shops: tuple[ShopAmount, ...]
    total_cents: int
    state: str


def reimbursement_state(shops: tuple[ShopAmount, ...]) -> str:
    return fingerprint("reimbursement", [(item.shop_id, item.cents) for item in shops])


def reimbursement_of(shops: tuple[ShopAmount, ...]) -> ReimbursementFigures:
    return ReimbursementFigures(
        shops=shops,
        total_cents=sum(item.cents for item in shops),
        state=reimbursement_state(shops),
    )


async def reimbursement(uow: UnitOfWork, town: m.Municipality) -> ReimbursementFigures:
    """What each shop is owed now: what a reimbursement prepared now records and pays."""
    due = await pending_reimbursements(uow, town)
    return reimbursement_of(tuple(ShopAmount(shop.id, shop.name, cents) for shop, cents in due))


def reimbursement_params(figures: ReimbursementFigures) -> dict[str, object]:
    """How an act records them (JSON)."""
    return {
        "shops": [[item.shop_id, item.name, item.cents] for item in figures.shops],
        "total_cents": figures.total_cents,
        "state": figures.state,
    }


def recorded_reimbursement(params: dict[str, object]) -> ReimbursementFigures | None:
    """What a reimbursement act recorded when prepared; None for an act prepared before
    acts recorded it (it pays what is owed at approval, checked against what was shown)."""
    shops = params.get("shops")
    if not isinstance(shops, list):
        return None
    return reimbursement_of(
        tuple(ShopAmount(int(item[0]), str(item[1]), int(item[2])) for item in shops)
    )


async def determina(
    uow: UnitOfWork, town: m.Municipality, budget_cents: int, *, act_id: int | None = None
) -> DeterminaFigures:
    """The next tranche of the latest window with this budget (what approval would freeze),
    and the town's fund beside it (`act_id`: the waiting determina these figures are of,
    not counted among the others)."""
    if budget_cents <= 0:
        raise Conflict(Refusal.ACT_BAD_BUDGET)
    fund.check_plausible_budget(budget_cents)
    round_ = await allocation.round_of(uow, town)
    latest = await uow.allocations.latest(round_.id)
    tranche = latest.tranche + 1 if latest is not None else 1
    result = await allocation.simulate(uow, town, budget_cents)
    lines = [item.line for item in result]
    allocated = sum(line.amount_cents for line in lines)
    unspent = 0
    if allocated < budget_cents:
        # The most the rules can give: a budget of every full amount covers all still due.
        ceiling = sum(line.full_amount_cents for line in lines)
        most = (
            sum(item.line.amount_cents for item in await allocation.simulate(uow, town, ceiling))
            if ceiling > 0
            else 0
        )
        if allocated >= most:
            unspent = budget_cents - allocated

    def on(key: Assignment) -> list[int]:
        return [line.amount_cents for line in lines if line.assignment is key]

    return DeterminaFigures(
        tranche=tranche,
        budget_cents=budget_cents,
        list1=len(on(Assignment.LIST_1)),
        list1_cents=sum(on(Assignment.LIST_1)),
        list2=len(on(Assignment.LIST_2)),
        list2_cents=sum(on(Assignment.LIST_2)),
        excluded=len(on(Assignment.EXCLUDED)),
        households=sum(1 for line in lines if line.amount_cents > 0),
        allocated_cents=allocated,
        unspent_cents=unspent,
        pays_nobody=await allocation.pays_nobody(uow, result),
        state=determina_state(round_.id, tranche, budget_cents, result),
        fund=await fund.position(uow, town, excluding_act=act_id),
    )


def determina_state(
    round_id: int, tranche: int, budget_cents: int, result: list[allocation.AllocatedApplication]
) -> str:
    """Who a tranche gives how much: the same for a simulation and the approval it becomes."""
    return fingerprint(
        "determina",
        round_id,
        tranche,
        budget_cents,
        [(i.application_id, i.line.assignment.value, i.line.amount_cents) for i in result],
    )


async def credit(uow: UnitOfWork, town: m.Municipality) -> CreditFigures:
    """The tranche waiting in the latest window: refused as allocation.credit refuses."""
    round_ = await current_round(uow, town.id)
    waiting = await uow.allocations.waiting(round_.id) if round_ else None
    if round_ is None or waiting is None:
        latest = await uow.allocations.latest_standing(round_.id) if round_ else None
        if latest is not None and latest.credited_at is not None:
            raise Conflict(Refusal.ALLOCATION_ALREADY_CREDITED, tranche=latest.tranche)
        raise NotFound(Refusal.ALLOCATION_NONE)
    people = {
        app.id: (app, citizen) for app, citizen in await uow.applications.with_citizens(round_.id)
    }
    # Applications an earlier credited tranche paid: notify_unpaid does not tell them again.
    paid_before: set[int] = set()
    for earlier in await uow.allocations.of_round(round_.id, withdrawn=False):
        if earlier.credited_at is not None and earlier.id != waiting.id:
            paid_before.update(
                line.application_id
                for line in await uow.allocations.lines(earlier.id)
                if line.amount_cents > 0
            )
    stopped = await uow.conversations.stopped_addresses(town.id)
    households = total = notices = skipped = skipped_cents = 0
    paid: list[tuple[int, int]] = []
    for line in await uow.allocations.lines(waiting.id):
        application, citizen = people[line.application_id]
        if application.revoked_at is not None:
            # Left out of the credit (line_ids_to_credit, mark_decided_unpaid).
            if line.amount_cents > 0:
                skipped += 1
                skipped_cents += line.amount_cents
            continue
        if line.amount_cents > 0:
            households += 1
            total += line.amount_cents
            notices += notice_destination(citizen, stopped) is not None
            paid.append((line.id, line.amount_cents))
        elif application.decision_notified_at is None and application.id not in paid_before:
            # The decision goes whether or not the household wrote STOP (notify_unpaid).
            notices += citizen_channel(citizen) is not None
    return CreditFigures(
        tranche=waiting.tranche,
        households=households,
        total_cents=total,
        notices=notices,
        state=fingerprint("credit", waiting.id, paid, notices),
        skipped_households=skipped,
        skipped_cents=skipped_cents,
    )


def undo_state(figures: audit.UndoFigures) -> str:
    """What undoing a revocation gives back and leaves unpaid (audit.undo_figures): which
    revocation, the amount back on the vouchers, the sum to recover it cancels and the
    tranches it does not pay: a tranche credited meanwhile (it skips the application), or
    the revocation undone on the command line and made again, changes it."""
    return fingerprint(
        "revocation_undo",
        figures.revocation_id,
        figures.restored_cents,
        figures.cancelled_recovery_cents,
        [(item.tranche, item.cents) for item in figures.skipped],
    )
