"""Identifiers people type: codice fiscale, partita IVA, IBAN, phone numbers.

Validation is delegated to python-stdnum and phonenumbers; this module only
normalises input and maps their exceptions to one typed error.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.it import codicefiscale, iva

from core.domain.errors import InvalidIdentifier


def _reason(exc: StdnumError) -> str:
    if isinstance(exc, InvalidChecksum):
        return "checksum"
    if isinstance(exc, InvalidLength):
        return "length"
    if isinstance(exc, InvalidComponent):
        return "component"
    if isinstance(exc, InvalidFormat):
        return "format"
    return "invalid"


def normalize_codice_fiscale(value: str) -> str:
    """Upper-cased, spaces removed, checked (omocodia included). Raises InvalidIdentifier."""
    compact = "".join(value.split()).upper()
    try:
        return str(codicefiscale.validate(compact))
    except StdnumError as exc:
        raise InvalidIdentifier("codice_fiscale", value, _reason(exc)) from exc


# Omocodia: when two people's codes would be the same, the Agenzia delle Entrate gives the
# later one a code with some digits written as these letters (0..9), at these positions
# (the year, the day, the place's number), and a check letter computed again.
OMOCODIA_LETTERS = "LMNPQRSTUV"
OMOCODIA_POSITIONS = (6, 7, 9, 10, 12, 13, 14)


def codice_fiscale_person_key(cf: str) -> str:
    """The person a codice fiscale describes, whatever its omocodia: the first 15
    characters with every omocodia letter at a digit's position turned back into its
    digit, the check letter dropped ("RSSMRA85T10A73VY" and "RSSMRA85T10A739J" both give
    "RSSMRA85T10A739"). The letters of the surname, the name, the month and the place are
    left as they are. Two codes with one key are the same person, or two people the
    Agenzia told apart by omocodia: only someone who sees their documents can say which.
    Expects a code normalize_codice_fiscale accepted (16 characters, upper case)."""
    chars = list(cf[:15])
    for position in OMOCODIA_POSITIONS:
        letter = chars[position]
        if letter in OMOCODIA_LETTERS:
            chars[position] = str(OMOCODIA_LETTERS.index(letter))
    return "".join(chars)


def codice_fiscale_forms(cf: str) -> list[str]:
    """Every valid codice fiscale with the person key of `cf`, `cf` included: each of the
    seven digits written as itself or as its omocodia letter (128 codes), each with its
    own check letter. An exact lookup of these finds a code's omocodic forms through the
    index on the codes themselves."""
    key = codice_fiscale_person_key(cf)
    forms = [""]
    for position, char in enumerate(key):
        if position in OMOCODIA_POSITIONS and char.isdigit():
            letter = OMOCODIA_LETTERS[int(char)]
            forms = [form + choice for form in forms for choice in (char, letter)]
        else:
            forms = [form + char for form in forms]
    return [form + codicefiscale.calc_check_digit(form) for form in forms]


_WORD = re.compile(r"[0-9A-Za-z]+")


def codice_fiscale_in(text: str) -> str:
    """The codice fiscale of a message, written alone (spaces allowed) or as one word of a
    sentence ("il mio codice fiscale è rssmra85t10a562s, grazie"). Raises InvalidIdentifier
    for the message, or for its one 16-character word when that is a wrong codice fiscale,
    so the reason names what is wrong with it; two different codes are no answer."""
    try:
        return normalize_codice_fiscale(text)
    except InvalidIdentifier as whole:
        words = {word.upper() for word in _WORD.findall(text) if len(word) == 16}
        valid = set()
        for word in words:
            try:
                valid.add(normalize_codice_fiscale(word))
            except InvalidIdentifier:
                continue
        if len(valid) == 1:
            return valid.pop()
        if not valid and len(words) == 1:
            normalize_codice_fiscale(words.pop())
        raise whole


def looks_like_codice_fiscale(value: str) -> bool:
    compact = "".join(value.split())
    return len(compact) in (11, 16) and compact.isalnum() and not compact.isdigit()


# The label a shopkeeper may type before the number ("P.IVA 012…", "partita iva: 012…",
# "IBAN IT60…"), and the marks that group its digits ("0123.456.789 0", "0123/456…").
_VAT_LABEL = re.compile(r"^\s*(?:p\.?\s*iva|partita\s+iva|vat(?:\s+number)?)\s*[:.]?", re.I)
_IBAN_LABEL = re.compile(r"^\s*iban\s*[:.]?", re.I)
_GROUPING = re.compile(r"[\s./-]+")


def normalize_partita_iva(value: str) -> str:
    """11 digits; spaces, dots, dashes or slashes between them, an "IT" before them and a
    "P.IVA" label are dropped. Raises InvalidIdentifier."""
    unlabelled = _VAT_LABEL.sub("", value, count=1)
    compact = _GROUPING.sub("", unlabelled).upper().removeprefix("IT")
    try:
        return str(iva.validate(compact))
    except StdnumError as exc:
        raise InvalidIdentifier("partita_iva", value, _reason(exc)) from exc


def normalize_iban(value: str) -> str:
    """The IBAN compacted, in capitals; an "IBAN" label before it is dropped. Raises
    InvalidIdentifier."""
    typed = _IBAN_LABEL.sub("", value, count=1)
    if not any(ch.isdigit() for ch in typed):
        # "si", "ok", "non lo so": stdnum reads "SI" or "NO" as a country and answers with
        # its check digits ("does not add up: check its digits"), where no digit was typed.
        raise InvalidIdentifier("iban", value, "format")
    try:
        return str(stdnum_iban.validate(typed))
    except StdnumError as exc:
        raise InvalidIdentifier("iban", value, _reason(exc)) from exc


def normalize_bic(value: str) -> str:
    """A bank's BIC (SWIFT code), 8 or 11 characters, country checked. Raises InvalidIdentifier."""
    try:
        return str(stdnum_bic.validate(value))
    except StdnumError as exc:
        raise InvalidIdentifier("bic", value, _reason(exc)) from exc


def normalize_phone(value: str, region: str = "IT") -> str:
    """E.164 ("+393331234567"). Italian numbers may be written without +39."""
    return _normalized_phone(value, region)


def phone_or_none(value: str, region: str = "IT") -> str | None:
    """normalize_phone, or None when the text is no phone number (a sender's address, a
    number written to): for callers that only need to know which number it is, if any."""
    try:
        return _normalized_phone(value, region)
    except InvalidIdentifier:
        return None


@lru_cache(maxsize=4096)
def _normalized_phone(value: str, region: str) -> str:
    # Parsing with phonenumbers costs about 0.1 ms, and every inbound message normalises
    # its sender's number: the same few numbers again and again. Refusals are not cached.
    text = value.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier("phone", value, "format") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier("phone", value, "invalid")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


# What phonenumbers says a number is, for the numbers payment codes may go to by SMS: a
# mobile, or a number of a country whose mobiles and landlines look alike (US, Canada).
_RECEIVES_SMS = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def require_sms_phone(e164: str) -> str:
    """The number (E.164, as normalize_phone gives it), refused when it cannot receive an
    SMS: payment codes and notices would never arrive. Raises InvalidIdentifier
    ("phone.landline" for a fixed line, such as every Italian number starting with 0;
    "phone.not_mobile" for the rest: toll-free, premium, VoIP, shared cost…). A foreign
    mobile is taken: a resident may have a foreign SIM."""
    reason = _sms_refusal(e164)
    if reason is not None:
        raise InvalidIdentifier("phone", e164, reason)
    return e164


def receives_sms(e164: str) -> bool:
    """Whether the number (E.164) can receive an SMS: require_sms_phone would take it."""
    return _sms_refusal(e164) is None


@lru_cache(maxsize=4096)
def _sms_refusal(e164: str) -> str | None:
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return "format"
    if kind in _RECEIVES_SMS:
        return None
    return "landline" if kind == phonenumbers.PhoneNumberType.FIXED_LINE else "not_mobile"


def parse_reference(reference: str) -> tuple[str, str]:
    """What a cashier typed, checked without looking anybody up: ("cf" | "phone" | "card",
    normalised value). Raises InvalidIdentifier for a malformed codice fiscale or phone.
    Read in NFKC: a phone's keyboard may send full-width letters and digits
    ("ＲＳＳＭＲＡ85Ｔ10Ａ739Ｊ"), which are the plain ones, as phonenumbers already read
    a phone's full-width digits."""
    text = unicodedata.normalize("NFKC", reference).strip()
    if looks_like_codice_fiscale(text):
        return "cf", normalize_codice_fiscale(text)
    digits = sum(ch.isdigit() for ch in text)
    if digits >= 6 and text.lstrip("+").replace(" ", "").isdigit():
        return "phone", normalize_phone(text)
    if digits >= _DOTTED_PHONE_DIGITS and _DOTTED_PHONE.fullmatch(text):
        # "333.100.0003", "333-1000003": a phone's digits grouped with dots or dashes.
        return "phone", normalize_phone(text)
    return "card", text.upper().replace(" ", "")


def phone_number_in(text: str) -> str | None:
    """The phone number (E.164) the words are, whether an SMS reaches it or not: what
    parse_reference reads as a phone ("3331000002", "333 100 0002", "333.100.0002",
    "0612345678"); None when they are none. The one reading of it, for the till's who pays
    (flows/charge) and for the words before an amount (words.split_amount)."""
    try:
        kind, value = parse_reference(text)
    except InvalidIdentifier:
        return None
    return value if kind == "phone" else None


def is_phone_number(text: str) -> bool:
    """Whether the words are a phone number that exists, a landline too (phone_number_in)."""
    return phone_number_in(text) is not None


def is_sms_phone_number(text: str) -> bool:
    """Whether the words are a phone number an SMS reaches (a mobile): the same reading as
    is_phone_number, narrowed by receives_sms. The till tells the two apart on purpose: a
    landline is who pays (refused as a landline), but only a mobile is read as who pays
    ahead of an amount typed after it in pieces (flows/charge_request.split_request)."""
    phone = phone_number_in(text)
    return phone is not None and receives_sms(phone)


# A phone number grouped with dots or dashes; with fewer digits than a mobile's the dots
# are an amount's ("1.234"), and a card's number has letters.
_DOTTED_PHONE = re.compile(r"\+?\d+(?:[ .-]\d+)+")
_DOTTED_PHONE_DIGITS = 9


# Eleven digits: a partita IVA (or a company's codice fiscale), a community voucher's
# number without its V, a receipt's number. No person's codice fiscale (16 characters)
# and, written without +39, no Italian mobile number (9 or 10 digits) has eleven.
ELEVEN_DIGITS = 11
_NUMBER_SEPARATORS = str.maketrans("", "", " .-/")


def check_not_eleven_digits(text: str) -> None:
    """Raises InvalidIdentifier ("payer.eleven_digits") for eleven digits written as who
    pays ("01234567897", "0123 4567 897"), which cannot be a voucher holder's codice fiscale
    or phone: said for what they are not, before anybody is looked up. A number that
    receives SMS passes, as a phone: "39333123456" is +39 333 123456, written without its
    plus."""
    if eleven_digits_no_sms_reaches(text):
        raise InvalidIdentifier("payer", text, "eleven_digits")


def eleven_digits_no_sms_reaches(text: str) -> bool:
    """Whether the words are eleven digits (separators apart) that no SMS reaches: what
    check_not_eleven_digits refuses."""
    compact = text.strip().translate(_NUMBER_SEPARATORS)
    if not (compact.isascii() and compact.isdigit() and len(compact) == ELEVEN_DIGITS):
        return False
    phone = phone_or_none(compact)
    return phone is None or not receives_sms(phone)


def short_mask_codice_fiscale(cf: str) -> str:
    """A codice fiscale as a code message names it: its first three letters (the surname's)
    and its last, "RSS***W" (GSM-7 safe). Enough for its holder to see whether it is
    theirs, too little to read anyone's code off a phone's screen."""
    if len(cf) != 16:
        return "***"
    return cf[:3] + "***" + cf[-1]


def mask_phone(e164: str) -> str:
    """What a shop may see of a citizen's number: the last three digits (GSM-7 safe)."""
    return "***" + e164[-3:]


def mask_iban(iban: str) -> str:
    """What a viewer of the office sees of a shop's account: its country and check digits
    and the last four characters (IT40 **** 1234), enough to tell two accounts apart."""
    compact = "".join(iban.split()).upper()
    if len(compact) < 12:
        return "****"
    return f"{compact[:4]} **** {compact[-4:]}"


class PhoneProof(StrEnum):
    """How a citizen's phone number was proven to be theirs (docs/identity-and-consent.md)."""

    SMS_CODE = "sms_code"  # a code sent to the number was typed back
    TELEGRAM_CONTACT = "telegram_contact"  # Telegram's own contact, shared by its user
    OFFICE = "office"  # on a paper application, or set by the office in person
