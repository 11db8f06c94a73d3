"""The office's paperwork as PDF (fpdf2): the determina's attachment, decision letters,
receipts of paper applications and shop statements.

Every sentence is a gettext msgid rendered in the reader's language; amounts and dates go
through Babel like everywhere else. The attachment to the determina names applications by
protocol only: it is filed in the municipality's register, often published, and must not
identify anybody. Text is set in Source Sans Pro (OFL, from its Python package).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from importlib import resources

from babel.lists import format_list
from fpdf import FPDF
from fpdf.fonts import FontFace

from core.domain.messages import Day, Moment, Money, Param, Text, t, tn
from core.i18n import babel_locale, format_param, format_score, render_text
from core.services.paperwork import Decision, Determina, ShopStatement

_FONT = "SourceSans"
_MARGIN = 18.0

ASSIGNMENTS = {"1": t("List 1"), "2": t("List 2"), "excluded": t("Excluded")}
REASONS = {
    "work_income": t("work income"),
    "pension": t("pension"),
    "liquidity": t("liquidity above the limit"),
}
LEGAL_BASIS = t(
    "Legal basis: Civil Protection ordinance OCDPC 658 of 29 March 2020 (food solidarity "
    "measures) and the municipality's rules for grocery vouchers."
)
APPEAL = t(
    "How to appeal: you may ask the social services office to review this decision, "
    "stating your reasons; you may also appeal to the Regional Administrative Court (TAR) "
    "within 60 days or to the President of the Republic within 120 days of receiving it."
)


def _appeal_by_chat(days: int) -> Text:
    return tn(
        "To ask for the review from your phone: write RICORSO (or APPEAL) and your reason "
        "in the chat or by SMS within "
        "{count} day of the decision.",
        "To ask for the review from your phone: write RICORSO (or APPEAL) and your reason "
        "in the chat or by SMS within "
        "{count} days of the decision.",
        days,
    )


def _font_file(name: str) -> str:
    return str(resources.files("font_source_sans_pro") / "files" / name)


class _Page:
    """An A4 document with the project's font, a title and the language to write in."""

    def __init__(self, title: Text, language: str) -> None:
        self.language = language
        self.pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        self.pdf.set_creator("buonispesa")
        self.pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.pdf.set_auto_page_break(True, margin=_MARGIN)
        self.pdf.add_font(_FONT, "", _font_file("SourceSansPro-Regular.ttf"))
        self.pdf.add_font(_FONT, "B", _font_file("SourceSansPro-Bold.ttf"))
        self.title = self.say(title)
        self.pdf.set_title(self.title)
        self.pdf.set_lang(language)

    def say(self, text: Text) -> str:
        return render_text(text, self.language)

    def value(self, value: Param) -> str:
        return format_param(value, self.language)

    def new_page(self, town: str) -> None:
        self.pdf.add_page()
        self.pdf.set_font(_FONT, "", 10)
        self.pdf.cell(
            0, 5, self.say(t("Municipality of {town}", town=town)), new_x="LMARGIN", new_y="NEXT"
        )
        self.pdf.ln(3)
        self.heading(self.title, 15)

    def heading(self, text: str, size: float = 12) -> None:
        self.pdf.set_font(_FONT, "B", size)
        self.pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def paragraph(self, text: Text | str, size: float = 10.5) -> None:
        self.pdf.set_font(_FONT, "", size)
        self.pdf.multi_cell(
            0, 5.2, text if isinstance(text, str) else self.say(text), new_x="LMARGIN", new_y="NEXT"
        )
        self.pdf.ln(1.5)

    def facts(self, rows: Sequence[tuple[Text, str]]) -> None:
        self.pdf.set_font(_FONT, "", 10.5)
        for label, value in rows:
            self.pdf.set_font(_FONT, "B", 10.5)
            self.pdf.cell(62, 6, self.say(label))
            self.pdf.set_font(_FONT, "", 10.5)
            self.pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def table(
        self, headers: Sequence[Text], rows: Sequence[Sequence[str]], widths: Sequence[int]
    ) -> None:
        self.pdf.set_font(_FONT, "", 9.5)
        with self.pdf.table(
            col_widths=tuple(widths),
            headings_style=FontFace(emphasis="BOLD", fill_color=(235, 238, 242)),
            line_height=5.5,
            text_align="LEFT",
            repeat_headings=1,
        ) as table:
            header = table.row()
            for title in headers:
                header.cell(self.say(title))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(value)
        self.pdf.ln(3)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def determina_pdf(data: Determina, language: str) -> bytes:
    page = _Page(
        t("Attachment to the determina: tranche {tranche}", tranche=str(data.tranche)), language
    )
    page.new_page(data.town)
    served = [line for line in data.lines if line.amount_cents > 0]
    page.facts(
        [
            (t("Application window"), str(data.round_number)),
            (t("Tranche"), str(data.tranche)),
            (t("Approved on"), page.value(Moment(data.approved_at))),
            (t("Budget"), page.value(Money(data.budget_cents))),
            (t("Allocated"), page.value(Money(data.allocated_cents))),
            (t("Applications"), page.value(len(data.lines))),
            (t("Households receiving vouchers"), page.value(len(served))),
        ]
    )
    page.paragraph(LEGAL_BASIS)
    page.paragraph(t("Applications are named by protocol only: this attachment identifies nobody."))
    page.heading(page.say(t("Criteria")))
    policy = data.policy
    page.paragraph(
        t(
            "Amount by household size, one-off: {amounts}.",
            amounts="; ".join(
                f"{size}{'+' if size == len(policy.amounts_by_size_cents) else ''}: "
                f"{page.value(Money(cents))}"
                for size, cents in enumerate(policy.amounts_by_size_cents, start=1)
            ),
        )
    )
    exclusions = [page.say(REASONS["liquidity"])]
    if policy.exclude_work_income:
        exclusions.insert(0, page.say(REASONS["work_income"]))
    if policy.exclude_pension:
        exclusions.insert(1 if policy.exclude_work_income else 0, page.say(REASONS["pension"]))
    page.paragraph(
        t(
            "Excluded: households with {reasons}. Liquidity limits by household size at "
            "{day}: {limits}.",
            reasons=format_list(exclusions, locale=babel_locale(language)),
            day=Day(policy.liquidity_reference_date),
            limits="; ".join(
                f"{size}{'+' if size == len(policy.liquidity_thresholds_cents) else ''}: "
                f"{page.value(Money(cents))}"
                for size, cents in enumerate(policy.liquidity_thresholds_cents, start=1)
            ),
        )
    )
    page.paragraph(
        t(
            "List 1: admitted households without public support, served first. List 2: "
            "admitted households with public support, by score (monthly support minus rent, "
            "per member; lower first), served with what is left."
        )
    )
    for key in ("1", "2"):
        chosen = [line for line in data.lines if line.assignment == key]
        page.heading(
            page.say(
                tn(
                    "{list}: {count} household",
                    "{list}: {count} households",
                    len(chosen),
                    list=page.say(ASSIGNMENTS[key]),
                )
            )
        )
        if chosen:
            page.table(
                [t("Protocol"), t("Members"), t("Score"), t("Amount")],
                [
                    [
                        line.protocol,
                        str(line.household_size),
                        format_score(line.score_text, page.language),
                        page.value(Money(line.amount_cents)),
                    ]
                    for line in chosen
                ],
                (45, 25, 40, 40),
            )
    excluded = [line for line in data.lines if line.assignment == "excluded"]
    page.heading(
        page.say(
            tn(
                "{list}: {count} household",
                "{list}: {count} households",
                len(excluded),
                list=page.say(ASSIGNMENTS["excluded"]),
            )
        )
    )
    if excluded:
        page.table(
            [t("Protocol"), t("Members"), t("Reason")],
            [
                [
                    line.protocol,
                    str(line.household_size),
                    page.say(REASONS[line.exclusion_reason])
                    if line.exclusion_reason in REASONS
                    else "",
                ]
                for line in excluded
            ],
            (45, 25, 80),
        )
    return page.output()


def _outcome(page: _Page, decision: Decision) -> Text:
    if decision.revoked_at is not None:
        return t(
            "The voucher was revoked on {day} after the check of the declaration. "
            "Sum to recover: {amount}.",
            day=Day(decision.revoked_at.date()),
            amount=Money(decision.recover_cents),
        )
    if decision.withdrawn_at is not None:
        return t(
            "Your application was withdrawn on {day}, as the office recorded. Reason: {reason}.",
            day=Day(decision.withdrawn_at.date()),
            reason=decision.withdrawal_reason or "",
        )
    if decision.assignment is None:
        return t("Your application has not been decided yet: you will receive a letter.")
    if decision.assignment == "excluded":
        return t(
            "Your application is not admitted. Reason: {reason}.",
            reason=page.say(REASONS[decision.exclusion_reason])
            if decision.exclusion_reason in REASONS
            else "",
        )
    if decision.amount_cents > 0:
        return t(
            "Your application is admitted ({list}): grocery vouchers of {amount} are granted.",
            list=page.say(ASSIGNMENTS[decision.assignment]),
            amount=Money(decision.amount_cents),
        )
    return t(
        "Your application is admitted ({list}), but the budget ran out before your turn: "
        "no amount can be granted now. You stay on the list for a further tranche.",
        list=page.say(ASSIGNMENTS[decision.assignment]),
    )


def decision_letters_pdf(
    decisions: Sequence[Decision],
    language: str,
    now: datetime,
    *,
    town: str = "",
    window: int | None = None,
    undecided: int = 0,
) -> bytes:
    """One page per application: protocol, outcome, reason and how to appeal. `window`: the
    letters of one window (each says which); none to write, a page says so under `town`
    (`undecided`: how many applications of it have no decision yet, so no letter)."""
    page = _Page(t("Decision on your application for grocery vouchers"), language)
    for decision in decisions:
        page.new_page(decision.town)
        facts: list[tuple[Text, str]] = [(t("Protocol"), decision.protocol)]
        if window is not None:
            facts.append((t("Application window"), str(window)))
        page.facts(
            [
                *facts,
                (t("Submitted on"), page.value(Moment(decision.submitted_at))),
                (t("Members"), str(decision.household_size)),
                (t("Date of this letter"), page.value(Day(now.date()))),
            ]
        )
        page.paragraph(_outcome(page, decision), 11.5)
        if decision.amount_cents > 0 and decision.revoked_at is None:
            page.paragraph(
                t(
                    "The amount is credited to your balance: pay at the participating shops "
                    "with the code we send you, or with your voucher card and the code the "
                    "cashier asks for."
                )
            )
        page.paragraph(APPEAL)
        page.paragraph(_appeal_by_chat(decision.appeal_days))
        page.paragraph(LEGAL_BASIS, 9)
    if not decisions:
        page.new_page(town)
        if window is None:
            page.paragraph(t("There is no application to write to."))
        elif undecided:
            page.paragraph(
                tn(
                    "Window {number}: {count} application on paper waits for its decision; "
                    "its letter is written once it is decided.",
                    "Window {number}: {count} applications on paper wait for their decision; "
                    "their letters are written once they are decided.",
                    undecided,
                    number=str(window),
                )
            )
        else:
            page.paragraph(t("No one applied on paper in window {number}.", number=str(window)))
    return page.output()


def receipt_pdf(decision: Decision, language: str) -> bytes:
    """The receipt handed to whoever brought a paper application: its protocol number."""
    page = _Page(t("Receipt of your application for grocery vouchers"), language)
    page.new_page(decision.town)
    page.facts(
        [
            (t("Protocol"), decision.protocol),
            (t("Submitted on"), page.value(Moment(decision.submitted_at))),
            (t("Members"), str(decision.household_size)),
        ]
    )
    page.paragraph(
        t(
            "Keep this receipt: quote the protocol number when you ask about your application, "
            "at the office or in the chat (write STATO)."
        ),
        11.5,
    )
    page.paragraph(LEGAL_BASIS, 9)
    return page.output()


def shop_statement_pdf(data: ShopStatement, language: str) -> bytes:
    page = _Page(t("Statement of the shop {shop}", shop=data.shop), language)
    page.new_page(data.town)
    statement = data.statement
    page.facts(
        [
            (t("Partita IVA"), data.vat_number),
            (t("IBAN"), data.iban),
            (
                t("Period"),
                page.say(
                    # The period ends at midnight after its last day: the page names the
                    # days, the last one included, not that midnight.
                    t(
                        "from {start} to {end}, both days included",
                        start=Day(data.since.date()),
                        end=Day((data.until - timedelta(microseconds=1)).date()),
                    )
                ),
            ),
            (t("Payments"), page.value(statement.payments)),
            (t("Paid with vouchers"), page.value(Money(statement.paid_cents))),
            # "Rimborso" is the town paying the shop (the line below): money given back to a
            # customer is a "storno", as the till says.
            (t("Refunds to customers"), page.value(statement.refunds)),
            (t("Refunded to customers"), page.value(Money(statement.refunded_cents))),
            (t("To be reimbursed now"), page.value(Money(statement.to_be_reimbursed_cents))),
        ]
    )
    if data.payments:
        page.table(
            [t("When"), t("Amount"), t("State")],
            [
                [
                    page.value(Moment(when)),
                    page.value(Money(cents)),
                    page.say(t("refunded to the customer") if status == "refunded" else t("paid")),
                ]
                for when, cents, status in data.payments
            ],
            (60, 40, 40),
        )
    return page.output()
