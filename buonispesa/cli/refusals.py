"""Refusals from the core, as sentences the office reads (codes stay visible for support)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from buonispesa.cli.common import say
from core.domain.errors import DomainError, Refusal
from core.domain.messages import Money, Text, t, tn
from core.domain.money import format_plain
from office.refusals import SHARED_SENTENCES, describe_by, refusal_day
from office.refusals import name_not_sepa as page_name_not_sepa


def name_not_sepa(p: Mapping[str, object]) -> Text:
    """A name a SEPA file cannot carry: whose, so the office knows what to correct. The
    municipality's as the office's page says it; a shop's names the command that corrects
    it, where the page names its Shops page."""
    if p.get("shop_id") is None:
        return page_name_not_sepa(p)
    return t(
        "The name of shop {id}, {name}, has no letter or digit a SEPA bank file can carry, "
        "even transliterated: the bank would refuse the whole file. Nothing was paid and "
        "no file was written. Correct the name as on the shop's bank account with "
        "'admin shops rename'.",
        id=str(p["shop_id"]),
        name=repr(str(p["name"])),
    )


def _cents(value: object) -> Money:
    return Money(int(str(value)))


def _pending_request(p: Mapping[str, object]) -> Text:
    """Erasure refused for a request about who receives the person's codes: which one."""
    number = str(p["change_id"])
    kind = p.get("kind", "phone")
    if kind == "delegate":
        return t(
            "A delegate for this person waits for approval (request {number}): approve or "
            "withdraw it first (admin citizen phone-change).",
            number=number,
        )
    if kind == "card" and p.get("status") == "approved":
        return t(
            "An approved card for this person waits to be printed (request "
            "{number}): print it with 'admin card … --by' or withdraw it first (admin "
            "citizen phone-change withdraw).",
            number=number,
        )
    if kind == "card":
        return t(
            "A card for this person waits for approval (request {number}): approve "
            "or withdraw it first (admin citizen phone-change).",
            number=number,
        )
    return t(
        "A new phone for this person waits for approval (request {number}): approve or "
        "withdraw it first (admin citizen phone-change).",
        number=number,
    )


# Refusals only the office meets, or whose sentence for citizens and cashiers would mislead
# the office ("Send STATO…"). Every other code reuses the dialogue's sentence.
_OFFICE_SENTENCES: dict[str, Callable[[Mapping[str, object]], Text]] = {
    **SHARED_SENTENCES,
    Refusal.FUND_NONE: lambda p: t(
        "No fund is recorded for {code}, so a determina has no money to commit. Record what it "
        "received for the vouchers (the State's fondo di solidarietà alimentare, its own "
        "money) first: 'admin fund record {code} --amount EUR --description TEXT'.",
        code=str(p["code"]),
    ),
    Refusal.FUND_DUPLICATE: lambda p: t(
        "Entry {number} already records {amount} received on {day} with this description. "
        "Nothing was recorded: if this is a second receipt, run the command again with "
        "--again.",
        number=str(p["entry_id"]),
        amount=_cents(p["amount_cents"]),
        day=refusal_day(p["day"]),
    ),
    Refusal.FUND_ENTRY_IS_CORRECTION: lambda p: t(
        "Entry {number} is a correction of entry {corrected}: to take back more of it, run "
        "'admin fund correct {code} {corrected}'.",
        number=str(p["entry_id"]),
        code=str(p["code"]),
        corrected=str(p["corrects_id"]),
    ),
    Refusal.ALLOCATION_PAYS_NOBODY: lambda p: t(
        "With the budget {budget} this tranche would pay nobody: every household of the "
        "window already has all it is due, or the window has no application. Nothing was "
        "approved.",
        budget=_cents(p["budget_cents"]),
    ),
    Refusal.ACT_BUDGET_MISMATCH: lambda p: t(
        "--confirm-budget {confirmed} and --budget {budget} differ: nothing was approved. "
        "Give the same budget twice.",
        confirmed=_cents(p["confirmed_cents"]),
        budget=_cents(p["budget_cents"]),
    ),
    Refusal.ACT_BUDGET_UNSPENT: lambda p: t(
        "With the budget {budget} {amount} would stay unspent: every household would already "
        "get all it is due. Nothing was approved: see 'admin allocate', lower the budget, or "
        "type it again with --confirm-budget {typed}.",
        budget=_cents(p["budget_cents"]),
        amount=_cents(p["unspent_cents"]),
        typed=format_plain(int(str(p["budget_cents"]))),
    ),
    Refusal.MUNICIPALITY_NOT_FOUND: lambda p: t(
        "There is no municipality with code {code}: see 'admin municipality list'.",
        code=str(p["code"]),
    ),
    Refusal.MUNICIPALITY_BAD_PRIVACY_URL: lambda p: t(
        "This is not a web address: write it in full, e.g. https://www.comune.example.it/privacy."
    ),
    Refusal.MUNICIPALITY_BAD_OFFICE_CONTACT: lambda p: t(
        "The office's contact must be one line of at most {limit} characters that an SMS can "
        "carry (no emoji), e.g. 0733 905 111, lun-ven 9-12.",
        limit=int(str(p["limit"])),
    ),
    Refusal.MUNICIPALITY_EXISTS: lambda p: t(
        "A municipality with code {code} already exists.", code=str(p["code"])
    ),
    Refusal.MUNICIPALITY_BAD_CODE: lambda p: t(
        "The code {code} is not valid: use 2 to 16 letters or digits, e.g. BEL.",
        code=str(p["code"]),
    ),
    Refusal.MUNICIPALITY_BAD_NAME: lambda p: t(
        "The name of the municipality cannot be empty (at most {limit} characters).",
        limit=int(str(p["limit"])),
    ),
    Refusal.MUNICIPALITY_SMS_NUMBER_TAKEN: lambda p: t(
        "{number} is already the SMS number of {code}.",
        number=str(p["number"]),
        code=str(p["code"]),
    ),
    **{
        f"bic.{reason}": lambda p: t(
            "This BIC is not valid: 8 or 11 letters and digits with the bank's country, "
            "e.g. UNCRITMM."
        )
        for reason in ("format", "length", "component", "checksum", "invalid")
    },
    Refusal.OPERATOR_BAD_USERNAME: lambda p: t(
        "{username} is not a valid username: use 3 to 64 of a-z, 0-9, dot, dash, underscore.",
        username=str(p["username"]),
    ),
    Refusal.OPERATOR_BAD_ROLE: lambda p: t(
        "{role} is not a role: use clerk, manager or viewer.", role=str(p["role"])
    ),
    Refusal.OPERATOR_NOT_FOUND: lambda p: t(
        "There is no operator {username} in this municipality.", username=str(p["username"])
    ),
    Refusal.OPERATOR_EXISTS: lambda p: t(
        "An operator named {username} already exists.", username=str(p["username"])
    ),
    Refusal.DONATIONS_NOT_AVAILABLE: lambda p: t(
        "Donations available to grant: {amount}.", amount=_cents(p["available_cents"])
    ),
    Refusal.AUDIT_WINDOW_OPEN: lambda p: t(
        "Window {number} is still open: its declarations can still change. Name a closed "
        "window with --window.",
        number=str(p["number"]),
    ),
    Refusal.WINDOW_STILL_OPEN: lambda p: t(
        "The application window is still open: close it first with 'admin window close'."
    ),
    Refusal.ROUND_NONE: lambda p: t(
        "This municipality has no application window yet: open one with 'admin window open'."
    ),
    Refusal.ROUND_NOT_FOUND: lambda p: t(
        "There is no application window {number}: windows are numbered from 1 in the order "
        "they were opened.",
        number=str(p["number"]),
    ),
    Refusal.WINDOW_TRANCHE_WAITING: lambda p: t(
        "Tranche {tranche} is approved but not credited: credit it with 'admin credit', or "
        "withdraw it with 'admin approve --withdraw', before opening a new window.",
        tranche=str(p["tranche"]),
    ),
    Refusal.WINDOW_NEVER_ALLOCATED: lambda p: tn(
        "Window {number} has {count} application never allocated: approve its tranche with "
        "'admin approve --budget' and credit it with 'admin credit' before opening a new window.",
        "Window {number} has {count} applications never allocated: approve their tranche with "
        "'admin approve --budget' and credit it with 'admin credit' before opening a new window.",
        int(str(p["count"])),
        number=str(p["window"]),
    ),
    Refusal.ALLOCATION_APPROVED_MEANWHILE: lambda p: t(
        "Tranche {tranche} was approved at the same moment by someone else: nothing was "
        "approved here. Check it with 'admin allocate' before doing anything else.",
        tranche=str(p["tranche"]),
    ),
    Refusal.ALLOCATION_NONE_TO_WITHDRAW: lambda p: t(
        "There is no approved tranche waiting to be credited: nothing to withdraw."
    ),
    Refusal.ALLOCATION_CREDIT_ACT_WAITING: lambda p: t(
        "The office has prepared the credit of tranche {tranche} (act {act}): withdraw that "
        "act in the office first. Nothing was withdrawn.",
        tranche=str(p["tranche"]),
        act=str(p["act_id"]),
    ),
    Refusal.ALLOCATION_NONE: lambda p: t(
        "There is no approved allocation to credit: run 'admin approve' first."
    ),
    Refusal.ALLOCATION_TRANCHE_NOT_FOUND: lambda p: t(
        "Window {window} has no tranche {tranche}.",
        window=str(p["window"]),
        tranche=str(p["tranche"]),
    ),
    Refusal.ALLOCATION_NOT_YET_CREDITED: lambda p: t(
        "Tranche {tranche} is approved but not credited yet: run 'admin credit' first.",
        tranche=str(p["tranche"]),
    ),
    Refusal.APPLICATION_IMPORT_AFTER_APPROVAL: lambda p: t(
        "A tranche of round {round} is already approved: the list it froze must not change, "
        "so no more applications can be imported into this round.",
        round=str(p["round"]),
    ),
    Refusal.APPLICATION_REVOCATION_RETRY: lambda p: t(
        "The balance changed while revoking {protocol}; nothing was changed. "
        "Run the command again.",
        protocol=str(p["protocol"]),
    ),
    Refusal.CITIZEN_NOT_FOUND: lambda p: t("Nobody with this codice fiscale in this municipality."),
    Refusal.IDENTITY_REFUSED: lambda p: t(
        "The codice fiscale already has another phone, or the phone already belongs to "
        "another citizen ({reason}): change a phone with 'admin citizen phone'.",
        reason=str(p["reason"]),
    ),
    Refusal.IDENTITY_PHONE_OF_ANOTHER: lambda p: t(
        "This phone number belongs to another citizen ({cf}): give that citizen another "
        "number first.",
        cf=str(p["codice_fiscale"]),
    ),
    Refusal.CARD_ALREADY_ISSUED: lambda p: t(
        "This person already has card {card}: to replace it (the old one stops working) add "
        "--reissue.",
        card=str(p["card_code"]),
    ),
    Refusal.DELEGATE_ALREADY: lambda p: t(
        "This citizen already has delegate {phone}: remove it first with --remove.",
        phone=str(p["phone"]),
    ),
    Refusal.DELEGATE_NONE: lambda p: t("This citizen has no delegate."),
    Refusal.DELEGATE_CHANGED: lambda p: t(
        "This citizen's delegate is {phone}, not the number you gave: nothing was done. "
        "Check the number, then give the delegate's own with --remove.",
        phone=str(p["phone"]),
    ),
    Refusal.DELEGATE_NEEDS_APPROVAL: lambda p: t(
        "{cf} has vouchers to spend or a payment waiting for its code: a delegate needs a "
        "second operator. Ask it with --by YOUR_OFFICE_USERNAME; a manager who did not ask "
        "approves it with 'admin citizen phone-change approve'.",
        cf=str(p["codice_fiscale"]),
    ),
    Refusal.CARD_NEEDS_APPROVAL: lambda p: t(
        "{cf} has vouchers to spend or a payment waiting for its code: a card needs a second "
        "operator. Ask it with --by YOUR_OFFICE_USERNAME; a manager who did not ask approves "
        "it with 'admin citizen phone-change approve', then one of you prints it with --by.",
        cf=str(p["codice_fiscale"]),
    ),
    Refusal.DELEGATE_REQUEST_WAITING: lambda p: t(
        "A delegate for this citizen ({phone}) waits for approval (request {number}): "
        "approve or withdraw it first (admin citizen phone-change).",
        phone=str(p["phone"]),
        number=str(p["change_id"]),
    ),
    # Said instead of the office page's sentence: here a delegate is also registered at
    # once, and the number is freed by withdrawing the request that names it.
    Refusal.REQUEST_NUMBER_ASKED: lambda p: t(
        "{phone} is already asked for another household (request {number}): one phone, one "
        "household. Nothing was changed. If that request is a mistake, whoever asked it or a "
        "manager withdraws it first (admin citizen phone-change withdraw).",
        phone=str(p["phone"]),
        number=str(p["change_id"]),
    ),
    Refusal.CARD_REQUEST_WAITING: lambda p: t(
        "A card for this citizen waits for its approval or its printing (request {number}): "
        "approve it, print it with --by, or withdraw it (admin citizen phone-change).",
        number=str(p["change_id"]),
    ),
    Refusal.CARD_PRINT_NOT_YOURS: lambda p: t(
        "Only the operator who asked card request {number}, or the manager who approved it, "
        "prints it: give their username with --by.",
        number=str(p["change_id"]),
    ),
    Refusal.REQUEST_NOT_FOUND: lambda p: t(
        "There is no request {number} in this municipality: see 'admin citizen phone-change list'.",
        number=str(p["change_id"]),
    ),
    Refusal.SHOP_NOT_FOUND: lambda p: t(
        "There is no shop {id} in this municipality: see 'admin shops list'.",
        id=str(p["shop_id"]),
    ),
    Refusal.SHOP_MEMBER_NOT_FOUND: lambda p: t(
        "This shop has no member {member}: see 'admin shops members'.",
        member=str(p["member_id"]),
    ),
    Refusal.REIMBURSEMENT_NO_IBAN: lambda p: t(
        "{town} has no IBAN: the bank file needs the account the transfers are paid from.",
        town=str(p["municipality"]),
    ),
    Refusal.REIMBURSEMENT_NAME_NOT_SEPA: name_not_sepa,
    Refusal.REIMBURSEMENT_EXECUTION_DATE_PAST: lambda p: t(
        "The execution date {day} is in the past.", day=refusal_day(p["execution_date"])
    ),
    Refusal.REIMBURSEMENT_EXECUTION_DATE_TOO_LATE: lambda p: t(
        "The execution date {day} is too far ahead: choose a day up to {latest}.",
        day=refusal_day(p["execution_date"]),
        latest=refusal_day(p["latest"]),
    ),
    Refusal.REIMBURSEMENT_BALANCES_CHANGED: lambda p: t(
        "A shop's balance changed while settling (a refund?); nothing was paid. "
        "Run the command again."
    ),
    Refusal.SHOP_ALREADY_APPROVED: lambda p: t(
        "Shop {id} is already approved.", id=str(p["shop_id"])
    ),
    Refusal.PRIVACY_BALANCE_NOT_ZERO: lambda p: t(
        "This person still has {balance} on the card: it must be spent, or revoked with "
        "'admin audit revoke', before the erasure.",
        balance=_cents(p["balance_cents"]),
    ),
    Refusal.PRIVACY_CHARGE_PENDING: lambda p: tn(
        "{count} payment code sent to this person is still valid: try again once it has expired.",
        "{count} payment codes sent to this person are still valid: try again once they have "
        "expired.",
        int(str(p["charges"])),
    ),
    Refusal.PRIVACY_CREDIT_PENDING: lambda p: t(
        "Application {protocol} has an approved amount not credited yet: run 'admin credit' first.",
        protocol=str(p["protocol"]),
    ),
    Refusal.PRIVACY_RECOVERY_PENDING: lambda p: t(
        "{amount} must still be recovered from this person (application {protocol}): the data "
        "is needed until then.",
        amount=_cents(p["cents"]),
        protocol=str(p["protocol"]),
    ),
    Refusal.PRIVACY_APPEAL_OPEN: lambda p: t(
        "This person's appeal no. {number} waits for the office's decision: decide it first "
        "(admin appeals decide).",
        number=str(p["appeal_id"]),
    ),
    Refusal.PRIVACY_APPEAL_PERIOD: lambda p: t(
        "The decision on application {protocol} may still be appealed until {last_day}: "
        "the erasure is possible from {from_day}.",
        protocol=str(p["protocol"]),
        last_day=refusal_day(p["last_day"]),
        from_day=refusal_day(p["from_day"]),
    ),
    Refusal.PRIVACY_PHONE_CHANGE_WAITING: _pending_request,
    Refusal.PHONE_CHANGE_NEEDS_APPROVAL: lambda p: t(
        "{cf} has vouchers to spend or a payment waiting for its code: a new phone needs a "
        "second operator. Ask it with --by YOUR_OFFICE_USERNAME; a manager who did not ask "
        "approves it with 'admin citizen phone-change approve'.",
        cf=str(p["codice_fiscale"]),
    ),
    Refusal.PRIVACY_APPLICATION_IN_PROGRESS: lambda p: t(
        "Application {protocol} is in the current round and not allocated yet: erase after "
        "the allocation.",
        protocol=str(p["protocol"]),
    ),
}


def describe(error: DomainError) -> Text:
    """An office-readable sentence for a domain error code."""
    return describe_by(_OFFICE_SENTENCES, error)


def refusal(error: DomainError) -> Text:
    """The sentence, then the stable code the office can quote (and search the docs for)."""
    return t("{problem} ({code})", problem=say(describe(error)), code=error.code)
