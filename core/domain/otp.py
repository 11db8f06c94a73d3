"""One-time codes that confirm a payment, an application or a shop change.

Codes are random, sent only to the person's own channel, stored as a keyed hash
(HMAC-SHA256 with a key derived from the server secret, see core.domain.keys) and
compared in constant time. Charge state rules live in core.domain.charges.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from core.domain.keys import ServerKeys

CODE_DIGITS = 6
# Cashier invitations are typed once, so they can be longer: no 0/O, 1/I/L to confuse.
INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# Twelve symbols: a card's number has ten of nearly the same alphabet (cards.CARD_CODE_*),
# so a cashier code written alone, with no INVITO before it, is told apart by its length.
INVITE_LENGTH = 12
# Codes made before they grew to twelve (valid two days) are still taken after INVITO.
OLD_INVITE_LENGTH = 10
# Printed in groups of four (ABCD-EFGH-JKMN); a cashier may type them apart there only.
_INVITE_GROUP = 4
_INVITE_GROUP_ENDS = frozenset({_INVITE_GROUP, 2 * _INVITE_GROUP})
# Letters and digits a cashier code holds. At least two letters: a community voucher is
# one letter and digits (V12345678901). At least two digits and at most five: a word is no
# code, and six or more digits are what payment codes, PINs, phones, protocols, P.IVA hold.
INVITE_LETTERS_AT_LEAST = 2
INVITE_DIGITS = range(2, 6)
# Keywords of the chat a printed group of four could spell (core.dialogue.keywords;
# tests/dialogue/test_drawn_codes_read.py checks the two agree). Typed in its groups, a
# code starting with one is that keyword: "PAGA 2MXX 9ABC" is PAGA with who pays after it,
# "LANG 2345 AB" asks for a language. New cards and cashier codes never start so.
KEYWORD_GROUPS = frozenset({"CARD", "HELP", "LANG", "MENU", "NEXT", "PAGA"})


def new_code(digits: int = CODE_DIGITS) -> str:
    if digits < 6:
        raise ValueError("a payment code has at least 6 digits")
    return "".join(secrets.choice("0123456789") for _ in range(digits))


# The challenge in the reply to a "not me" written by SMS (core/services/security.py,
# not_me_refusal): 4 digits, so that it is never read as a payment code (6) and an
# elderly person copies it easily; three wrong tries end it (CODE_TRIES there).
CHALLENGE_DIGITS = 4


def new_challenge() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CHALLENGE_DIGITS))


def new_salt() -> str:
    return secrets.token_hex(16)


def new_invite_code() -> str:
    """A new cashier code, drawn again until it has the shape only cashier codes have
    (is_invite_shape) and a digit in its first group: a first group of letters could be a
    word before a card's number, so "ABCD EFGH JKMN va bene" would not be read as the code
    ("va" could end a card, _next_to_a_code), while "K7QP 2MXX 9ABC va bene" is; nor can it
    be a keyword (KEYWORD_GROUPS: "PAGA 2MXX 9ABC" would be PAGA, and read otherwise it could
    be a card's number missing its last group, "PAGA FEVY 57ED")."""
    while True:
        code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
        if is_invite_shape(code) and _has_digit(code[:_INVITE_GROUP]):
            return code


def is_invite_shape(code: str) -> bool:
    """Whether a normalized code (normalize_invite_code) has the shape of a cashier code
    made now: INVITE_LENGTH symbols of INVITE_ALPHABET, with the letters and digits no
    other code of the service has together (see INVITE_DIGITS)."""
    digits = sum(ch.isdigit() for ch in code)
    return (
        len(code) == INVITE_LENGTH
        and all(ch in INVITE_ALPHABET for ch in code)
        and digits in INVITE_DIGITS
        and len(code) - digits >= INVITE_LETTERS_AT_LEAST
    )


def printed_invite(code: str) -> str:
    """A cashier code as the owner is told it: ABCD-EFGH-JKMN, easy to read out."""
    return "-".join(code[at : at + _INVITE_GROUP] for at in range(0, len(code), _INVITE_GROUP))


# A message that is a cashier code and nothing else: letters and digits, apart (by spaces
# or dashes) only where the printed groups end, perhaps a full stop or "!" after it.
_BARE = re.compile(r"[^\W_]+(?:[ -]+[^\W_]+)*")


def bare_invite_code(text: str | None) -> str | None:
    """The cashier code a message is when it holds that code alone ("K7QP-2MXX-9ABC",
    "k7qp2mxx9abc", "K7QP 2MXX 9ABC."), else None. Only a code of the new shape
    (is_invite_shape): a card's number (ten symbols), a payment code, a PIN, a codice
    fiscale, a protocol, a voucher's number are never one, so a mistyped one of those is
    never counted as a wrong cashier code; an older ten-symbol code needs INVITO."""
    typed = unicodedata.normalize("NFKC", text or "").strip().rstrip(".!")
    if _BARE.fullmatch(typed) is None:
        return None
    ends, count = set(), 0
    for ch in typed:
        if ch.isalnum():
            count += 1
        else:
            ends.add(count)
    code = normalize_invite_code(typed)
    if not ends <= _INVITE_GROUP_ENDS or not is_invite_shape(code):
        return None
    return code


def ascii_digits(text: str) -> str:
    """The text with every digit of any script written as its ASCII digit: a phone's
    keyboard may type full-width (１２３), Arabic-Indic (١٢٣), Persian (۱۲۳) or Devanagari
    digits for the code a person reads out. Codes are hashed as ASCII digits, so the right
    code typed in another script was a wrong code (counted against the shop, the till
    session, the request's tries) while the same digits as an amount read as their value."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in text)


def normalize_invite_code(text: str) -> str:
    """What a cashier types: any case, spaces and dashes ignored, full-width letters and
    digits of any script read as the plain ones."""
    plain = ascii_digits(unicodedata.normalize("NFKC", text)).upper()
    return "".join(ch for ch in plain if ch.isalnum())


# Letters and digits of a sentence, each with what stands before it: a code typed in its
# groups has only spaces and dashes between them ("K7QP 2MXX 9ABC", "k7qp - 2mxx - 9abc").
_PIECE = re.compile(r"([^\w]*)([^\W_]+)")
_BETWEEN_GROUPS = re.compile(r"[\s\-\u2010-\u2015]+")  # spaces, the dashes of any kind
_GROUPS_AT_MOST = 3


def _spaced_codes(text: str) -> set[str]:
    """The cashier codes a sentence holds typed apart in their printed groups: two or three
    pieces next to each other (only spaces or dashes between), whose letters and digits,
    together, are a cashier code apart where its groups end (bare_invite_code). A piece
    with a digit right before or after them is part of some longer code (a codice fiscale
    or a card's number typed in fours, a phone), so they are none; so is a card's last
    group after them."""
    pieces: list[tuple[str, str]] = _PIECE.findall(unicodedata.normalize("NFKC", text))
    found: set[str] = set()
    for start in range(len(pieces)):
        for end in range(start + 2, min(start + _GROUPS_AT_MOST, len(pieces)) + 1):
            if any(_BETWEEN_GROUPS.fullmatch(gap) is None for gap, _ in pieces[start + 1 : end]):
                break
            code = bare_invite_code("-".join(word for _, word in pieces[start:end]))
            if code is not None and not _next_to_a_code(pieces, start, end):
                found.add(code)
    return found


# A card's number printed ABCD EFGH JK ends in a group of two (cards.CARD_CODE_LENGTH):
# two symbols right after a word of four and its first eight are no cashier code.
_CARDS_LAST_GROUP = 2
# The symbols of a card's number (cards.CARD_CODE_ALPHABET, which imports this module):
# "ok" after a code has an O no card has, so it is a word said after it.
_CARD_SYMBOLS = frozenset("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")


def _next_to_a_code(pieces: list[tuple[str, str]], start: int, end: int) -> bool:
    """Whether the piece before `start` or at `end`, joined to them (only spaces or dashes
    between), is part of another code: it has a digit, or it is a card's last group. Two
    symbols after them end a card only when a card could have them and the first piece
    could be a word before that card ("paga ABCD EFGH JK"): a first piece of letters and
    digits is a cashier code's group, so "K7QP 2MXX 9ABC va bene" is that code and words
    (every code made has a digit in its first group, new_invite_code)."""
    before = start > 0 and _BETWEEN_GROUPS.fullmatch(pieces[start][0]) is not None
    after = end < len(pieces) and _BETWEEN_GROUPS.fullmatch(pieces[end][0]) is not None
    if before and _has_digit(pieces[start - 1][1]):
        return True
    if not after:
        return False
    following = pieces[end][1]
    ends_a_card = (
        len(following) == _CARDS_LAST_GROUP
        and set(following.upper()) <= _CARD_SYMBOLS
        and not _has_digit(pieces[start][1])
    )
    return _has_digit(following) or ends_a_card


def _has_digit(word: str) -> bool:
    return any(ch.isdigit() for ch in word)


def invite_code_in(text: str | None) -> str | None:
    """The cashier code a message holds: the message itself (bare_invite_code), or the one
    word of a sentence that is one ("il codice è K7QP-2MXX-9ABC", "codice cassiere
    k7qp2mxx9abc"), or its groups typed apart in one ("il codice è K7QP 2MXX 9ABC",
    _spaced_codes). A code of that shape is no other code's either; two of them are a
    doubt, and None."""
    alone = bare_invite_code(text)
    if alone is not None:
        return alone
    found = {
        code
        for word in (text or "").split()
        if (code := bare_invite_code(word.strip(",;:!?.()\"'«»“”"))) is not None
    }
    found |= _spaced_codes(text or "")
    return found.pop() if len(found) == 1 else None


def hash_code(keys: ServerKeys, code: str, salt: str) -> str:
    return keys.hash_code(code, salt)


def normalize_typed_code(text: str) -> str:
    """Cashiers type what they hear: keep the digits (of any script, as ASCII digits),
    drop spaces and dashes."""
    return ascii_digits("".join(ch for ch in text if ch.isdigit()))


# Digits written as words, as an elderly person may copy a code ("zero uno quattro …").
_DIGIT_WORDS = {
    word: str(digit)
    for words in (
        ("zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove"),
        ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    )
    for digit, word in enumerate(words)
}
_RUNS = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class TypedCode:
    """What a message holds as a code: its digits, and whether it holds nothing else."""

    digits: str
    only_digits: bool  # digits (or digit words), spaces and separators, nothing else

    def looks_like(self, length: int = CODE_DIGITS) -> bool:
        return len(self.digits) == length


def read_typed_code(text: str) -> TypedCode:
    """The code in what a person wrote: "123456", "123 456", "il codice è 123456", "zero
    uno quattro quattro otto quattro". Digits inside a word ("RSSGLI95D45A739R", "3a")
    are not a code's, so a codice fiscale or an answer to another question sent by
    mistake is told apart from a wrong code (which counts against the request)."""
    digits: list[str] = []
    only_digits = True
    for run in _RUNS.findall(text):
        if run.isdigit():
            digits.append(ascii_digits(run))
            continue
        digit = _DIGIT_WORDS.get(run.lower())
        if digit is not None:
            digits.append(digit)
        else:
            only_digits = False
    return TypedCode("".join(digits), only_digits and bool(digits))


def code_matches(keys: ServerKeys, typed: str, salt: str, stored_hash: str) -> bool:
    return keys.code_matches(normalize_typed_code(typed), salt, stored_hash)
