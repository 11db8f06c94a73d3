"""The core's refusals as sentences for the office in the browser, with the HTTP status.

Codes only the back-office meets get their sentence here; the others reuse the dialogue's
sentence (core.dialogue.errors), which already exists in every language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

from core.dialogue.errors import GENERIC, error_text
from core.domain.errors import Conflict, DomainError, NotAllowed, NotFound, PolicyError, Refusal
from core.domain.messages import Day, Moment, Money, Text, t, tn


def _moment(value: object, *, seconds: bool = False) -> Moment | str:
    try:
        return Moment(datetime.fromisoformat(str(value)), seconds=seconds)
    except ValueError:
        return str(value)


# What is wrong with a field of the correction form, named as the page labels it.
FIELD_SENTENCES: dict[str, Text] = {
    "liquidity": t("Liquidity: write an amount in euro from 0 to 10.000.000, e.g. 1.234,56."),
    "public_support_monthly": t(
        "Public support a month: write an amount in euro from 0 to 10.000.000, e.g. 1.234,56."
    ),
    "rent_monthly": t("Rent a month: write an amount in euro from 0 to 10.000.000, e.g. 1.234,56."),
    "has_work_income": t("Work income: choose yes or no."),
    "has_pension": t("Pension: choose yes or no."),
}


def refusal_day(value: object) -> Day | str:
    """A refusal's day (an ISO date in its parameters) as the reader writes days; anything
    else as it came. The command line's refusals use it too (buonispesa.cli.refusals)."""
    try:
        return Day(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _bad_date(p: Mapping[str, object]) -> Text:
    """The date the office's date fields read, as the desk's form reads one: day/month/year
    in digits or year-month-day (application_csv.italian_day), both said, since both are
    accepted; the example is a real date near today (the form's own), and what was typed is
    repeated."""
    try:
        example = date.fromisoformat(str(p.get("example")))
    except ValueError:
        example = date(2026, 4, 30)
    typed = str(p.get("value", "")).strip()
    if typed:
        return t(
            "{value} is not a date: write it as day/month/year in digits, for example "
            "{example}, or as year-month-day, {iso}.",
            value=typed,
            example=f"{example:%d/%m/%Y}",
            iso=example.isoformat(),
        )
    return t(
        "Write the date as day/month/year in digits, for example {example}, or as "
        "year-month-day, {iso}.",
        example=f"{example:%d/%m/%Y}",
        iso=example.isoformat(),
    )


def _act_decided(p: Mapping[str, object]) -> Text:
    """An act someone already decided: approved (carried out) or withdrawn (not), by whom
    and when, so that a second click never reads as a failure of the first."""
    who, when = str(p.get("decided_by") or ""), str(p.get("decided_at") or "")
    if not who or not when:
        return t("This act has already been approved or withdrawn.")
    if p.get("status") == "approved":
        return t(
            "Act {number} was already approved by {who} on {moment} and carried out: there "
            "is nothing to approve again.",
            number=str(p["act_id"]),
            who=who,
            moment=_moment(when),
        )
    reason = str(p.get("reason") or "")
    if reason:
        return t(
            "Act {number} was withdrawn by {who} on {moment} (reason: {reason}): it was not "
            "carried out.",
            number=str(p["act_id"]),
            who=who,
            moment=_moment(when),
            reason=reason,
        )
    return t(
        "Act {number} was withdrawn by {who} on {moment}: it was not carried out.",
        number=str(p["act_id"]),
        who=who,
        moment=_moment(when),
    )


def _already_prepared(p: Mapping[str, object]) -> Text:
    """One open act per kind: an economia's says which act waits, and where (the clerk
    reads it in the determina's row, the act listed further down the fund's page). The
    operator's own draft asked again (a "Prepare" clicked twice): which act it is, and that
    nothing was prepared a second time."""
    if p.get("again") and p.get("act_id") is not None:
        return t(
            "You had already prepared act {number}: another operator with the manager role "
            "must approve it. Nothing was prepared twice.",
            number=str(p["act_id"]),
        )
    if p.get("kind") == "economia" and p.get("act_id") is not None:
        return t(
            "Economia act {number} is already waiting for approval (below, among the acts "
            "waiting): one economia at a time, approve or withdraw it first.",
            number=str(p["act_id"]),
        )
    return t("An act of this kind is already waiting for approval: approve or withdraw it first.")


def field_problem(p: Mapping[str, object]) -> Text:
    """The sentence for a field of the correction form (names as in the CSV or the form)."""
    field = str(p["field"]).removesuffix("_cents")
    return FIELD_SENTENCES[field]


def name_not_sepa(p: Mapping[str, object]) -> Text:
    """A name a SEPA file cannot carry: whose, so the office knows what to correct."""
    if p.get("shop_id") is None:
        return t(
            "The municipality's name {name} has no letter or digit a SEPA bank file can "
            "carry, even transliterated. Nothing was paid and no file was written.",
            name=repr(str(p["name"])),
        )
    return t(
        "The name of shop {id}, {name}, has no letter or digit a SEPA bank file can carry, "
        "even transliterated: the bank would refuse the whole file. Nothing was paid and "
        "no file was written. Correct the name as on the shop's bank account, on the Shops "
        "page.",
        id=str(p["shop_id"]),
        name=repr(str(p["name"])),
    )


# Why an identity binding was refused (core/services/identity/claiming.py: decide_claim's reasons).
IDENTITY_REASONS: dict[str, Text] = {
    "phone_bound": t(
        "This phone belongs to another household of the municipality: one phone, one "
        "household. Nothing was changed."
    ),
    "telegram_bound": t(
        "This Telegram account belongs to another citizen of the municipality. Nothing was changed."
    ),
    "codice_fiscale_bound": t(
        "This codice fiscale already has another phone on file: change that phone first. "
        "Nothing was changed."
    ),
}


def _number_own(p: Mapping[str, object]) -> Text:
    """A number this citizen's own waiting request already names, as the other kind."""
    if p.get("kind") == "delegate":
        return t(
            "{phone} is the delegate already asked for this citizen (request {number}): the "
            "citizen's own phone cannot also be their delegate. Nothing was changed.",
            phone=str(p["phone"]),
            number=str(p["change_id"]),
        )
    return t(
        "{phone} is the new phone already asked for this citizen (request {number}): a "
        "delegate needs a phone other than the citizen's own. Nothing was changed.",
        phone=str(p["phone"]),
        number=str(p["change_id"]),
    )


# Refusals the office meets the same way in the browser and on the command line
# (buonispesa/cli/refusals.py adds its own beside them): each sentence written once.
def role_refused(p: Mapping[str, object]) -> Text:
    """Whom to ask: a clerk refused an approval needs a manager; a viewer only reads; an act
    is withdrawn by a manager or by whoever prepared it."""
    needed = str(p.get("needed", "")).split("+")
    if p.get("or_preparer"):
        # Withdrawing an act: its preparer may too, whatever their role.
        return t(
            "Only a manager, or the operator who prepared this act, can withdraw it: ask "
            "them. Nothing was changed."
        )
    if needed == ["manager"]:
        return t("Only a manager can do this: ask a manager of your office.")
    if p.get("role") == "viewer":
        return t("Your account can only read: this needs a clerk or a manager.")
    return t("Your role does not allow this.")


def execution_date_closed(p: Mapping[str, object]) -> Text:
    """A day the bank executes no SEPA transfer (core.domain.business_days), and the next
    one it does."""
    day, after = refusal_day(p["execution_date"]), refusal_day(p["next"])
    if p.get("closed") == "saturday":
        return t(
            "The execution date {day} is a Saturday: the bank executes a SEPA transfer only "
            "on a business day. Choose {next}, the next one.",
            day=day,
            next=after,
        )
    if p.get("closed") == "sunday":
        return t(
            "The execution date {day} is a Sunday: the bank executes a SEPA transfer only "
            "on a business day. Choose {next}, the next one.",
            day=day,
            next=after,
        )
    return t(
        "The execution date {day} is a bank holiday (TARGET2 is closed on 1 January, Good "
        "Friday, Easter Monday, 1 May, 25 and 26 December): the bank executes no SEPA "
        "transfer on it. Choose {next}, the next business day.",
        day=day,
        next=after,
    )


SHARED_SENTENCES: dict[str, Callable[[Mapping[str, object]], Text]] = {
    "operator.role_refused": role_refused,
    "reimbursement.execution_date_closed": execution_date_closed,
    Refusal.DELEGATE_CHANGED: lambda p: t(
        "This citizen's delegate is now {phone}, not the one you meant: nothing was done.",
        phone=str(p["phone"]),
    ),
    "window.changed": lambda p: (
        t(
            "Nothing was closed: window {expected} is no longer the open one, because a window "
            "was closed and another opened in the meantime (the open one is now window "
            "{number}). Look again at what closing it means.",
            expected=str(p["expected"]),
            number=str(p["number"]),
        )
        if p.get("action") == "close"
        else t(
            "Nothing was opened: window {expected} is no longer the next one, because a window "
            "was opened or closed in the meantime (the next is now window {number}). Look "
            "again at what opening it means.",
            expected=str(p["expected"]),
            number=str(p["number"]),
        )
    ),
    "window.bad_days": lambda p: t(
        "An application window lasts from 1 to {most} days, not {days}. Nothing was opened.",
        most=int(str(p["most"])),
        days=int(str(p["days"])),
    ),
    "fund.exceeded": lambda p: t(
        "The budget {budget} is more than what is left of the municipality's fund: {left} "
        "(fund {fund}, of which {committed} already committed by determine approved or "
        "waiting for approval). Nothing was prepared or approved: record the money received "
        "first, or lower the budget.",
        budget=Money(int(str(p["budget_cents"]))),
        left=Money(max(0, int(str(p["left_cents"])))),
        fund=Money(int(str(p["fund_cents"]))),
        committed=Money(int(str(p["committed_cents"]))),
    ),
    "economia.bad_amount": lambda p: t(
        "An economia frees more than zero and at most what the determina left unassigned: "
        "{rest} (budget {budget}, allocated {allocated}, already freed {freed}); {amount} was "
        "asked. Nothing was prepared or freed.",
        amount=Money(int(str(p["amount_cents"]))),
        rest=Money(int(str(p["rest_cents"]))),
        budget=Money(int(str(p["budget_cents"]))),
        allocated=Money(int(str(p["allocated_cents"]))),
        freed=Money(int(str(p["freed_cents"]))),
    ),
    "economia.nothing_left": lambda p: t(
        "Tranche {tranche} of window {window} has nothing left to free: its budget {budget} "
        "is allocated or already freed. Nothing was prepared or freed.",
        tranche=str(p["tranche"]),
        window=str(p["window"]),
        budget=Money(int(str(p["budget_cents"]))),
    ),
    "economia.not_credited": lambda p: t(
        "Tranche {tranche} of window {window} is not credited yet: an economia frees what a "
        "credited determina left unassigned. Until its credit, withdraw the determina "
        "instead (its whole budget goes back to the fund).",
        tranche=str(p["tranche"]),
        window=str(p["window"]),
    ),
    "economia.no_determina": lambda p: t(
        "The form did not say which determina to free the rest of: it was not sent from this "
        "page, or from a page kept open too long. Use the form in the determina's row below."
    ),
    "economia.not_found": lambda p: t(
        "No determina {number} of this municipality stands (approved and not withdrawn).",
        number=str(p["allocation_id"]),
    ),
    "economia.reference_missing": lambda p: t(
        "Write the reference of the town's act that frees the money (for example \"det. n. "
        '123/2026").'
    ),
    "economia.reference_too_long": lambda p: t(
        "The reference is too long: at most {limit} characters.", limit=str(p["limit"])
    ),
    "economia.date_future": lambda p: t(
        "The day {day} of the act is still to come (today is {today}): record an economia "
        "once its act is adopted. Nothing was prepared or freed.",
        day=refusal_day(p["day"]),
        today=refusal_day(p["today"]),
    ),
    "economia.date_before_determina": lambda p: t(
        "The day {day} of the act is before {determina_day}, the day of the determina of "
        "tranche {tranche} of window {window} whose rest it frees: check the day and the "
        "tranche. Nothing was prepared or freed.",
        day=refusal_day(p["day"]),
        determina_day=refusal_day(p["determina_day"]),
        tranche=str(p["tranche"]),
        window=str(p["window"]),
    ),
    "economia.date_too_old": lambda p: t(
        "The day {day} of the act is before {earliest}, when the money for these vouchers "
        "began: check the year. Nothing was prepared or freed.",
        day=refusal_day(p["day"]),
        earliest=refusal_day(p["earliest"]),
    ),
    "fund.none": lambda p: t(
        "No fund is recorded for this municipality, so a determina has no money to commit. "
        "Record what it received for the vouchers (the State's fondo di solidarietà "
        "alimentare, its own money) on the Fund page first."
    ),
    "fund.amount_implausible": lambda p: t(
        "{amount} is not a plausible amount: at most {most} per entry. Check the digits. "
        "Nothing was recorded.",
        amount=Money(int(str(p["amount_cents"]))),
        most=Money(int(str(p["most_cents"]))),
    ),
    "act.budget_implausible": lambda p: t(
        "{budget} is not a plausible budget: at most {most}. Check the digits. Nothing was "
        "prepared or approved.",
        budget=Money(int(str(p["budget_cents"]))),
        most=Money(int(str(p["most_cents"]))),
    ),
    "fund.bad_amount": lambda p: t(
        "The amount must be more than zero. To take back an amount recorded by mistake, "
        "correct its entry."
    ),
    "fund.bad_correction": lambda p: t(
        "Entry {number} holds {amount} that can still be taken back: a correction must be "
        "more than zero and at most that.",
        number=str(p["entry_id"]),
        amount=Money(int(str(p["left_cents"]))),
    ),
    "fund.below_committed": lambda p: t(
        "Taking back {amount} would leave the fund below what determine already commit "
        "({committed} of a fund of {fund}). Withdraw a determina not yet credited first, or "
        "record where the money came from.",
        amount=Money(int(str(p["amount_cents"]))),
        committed=Money(int(str(p["committed_cents"]))),
        fund=Money(int(str(p["fund_cents"]))),
    ),
    "identity.phone_already": lambda p: t(
        "{phone} is already this citizen's number, recorded by the office: nothing was "
        "changed and nobody was told again.",
        phone=str(p["phone"]),
    ),
    "fund.duplicate_correction": lambda p: t(
        "Entry {number} already takes back {amount} of entry {corrected} with this "
        "description. Nothing was taken back: if this is another correction, say why in "
        "other words.",
        number=str(p["entry_id"]),
        amount=Money(int(str(p["amount_cents"]))),
        corrected=str(p["corrects_id"]),
    ),
    "fund.description_missing": lambda p: t(
        "Write where the money comes from (or why the correction)."
    ),
    "fund.description_too_long": lambda p: t(
        "The description is too long: at most {limit} characters.", limit=str(p["limit"])
    ),
    "fund.date_future": lambda p: t(
        "The day {day} is still to come: record money when it has been received (today is "
        "{today}). Nothing was recorded.",
        day=refusal_day(p["day"]),
        today=refusal_day(p["today"]),
    ),
    "fund.date_too_old": lambda p: t(
        "The day {day} is before {earliest}, when the money for these vouchers began: check "
        "the year. Nothing was recorded.",
        day=refusal_day(p["day"]),
        earliest=refusal_day(p["earliest"]),
    ),
    "fund.entry_not_found": lambda p: t(
        "There is no receipt {number} in this municipality's fund.", number=str(p["entry_id"])
    ),
    "operator.not_found": lambda p: t(
        "There is no operator {username} in this municipality.", username=str(p["username"])
    ),
    "operator.disabled": lambda p: t(
        "Operator {username} is already disabled.", username=str(p["username"])
    ),
    "operator.not_disabled": lambda p: t(
        "Operator {username} is not disabled.", username=str(p["username"])
    ),
    "appeal.not_upheld": lambda p: t(
        "Application {protocol} has no upheld appeal: its answers are corrected on appeal "
        "only while the latest appeal against its decision stands upheld.",
        protocol=str(p["protocol"]),
    ),
    "application.unchanged": lambda p: t("Nothing to correct: the answers are the same as before."),
    "appeal.past_window": lambda p: t(
        "Application {protocol} belongs to an earlier window than window {number}: no tranche "
        "can pay it any more, so correcting its answers would change nothing.",
        protocol=str(p["protocol"]),
        number=str(p["window"]),
    ),
    "appeal.tranche_waiting": lambda p: t(
        "Tranche {tranche} was approved on the answers of application {protocol} as they were "
        "and is not credited yet: credit it, or withdraw it, before correcting them. Nothing "
        "was changed.",
        protocol=str(p["protocol"]),
        tranche=str(p["tranche"]),
    ),
    "phone_change.waiting": lambda p: t(
        "A new phone for this citizen ({phone}) already waits for approval (request "
        "{number}): approve or withdraw it first.",
        phone=str(p["phone"]),
        number=str(p["change_id"]),
    ),
    "application.phone_change_waiting": lambda p: t(
        "A new phone for this person ({phone}) waits for a second operator's approval "
        "(request {number}): until the request is approved or withdrawn, no other number "
        "can be given to them. Approve or withdraw it first, or leave the phone empty: the "
        "application is then entered without it.",
        phone=str(p["phone"]),
        number=str(p["change_id"]),
    ),
    "application.phone_needs_approval": lambda p: t(
        "This person has money to spend (vouchers, a payment waiting for its code, or a "
        "tranche not credited yet): one operator alone cannot give them a phone number, a "
        "second operator must approve it. Leave the phone empty: the application is entered "
        "without it. Then ask for the new phone on the application's page: a manager other "
        "than you approves it."
    ),
    "application.phone_bound_meanwhile": lambda p: t(
        "While the file was being imported this person was given a phone number from their "
        "own chat, so the number on this line was not given to them: nothing was imported. "
        "Import the file again."
    ),
    "phone_change.not_found": lambda p: t("There is no such phone change."),
    "request.not_found": lambda p: t("There is no such request."),
    "request.not_waiting": lambda p: t("This request has already been approved or withdrawn."),
    "request.same_person": lambda p: t(
        "You asked this: a manager other than you must approve it (four eyes)."
    ),
    "delegate.request_waiting": lambda p: t(
        "A delegate for this citizen ({phone}) already waits for approval (request "
        "{number}): approve or withdraw it first.",
        phone=str(p["phone"]),
        number=str(p["change_id"]),
    ),
    "card.request_waiting": lambda p: t(
        "A card for this citizen already waits for its approval or its printing (request "
        "{number}): finish or withdraw it first.",
        number=str(p["change_id"]),
    ),
    "card.already_printed": lambda p: t(
        "There is no approved card to print: it was printed already (its codes are printed "
        "only once), or withdrawn. If the holder did not get it, ask for a new card."
    ),
    "card.not_approved": lambda p: t(
        "The card (request {number}) still waits for the approval of a manager other than "
        "whoever asked it: it can be printed once approved. Nothing was printed.",
        number=str(p["change_id"]),
    ),
    "card.print_not_yours": lambda p: t(
        "Only the operator who asked this card, or the manager who approved it, prints it."
    ),
    "request.other_citizen": lambda p: t(
        "Request {number} was not asked for this person: nothing was printed or changed. "
        "Open the application of the person it was asked for.",
        number=str(p["change_id"]),
    ),
    "request.number_asked": lambda p: t(
        "{phone} is already asked for another household (request {number}): one phone, one "
        "household. Nothing was changed.",
        phone=str(p["phone"]),
        number=str(p["change_id"]),
    ),
    "request.number_own": _number_own,
    "identity.phone_change_waiting": lambda p: t(
        "A new phone for this citizen waits for a second operator's approval: until the "
        "request is approved or withdrawn, no other number is given to them. Nothing was "
        "changed."
    ),
    "identity.phone_is_delegate": lambda p: t(
        "{phone} is a delegate's phone in this municipality: a phone speaks for one person "
        "only. Nothing was changed.",
        phone=str(p["phone"]),
    ),
    "card.print_expired": lambda p: t(
        "Card request {number} was approved but not printed by {until}: it expired, and no "
        "card or codes were made. Ask for a new card; a manager other than you approves it "
        "again.",
        number=str(p["change_id"]),
        until=_moment(p["print_by"]),
    ),
    "delegate.needs_approval": lambda p: t(
        "This citizen has vouchers to spend or a payment waiting: a delegate must be asked "
        "from the application's page and approved by a second operator."
    ),
    "card.needs_approval": lambda p: t(
        "This citizen has vouchers to spend or a payment waiting: a card must be asked from "
        "the application's page and approved by a second operator."
    ),
    "shop.not_locked": lambda p: t(
        "Shop {id} ({name}) is not locked: nothing was changed, and its count of wrong "
        "codes goes on.",
        id=str(p["shop_id"]),
        name=str(p["name"]),
    ),
    "payment.codes_not_stopped": lambda p: t(
        "This citizen's payment codes are not stopped: nothing was changed."
    ),
    "phone_change.not_waiting": lambda p: t(
        "This phone change has already been approved or withdrawn."
    ),
    "phone_change.chat_unlinked": lambda p: t(
        "The Telegram chat that asked this number no longer speaks for the citizen: nothing "
        "was changed. Withdraw the request; the citizen asks for a new phone at the office."
    ),
    "phone_change.not_checked": lambda p: t(
        "The citizen's Telegram chat shared this number: an operator who checked the citizen "
        "(a call, an identity document) says so first, then a manager other than them "
        "approves it."
    ),
    "phone_change.checked": lambda p: t(
        "An operator has already checked this number: a manager other than them approves it."
    ),
    "phone_change.same_person": lambda p: t(
        "You asked this phone change: a manager other than you must approve it (four eyes)."
    ),
    "act.reason_missing": lambda p: t("Write the reason."),
    "act.reason_too_long": lambda p: t(
        "The reason is too long: at most {limit} characters.", limit=int(str(p["limit"]))
    ),
    "window.already_open": lambda p: t(
        "The application window is already open until {until}.", until=_moment(p["closes_at"])
    ),
    "window.not_open": lambda p: t("The application window is not open."),
    "window.not_confirmed": lambda p: (
        t("No window was opened: confirm on the page that explains what opening one means.")
        if p.get("action") == "open"
        else t("The window was not closed: confirm on the page that explains what closing means.")
    ),
    "office.not_confirmed": lambda p: t(
        "Nothing was done: confirm on the page that says what it does and that it cannot be undone."
    ),
    "allocation.already_credited": lambda p: t(
        "Tranche {tranche} has already been credited.", tranche=str(p["tranche"])
    ),
    "application.not_found": lambda p: t(
        "There is no application with protocol {protocol}.", protocol=str(p["protocol"])
    ),
    "application.already_revoked": lambda p: t(
        "Application {protocol} has already been revoked.", protocol=str(p["protocol"])
    ),
    "application.not_decided": lambda p: t(
        "Application {protocol} has not been decided yet: its decision letter is printed once "
        "a tranche that decides it is credited, or once it is revoked or withdrawn.",
        protocol=str(p["protocol"]),
    ),
    "application.nothing_to_revoke": lambda p: t(
        "Application {protocol} has nothing to revoke: it was given nothing, nothing of it "
        "waits to be credited, and no tranche can still pay it (it is excluded, or of an "
        "earlier window). A revocation would only tell the applicant that vouchers they "
        "never had were revoked.",
        protocol=str(p["protocol"]),
    ),
    "application.already_applied": lambda p: t(
        "{cf} has already applied in this round.", cf=str(p["codice_fiscale"])
    ),
    "shop.refusal_reason_missing": lambda p: t("Write the reason for the refusal."),
    "shop.refusal_reason_too_long": lambda p: t(
        "The reason is too long for one SMS: at most {limit} characters.",
        limit=int(str(p["limit"])),
    ),
    "reimbursement.nothing_due": lambda p: t(
        "No shop is owed anything: there is nothing to reimburse."
    ),
    "audit.bad_request": lambda p: t(
        "The sample needs a percentage above 0 and at most 100, and a whole number as seed."
    ),
    "audit.not_in_sample": lambda p: t(
        "Application {protocol} is not in a sample drawn for checks.", protocol=str(p["protocol"])
    ),
    "audit.bad_outcome": lambda p: t("Choose the outcome: confirmed or discrepancy found."),
    "audit.window_open": lambda p: t(
        "Window {number} is still open: its declarations can still change. Draw the sample "
        "of a closed window.",
        number=str(p["number"]),
    ),
    "audit.no_window": lambda p: t("Choose the window whose applications to sample."),
    "audit.note_too_long": lambda p: t(
        "The note is too long: at most {limit} characters.", limit=int(str(p["limit"]))
    ),
    "application.not_revoked": lambda p: t(
        "Application {protocol} is not revoked: there is nothing to undo.",
        protocol=str(p["protocol"]),
    ),
    "application.revocation_erased": lambda p: t(
        "The applicant of {protocol} was erased at their request after the revocation: it "
        "can no longer be undone, and what it took back stays in the fund.",
        protocol=str(p["protocol"]),
    ),
    "application.revocation_undone": lambda p: t(
        "The revocation of application {protocol} was already undone on {when}.",
        protocol=str(p["protocol"]),
        when=_moment(p["undone_at"]),
    ),
    "appeal.not_found": lambda p: t("There is no such appeal."),
    "appeal.not_open": lambda p: t("This appeal has already been decided."),
    "appeal.bad_outcome": lambda p: t("Choose the decision: upheld or rejected."),
    "application.withdrawn": lambda p: t(
        "Application {protocol} has been withdrawn.", protocol=str(p["protocol"])
    ),
    "shop.name_too_long": lambda p: t(
        "The name is too long: at most {max} characters.", max=int(str(p["limit"]))
    ),
    "shop.name_not_sepa": lambda p: t(
        "{name} has no letter or digit a SEPA bank transfer can carry, even transliterated: "
        "write the name in Latin letters, as on the shop's bank account.",
        name=repr(str(p["name"])),
    ),
    "delegate.own_phone": lambda p: t(
        "{phone} is the citizen's own number: a delegate has another phone.", phone=str(p["phone"])
    ),
    "delegate.phone_taken": lambda p: t(
        "{phone} is already the delegate of another citizen of this municipality.",
        phone=str(p["phone"]),
    ),
    "delegate.phone_is_citizen": lambda p: t(
        "{phone} belongs to another voucher holder of this municipality: a phone speaks for "
        "one person only.",
        phone=str(p["phone"]),
    ),
    "identity.phone_is_shop": lambda p: t(
        "{phone} charges vouchers for a shop: it cannot be a citizen's phone, or that shop "
        "would receive the citizen's payment codes. Nothing was changed.",
        phone=str(p["phone"]),
    ),
    "delegate.phone_is_shop": lambda p: t(
        "{phone} charges vouchers for a shop: it cannot receive a citizen's payment codes.",
        phone=str(p["phone"]),
    ),
}


_SENTENCES: dict[str, Callable[[Mapping[str, object]], Text]] = {
    **SHARED_SENTENCES,
    "operator.sign_in_refused": lambda p: t("Wrong username or password."),
    "operator.locked": lambda p: t(
        "Too many wrong passwords: this account is locked until {until}.",
        until=_moment(p["until"]),
    ),
    "operator.password_too_short": lambda p: t(
        "The new password needs at least {limit} characters.", limit=int(str(p["limit"]))
    ),
    "operator.current_password_wrong": lambda p: t(
        "The current password is not right: type the one you signed in with. Wrong tries "
        "left before you are signed out on every computer for {minutes} minutes: {left}.",
        minutes=int(str(p.get("minutes", 0))),
        left=int(str(p.get("left", 0))),
    ),
    "operator.password_change_locked": lambda p: t(
        "Too many wrong current passwords: you were signed out on every computer, and this "
        "browser may sign in again at {until}. Not you who typed them? Tell the "
        "installation administrator.",
        until=_moment(p["until"]),
    ),
    "operator.password_unchanged": lambda p: t(
        "The new password must differ from the current one."
    ),
    "operator.password_easy": lambda p: t(
        "This password is too easy to guess: it is a common password or word, a keyboard "
        "pattern, or repeated or sequential characters. Choose a longer phrase of a few "
        "unrelated words."
    ),
    "operator.password_names_operator": lambda p: t(
        "The new password must not contain your username."
    ),
    "operator.password_names_town": lambda p: t(
        "The new password must not contain the name of the municipality."
    ),
    "act.same_person": lambda p: t(
        "You prepared this act: another manager must approve it (four eyes)."
    ),
    "act.not_open": lambda p: _act_decided(p),
    "phone_change.needs_approval": lambda p: t(
        "This citizen has vouchers to spend or a payment waiting: a new phone must be asked "
        "from the application's page and approved by a second operator."
    ),
    "act.already_prepared": lambda p: _already_prepared(p),
    "act.not_found": lambda p: t("There is no such act."),
    "act.kind_missing": lambda p: t(
        "The form did not say which act to prepare: it was not sent from this office's page, "
        "or from a page open since an update. Open the page again and use its button."
    ),
    "act.bad_budget": lambda p: t("The budget must be more than zero."),
    "allocation.pays_nobody": lambda p: t(
        "With the budget {budget} this tranche would pay nobody: every household of the "
        "window already has all it is due, or the window has no application. Nothing was "
        "prepared or approved.",
        budget=Money(int(str(p["budget_cents"]))),
    ),
    "fund.duplicate": lambda p: t(
        "Entry {number} already records {amount} received on {day} with this description. "
        "Nothing was recorded: if this is a second receipt, tick the box to record it again.",
        number=str(p["entry_id"]),
        amount=Money(int(str(p["amount_cents"]))),
        day=refusal_day(p["day"]),
    ),
    "fund.entry_is_correction": lambda p: t(
        "Entry {number} is a correction of entry {corrected}: to take back more, or less, "
        "correct entry {corrected}.",
        number=str(p["entry_id"]),
        corrected=str(p["corrects_id"]),
    ),
    "act.budget_mismatch": lambda p: t(
        "The budget typed again ({confirmed}) differs from the budget of the determina "
        "({budget}): nothing was prepared. Type the same budget twice.",
        confirmed=Money(int(str(p["confirmed_cents"]))),
        budget=Money(int(str(p["budget_cents"]))),
    ),
    "act.budget_unspent": lambda p: t(
        "With this budget {amount} would stay unspent: every household would already get all "
        "it is due. Check the determina and type the budget again to confirm it.",
        amount=Money(int(str(p["unspent_cents"]))),
    ),
    "act.figures_changed": lambda p: t(
        "The applications changed since the act's figures were shown: nothing was approved. "
        "Look at the figures again."
    ),
    "act.other_tranche": lambda p: t(
        "This credit was prepared for tranche {prepared}, but tranche {waiting} is waiting "
        "now: withdraw it and prepare a new one.",
        prepared=str(p["prepared"]),
        waiting=str(p["waiting"]),
    ),
    "round.not_found": lambda p: t("There is no window {number}.", number=str(p["number"])),
    "window.still_open": lambda p: t("The application window is still open: close it first."),
    "round.none": lambda p: t("There is no application window yet: open one first."),
    "allocation.none": lambda p: t("There is no approved tranche waiting to be credited."),
    "allocation.tranche_not_found": lambda p: t(
        "Window {window} has no tranche {tranche}.",
        window=str(p["window"]),
        tranche=str(p["tranche"]),
    ),
    "allocation.not_yet_credited": lambda p: t(
        "Tranche {tranche} is approved but not credited yet: credit it first.",
        tranche=str(p["tranche"]),
    ),
    "window.tranche_waiting": lambda p: t(
        "Tranche {tranche} is approved but not credited: credit it, or withdraw it, before "
        "opening a new window. Nothing was opened.",
        tranche=str(p["tranche"]),
    ),
    "window.never_allocated": lambda p: tn(
        "Window {number} has {count} application never allocated: approve its tranche first. "
        "Nothing was opened.",
        "Window {number} has {count} applications never allocated: approve their tranche "
        "first. Nothing was opened.",
        int(str(p["count"])),
        number=str(p["window"]),
    ),
    "shop.not_found": lambda p: t("There is no such shop in this municipality."),
    "shop.already_approved": lambda p: t("This shop is already approved."),
    "reimbursement.no_iban": lambda p: t(
        "The municipality has no IBAN: the bank file needs the account that pays."
    ),
    "reimbursement.name_not_sepa": lambda p: name_not_sepa(p),
    "reimbursement.execution_date_past": lambda p: t(
        "The execution date {day} is in the past: choose today or a later day.",
        day=refusal_day(p["execution_date"]),
    ),
    "reimbursement.execution_date_too_late": lambda p: t(
        "The execution date {day} is too far ahead: choose a day up to {latest}.",
        day=refusal_day(p["execution_date"]),
        latest=refusal_day(p["latest"]),
    ),
    "reimbursement.less_owed": lambda p: t(
        "{shop} is now owed {owed}, less than the {amount} this act pays (a refund since it "
        "was prepared): nothing was paid. Withdraw the act and prepare a new one.",
        shop=str(p["name"]),
        owed=Money(int(str(p["owed_cents"]))),
        amount=Money(int(str(p["cents"]))),
    ),
    "reimbursement.paid_since": lambda p: t(
        "A reimbursement run (SEPA message {reference}, {day}) was ordered after this act "
        "was prepared and paid the shops meanwhile: nothing was paid, so that nobody is paid "
        "twice. Withdraw the act and prepare a new one.",
        reference=str(p["message_id"]),
        day=refusal_day(p["day"]),
    ),
    "reimbursement.balances_changed": lambda p: t(
        "A shop's balance changed meanwhile; nothing was paid. Try again."
    ),
    "audit.redraw_needs_reason": lambda p: t(
        "The sample of this window is already drawn: a new draw needs a reason."
    ),
    "application.outside_window": lambda p: t(
        "dated {submitted}, outside the application window ({opens} – {closes}). Times "
        "without an offset are read as Rome time.",
        submitted=_moment(p["submitted_at"], seconds=True),
        opens=_moment(p["opens_at"], seconds=True),
        closes=_moment(p["closes_at"], seconds=True),
    ),
    "application.dated_in_future": lambda p: t(
        "dated {submitted}, in the future.", submitted=_moment(p["submitted_at"])
    ),
    "application.repeated_codice_fiscale": lambda p: t(
        "The same person appears twice in the file."
    ),
    "application.repeated_phone": lambda p: t(
        "The same phone number appears twice in the file: one phone belongs to one household."
    ),
    "office.csrf": lambda p: t(
        "This form has expired or did not come from this site: reload the page and try again."
    ),
    "office.bad_date": _bad_date,
    "office.bad_amount": field_problem,
    "office.bad_choice": field_problem,
    "application.bad_household_size": lambda p: t(
        "Members of the household: a whole number from 1 to 30."
    ),
    "application.negative_amount": field_problem,
    "application.implausible_amount": field_problem,
    "application.not_paper": lambda p: t(
        "Application {protocol} was made in the chat: only the applicant changes it, while "
        "the window is open.",
        protocol=str(p["protocol"]),
    ),
    "application.frozen": lambda p: t(
        "A determina of this window has been approved: its lists are frozen, and application "
        "{protocol} can no longer be corrected or withdrawn. A false declaration is revoked "
        "after the checks.",
        protocol=str(p["protocol"]),
    ),
    "identity.phone_of_another": lambda p: t(
        "This phone number belongs to another citizen of the municipality ({cf}): one phone, "
        "one household. Nothing was changed.",
        cf=str(p["codice_fiscale"]),
    ),
    "delegate.already": lambda p: t(
        "This citizen already has delegate {phone}: one delegate at a time.",
        phone=str(p["phone"]),
    ),
    "card.already_issued": lambda p: t(
        "This person already has a card: reload the page to issue a new one (the old one "
        "stops working)."
    ),
    # A chat hears one neutral sentence for every identity refusal; the office, who sees
    # the person and their documents, is told which rule it is.
    "identity.refused": lambda p: IDENTITY_REASONS.get(
        str(p.get("reason")),
        t(
            "The codice fiscale and the phone do not match what the office has on file. "
            "Nothing was changed."
        ),
    ),
    "office.bad_file": lambda p: t("Choose a CSV file saved as UTF-8."),
    "office.bad_number": lambda p: t("Write a whole number of days, at least 1."),
    "office.bad_window": lambda p: t("Write the number of a window: a whole number, at least 1."),
    "office.bad_page": lambda p: t(
        "Write a page number from 1 to {most}.", most=int(str(p["most"]))
    ),
    "office.day_out_of_range": lambda p: t(
        "Choose a day from {first} to {last}.",
        first=refusal_day(p["first"]),
        last=refusal_day(p["last"]),
    ),
}


def describe_by(
    sentences: Mapping[str, Callable[[Mapping[str, object]], Text]], error: DomainError
) -> Text:
    """The sentence for a refusal from one of the office's tables, else the dialogue's."""
    if isinstance(error, PolicyError):
        return t("The policy is not valid: {key}: {problem}", key=error.key, problem=error.problem)
    sentence = sentences.get(error.code)
    if sentence is not None:
        try:
            return sentence(error.params)
        except (KeyError, ValueError):
            pass  # a parameter the sentence needs is missing: say less, below
    said = error_text(error)
    return said if said != GENERIC else t("The operation was refused.")


def describe(error: DomainError) -> Text:
    return describe_by(_SENTENCES, error)


def status_of(error: DomainError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, NotAllowed) and error.code.startswith(
        (
            "operator.",
            "act.same",
            "phone_change.same",
            "request.same",
            "card.print_not_yours",
            "office.csrf",
        )
    ):
        return 403
    if isinstance(error, Conflict | NotAllowed):
        return 409
    return 400
