"""The transparency report: what the municipality publishes about the vouchers.

Aggregates only: no codice fiscale, no name, no protocol number, nothing per household.
Small towns make small numbers, and "2 households excluded for a pension" can point at
people the neighbours know, so counts are protected before they leave this module (the
rules, pure, are core.domain.disclosure's; the relations between counts are stated here):

- a count of 1 or 2 is published as "<3" (a reader learns only that it is 0, 1 or 2);
- a reader knows how the counts hang together: received = list 1 + list 2 + excluded + not
  allocated + withdrawn; excluded = the three reasons; received = the household-size bands;
  a tranche pays at most every admitted household (the latest) or every application
  (earlier ones); revocations are at most the applications. Where those let a "<3" be
  worked out to one value, further counts are withheld ("*" for one of 3 or more, "<3" for
  a zero) until every "<3" that hides a 1 or a 2 has at least two possible values (where
  withholding can achieve it at all: see docs/transparency-report.md);
- a sum of money that belongs to fewer than 3 households (e.g. the sum to recover after a
  single revocation) is withheld ("*"), and so is any published sum that equals it or lets it
  be computed by difference (reimbursed to shops when nothing is still owed to them, a
  tranche's budget spent to the cent, …): complementary suppression of sums
  (core.domain.disclosure), over the equations the money figures obey (_money_equations).

Sums of money are not part of the counts' reasoning: a reader who divides a published total
by the policy's amounts may still learn something about the size bands
(docs/transparency-report.md).

Application figures are for the current round; money flows are for the municipality as a
whole, to date (the ledger is not split by round).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.domain.allocation import Assignment, ExclusionReason
from core.domain.disclosure import (
    THRESHOLD,
    Equation,
    Figure,
    Relation,
    Withheld,
    complementary,
    protect,
)
from core.domain.errors import NotFound, Refusal
from core.domain.ledger import PostingKind
from core.domain.messages import Day, Text, t
from core.domain.money import format_plain
from core.domain.shops import ShopStatus
from core.domain.spreadsheet import CsvWriter
from core.i18n import format_money, format_param, render_text
from core.services.municipalities import current_round, policy_of
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrancheFigures:
    tranche: int
    approved_on: date
    budget_cents: int  # the determina's
    approved: Figure  # cents
    beneficiaries: Figure  # households with an amount above zero
    credited_on: date | None
    # The budget as published: withheld when it would give a withheld "approved" away (a
    # budget spent to the cent), although the determina itself is a public act.
    budget: Figure | None = None
    # What the town's economie freed of the budget (core.services.economia: its own acts,
    # approved), no longer committed; withheld only when it would give "approved" away.
    freed: Figure = Figure(0)

    @property
    def published_budget(self) -> Figure:
        return self.budget if self.budget is not None else Figure(self.budget_cents)

    @property
    def committed(self) -> Figure:
        """What the determina still commits of the fund: its budget less what economie
        freed, worked out from the two published figures (withheld when one of them is, so
        that it tells nothing they do not)."""
        budget = self.published_budget
        if budget.value is None:
            return budget
        if self.freed.value is None:
            return self.freed
        return Figure(budget.value - self.freed.value)


@dataclass(frozen=True)
class TransparencyReport:
    municipality: str
    round_number: int | None
    generated_at: datetime
    applications_received: Figure
    admitted_list_1: Figure
    admitted_list_2: Figure
    excluded: Figure
    excluded_by_reason: dict[str, Figure]  # keys: work_income, pension, liquidity
    not_allocated: Figure  # no approved allocation yet, or revoked before it (not withdrawn)
    households_by_size: dict[str, Figure]  # keys "1", "2", …, "7+" (the policy's bands)
    tranches: list[TrancheFigures]
    credited: Figure  # cents, all rounds
    spent_at_shops: Figure
    refunded: Figure
    reimbursed_to_shops: Figure
    # What revocations returned to the fund and still stands: net of undone revocations,
    # which gave back exactly what they had returned (given_back_by_undo).
    returned_by_revocation: Figure
    approved_shops: int
    revocations: Figure
    to_recover: Figure  # cents
    # Gifts to the fund through the chat (totals only: donors are private persons).
    donations: Figure = Figure(0)  # cents received
    donations_granted: Figure = Figure(0)  # cents moved into the fund for tranches
    # Paper applications the office withdrew (before any allocation): received, never allocated.
    withdrawn: Figure = Figure(0)
    given_back_by_undo: Figure = Figure(0)  # cents, fund -> households, revocations undone

    def _rows(self) -> list[tuple[str, str, Text, Figure, bool]]:
        """(section, metric id, label, figure, is money) in publishing order, tranches aside."""
        reason_labels = {
            ExclusionReason.WORK_INCOME.value: t("Excluded: work income"),
            ExclusionReason.PENSION.value: t("Excluded: pension"),
            ExclusionReason.LIQUIDITY.value: t("Excluded: liquidity above the limit"),
        }
        rows: list[tuple[str, str, Text, Figure, bool]] = [
            (
                "applications",
                "applications_received",
                t("Applications received"),
                self.applications_received,
                False,
            ),
            (
                "applications",
                "admitted_list_1",
                t("Admitted, list 1 (no public support)"),
                self.admitted_list_1,
                False,
            ),
            (
                "applications",
                "admitted_list_2",
                t("Admitted, list 2 (with public support)"),
                self.admitted_list_2,
                False,
            ),
            ("applications", "excluded", t("Excluded"), self.excluded, False),
        ]
        rows += [
            ("applications", f"excluded_{reason}", reason_labels[reason], figure, False)
            for reason, figure in self.excluded_by_reason.items()
        ]
        rows.append(
            (
                "applications",
                "not_allocated",
                t("Not in an approved allocation"),
                self.not_allocated,
                False,
            )
        )
        rows.append(
            (
                "applications",
                "withdrawn",
                t("Withdrawn by the office before the allocation"),
                self.withdrawn,
                False,
            )
        )
        rows += [
            (
                "households_by_size",
                f"members_{band.replace('+', '_or_more')}",
                t("Household size {members}", members=band),
                figure,
                False,
            )
            for band, figure in self.households_by_size.items()
        ]
        rows += [
            ("money", "credited", t("Credited to households"), self.credited, True),
            ("money", "spent_at_shops", t("Spent at shops"), self.spent_at_shops, True),
            ("money", "refunded", t("Refunded by shops"), self.refunded, True),
            (
                "money",
                "reimbursed_to_shops",
                t("Reimbursed to shops"),
                self.reimbursed_to_shops,
                True,
            ),
            (
                "money",
                "returned_by_revocation",
                t("Returned to the fund by revocations, net of those undone"),
                self.returned_by_revocation,
                True,
            ),
            (
                "money",
                "given_back_by_undone_revocations",
                t("Given back to households by revocations undone"),
                self.given_back_by_undo,
                True,
            ),
            ("money", "donations", t("Donations to the fund"), self.donations, True),
            (
                "money",
                "donations_granted",
                t("Donations granted to tranches"),
                self.donations_granted,
                True,
            ),
            ("shops", "approved_shops", t("Approved shops"), Figure(self.approved_shops), False),
            ("revocations", "revocations", t("Revocations"), self.revocations, False),
            ("revocations", "to_recover", t("Sums to recover"), self.to_recover, True),
        ]
        return rows

    def to_csv(self) -> str:
        """section,metric,value,note. Euro amounts with a dot and two decimals, like every CSV here;
        a withheld value is "<3" or "*" and the note says why."""
        buffer = io.StringIO()
        writer = CsvWriter(buffer)
        writer.writerow(["section", "metric", "value", "note"])
        writer.writerow(["report", "municipality", self.municipality, ""])
        writer.writerow(["report", "round", self.round_number or "", ""])
        writer.writerow(["report", "generated_at", self.generated_at.isoformat(), ""])
        rows = self._rows()
        for section, metric, _, figure, money in rows:
            if metric not in ADDED_LATER:
                writer.writerow([section, metric, _plain(figure, money), _note(figure)])
        for item in self.tranches:
            prefix = f"tranche_{item.tranche}"
            writer.writerows(
                [
                    ["tranches", f"{prefix}_approved_on", item.approved_on.isoformat(), ""],
                    _tranche_row(f"{prefix}_budget", item.published_budget, True),
                    _tranche_row(f"{prefix}_approved", item.approved, True),
                    _tranche_row(f"{prefix}_beneficiaries", item.beneficiaries, False),
                    [
                        "tranches",
                        f"{prefix}_credited_on",
                        item.credited_on.isoformat() if item.credited_on else "",
                        "",
                    ],
                ]
            )
        # After every row of the first version: whoever reads the file by position finds
        # the old rows where they were.
        for section, metric, _, figure, money in rows:
            if metric in ADDED_LATER:
                writer.writerow([section, metric, _plain(figure, money), _note(figure)])
        # The economie (added after the metrics above): each tranche's budget freed by the
        # town's acts, and what it still commits (budget − freed).
        for item in self.tranches:
            prefix = f"tranche_{item.tranche}"
            writer.writerows(
                [
                    _tranche_row(f"{prefix}_freed_by_economie", item.freed, True),
                    _tranche_row(f"{prefix}_committed", item.committed, True),
                ]
            )
        return buffer.getvalue()

    def tables(self, language: str = "it") -> list[ReportTable]:
        """The report's tables in one language, in publishing order: what the Markdown page
        and the office's page show (amounts and counts already written out)."""

        def say(text: Text) -> str:
            return render_text(text, language)

        def show(figure: Figure, money: bool) -> str:
            if figure.value is None:
                return figure.marker
            return format_money(figure.value, language) if money else str(figure.value)

        def day(value: date | None) -> str:
            return "" if value is None else format_param(Day(value), language)

        sections: dict[str, list[tuple[str, str]]] = {}
        for section, _, label, figure, money in self._rows():
            sections.setdefault(section, []).append((say(label), show(figure, money)))
        titles = {
            "applications": t("Applications (this round)"),
            "households_by_size": t("Applications by household size"),
            "money": t("Money (all rounds, to date)"),
            "shops": t("Shops"),
            "revocations": t("Revocations after checks (this round)"),
        }
        tables = [
            ReportTable(section, say(titles[section]), ("", ""), sections[section])
            for section in ("applications", "households_by_size")
        ]
        tables.append(
            ReportTable(
                "tranches",
                say(t("Tranches (this round)")),
                (
                    say(t("Tranche")),
                    say(t("Approved on")),
                    say(t("Budget")),
                    say(t("Freed by economie")),
                    say(t("Still committed")),
                    say(t("Approved")),
                    say(t("Beneficiaries")),
                    say(t("Credited on")),
                ),
                [
                    (
                        str(x.tranche),
                        day(x.approved_on),
                        show(x.published_budget, True),
                        show(x.freed, True),
                        show(x.committed, True),
                        show(x.approved, True),
                        show(x.beneficiaries, False),
                        day(x.credited_on),
                    )
                    for x in self.tranches
                ],
            )
        )
        tables += [
            ReportTable(section, say(titles[section]), ("", ""), sections[section])
            for section in ("money", "shops", "revocations")
        ]
        return tables

    def title(self, language: str = "it") -> str:
        # Outside the f-string, so that Babel's extractor sees the msgid.
        title = render_text(t("Grocery vouchers: transparency report"), language)
        return f"{title}: {self.municipality}"

    def preamble(self, language: str = "it") -> list[str]:
        """The lines under the title: the window and the day the report was made."""
        lines = []
        if self.round_number is not None:
            lines.append(
                render_text(t("Application round {number}.", number=self.round_number), language)
            )
        lines.append(
            render_text(t("Generated on {date}.", date=Day(self.generated_at.date())), language)
        )
        return lines

    def to_markdown(self, language: str = "it") -> str:
        """A page for the municipality's website ("Amministrazione trasparente")."""
        lines = [f"# {self.title(language)}", "", *self.preamble(language), ""]
        for table in self.tables(language):
            lines += _table(table.title, table.header, table.rows)
        lines += [render_text(PRIVACY_NOTE, language), ""]
        return "\n".join(lines)


@dataclass(frozen=True)
class ReportTable:
    """One table of the report: a label and its figure, or the tranches' columns. Every
    column after the first holds a number (count or amount): it is aligned right."""

    section: str
    title: str
    header: tuple[str, ...]  # all "" for a label-and-figure table
    rows: Sequence[Sequence[str]]


# Metrics added after the report was first published: the CSV lists them last.
ADDED_LATER = ("withdrawn", "given_back_by_undone_revocations")

PRIVACY_NOTE = t(
    "This report contains aggregates only: no codice fiscale, names or protocol numbers. "
    'To protect privacy, counts of 1 or 2 are shown as "<3" (as is a 0 that would let one '
    'be worked out); "*" marks a figure of 3 or more withheld because it would let a "<3" '
    "be worked out from the totals, a sum of money of fewer than 3 households, or a sum "
    "that is equal to such a sum or would let it be worked out by subtraction."
)


def _table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table under a heading; numbers right-aligned."""
    out = [f"## {title}", "", "| " + " | ".join(header) + " |"]
    out.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return [*out, ""]


def _tranche_row(metric: str, figure: Figure, money: bool) -> list[str]:
    """A tranche's figure as a row of the CSV: section, metric, value, note."""
    return ["tranches", metric, _plain(figure, money), _note(figure)]


def _plain(figure: Figure, money: bool) -> str:
    if figure.value is None:
        return figure.marker
    return format_plain(figure.value) if money else str(figure.value)


def _note(figure: Figure) -> str:
    return figure.withheld.value if figure.withheld else ""


# --- gathering ---------------------------------------------------------------------------------


def size_bands(band_count: int) -> list[str]:
    """The policy's household-size bands: "1", "2", …, and the last open-ended ("7+")."""
    return [str(size) for size in range(1, band_count)] + [f"{band_count}+"]


def _band(size: int, band_count: int) -> str:
    return str(size) if size < band_count else f"{band_count}+"


async def transparency_report(
    uow: UnitOfWork, municipality: m.Municipality, now: datetime, window: int | None = None
) -> TransparencyReport:
    """Build the report of a window (default: the latest; reads only). Safe to publish as it
    is: see the module docstring."""
    zone = ZoneInfo(municipality.timezone)
    if window is None:
        round_ = await current_round(uow, municipality.id)
    else:
        round_ = await uow.rounds.by_number(municipality.id, window)
        if round_ is None:
            raise NotFound(Refusal.ROUND_NOT_FOUND, number=window)
    applications = list(await uow.applications.in_round(round_.id)) if round_ else []
    allocations = list(await uow.allocations.of_round(round_.id, withdrawn=False)) if round_ else []
    lines_by_tranche = {a.id: list(await uow.allocations.lines(a.id)) for a in allocations}
    # The latest determina decides who is on which list (each tranche re-runs the allocation).
    latest = lines_by_tranche[allocations[-1].id] if allocations else []

    assignments = Counter(line.assignment for line in latest)
    reasons = Counter(line.exclusion_reason for line in latest if line.exclusion_reason)
    band_count = len(policy_of(municipality).amounts_by_size_cents)
    bands = Counter(_band(app.household_size, band_count) for app in applications)
    revoked = [app for app in applications if app.revoked_at is not None]
    # Withdrawn only before any determina (application_desk), so never on a list; the check
    # keeps an application from being counted twice whatever the data.
    on_lists = {line.application_id for line in latest}
    withdrawn = [
        app for app in applications if app.withdrawn_at is not None and app.id not in on_lists
    ]
    paid_by_tranche = {
        allocation.id: [line for line in lines_by_tranche[allocation.id] if line.amount_cents > 0]
        for allocation in allocations
    }
    counts: dict[str, int] = {
        "received": len(applications),
        "list_1": assignments[Assignment.LIST_1.value],
        "list_2": assignments[Assignment.LIST_2.value],
        "excluded": assignments[Assignment.EXCLUDED.value],
        "not_allocated": len(applications) - len(latest) - len(withdrawn),
        "withdrawn": len(withdrawn),
        "revocations": len(revoked),
        "~admitted": assignments[Assignment.LIST_1.value] + assignments[Assignment.LIST_2.value],
        "~not_revoked": len(applications) - len(revoked),
    }
    counts |= {f"reason:{r.value}": reasons[r.value] for r in ExclusionReason}
    counts |= {f"band:{b}": bands[b] for b in size_bands(band_count)}
    relations: list[Relation] = [
        ("received", ("~admitted", "excluded", "not_allocated", "withdrawn")),
        ("~admitted", ("list_1", "list_2")),
        ("excluded", tuple(f"reason:{r.value}" for r in ExclusionReason)),
        ("received", tuple(f"band:{b}" for b in size_bands(band_count))),
        ("received", ("revocations", "~not_revoked")),
    ]
    for allocation in allocations:
        paid = len(paid_by_tranche[allocation.id])
        name = f"tranche:{allocation.tranche}"
        counts[name] = paid
        # What a reader knows of a tranche's beneficiaries: the latest pays only admitted
        # households; an earlier one at most every application.
        whole = "~admitted" if allocation is allocations[-1] else "received"
        counts[f"~unpaid:{allocation.tranche}"] = counts[whole] - paid
        relations.append((whole, (name, f"~unpaid:{allocation.tranche}")))
    hidden = {name for name in counts if name.startswith("~")}
    published = protect(counts, relations, hidden)

    flows = await _flows(uow, municipality.id)
    returned, given_back = await _revocation_money(uow, municipality.id)
    to_recover = _Sum(sum(app.recover_cents for app in revoked), len(revoked))
    sums: dict[str, _Sum] = {
        "credited": _Sum(*flows[PostingKind.ALLOCATION]),
        "spent": _Sum(*flows[PostingKind.PAYMENT]),
        "refunded": _Sum(*flows[PostingKind.REFUND]),
        # Shops are businesses paid with public money: what they receive is public, unless
        # it gives a withheld sum away (complementary suppression below).
        "reimbursed": _Sum(flows[PostingKind.REIMBURSEMENT][0], None),
        "returned": returned,
        "given_back": given_back,
        "to_recover": to_recover,
        "donations": _Sum(
            (await uow.community.posted_total(municipality.id, PostingKind.DONATION))[0], None
        ),
        "donations_granted": _Sum(
            (await uow.community.posted_total(municipality.id, PostingKind.DONATION_GRANT))[0],
            None,
        ),
    }
    for allocation in allocations:
        paid_lines = paid_by_tranche[allocation.id]
        sums[f"approved:{allocation.tranche}"] = _Sum(
            sum(line.amount_cents for line in paid_lines), len(paid_lines)
        )
        sums[f"budget:{allocation.tranche}"] = _Sum(allocation.budget_cents, None)
        # The town's own acts, public as the determina is (approved economie only).
        sums[f"freed:{allocation.tranche}"] = _Sum(allocation.freed_cents, None)
    money = _protect_sums(sums, allocations)

    tranches = []
    for allocation in allocations:
        tranches.append(
            TrancheFigures(
                tranche=allocation.tranche,
                approved_on=allocation.approved_at.astimezone(zone).date(),
                budget_cents=allocation.budget_cents,
                approved=money[f"approved:{allocation.tranche}"],
                beneficiaries=published[f"tranche:{allocation.tranche}"],
                credited_on=(
                    allocation.credited_at.astimezone(zone).date()
                    if allocation.credited_at
                    else None
                ),
                budget=money[f"budget:{allocation.tranche}"],
                freed=money[f"freed:{allocation.tranche}"],
            )
        )
    approved_shops = await uow.read.shops_with_status(municipality.id, ShopStatus.APPROVED)
    return TransparencyReport(
        municipality=municipality.name,
        round_number=round_.number if round_ else None,
        generated_at=now.astimezone(zone),
        applications_received=published["received"],
        admitted_list_1=published["list_1"],
        admitted_list_2=published["list_2"],
        excluded=published["excluded"],
        excluded_by_reason={r.value: published[f"reason:{r.value}"] for r in ExclusionReason},
        not_allocated=published["not_allocated"],
        households_by_size={b: published[f"band:{b}"] for b in size_bands(band_count)},
        tranches=tranches,
        credited=money["credited"],
        spent_at_shops=money["spent"],
        refunded=money["refunded"],
        reimbursed_to_shops=money["reimbursed"],
        returned_by_revocation=money["returned"],
        given_back_by_undo=money["given_back"],
        withdrawn=published["withdrawn"],
        approved_shops=approved_shops,
        revocations=published["revocations"],
        to_recover=money["to_recover"],
        donations=money["donations"],
        donations_granted=money["donations_granted"],
    )


@dataclass(frozen=True)
class _Sum:
    """A sum of cents and the households it is over (None: not about households, e.g. a
    budget or what shops were reimbursed)."""

    cents: int
    households: int | None

    @property
    def withheld(self) -> bool:
        return self.households is not None and 0 < self.households < THRESHOLD


def _money_equations(allocations: Sequence[m.Allocation]) -> list[Equation]:
    """How the published sums hang together, with what is never published as slack ("~"):

    - a shop's account: spent = refunded + reimbursed + still owed to shops;
    - the households' accounts: credited + refunded = spent + returned by revocations (net)
      + what households still hold;
    - a tranche: budget = approved + freed by economie + what the determina left
      unallocated and no economia freed;
    - credited (all rounds) = the approved sums of this round's credited tranches + the rest
      (other rounds, lines of revoked applications left out of a credit)."""
    credited = tuple(f"approved:{a.tranche}" for a in allocations if a.credited_at is not None)
    equations: list[Equation] = [
        (("spent",), ("refunded", "reimbursed", "~owed_to_shops")),
        (("credited", "refunded"), ("spent", "returned", "~held_by_households")),
        (("credited",), (*credited, "~credited_otherwise")),
    ]
    equations += [
        (
            (f"budget:{a.tranche}",),
            (f"approved:{a.tranche}", f"freed:{a.tranche}", f"~left:{a.tranche}"),
        )
        for a in allocations
    ]
    return equations


def _protect_sums(
    sums: Mapping[str, _Sum], allocations: Sequence[m.Allocation]
) -> dict[str, Figure]:
    """Each sum as published: withheld when over fewer than 3 households, or when it equals
    or lets one compute such a sum (core.domain.disclosure)."""
    values = {name: item.cents for name, item in sums.items()}
    equations = _money_equations(allocations)
    # The slack of each equation: what makes it balance, never published.
    for left, right in equations:
        (gap,) = [name for name in right if name.startswith("~")]
        values[gap] = sum(values[name] for name in left) - sum(
            values[name] for name in right if name != gap
        )
    slack = {name for name in values if name.startswith("~")}
    withheld = {name for name, item in sums.items() if item.withheld}
    extra = complementary(values, withheld, equations, slack)
    return {
        name: Figure(None, Withheld.FEW_HOUSEHOLDS)
        if name in withheld
        else Figure(None, Withheld.REVEALS_SUM)
        if name in extra
        else Figure(item.cents)
        for name, item in sums.items()
    }


async def _revocation_money(uow: UnitOfWork, municipality_id: int) -> tuple[_Sum, _Sum]:
    """(what revocations returned to the fund net of the undone ones, what undoing gave
    back). Each household's net counts once, so a sum is withheld when it is fewer than 3
    households' own, as for every sum here."""
    returned = await uow.read.flow_by_account(
        municipality_id, PostingKind.REVOCATION, receivers=False
    )
    given_back = await uow.read.flow_by_account(
        municipality_id, PostingKind.REVOCATION_UNDO, receivers=True
    )
    net = {
        account: returned.get(account, 0) - given_back.get(account, 0)
        for account in returned.keys() | given_back.keys()
    }
    return (
        _Sum(sum(net.values()), sum(1 for cents in net.values() if cents > 0)),
        _Sum(sum(given_back.values()), len(given_back)),
    )


async def _flows(uow: UnitOfWork, municipality_id: int) -> dict[PostingKind, tuple[int, int]]:
    """Per posting kind: (total cents, number of distinct citizen accounts involved)."""
    # The citizen is the receiving side of allocations and refunds, the paying side of
    # payments; for reimbursements the count is of shops (unused). Revocations: _revocation_money.
    citizen_receives = {
        PostingKind.ALLOCATION: True,
        PostingKind.REFUND: True,
        PostingKind.PAYMENT: False,
        PostingKind.REIMBURSEMENT: False,
    }
    return {
        kind: await uow.read.flow(municipality_id, kind, count_receivers=receives)
        for kind, receives in citizen_receives.items()
    }
