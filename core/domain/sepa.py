"""SEPA credit-transfer initiation (ISO 20022 pain.001.001.03) for reimbursing shops. Pure.

The municipality's treasury bank executes the file: one payment batch debiting the
municipality's account, one credit transfer per shop. Banks reject a whole file for a
single character outside the SEPA Latin set or a malformed identifier, so everything
is checked and sanitised here, before the file reaches the office.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime

from stdnum import bic as stdnum_bic
from stdnum.exceptions import ValidationError as StdnumError
from text_unidecode import unidecode

from core.domain.errors import InvalidIdentifier
from core.domain.identity import normalize_iban
from core.domain.money import format_plain

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"

# EPC implementation guidelines: names and free text limited to the SEPA (Latin) set.
SEPA_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ "
)
# The same set without the space, for references (MsgId, PmtInfId, EndToEndId).
_ID_PATTERN = re.compile(r"^[A-Za-z0-9/\-?:().,'+]{1,35}$")

MAX_NAME = 70  # Nm is Max140Text in the schema, but the EPC rulebook allows 70
MAX_REMITTANCE = 140  # Ustrd: Max140Text
MAX_AMOUNT_CENTS = 999_999_999_99  # the largest amount the SEPA scheme allows

# Letters that Unicode does not decompose into a base letter plus accents.
_TRANSLITERATION = str.maketrans(
    {
        "ß": "ss",
        "Æ": "AE",
        "æ": "ae",
        "Ø": "O",
        "ø": "o",
        "Œ": "OE",
        "œ": "oe",
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Þ": "TH",
        "þ": "th",
        "ı": "i",
        "&": "+",
        "’": "'",
        "‘": "'",
        "`": "'",
        "´": "'",
        "–": "-",
        "—": "-",
        "_": "-",
        "€": "EUR",
        "⁄": "/",  # what NFKD makes of "½"
    }
)


class SepaError(ValueError):
    """A file that no bank would accept (bad identifier, amount or empty batch)."""


def sanitize(text: str, max_length: int) -> str:
    """Text in the SEPA Latin set: accents and other scripts transliterated ("Città" ->
    "Citta", "Đặng" -> "Dang", "Αλφα" -> "Alpha", "日本" -> "Ri Ben"), what has no Latin
    spelling (an emoji, "@") dropped, spaces collapsed, cut to max_length."""
    # Decompose first ("à" -> "a" + accent, "½" -> "1⁄2"), then map what is left.
    decomposed = unicodedata.normalize("NFKD", text).translate(_TRANSLITERATION)
    # Combining accents go (their letter stays); a letter of another script, or one the
    # table does not know, takes its usual Latin spelling (Text::Unidecode's tables: "日本"
    # -> "Ri Ben "); what has none, or only characters outside the set, is dropped.
    latin = unidecode("".join(c for c in decomposed if not unicodedata.combining(c)))
    kept = []
    for char in latin:
        if char in SEPA_CHARACTERS:
            kept.append(char)
        elif char.isspace():
            kept.append(" ")
    return " ".join("".join(kept).split())[:max_length].rstrip()


def sepa_name(value: str) -> str | None:
    """The name as a SEPA file writes it (at most MAX_NAME characters of the SEPA set), or
    None when nothing of it can be written (only emoji or symbols, say)."""
    return sanitize(value, MAX_NAME) or None


def remittance_text(municipality_name: str, period: str) -> str:
    """The line the shop reads on its bank statement: 'Buoni spesa <town> rimborso <period>'.

    The period is kept whole when the text is too long: the town's name is shortened."""
    suffix = " rimborso " + sanitize(period, MAX_REMITTANCE)
    room = MAX_REMITTANCE - len("Buoni spesa ") - len(suffix)
    town = sanitize(municipality_name, max(room, 0))
    return sanitize(f"Buoni spesa {town}{suffix}", MAX_REMITTANCE)


def check_reference(value: str, what: str) -> str:
    """MsgId, PmtInfId and EndToEndId: 1-35 SEPA characters, no space, no leading,
    trailing or double slash (EPC rule)."""
    if (
        not _ID_PATTERN.match(value)
        or value.startswith("/")
        or value.endswith("/")
        or ("//" in value)
    ):
        raise SepaError(f"{what} {value!r} is not a valid SEPA reference")
    return value


def check_iban(value: str) -> str:
    """The IBAN, compact and upper case. Raises InvalidIdentifier (kind "iban")."""
    return normalize_iban(value)


def check_bic(value: str) -> str:
    try:
        return str(stdnum_bic.validate(value))
    except StdnumError as exc:
        raise InvalidIdentifier("bic", value, "invalid") from exc


@dataclass(frozen=True, slots=True)
class CreditTransfer:
    """One payment to one shop."""

    end_to_end_id: str
    amount_cents: int
    creditor_name: str
    creditor_iban: str
    remittance: str


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """A whole file: who pays (the municipality), when, and the transfers."""

    message_id: str
    created_at: datetime  # written as local wall-clock time, as banks expect
    initiating_party: str
    debtor_name: str
    debtor_iban: str
    debtor_bic: str | None
    execution_date: date
    transfers: tuple[CreditTransfer, ...]

    @property
    def total_cents(self) -> int:
        return sum(t.amount_cents for t in self.transfers)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _name(value: str, what: str) -> str:
    name = sepa_name(value)
    if name is None:
        # A name made only of characters outside the set would leave an empty <Nm>.
        raise SepaError(f"{what} {value!r} has no character allowed in a SEPA name")
    return name


def build_pain001(order: PaymentOrder) -> bytes:
    """The XML file (UTF-8, with declaration). Validates every identifier and amount first,
    so an invalid order raises (SepaError or InvalidIdentifier) and produces no file."""
    if not order.transfers:
        raise SepaError("a payment order needs at least one transfer")
    check_reference(order.message_id, "MsgId")
    debtor_iban = check_iban(order.debtor_iban)
    debtor_bic = check_bic(order.debtor_bic) if order.debtor_bic else None
    seen_ids: set[str] = set()
    for transfer in order.transfers:
        check_reference(transfer.end_to_end_id, "EndToEndId")
        if transfer.end_to_end_id in seen_ids:
            raise SepaError(f"EndToEndId {transfer.end_to_end_id!r} used twice")
        seen_ids.add(transfer.end_to_end_id)
        if not 0 < transfer.amount_cents <= MAX_AMOUNT_CENTS:
            raise SepaError(f"amount {transfer.amount_cents} cents is outside the SEPA range")
    count = str(len(order.transfers))
    control_sum = format_plain(order.total_cents)

    # Tags are written unqualified under a default xmlns on the root: the output is the
    # usual pain.001 layout, without prefixes and without ElementTree's global registry.
    document = ET.Element("Document", xmlns=NAMESPACE)
    initiation = _sub(document, "CstmrCdtTrfInitn")

    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", order.message_id)
    _sub(header, "CreDtTm", order.created_at.replace(microsecond=0, tzinfo=None).isoformat())
    _sub(header, "NbOfTxs", count)
    _sub(header, "CtrlSum", control_sum)
    _sub(_sub(header, "InitgPty"), "Nm", _name(order.initiating_party, "initiating party"))

    batch = _sub(initiation, "PmtInf")
    # One batch per file, so the batch can reuse the message reference.
    _sub(batch, "PmtInfId", order.message_id)
    _sub(batch, "PmtMtd", "TRF")
    _sub(batch, "BtchBookg", "true")
    _sub(batch, "NbOfTxs", count)
    _sub(batch, "CtrlSum", control_sum)
    _sub(_sub(_sub(batch, "PmtTpInf"), "SvcLvl"), "Cd", "SEPA")
    _sub(batch, "ReqdExctnDt", order.execution_date.isoformat())
    _sub(_sub(batch, "Dbtr"), "Nm", _name(order.debtor_name, "debtor"))
    _sub(_sub(_sub(batch, "DbtrAcct"), "Id"), "IBAN", debtor_iban)
    agent = _sub(_sub(batch, "DbtrAgt"), "FinInstnId")
    if debtor_bic:
        _sub(agent, "BIC", debtor_bic)
    else:
        # IBAN-only SEPA: the bank is derived from the IBAN.
        _sub(_sub(agent, "Othr"), "Id", "NOTPROVIDED")
    _sub(batch, "ChrgBr", "SLEV")

    for transfer in order.transfers:
        item = _sub(batch, "CdtTrfTxInf")
        _sub(_sub(item, "PmtId"), "EndToEndId", transfer.end_to_end_id)
        _sub(_sub(item, "Amt"), "InstdAmt", format_plain(transfer.amount_cents), Ccy="EUR")
        _sub(_sub(item, "Cdtr"), "Nm", _name(transfer.creditor_name, "creditor"))
        _sub(_sub(_sub(item, "CdtrAcct"), "Id"), "IBAN", check_iban(transfer.creditor_iban))
        remittance = sanitize(transfer.remittance, MAX_REMITTANCE)
        if remittance:
            _sub(_sub(item, "RmtInf"), "Ustrd", remittance)

    ET.indent(document)
    body = ET.tostring(document, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def summarize(xml_bytes: bytes) -> tuple[int, int]:
    """(number of transfers, total cents) read back from a file, to cross-check a run."""
    root = ET.fromstring(xml_bytes)
    ns = {"p": NAMESPACE}
    amounts = [
        _cents(element.text or "")
        for element in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", ns)
    ]
    return len(amounts), sum(amounts)


def _cents(text: str) -> int:
    match = re.fullmatch(r"(\d+)\.(\d{2})", text)
    if not match:
        raise SepaError(f"amount {text!r} is not written with a dot and two decimals")
    return int(match[1]) * 100 + int(match[2])
