"""The office's language and how values are written in it (gettext catalogs and Babel).

Templates call `_("Sentence with {placeholder}", placeholder=value)` and
`ngettext(singular, plural, count, ...)`: the same msgid and placeholder style as t()/tn()
in the core, extracted into the same catalogs (babel.cfg).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from aiohttp import web
from babel.lists import format_list
from babel.numbers import format_decimal

from core.domain.channels import chat_label, chat_of_actor
from core.domain.messages import Day, Moment, Param, Text, t
from core.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    babel_locale,
    format_money,
    format_param,
    render_text,
)

LANGUAGE_KEY = "lang"


def language_of(request: web.Request, session_language: str | None) -> str:
    """The session's choice, else the browser's preferred language we have, else Italian."""
    if session_language in LANGUAGES:
        return str(session_language)
    header = request.headers.get("Accept-Language", "")
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        pieces = part.strip().split(";q=")
        code = pieces[0].strip().lower()[:2]
        try:
            weight = float(pieces[1]) if len(pieces) > 1 else 1.0
        except ValueError:
            weight = 0.0
        if code in LANGUAGES:
            ranked.append((weight, code))
    if ranked:
        return max(ranked, key=lambda item: item[0])[1]
    return DEFAULT_LANGUAGE


class Words:
    """Everything a page needs to speak one language."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, msgid: str, **params: Param) -> str:
        return render_text(Text(msgid, dict(params)), self.language)

    def plural(self, singular: str, plural: str, count: int, **params: Param) -> str:
        text = Text(singular, {"count": count, **params}, plural=plural, count=count)
        return render_text(text, self.language)

    def text(self, text: Text) -> str:
        return render_text(text, self.language)

    def money(self, cents: int | None) -> str:
        return "" if cents is None else format_money(cents, self.language)

    def moment(self, value: datetime | None) -> str:
        return "" if value is None else format_param(Moment(value), self.language)

    def day(self, value: date) -> str:
        """A day as the office writes it (20/03/2026)."""
        return format_param(Day(value), self.language)

    def join(self, items: list[str]) -> str:
        """Items as the language lists them: "a, b e c", "a, b and c"."""
        if not items:
            return "—"
        return str(format_list(items, locale=babel_locale(self.language)))

    def number(self, value: int) -> str:
        return format_param(value, self.language)

    def decimal(self, value: float) -> str:
        """A number with its decimals as the language writes them ("12,5"; "20", not "20.0")."""
        return str(format_decimal(value, format="#,##0.##", locale=babel_locale(self.language)))

    def name(self, names: dict[str, Text], code: str) -> str:
        """A stored code (a channel, a status, an action) as its readers say it; a code
        without a name yet shows as it is."""
        name = names.get(code)
        return self.text(name) if name is not None else code

    def actor(self, actor: str, action: str = "") -> str:
        """Who did something, as the activity log stores it (`action`: what they did), in
        words a clerk reads: an operator's username as it is; a person writing in a chat
        ("chat:sms") with the channel named; a shop's chat ("telegram:12345", "sms:+39…") as
        the shop's owner or the cashier, its number masked as the shops page shows members
        ("SMS ***567"); the command line ("cli:anna") named as such."""
        kind, _, rest = actor.partition(":")
        if kind == "chat" and rest:
            return self.text(t("from the chat ({channel})", channel=self.name(CHANNEL_NAMES, rest)))
        if (chat := chat_of_actor(actor)) is not None:
            label = chat_label(*chat)
            # From a chat only the owner removes someone else; a cashier removes themselves.
            if action == "shop.member_leave":
                return self.text(t("the cashier themselves ({chat})", chat=label))
            if action == "shop.member_remove":
                return self.text(t("the shop's owner ({chat})", chat=label))
            return self.text(t("a chat of a shop ({chat})", chat=label))
        if kind == "cli":
            return self.text(t("command line ({actor})", actor=rest) if rest else t("command line"))
        return actor

    def template_globals(self) -> dict[str, Callable[..., Any] | str]:
        return {
            "_": self,
            "ngettext": self.plural,
            "money": self.money,
            "moment": self.moment,
            "day": self.day,
            "number": self.number,
            "decimal": self.decimal,
            "lang": self.language,
        }


# Names of the two languages, each in its own language (the switcher shows both).
LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}
ROLE_NAMES = {
    "clerk": t("clerk"),
    "manager": t("manager"),
    "viewer": t("viewer"),
}
# How an application came in, or the way a message travels.
CHANNEL_NAMES = {
    "paper": t("on paper"),
    "sms": t("SMS"),
    "telegram": t("Telegram"),
    "terminal": t("terminal chat"),
}
# What became of a message to a person (the outbox's statuses).
DELIVERY_NAMES = {
    "pending": t("waiting"),
    "sending": t("being sent"),
    "sent": t("sent"),
    "delivered": t("delivered"),
    "undelivered": t("not delivered"),
    "failed": t("failed"),
}
# What each activity-log action means, for the log's readers.
ACTION_NAMES = {
    "application.correct": t("paper application corrected"),
    "application.correct_on_appeal": t("application corrected on an upheld appeal"),
    "application.withdraw": t("paper application withdrawn"),
    "citizen.phone": t("phone recorded by the office"),
    "citizen.phone_request": t("new phone asked, waiting for a second operator"),
    "citizen.phone_check": t(
        "number shared by the citizen's chat checked, waiting for another manager"
    ),
    "citizen.phone_approve": t("new phone approved by a second operator"),
    "citizen.phone_withdraw": t("new phone withdrawn"),
    "citizen.delegate": t("delegate registered"),
    "citizen.delegate_request": t("delegate asked, waiting for a second operator"),
    "citizen.delegate_approve": t("delegate approved by a second operator and registered"),
    "citizen.delegate_withdraw": t("delegate request withdrawn"),
    "citizen.delegate_remove": t("delegate removed"),
    "card.request": t("card asked, waiting for a second operator"),
    "card.approve": t("card approved by a second operator"),
    "card.withdraw": t("card request withdrawn"),
    "card.issue": t("card issued"),
    "card.reissue": t("card reissued"),
    "card.expired": t("approved card not printed in time: expired"),
    "operator.add": t("operator added"),
    "operator.sign_in": t("signed in"),
    "operator.locked": t("unknown browsers locked out after wrong passwords"),
    "operator.device_locked": t("one known browser locked out after wrong passwords"),
    "operator.password_changed": t("password changed"),
    "operator.password_change_locked": t(
        "signed out everywhere after wrong current passwords on the password page"
    ),
    "operator.unlock": t("account unlocked by the office"),
    "operator.disable": t("operator disabled: sessions ended, no sign-in"),
    "operator.enable": t("operator enabled again"),
    "municipality.add": t("municipality added"),
    "municipality.set": t("municipality's data changed"),
    "outbox.retry": t("failed notices put back in the outbox"),
    "window.open": t("application window opened"),
    "window.close": t("application window closed"),
    "applications.import": t("paper applications imported"),
    "application.enter": t("paper application entered at the desk"),
    "shop.approve": t("shop approved"),
    "shop.refuse": t("shop refused"),
    "shop.rename": t("shop renamed"),
    "shop.unlock": t("shop unlocked after wrong payment codes"),
    "citizen.codes_resumed": t("payment codes sent to a person again after wrong codes"),
    "shop.member_remove": t("cashier removed from a shop"),
    "shop.member_leave": t("cashier left a shop"),
    "shop.member_phone": t("a shop's Telegram member shared their phone"),
    "shop.registration_refused": t(
        "shop registration refused from a chat: the partita IVA of this shop"
    ),
    "fund.record": t("money recorded in the fund"),
    "fund.correct": t("fund entry corrected"),
    "fund.economia": t("unassigned rest of a determina freed back to the fund (economia)"),
    "determina.prepare": t("determina prepared"),
    "determina.approve": t("determina approved"),
    "determina.withdraw": t("determina withdrawn"),
    "credit.prepare": t("credit prepared"),
    "credit.approve": t("credit approved and made"),
    "credit.withdraw": t("credit withdrawn"),
    "reimbursement.prepare": t("reimbursement prepared"),
    "reimbursement.approve": t("reimbursement approved"),
    "reimbursement.withdraw": t("reimbursement withdrawn"),
    "revocation.prepare": t("revocation prepared"),
    "revocation.approve": t("revocation approved"),
    "revocation.withdraw": t("revocation withdrawn"),
    "audit.draw": t("sample of declarations drawn"),
    "audit.redraw": t("sample drawn again (not binding)"),
    "audit.check": t("outcome of a check recorded"),
    "revocation.undo": t("revocation undone"),
    "revocation_undo.prepare": t("undoing of a revocation prepared"),
    "revocation_undo.approve": t("undoing of a revocation approved"),
    "revocation_undo.withdraw": t("undoing of a revocation withdrawn"),
    "appeal_correction.prepare": t("correction on an appeal prepared"),
    "appeal_correction.approve": t("correction on an appeal approved"),
    "appeal_correction.withdraw": t("correction on an appeal withdrawn"),
    "economia.prepare": t("economia prepared"),
    "economia.approve": t("economia approved"),
    "economia.withdraw": t("economia withdrawn"),
    "appeal.file": t("appeal received from the chat"),
    "appeal.upheld": t("appeal upheld"),
    "appeal.rejected": t("appeal rejected"),
    "privacy.erase": t("person erased (right to erasure): data replaced by a pseudonym"),
    "export.download": t("file of personal data downloaded or written by a command"),
}
# An action without a label (tests/office/test_activity_words.py holds every action the
# services write to one): the page says so in the operator's words, never with the stored
# code, which the log's CSV and .xlsx keep in their "action" column.
UNNAMED_ACTION = t("an action not described here yet: the downloaded log names it")


def action_name(words: Words, code: str) -> str:
    """What an activity-log entry did, as the office says it (the log, an application's
    history): never its stored code."""
    return words.text(ACTION_NAMES.get(code, UNNAMED_ACTION))


# The activity log's Before and After values, by their stored key (the page only: the CSV
# and .xlsx keep the stored JSON). A key without a label here shows as it is.
FIELD_NAMES = {
    "status": t("status"),
    "reason": t("reason"),
    "note": t("note"),
    "outcome": t("outcome"),
    "appeal": t("appeal no."),
    "channel": t("channel"),
    "citizen_told": t("citizen told"),
    "protocol": t("protocol"),
    "protocols": t("protocols"),
    "window": t("window"),
    "percent": t("per cent"),
    "seed": t("seed"),
    "count": t("how many"),
    "role": t("role"),
    "name": t("name"),
    "phone": t("phone"),
    "delegate": t("delegate's phone"),
    "card": t("card"),
    "telegram_unlinked": t("Telegram unlinked"),
    "change": t("phone change no."),
    "requested_by": t("asked by"),
    "withdrawn": t("withdrawn"),
    "chat_unlinked": t("the chat that asked no longer speaks for the citizen"),
    "opens_at": t("opens"),
    "closes_at": t("closes"),
    "locked_until": t("locked until"),
    "stopped_until": t("codes stopped until"),
    "blocked_at": t("locked until the office unlocks it, since"),
    "locked": t("locked"),
    "wrong_codes": t("wrong payment codes in 24 hours"),
    "failed_sign_ins": t("wrong passwords in a row"),
    "locked_browsers": t("known browsers locked"),
    "sessions_ended": t("office sessions ended"),
    "disabled_at": t("disabled on"),
    "revoked_at": t("revoked on"),
    "household_size": t("household members"),
    "has_work_income": t("work income"),
    "has_pension": t("pension"),
    "liquidity_cents": t("liquidity"),
    "public_support_monthly_cents": t("public support a month"),
    "rent_monthly_cents": t("rent a month"),
    "budget_cents": t("budget"),
    "execution_date": t("execution date"),
    "tranche": t("tranche"),
    "allocation_id": t("allocation no."),
    "households": t("households"),
    "allocated_cents": t("allocated"),
    "credited_cents": t("credited"),
    "unspent_cents": t("left unspent"),
    "notices": t("notices"),
    "changed_since_preparation": t("figures changed since preparation"),
    "message_id": t("bank file id"),
    "total_cents": t("total"),
    "returned_cents": t("returned to the fund"),
    "recover_cents": t("to recover"),
    "to_recover_cents": t("to recover"),
    "restored_cents": t("given back to the citizen"),
    "cancelled_charges": t("payments cancelled"),
    "member": t("member"),
    "since": t("since"),
    "till_closed": t("till session ended"),
    "cancelled_recovery_cents": t("recovery cancelled"),
    "approved_by": t("approved by"),
    "reissue": t("replaces a card already issued"),
    "approved": t("approved, not printed yet"),
    "decision_notified_at": t("decision notified on"),
    "act": t("act no."),
    "pseudonym": t("pseudonym"),
    "amount_cents": t("amount"),
    "description": t("description"),
    "received_on": t("received on"),
    "corrects": t("corrects entry no."),
    "browser": t("browser"),
    "print_by": t("to print by"),
    "until": t("owed up to"),
    "shops": t("owed to each shop"),
    "conversations_deleted": t("conversations deleted"),
    "messages_blanked": t("messages blanked"),
    "file": t("file"),
    "transfers": t("bank transfers"),
    "community_enabled": t("community vouchers and donations"),
    "sms_number": t("SMS number"),
    "iban": t("IBAN"),
    "bic": t("BIC"),
    "policy": t("policy"),
    "privacy_url": t("privacy notice"),
    "office_contact": t("office's contact (UFFICIO)"),
    "rows": t("rows"),
    "masked": t("codice fiscale, phone and IBAN masked"),
    "act_on": t("day of the act"),
    "reference": t("the municipality's act"),
    "economia_id": t("economia no."),
    "freed_cents": t("freed"),
    "rest_cents": t("left unassigned"),
}
# Stored keys the log keeps for the machine, never shown on the page: "state" is the
# fingerprint of a determina's or a credit's figures, compared at approval (its outcome,
# "figures changed since preparation", says what it meant); "form" the random name of the
# desk's form that entered a paper application (a second send of it enters nothing);
# "member_id" the row of a cashier removed (a removal sent again finds it gone, and why).
HIDDEN_FIELDS = frozenset({"state", "form", "member_id"})
# What each column of the paper applications' CSV holds: the names are the file's format,
# the same in every language (README, docs/office-command-line.md); problems name them so.
COLUMN_MEANINGS = {
    "codice_fiscale": t("codice fiscale"),
    "phone": t("phone"),
    "household_size": t("household members"),
    "has_work_income": t("work income, yes or no"),
    "has_pension": t("pension, yes or no"),
    "liquidity_eur": t("liquidity in euro"),
    "public_support_monthly_eur": t("public support a month, in euro"),
    "rent_monthly_eur": t("rent a month, in euro"),
    "submitted_at": t("date and time of the application, Rome time"),
}
# Where an appeal stands (core.services.appeals.AppealStatus).
APPEAL_STATUS_NAMES = {
    "open": t("waiting for a decision"),
    "upheld": t("upheld"),
    "rejected": t("rejected"),
}
# Where a shop's registration stands (core.domain.shops.ShopStatus).
SHOP_STATUS_NAMES = {
    "pending": t("to review"),
    "approved": t("approved"),
    "refused": t("refused"),
}
# Stored values of a status or an outcome, as the log's readers say them.
VALUE_NAMES = {
    "prepared": t("prepared"),
    "approved": t("approved"),
    "withdrawn": t("withdrawn"),
    "refused": t("refused"),
    "pending": t("to review"),
    "open": t("waiting for a decision"),
    "upheld": t("upheld"),
    "rejected": t("rejected"),
    "confirmed": t("confirmed"),
    "discrepancy": t("discrepancy found"),
    "unknown": t("unknown"),
    "expired": t("expired"),
    "known": t("known"),
}
