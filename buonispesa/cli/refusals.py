"""Refusals from the core, as sentences the office reads (codes stay visible for support)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

from buonispesa.cli.common import say
from core.dialogue.errors import GENERIC, error_text
from core.domain.errors import DomainError, PolicyError
from core.domain.messages import Day, Moment, Money, Text, t, tn


def _moment(value: object) -> Moment | str:
    try:
        return Moment(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _day(value: object) -> Day | str:
    try:
        return Day(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _cents(value: object) -> Money:
    return Money(int(str(value)))


# Refusals only the office meets, or whose sentence for citizens and cashiers would mislead
# the office ("Send STATO…"). Every other code reuses the dialogue's sentence.
_OFFICE_SENTENCES: dict[str, Callable[[Mapping[str, object]], Text]] = {
    "municipality.not_found": lambda p: t(
        "There is no municipality with code {code}: see 'admin municipality list'.",
        code=str(p["code"]),
    ),
    "municipality.bad_privacy_url": lambda p: t(
        "This is not a web address: write it in full, e.g. https://www.comune.example.it/privacy."
    ),
    "municipality.exists": lambda p: t(
        "A municipality with code {code} already exists.", code=str(p["code"])
    ),
    "municipality.bad_code": lambda p: t(
        "The code {code} is not valid: use 2 to 16 letters or digits, e.g. BEL.",
        code=str(p["code"]),
    ),
    "municipality.bad_name": lambda p: t(
        "The name of the municipality cannot be empty (at most {limit} characters).",
        limit=int(str(p["limit"])),
    ),
    "municipality.sms_number_taken": lambda p: t(
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
    "operator.bad_username": lambda p: t(
        "{username} is not a valid username: use 3 to 64 of a-z, 0-9, dot, dash, underscore.",
        username=str(p["username"]),
    ),
    "operator.bad_role": lambda p: t(
        "{role} is not a role: use clerk, manager or viewer.", role=str(p["role"])
    ),
    "operator.exists": lambda p: t(
        "An operator named {username} already exists.", username=str(p["username"])
    ),
    "donations.not_available": lambda p: t(
        "Donations available to grant: {amount}.", amount=_cents(p["available_cents"])
    ),
    "window.already_open": lambda p: t(
        "The application window is already open until {until}.", until=_moment(p["closes_at"])
    ),
    "window.bad_days": lambda p: t("The application window lasts at least one day."),
    "window.not_open": lambda p: t("The application window is not open."),
    "window.still_open": lambda p: t(
        "The application window is still open: close it first with 'admin window close'."
    ),
    "round.none": lambda p: t(
        "This municipality has no application window yet: open one with 'admin window open'."
    ),
    "round.not_found": lambda p: t(
        "There is no application window {number}: windows are numbered from 1 in the order "
        "they were opened.",
        number=str(p["number"]),
    ),
    "window.tranche_waiting": lambda p: t(
        "Tranche {tranche} is approved but not credited: credit it with 'admin credit', or "
        "withdraw it with 'admin approve --withdraw', before opening a new window.",
        tranche=str(p["tranche"]),
    ),
    "allocation.approved_meanwhile": lambda p: t(
        "Tranche {tranche} was approved at the same moment by someone else: nothing was "
        "approved here. Check it with 'admin allocate' before doing anything else.",
        tranche=str(p["tranche"]),
    ),
    "allocation.none_to_withdraw": lambda p: t(
        "There is no approved tranche waiting to be credited: nothing to withdraw."
    ),
    "allocation.none": lambda p: t(
        "There is no approved allocation to credit: run 'admin approve' first."
    ),
    "allocation.not_yet_credited": lambda p: t(
        "Tranche {tranche} is approved but not credited yet: run 'admin credit' first.",
        tranche=str(p["tranche"]),
    ),
    "allocation.already_credited": lambda p: t(
        "Tranche {tranche} has already been credited.", tranche=str(p["tranche"])
    ),
    "application.not_found": lambda p: t(
        "There is no application with protocol {protocol}.", protocol=str(p["protocol"])
    ),
    "application.import_after_approval": lambda p: t(
        "A tranche of round {round} is already approved: the list it froze must not change, "
        "so no more applications can be imported into this round.",
        round=str(p["round"]),
    ),
    "application.already_applied": lambda p: t(
        "{cf} has already applied in this round.", cf=str(p["codice_fiscale"])
    ),
    "application.already_revoked": lambda p: t(
        "Application {protocol} has already been revoked.", protocol=str(p["protocol"])
    ),
    "application.revocation_retry": lambda p: t(
        "The balance changed while revoking {protocol}; nothing was changed. "
        "Run the command again.",
        protocol=str(p["protocol"]),
    ),
    "citizen.not_found": lambda p: t("Nobody with this codice fiscale in this municipality."),
    "identity.refused": lambda p: t(
        "The codice fiscale already has another phone, or the phone already belongs to "
        "another citizen ({reason}): change a phone with 'admin citizen phone'.",
        reason=str(p["reason"]),
    ),
    "identity.phone_of_another": lambda p: t(
        "This phone number belongs to another citizen ({cf}): give that citizen another "
        "number first.",
        cf=str(p["codice_fiscale"]),
    ),
    "card.already_issued": lambda p: t(
        "This person already has card {card}: to replace it (the old one stops working) add "
        "--reissue.",
        card=str(p["card_code"]),
    ),
    "delegate.own_phone": lambda p: t(
        "{phone} is the citizen's own number: a delegate has another phone.", phone=str(p["phone"])
    ),
    "delegate.already": lambda p: t(
        "This citizen already has delegate {phone}: remove it first with --remove.",
        phone=str(p["phone"]),
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
    "delegate.phone_is_shop": lambda p: t(
        "{phone} charges vouchers for a shop: it cannot receive a citizen's payment codes.",
        phone=str(p["phone"]),
    ),
    "delegate.none": lambda p: t("This citizen has no delegate."),
    "shop.not_found": lambda p: t(
        "There is no shop {id} in this municipality: see 'admin shops list'.",
        id=str(p["shop_id"]),
    ),
    "reimbursement.no_iban": lambda p: t(
        "{town} has no IBAN: the bank file needs the account the transfers are paid from.",
        town=str(p["municipality"]),
    ),
    "reimbursement.nothing_due": lambda p: t(
        "No shop is owed anything: there is nothing to reimburse."
    ),
    "reimbursement.execution_date_past": lambda p: t(
        "The execution date {day} is in the past.", day=_day(p["execution_date"])
    ),
    "reimbursement.balances_changed": lambda p: t(
        "A shop's balance changed while settling (a refund?); nothing was paid. "
        "Run the command again."
    ),
    "audit.bad_request": lambda p: t(
        "The sample needs a percentage above 0 and at most 100, and a whole number as seed."
    ),
    "shop.refusal_reason_missing": lambda p: t("Write the reason for the refusal."),
    "shop.refusal_reason_too_long": lambda p: t(
        "The reason is too long for one SMS: at most {limit} characters.",
        limit=int(str(p["limit"])),
    ),
    "shop.already_approved": lambda p: t("Shop {id} is already approved.", id=str(p["shop_id"])),
    "privacy.balance_not_zero": lambda p: t(
        "This person still has {balance} on the card: it must be spent, or revoked with "
        "'admin audit revoke', before the erasure.",
        balance=_cents(p["balance_cents"]),
    ),
    "privacy.charge_pending": lambda p: tn(
        "{count} payment code sent to this person is still valid: try again once it has expired.",
        "{count} payment codes sent to this person are still valid: try again once they have "
        "expired.",
        int(str(p["charges"])),
    ),
    "privacy.credit_pending": lambda p: t(
        "Application {protocol} has an approved amount not credited yet: run 'admin credit' first.",
        protocol=str(p["protocol"]),
    ),
    "privacy.recovery_pending": lambda p: t(
        "{amount} must still be recovered from this person (application {protocol}): the data "
        "is needed until then.",
        amount=_cents(p["cents"]),
        protocol=str(p["protocol"]),
    ),
    "privacy.application_in_progress": lambda p: t(
        "Application {protocol} is in the current round and not allocated yet: erase after "
        "the allocation.",
        protocol=str(p["protocol"]),
    ),
}


def describe(error: DomainError) -> Text:
    """An office-readable sentence for a domain error code."""
    if isinstance(error, PolicyError):
        return t("The policy is not valid: {key}: {problem}", key=error.key, problem=error.problem)
    office = _OFFICE_SENTENCES.get(error.code)
    if office is not None:
        try:
            return office(error.params)
        except (KeyError, ValueError):
            pass  # a parameter the sentence needs is missing: say less, below
    said = error_text(error)
    return said if said != GENERIC else t("The operation was refused.")


def refusal(error: DomainError) -> Text:
    """The sentence, then the stable code the office can quote (and search the docs for)."""
    return t("{problem} ({code})", problem=say(describe(error)), code=error.code)
