"""What the catalog tests measure: the msgids in the code, and realistic longest parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir

from core.domain.messages import Day, Distance, Moment, Money, Param, Text

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("core", "bot", "sms", "office", "buonispesa")
# t()/tn() in Python; the office's templates call _() and ngettext() (babel.cfg).
KEYWORDS = {"t": None, "tn": (1, 2), "N_": None, "_": None, "ngettext": (1, 2)}
METHODS = [("**.py", "python"), ("**.html", "jinja2")]

# Messages that can go out by SMS: everything the dialogue says, and the notices the
# services write to a citizen's or a shop's chat. Reports and documents are not SMS.
SMS_SOURCES = ("core/dialogue", "core/services", "outbox")
NOT_SMS = ("core/services/reports.py", "core/services/privacy.py", "core/services/audit.py")

# Realistic longest values, by placeholder name. A placeholder without a sample fails the
# SMS test: say here how long it can really be.
SAMPLES: dict[str, Param] = {
    "amount": Money(1_234_567),  # 12.345,67 €: a shop's month
    "balance": Money(123_456),
    "paid": Money(1_234_567),
    "refunded": Money(123_456),  # a till's refunds of a day
    # 40 in its SMS form (the limit at registration), typed with curly quotes, a capital È,
    # a dash and an emoji: on SMS “È” becomes "E'", – becomes - and the emoji goes.
    "shop": "Bottega “È Buono” – Frutta da Mario e C 🍎",
    "name": "Alimentari e Frutta Da Mario e Figli S.n",
    "town": "San Valentino in Abruzzo Citeriore",  # the longest name of an Italian comune
    "address": "Via Vittorio Emanuele II 123, angolo Via Garibaldi",  # 50, the limit
    "street": "Via Vittorio Emanuele II angolo Via Garibaldi",  # an address without its number
    "postcode": "62020",
    # The office's contact, 90 characters: the limit of `admin municipality set --office-contact`.
    "contact": (
        "0733 905 111 o 0733 905 112, lun-ven 9-12, mar e gio 15-17, Piazza Umberto I 14, primo pi."
    ),
    "protocol": "SAN-2026-000123",
    "code": "ABCDEFGHJK",  # cashier codes have 10 characters, payment codes 6 digits
    "cf": "RSSMRA85T10A562S",
    "vat": "01234567890",
    "iban": "IT60X0542811101000000123456",
    "iban_end": "3456",
    "reference": "SVC-20261231235959-123",  # a settlement's SEPA message id
    "count": 12,
    # A policy's one-off amounts by household size (core/domain/policy.py), its sizes listed.
    "smallest": Money(1_000_00),
    "largest": Money(9_999_00),
    "size": 10,
    "more": 21,  # one more than a household of children and the writer (amount_with_children)
    "digits": 6,  # of a code (core.domain.otp.CODE_DIGITS)
    "receipt": "123456",
    "list": "2",
    "max": 50,
    "minutes": 30,
    "when": Moment(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)),
    "until": Moment(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)),
    "day": Day(date(2026, 12, 31)),
    "since": Day(date(2026, 12, 1)),
    "ordered": Day(date(2026, 12, 31)),
    "distance": Distance(12_345),
    "where": "SMS ***567",
    "phone": "***567",  # a masked number: the last three digits
    "query": "San Valentino in Abruzzo Citeriore panett",  # cut at 40
    "place": "San Valentino in Abruzzo Citeriore via G",  # cut at 40
    "time": "23:59",
    "url": "https://comune.belforte.mc.it/privacy",  # a long link gives way to the town hall
    "link": "https://t.me/buonispesa_belforte_bot",
    "first": 12,
    "who": "computer ***567",  # a cashier as shop_members.member_label shows them, longest
    # The office's refusal reason, at its limit (core.services.shops.REFUSAL_REASON_MAX).
    "reason": "Partita IVA cessata: registrate il negozio con quella attiva",
    "limit": 60,
    "number": "123456",  # an appeal's number
    # A phone number as a cashier typed it after a menu's number, groups and prefix kept.
    "payer_phone": "+39 333 100 0002",
    "digit": "9",  # a menu's number
    "days": 365,  # policy.appeal_days at its highest
    "moment": Moment(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)),
    "holder": "RSSMRA*********S",  # a masked codice fiscale, GSM-7 asterisks
    "masked": "RSS***S",  # the short mask a code message names (identity.short_mask_...)
    # The start of an appeal's reason (appeals.QUOTED), an accent that SMS writes as two.
    "quote": "Il mio ISEE è sbagliato: ho...",
    "example": "1500",  # an amount as the application's questions write it
    "card": "ABCD EFGH JK",  # a card number, grouped
    "challenge": "4821",  # the digits of an SMS "not me" (core.domain.otp.CHALLENGE_DIGITS)
    "position": 30,  # a cell of a card's grid of one-time codes (cards.GRID_SIZE)
    "keyword": "SHOPKEEPER",  # the longest word a typo is asked about (commands.SUGGESTED)
    "voucher": "V12345678901",  # a community voucher's number
    "low": Money(100_000),  # a shop's voucher limits: at most 1.000,00 €
    "high": Money(100_000),
    # The most a single payment may be (Policy.payment_ceiling_cents): 10.000,00 € at most.
    "ceiling": Money(1_000_000),
}

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Message:
    msgid: str
    plural: str | None
    path: str

    @property
    def placeholders(self) -> set[str]:
        found = set(PLACEHOLDER.findall(self.msgid))
        if self.plural:
            found |= set(PLACEHOLDER.findall(self.plural))
        return found

    @property
    def sms(self) -> bool:
        return self.path.startswith(SMS_SOURCES) and not self.path.startswith(NOT_SMS)

    def texts(self) -> list[Text]:
        """The message with sample parameters: both forms of a plural."""
        params = {name: SAMPLES[name] for name in self.placeholders if name != "count"}
        if self.plural is None:
            if "count" in self.placeholders:
                params["count"] = SAMPLES["count"]
            return [Text(self.msgid, params)]
        return [
            Text(self.msgid, {"count": count, **params}, plural=self.plural, count=count)
            for count in (1, 12)
        ]


def messages_in_code() -> list[Message]:
    """Every msgid the code marks with t(), tn() or N_(), as Babel extracts them."""
    found: dict[tuple[str, str | None], Message] = {}
    for source in SOURCES:
        directory = ROOT / source
        if not directory.is_dir():
            continue
        for filename, _line, message, _comments, _context in extract_from_dir(
            str(directory), method_map=METHODS, keywords=KEYWORDS
        ):
            msgid, plural = (
                (message[0], message[1]) if isinstance(message, tuple) else (message, None)
            )
            if not msgid:
                continue
            key = (msgid, plural)
            path = f"{source}/{filename}"
            if key not in found or (not found[key].sms and Message(msgid, plural, path).sms):
                found[key] = Message(msgid, plural, path)
    return sorted(found.values(), key=lambda m: m.msgid)
