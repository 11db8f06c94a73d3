"""Typed domain errors. Each carries a reason code that channels turn into a translated sentence."""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """Every reason the core refuses a request, in one place: the stable code that each
    channel turns into a sentence (core/dialogue/errors.py for people in a chat,
    buonispesa/cli/refusals.py for the office). Raise it inside a DomainError subclass:
    `NotAllowed(Refusal.REFUND_NOT_TODAY)`. Identifiers and amounts that do not validate
    carry codes of their own (InvalidIdentifier, InvalidAmount: "<kind>.<reason>"); an
    erasure refused builds its PRIVACY_* code from its reason (core.services.privacy)."""

    ACT_BAD_BUDGET = "act.bad_budget"
    ACT_BUDGET_IMPLAUSIBLE = "act.budget_implausible"
    ACT_BUDGET_MISMATCH = "act.budget_mismatch"
    ACT_BUDGET_UNSPENT = "act.budget_unspent"
    ACT_FIGURES_CHANGED = "act.figures_changed"
    ACT_OTHER_TRANCHE = "act.other_tranche"
    ACT_NOT_FOUND = "act.not_found"
    # A form sent to prepare an act that names no kind of act (hand-made, or stale).
    ACT_KIND_MISSING = "act.kind_missing"
    ACT_REASON_MISSING = "act.reason_missing"
    ACT_REASON_TOO_LONG = "act.reason_too_long"
    ALLOCATION_ALREADY_CREDITED = "allocation.already_credited"
    ALLOCATION_APPROVED_MEANWHILE = "allocation.approved_meanwhile"
    ALLOCATION_NONE = "allocation.none"
    ALLOCATION_NONE_TO_WITHDRAW = "allocation.none_to_withdraw"
    # A tranche number the window never had (a document asked by its address): `tranche`,
    # `window`.
    ALLOCATION_TRANCHE_NOT_FOUND = "allocation.tranche_not_found"
    ALLOCATION_CREDIT_ACT_WAITING = "allocation.credit_act_waiting"
    ALLOCATION_NOT_YET_CREDITED = "allocation.not_yet_credited"
    ALLOCATION_PAYS_NOBODY = "allocation.pays_nobody"
    APPEAL_ALREADY_DECIDED = "appeal.already_decided"
    APPEAL_ALREADY_OPEN = "appeal.already_open"
    APPEAL_BAD_OUTCOME = "appeal.bad_outcome"
    APPEAL_NO_APPLICATION = "appeal.no_application"
    APPEAL_NO_DECISION = "appeal.no_decision"
    APPEAL_NOT_FOUND = "appeal.not_found"
    APPEAL_NOT_OPEN = "appeal.not_open"
    APPEAL_NOT_UPHELD = "appeal.not_upheld"
    APPEAL_PAST_WINDOW = "appeal.past_window"
    APPEAL_REASON_MISSING = "appeal.reason_missing"
    APPEAL_REASON_TOO_LONG = "appeal.reason_too_long"
    APPEAL_TOO_LATE = "appeal.too_late"
    APPEAL_TRANCHE_WAITING = "appeal.tranche_waiting"
    APPLICATION_ALREADY_APPLIED = "application.already_applied"
    APPLICATION_ALREADY_REVOKED = "application.already_revoked"
    APPLICATION_BAD_HOUSEHOLD_SIZE = "application.bad_household_size"
    APPLICATION_DATED_IN_FUTURE = "application.dated_in_future"
    APPLICATION_FROZEN = "application.frozen"
    APPLICATION_IMPLAUSIBLE_AMOUNT = "application.implausible_amount"
    APPLICATION_IMPORT_AFTER_APPROVAL = "application.import_after_approval"
    APPLICATION_IMPORT_REFUSED = "application.import_refused"
    APPLICATION_NEGATIVE_AMOUNT = "application.negative_amount"
    APPLICATION_NOT_DECIDED = "application.not_decided"
    APPLICATION_NOT_FOUND = "application.not_found"
    APPLICATION_NOT_PAPER = "application.not_paper"
    APPLICATION_NOTHING_TO_REVOKE = "application.nothing_to_revoke"
    APPLICATION_NOT_REVOKED = "application.not_revoked"
    APPLICATION_OUTSIDE_WINDOW = "application.outside_window"
    # A paper row giving a number to a citizen whose new phone waits for a second operator.
    APPLICATION_PHONE_CHANGE_WAITING = "application.phone_change_waiting"
    # A paper row giving a first number to a citizen with money to spend: one operator alone.
    APPLICATION_PHONE_NEEDS_APPROVAL = "application.phone_needs_approval"
    # A paper row whose citizen a chat gave a phone while the import was writing: the row's
    # number was not bound (paper_applications), and nothing of the file is imported.
    APPLICATION_PHONE_BOUND_MEANWHILE = "application.phone_bound_meanwhile"
    APPLICATION_REVOCATION_RETRY = "application.revocation_retry"
    APPLICATION_REVOCATION_UNDONE = "application.revocation_undone"
    # Its applicant was erased since the revocation (privacy.erase_citizen): undoing it would
    # put money on a pseudonymised account nobody can spend from.
    APPLICATION_REVOCATION_ERASED = "application.revocation_erased"
    APPLICATION_UNCHANGED = "application.unchanged"
    APPLICATION_WINDOW_CLOSED = "application.window_closed"
    APPLICATION_WITHDRAWN = "application.withdrawn"
    AUDIT_BAD_OUTCOME = "audit.bad_outcome"
    AUDIT_BAD_REQUEST = "audit.bad_request"
    AUDIT_NOTE_TOO_LONG = "audit.note_too_long"
    AUDIT_NOT_IN_SAMPLE = "audit.not_in_sample"
    AUDIT_WINDOW_OPEN = "audit.window_open"
    AUDIT_NO_WINDOW = "audit.no_window"
    CARD_ALREADY_ISSUED = "card.already_issued"
    CARD_ALREADY_PRINTED = "card.already_printed"
    CARD_BLOCKED = "card.blocked"
    CARD_CODES_USED_UP = "card.codes_used_up"
    # Words no card's number can be: a 0, O, 1 or I, or apart where no printed group ends.
    CARD_FORMAT = "card.format"
    CARD_LENGTH = "card.length"  # a card number typed with characters too many or missing
    CARD_LOCKED_AT_SHOP = "card.locked_at_shop"
    CARD_NEEDS_APPROVAL = "card.needs_approval"
    CARD_NOT_APPROVED = "card.not_approved"
    CARD_PRINT_EXPIRED = "card.print_expired"
    CARD_PRINT_NOT_YOURS = "card.print_not_yours"
    CARD_REQUEST_WAITING = "card.request_waiting"
    CHARGE_NOT_FOUND = "charge.not_found"
    CITIZEN_NOT_FOUND = "citizen.not_found"
    CITIZEN_UNREACHABLE = "citizen.unreachable"
    COMMUNITY_UNKNOWN_PAYMENT = "community.unknown_payment"
    DELEGATE_ALREADY = "delegate.already"
    # The delegate the operator saw was replaced before the removal was confirmed.
    DELEGATE_CHANGED = "delegate.changed"
    DELEGATE_NEEDS_APPROVAL = "delegate.needs_approval"
    DELEGATE_NONE = "delegate.none"
    DELEGATE_OWN_PHONE = "delegate.own_phone"
    DELEGATE_PHONE_IS_CITIZEN = "delegate.phone_is_citizen"
    DELEGATE_PHONE_IS_SHOP = "delegate.phone_is_shop"
    DELEGATE_PHONE_TAKEN = "delegate.phone_taken"
    DELEGATE_REQUEST_WAITING = "delegate.request_waiting"
    DONATIONS_NOT_AVAILABLE = "donations.not_available"
    ECONOMIA_BAD_AMOUNT = "economia.bad_amount"
    ECONOMIA_DATE_BEFORE_DETERMINA = "economia.date_before_determina"
    # An economia's form that names no determina (hand-made, or saved from an old page).
    ECONOMIA_NO_DETERMINA = "economia.no_determina"
    ECONOMIA_DATE_FUTURE = "economia.date_future"
    ECONOMIA_DATE_TOO_OLD = "economia.date_too_old"
    ECONOMIA_NOT_CREDITED = "economia.not_credited"
    ECONOMIA_NOT_FOUND = "economia.not_found"
    ECONOMIA_NOTHING_LEFT = "economia.nothing_left"
    ECONOMIA_REFERENCE_MISSING = "economia.reference_missing"
    ECONOMIA_REFERENCE_TOO_LONG = "economia.reference_too_long"
    FUND_AMOUNT_IMPLAUSIBLE = "fund.amount_implausible"
    FUND_BAD_AMOUNT = "fund.bad_amount"
    FUND_BAD_CORRECTION = "fund.bad_correction"
    FUND_BELOW_COMMITTED = "fund.below_committed"
    FUND_DATE_FUTURE = "fund.date_future"
    FUND_DATE_TOO_OLD = "fund.date_too_old"
    FUND_DUPLICATE = "fund.duplicate"
    FUND_DUPLICATE_CORRECTION = "fund.duplicate_correction"
    FUND_ENTRY_IS_CORRECTION = "fund.entry_is_correction"
    FUND_DESCRIPTION_MISSING = "fund.description_missing"
    FUND_DESCRIPTION_TOO_LONG = "fund.description_too_long"
    FUND_ENTRY_NOT_FOUND = "fund.entry_not_found"
    FUND_EXCEEDED = "fund.exceeded"
    FUND_NONE = "fund.none"
    IDENTITY_PHONE_ALREADY = "identity.phone_already"
    # A number written on a citizen while a new phone of theirs waits for a second operator
    # (migration 0043_no_phone_while_change_waits's trigger).
    IDENTITY_PHONE_CHANGE_WAITING = "identity.phone_change_waiting"
    IDENTITY_PHONE_IS_DELEGATE = "identity.phone_is_delegate"
    IDENTITY_PHONE_IS_SHOP = "identity.phone_is_shop"
    IDENTITY_PHONE_OF_ANOTHER = "identity.phone_of_another"
    IDENTITY_REFUSED = "identity.refused"
    INVITE_INVALID = "invite.invalid"
    INVITE_TOO_MANY = "invite.too_many"
    LOOKUP_TOO_MANY = "lookup.too_many"
    # Payment codes sent to one person in the last hour, from every shop (policy).
    PAYMENT_CODES_TOO_MANY = "payment.codes_too_many"
    # The code would go to a phone or Telegram chat of the charging shop's own staff.
    PAYMENT_CODE_TO_SHOP = "payment.code_to_shop"
    # Too many wrong codes for the person's payments at several shops: no code goes to her
    # for a while (core/services/charges/person_locks.py); the office may lift it.
    PAYMENT_CODES_STOPPED = "payment.codes_stopped"
    # The office lifting a person's stop when her codes are not stopped.
    PAYMENT_CODES_NOT_STOPPED = "payment.codes_not_stopped"
    MUNICIPALITY_BAD_CODE = "municipality.bad_code"
    MUNICIPALITY_BAD_NAME = "municipality.bad_name"
    MUNICIPALITY_BAD_PRIVACY_URL = "municipality.bad_privacy_url"
    MUNICIPALITY_BAD_OFFICE_CONTACT = "municipality.bad_office_contact"
    MUNICIPALITY_EXISTS = "municipality.exists"
    MUNICIPALITY_NOT_FOUND = "municipality.not_found"
    MUNICIPALITY_SMS_NUMBER_TAKEN = "municipality.sms_number_taken"
    OFFICE_BAD_AMOUNT = "office.bad_amount"
    OFFICE_BAD_CHOICE = "office.bad_choice"
    OFFICE_BAD_DATE = "office.bad_date"
    # A final act (withdrawing an application, removing a cashier, deciding an appeal) sent
    # without the confirmation of the page that says what it does.
    OFFICE_NOT_CONFIRMED = "office.not_confirmed"
    OFFICE_BAD_FILE = "office.bad_file"
    OFFICE_BAD_NUMBER = "office.bad_number"
    # ?page= of a list beyond any the database can hold: `most`, the last page asked for.
    OFFICE_BAD_PAGE = "office.bad_page"
    # ?window= that names no window: not a whole number from 1 up.
    OFFICE_BAD_WINDOW = "office.bad_window"
    # A day a period cannot start or end on: `first` and `last`, ISO days.
    OFFICE_DAY_OUT_OF_RANGE = "office.day_out_of_range"
    OPERATOR_BAD_ROLE = "operator.bad_role"
    OPERATOR_BAD_USERNAME = "operator.bad_username"
    OPERATOR_EXISTS = "operator.exists"
    OPERATOR_NOT_FOUND = "operator.not_found"
    OPERATOR_DISABLED = "operator.disabled"
    OPERATOR_NOT_DISABLED = "operator.not_disabled"
    OPERATOR_PASSWORD_EASY = "operator.password_easy"
    OPERATOR_PASSWORD_NAMES_OPERATOR = "operator.password_names_operator"
    OPERATOR_PASSWORD_NAMES_TOWN = "operator.password_names_town"
    OPERATOR_PASSWORD_TOO_SHORT = "operator.password_too_short"
    OPERATOR_ROLE_REFUSED = "operator.role_refused"
    OPERATOR_PASSWORD_UNCHANGED = "operator.password_unchanged"
    # At the till, who pays: eleven digits (a partita IVA, a receipt's number), nobody
    # named at all (an amount alone, "PAGA 5OO"), or a number no SMS reaches (a landline).
    PAYER_ELEVEN_DIGITS = "payer.eleven_digits"
    PAYER_MISSING = "payer.missing"
    PAYER_NO_SMS = "payer.no_sms"
    PAYMENT_BAD_AMOUNT = "payment.bad_amount"
    # Above the town's ceiling for one payment (Policy.payment_ceiling_cents): `limit`, cents.
    PAYMENT_ABOVE_LIMIT = "payment.above_limit"
    PAYMENT_INSUFFICIENT_FUNDS = "payment.insufficient_funds"
    # A Telegram chat's number (its contact) is checked once by an operator, then approved
    # by a manager other than that operator (phone_changes.check_chat_request).
    PHONE_CHANGE_CHECKED = "phone_change.checked"
    PHONE_CHANGE_NEEDS_APPROVAL = "phone_change.needs_approval"
    PHONE_CHANGE_NOT_CHECKED = "phone_change.not_checked"
    PHONE_CHANGE_NOT_FOUND = "phone_change.not_found"
    PHONE_CHANGE_NOT_WAITING = "phone_change.not_waiting"
    PHONE_CHANGE_CHAT_UNLINKED = "phone_change.chat_unlinked"
    PHONE_CHANGE_SAME_PERSON = "phone_change.same_person"
    PHONE_CHANGE_WAITING = "phone_change.waiting"
    # A municipality's own SMS number typed as somebody's phone: codes sent there come back.
    PHONE_TOWN_NUMBER = "phone.town_number"
    POLICY_INVALID = "policy.invalid"
    PRIVACY_APPEAL_OPEN = "privacy.appeal_open"
    PRIVACY_APPEAL_PERIOD = "privacy.appeal_period"
    PRIVACY_APPLICATION_IN_PROGRESS = "privacy.application_in_progress"
    PRIVACY_BALANCE_NOT_ZERO = "privacy.balance_not_zero"
    PRIVACY_CHARGE_PENDING = "privacy.charge_pending"
    PRIVACY_CREDIT_PENDING = "privacy.credit_pending"
    PRIVACY_PHONE_CHANGE_WAITING = "privacy.phone_change_waiting"
    PRIVACY_RECOVERY_PENDING = "privacy.recovery_pending"
    PURCHASE_AMOUNT_OUT_OF_RANGE = "purchase.amount_out_of_range"
    PURCHASE_NOT_ENABLED = "purchase.not_enabled"
    PURCHASE_SHOP_NOT_ACCEPTING = "purchase.shop_not_accepting"
    PURCHASE_WRONG_CURRENCY = "purchase.wrong_currency"
    REQUEST_NOT_FOUND = "request.not_found"
    # A waiting request (a new phone, a delegate) of another citizen already names the number.
    REQUEST_NUMBER_ASKED = "request.number_asked"
    # The delegate asked is the citizen's own new phone asked (or the other way round).
    REQUEST_NUMBER_OWN = "request.number_own"
    # A request applied, or a card printed, for somebody it was not asked for.
    REQUEST_OTHER_CITIZEN = "request.other_citizen"
    REQUEST_NOT_WAITING = "request.not_waiting"
    REQUEST_SAME_PERSON = "request.same_person"
    REFUND_ALREADY_SETTLED = "refund.already_settled"
    REFUND_NEEDS_CITIZEN_CODE = "refund.needs_citizen_code"
    REFUND_NOT_TODAY = "refund.not_today"
    REFUND_ALREADY_REFUNDED = "refund.already_refunded"
    REFUND_CODES_TOO_MANY = "refund.codes_too_many"
    REFUND_SHOP_CODES_TOO_MANY = "refund.shop_codes_too_many"
    # The office revoked the customer's vouchers after the payment: only it can undo it.
    REFUND_REVOKED = "refund.revoked"
    # The customer was erased since the payment (privacy.erase_citizen): their account must
    # stay empty, so no shop gives money back to it; the office can help (migration 0051).
    REFUND_CUSTOMER_ERASED = "refund.customer_erased"
    REIMBURSEMENT_BALANCES_CHANGED = "reimbursement.balances_changed"
    REIMBURSEMENT_EXECUTION_DATE_PAST = "reimbursement.execution_date_past"
    # More than EXECUTION_DAYS_AHEAD days away: `execution_date`, `latest`, ISO days.
    REIMBURSEMENT_EXECUTION_DATE_TOO_LATE = "reimbursement.execution_date_too_late"
    # A Saturday, a Sunday or a TARGET2 holiday: the bank executes no SEPA transfer then.
    REIMBURSEMENT_EXECUTION_DATE_CLOSED = "reimbursement.execution_date_closed"
    REIMBURSEMENT_LESS_OWED = "reimbursement.less_owed"
    REIMBURSEMENT_NAME_NOT_SEPA = "reimbursement.name_not_sepa"
    REIMBURSEMENT_NOTHING_DUE = "reimbursement.nothing_due"
    REIMBURSEMENT_NO_IBAN = "reimbursement.no_iban"
    # Another run (the command line's) was ordered after an act's cut-off: `act_id`,
    # `message_id`, `day` (ISO, the municipality's) of that run.
    REIMBURSEMENT_PAID_SINCE = "reimbursement.paid_since"
    ROUND_NONE = "round.none"
    ROUND_NOT_FOUND = "round.not_found"
    SHOP_ALREADY_APPROVED = "shop.already_approved"
    SHOP_BAD_POSITION = "shop.bad_position"
    SHOP_BLOCKED = "shop.blocked"
    SHOP_LOCKED = "shop.locked"
    SHOP_MEMBER_IS_CITIZEN = "shop.member_is_citizen"
    SHOP_MEMBER_PHONE_MISSING = "shop.member_phone_missing"
    SHOP_NAME_MISSING = "shop.name_missing"
    SHOP_ALREADY_REGISTERED = "shop.already_registered"
    SHOP_NAME_NOT_SEPA = "shop.name_not_sepa"
    SHOP_NAME_TAKEN = "shop.name_taken"
    SHOP_NAME_TOO_LONG = "shop.name_too_long"
    SHOP_NOT_APPROVED = "shop.not_approved"
    SHOP_NOT_FOUND = "shop.not_found"
    SHOP_NOT_LOCKED = "shop.not_locked"
    SHOP_NOT_MEMBER = "shop.not_member"
    SHOP_NOT_OWNER = "shop.not_owner"
    SHOP_MEMBER_NOT_FOUND = "shop.member_not_found"
    SHOP_OWNER_NOT_REMOVABLE = "shop.owner_not_removable"
    # A cashier asking for the shop's reimbursements: the owner's business.
    SHOP_REIMBURSEMENTS_OWNER_ONLY = "shop.reimbursements_owner_only"
    SHOP_REFUSAL_REASON_MISSING = "shop.refusal_reason_missing"
    SHOP_REFUSAL_REASON_TOO_LONG = "shop.refusal_reason_too_long"
    VOUCHER_BAD_LIMITS = "voucher.bad_limits"
    # The voucher's code would go to a phone or Telegram chat of its shop's own staff.
    VOUCHER_CODE_TO_SHOP = "voucher.code_to_shop"
    VOUCHER_EMPTY = "voucher.empty"
    VOUCHER_NOT_FOUND = "voucher.not_found"
    VOUCHER_NOT_REFUNDABLE = "voucher.not_refundable"
    VOUCHER_OTHER_SHOP = "voucher.other_shop"
    VOUCHER_REFUNDED = "voucher.refunded"
    VOUCHER_REFUND_REFERENCE = "voucher.refund_reference"
    WINDOW_ALREADY_OPEN = "window.already_open"
    WINDOW_BAD_DAYS = "window.bad_days"
    # The window the operator confirmed opening (closing) is not the next (the open) one any
    # more: another was opened or closed since the page or the question named it. `action`
    # (open, close), `expected` (the window named), `number` (the window it would be now).
    WINDOW_CHANGED = "window.changed"
    WINDOW_NOT_OPEN = "window.not_open"
    WINDOW_NOT_CONFIRMED = "window.not_confirmed"
    WINDOW_STILL_OPEN = "window.still_open"
    WINDOW_TRANCHE_WAITING = "window.tranche_waiting"
    # The latest window, closed, has applications no tranche decided: `window`, `count`.
    WINDOW_NEVER_ALLOCATED = "window.never_allocated"


class DomainError(Exception):
    """Base of every error the core raises on purpose.

    `code` is stable (channels translate it); `params` fill the message."""

    code: str = "error"

    def __init__(self, code: str | None = None, /, **params: object) -> None:
        if code is not None:
            self.code = code
        self.params = params
        super().__init__(self.code, params)


class InvalidAmount(DomainError):
    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"amount.{reason}", text=text)
        self.reason = reason


class InvalidIdentifier(DomainError):
    """A codice fiscale, partita IVA, IBAN or phone number that does not validate."""

    def __init__(self, kind: str, value: str, reason: str) -> None:
        super().__init__(f"{kind}.{reason}", value=value)
        self.kind = kind
        self.reason = reason


class PolicyError(DomainError):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(Refusal.POLICY_INVALID, key=key, problem=problem)
        self.key = key
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.key}: {self.problem}"


class InsufficientFunds(DomainError):
    code = Refusal.PAYMENT_INSUFFICIENT_FUNDS


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class NotAllowed(DomainError):
    pass
